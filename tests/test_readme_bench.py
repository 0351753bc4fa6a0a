"""The speed table in the README says what the benchmark files in bench/ say (it is typed by hand in nbs/index.ipynb)."""
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEVICES = {'2-core CPU': 'cpu-2core', 'NVIDIA H200': 'h200'}
TASKS = {'3 vs 7, linear': '3v7 linear', '`simple_net`': 'simple_net', 'MLP 784-100-10, full MNIST': 'MLP 784-100-10'}
COLS = ['a book s/epoch', 'b torch s/epoch', 'c ours s/epoch', 'd floor s/epoch', 'a/c', 'b/c', 'c/d']

def readme_rows():
    "task, device -> the seven numbers of that row of the README's speed table."
    rows = {}
    for line in (ROOT/'README.md').read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) == 9 and cells[0] in TASKS and cells[1] in DEVICES:
            rows[cells[0], cells[1]] = [float(c) for c in cells[2:]]
    return rows

def test_readme_speed_table_matches_bench_results():
    rows = readme_rows()
    assert len(rows) == len(TASKS)*len(DEVICES), f"expected {len(TASKS)*len(DEVICES)} rows in the README's speed table, found {sorted(rows)}"
    for (task, device), vals in rows.items():
        csv = pd.read_csv(ROOT/'bench'/DEVICES[device]/'results.csv').set_index('task').loc[TASKS[task]]
        for col, v in zip(COLS, vals):
            tol = 0.0051 if '/' in col[:3] else 0.00051          # ratios to 2 decimals, seconds to 3
            assert abs(v - csv[col]) <= tol, f"README {task} on {device}, {col}: {v}, but bench/{DEVICES[device]}/results.csv says {csv[col]}"
