#!/usr/bin/env python
"""The course's test command (`make test`): every check, then one closing line `N passed, N failed`.

1. sync:   `nbdev_export` must not change `mnist_from_scratch/` (the library matches the notebooks);
2. clean:  `nbdev_clean` must not change any notebook (they are committed clean);
3. readme: README.md must equal what `tools/make_readme.py` makes of `nbs/index.ipynb`;
4. every notebook under `nbdev_test`, two at a time, each timed;
5. the pytest suite in `tests/` (end-to-end checks that drive processes, a browser, ...), if present.
Options: `--nb PATTERN` runs only matching notebooks; `--skip-pytest`; `--workers N`;
`--slow` runs only the notebooks that have cells flagged `#| slow` (resnet18 on the CPU), those cells included.
"""
import argparse, hashlib, json, os, re, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
results = []  # (name, ok, seconds, detail)
notes = []    # skip reasons from pytest, repeated just above the closing line

def record(name, ok, secs, detail=''):
    results.append((name, ok, secs, detail))
    print(f"{'PASS' if ok else 'FAIL'}  {name}  ({secs:.1f}s){'  ' + detail if detail and not ok else ''}", flush=True)

def snapshot(paths):
    "Content hash of each file under `paths`."
    out = {}
    for p in paths:
        for f in sorted((ROOT/p).rglob("*")):
            if f.is_file() and '__pycache__' not in f.parts and '.ipynb_checkpoints' not in f.parts:
                out[str(f.relative_to(ROOT))] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out

def changed(before, after): return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))

def run(cmd, **kw): return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, **kw)

def check_tool(name, cmd, watched):
    t = time.time(); before = snapshot(watched)
    r = run(cmd); after = snapshot(watched)
    diff = changed(before, after)
    ok = r.returncode == 0 and not diff
    detail = (f"{cmd[0]} changed: {', '.join(diff)} (run it and commit the result)" if diff
              else (r.stderr or r.stdout)[-2000:])
    record(name, ok, time.time() - t, detail)

def check_readme():
    t = time.time()
    r = run([sys.executable, 'tools/make_readme.py', '--check'])
    record('readme: README.md is up to date with nbs/index.ipynb', r.returncode == 0, time.time() - t, (r.stdout + r.stderr).strip())

def nb_env(workers):
    """Environment for one notebook run: its share of the cores as torch threads (spinning OpenMP threads that
    outnumber the cores make small-batch training several times slower), unless the caller set it."""
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', str(max(1, (os.cpu_count() or 1) // workers)))
    return env

def test_notebook(nb, env=None, flags=''):
    t = time.time()
    r = run([str(BIN/'nbdev_test'), '--path', str(nb), '--do_print', *(['--flags', flags] if flags else [])], env=env)
    ok = r.returncode == 0 and 'Traceback' not in r.stderr
    return nb, ok, time.time() - t, (r.stderr + r.stdout)[-4000:]

def run_pytest():
    if not (ROOT/'tests').exists(): return
    t = time.time()
    r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-rs', 'tests'], cwd=ROOT, text=True, capture_output=True)
    print(r.stdout[-6000:], r.stderr[-2000:], sep='\n', flush=True)
    m = dict((k, int(v)) for v, k in re.findall(r'(\d+) (passed|failed|error|errors|skipped)', r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ''))
    results.extend([('pytest', True, 0, '')] * m.get('passed', 0))
    nfail = m.get('failed', 0) + m.get('error', 0) + m.get('errors', 0)
    if r.returncode not in (0, 5) and nfail == 0: nfail = 1
    results.extend([('pytest', False, 0, 'see pytest output above')] * nfail)
    print(f"pytest: {m.get('passed', 0)} passed, {nfail} failed, {m.get('skipped', 0)} skipped ({time.time()-t:.1f}s)", flush=True)
    notes.extend(dict.fromkeys(re.findall(r'^SKIPPED \[\d+\] \S+: (.*)$', r.stdout, re.M)))

def has_slow_cells(nb):
    "Whether a code cell of `nb` carries the `#| slow` flag."
    return any(c['cell_type'] == 'code' and any(re.match(r'#\|\s*slow\s*$', l) for l in c['source'])
               for c in json.loads(nb.read_text())['cells'])

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--nb', default='', help='regex: only notebooks whose name matches')
    p.add_argument('--workers', type=int, default=int(os.environ.get('NB_WORKERS', 2)))
    p.add_argument('--skip-pytest', action='store_true')
    p.add_argument('--slow', action='store_true', help='only notebooks with `#| slow` cells, running those cells too')
    a = p.parse_args()
    t0 = time.time()
    check_tool('sync: nbdev_export leaves mnist_from_scratch/ unchanged', [str(BIN/'nbdev_export')], ['mnist_from_scratch'])
    check_tool('clean: nbdev_clean leaves nbs/ unchanged', [str(BIN/'nbdev_clean')], ['nbs'])
    check_readme()
    nbs = sorted(f for f in (ROOT/'nbs').glob('*.ipynb') if re.search(a.nb, f.name))
    if a.slow: nbs = [f for f in nbs if has_slow_cells(f)]
    env = nb_env(max(1, min(a.workers, len(nbs))))
    with ThreadPoolExecutor(a.workers) as ex:
        for nb, ok, secs, out in ex.map(lambda nb: test_notebook(nb, env, 'slow' if a.slow else ''), nbs):
            record(f"notebook: {nb.name}{' (with its slow cells)' if a.slow else ''}", ok, secs, '\n' + out)
    if not a.skip_pytest: run_pytest()
    nb_times = sorted(((s, n) for n, ok, s, _ in results if n.startswith('notebook:')), reverse=True)
    if nb_times: print('slowest notebooks: ' + ', '.join(f'{n[10:]} {s:.1f}s' for s, n in nb_times[:3]))
    npass = sum(ok for _, ok, _, _ in results); nfail = len(results) - npass
    print(f'total time {time.time()-t0:.1f}s')
    for n in notes: print(f'SKIPPED: {n}')
    print(f'{npass} passed, {nfail} failed')
    sys.exit(1 if nfail else 0)

if __name__ == '__main__': main()
