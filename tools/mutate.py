#!/usr/bin/env python
"""Mutation check (`make mutate`): do the notebooks' tests catch realistic mistakes?

Each mutation replaces one exact snippet of an `#| export` cell of a notebook with a small, realistic
mistake. For each one, a copy of the repository is made, the mutant is applied to the notebook,
`nbdev_export` writes the mutated library, and `nbdev_test` runs the notebooks that should notice.
A mutation is *caught* when nbdev_test fails for a reason other than a syntax error (a mutant that
does not even compile proves nothing). The command prints caught/missed per mutation and the score,
and exits non-zero if any mutation is missed or cannot be applied.

  python tools/mutate.py              # all mutations
  python tools/mutate.py --list       # just list them
  python tools/mutate.py -k sigmoid   # those whose name matches
"""
import argparse, json, os, re, shutil, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# (name, notebook, original snippet, mutant snippet, notebooks that must fail)
MUTATIONS = [
    ('def_device ignores CUDA', '00_data', "return torch.device('cuda' if cuda else 'mps' if mps else 'cpu')",
     "return torch.device('mps' if mps else 'cpu')", ['00_data']),
]

def export_cells(nb):
    return [c for c in nb['cells'] if c['cell_type'] == 'code' and re.match(r'\s*#\|\s*export', ''.join(c['source']))]

def apply(nb_path: Path, old: str, new: str):
    "Replace `old` by `new` in exactly one export cell of `nb_path`."
    nb = json.loads(nb_path.read_text(encoding='utf-8'))
    hits = [c for c in export_cells(nb) if old in ''.join(c['source'])]
    if len(hits) != 1: raise ValueError(f"snippet found in {len(hits)} export cells of {nb_path.name} (expected 1): {old!r}")
    src = ''.join(hits[0]['source'])
    if src.count(old) != 1: raise ValueError(f"snippet occurs {src.count(old)} times in its cell: {old!r}")
    src = src.replace(old, new)
    hits[0]['source'] = [l for l in src.splitlines(keepends=True)]
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')

def copy_repo(dest: Path):
    ign = shutil.ignore_patterns('.venv', '.git', '__pycache__', '.test-artifacts', '*.egg-info', '.ipynb_checkpoints')
    for name in ('nbs', 'mnist_from_scratch', 'tools'):
        shutil.copytree(ROOT/name, dest/name, ignore=ign)
    for name in ('settings.ini', 'setup.py', 'README.md', 'pyproject.toml'):
        if (ROOT/name).exists(): shutil.copy2(ROOT/name, dest/name)

def run_mutation(m, workdir: Path):
    name, nb, old, new, targets = m
    t = time.time()
    d = Path(tempfile.mkdtemp(prefix='mutant-', dir=workdir))
    try:
        copy_repo(d)
        try: apply(d/'nbs'/f'{nb}.ipynb', old, new)
        except ValueError as e: return name, 'ERROR', time.time() - t, str(e)
        env = {**os.environ, 'PYTHONPATH': str(d) + os.pathsep + os.environ.get('PYTHONPATH', '')}
        r = subprocess.run([str(BIN/'nbdev_export')], cwd=d, env=env, capture_output=True, text=True)
        if r.returncode: return name, 'ERROR', time.time() - t, 'nbdev_export failed: ' + r.stderr[-500:]
        out = ''
        for target in targets:
            r = subprocess.run([str(BIN/'nbdev_test'), '--path', f'nbs/{target}.ipynb'], cwd=d, env=env, capture_output=True, text=True)
            out = r.stderr + r.stdout
            if r.returncode != 0:
                if re.search(r'\b(SyntaxError|IndentationError)\b', out):
                    return name, 'ERROR', time.time() - t, 'the mutant does not compile: fix the mutation'
                err = re.findall(r'^(\w+(?:Error|Exception)\b.*)$', out, re.M)
                return name, 'caught', time.time() - t, f'{target}: ' + (err[-1][:150] if err else 'failed')
        return name, 'MISSED', time.time() - t, 'all target notebooks passed'
    finally: shutil.rmtree(d, ignore_errors=True)

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('-k', default='', help='regex on mutation names')
    p.add_argument('--list', action='store_true')
    p.add_argument('--workers', type=int, default=2)
    a = p.parse_args()
    muts = [m for m in MUTATIONS if re.search(a.k, m[0], re.I)]
    if a.list:
        for m in muts: print(f'{m[0]:45s} {m[1]:18s} -> {", ".join(m[4])}')
        return
    workdir = Path.home()/'.cache'/'mnist_from_scratch-mutants'; workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.time(); results = []
    with ThreadPoolExecutor(a.workers) as ex:
        for name, status, secs, detail in ex.map(lambda m: run_mutation(m, workdir), muts):
            results.append(status); print(f'{status:7s} {name:45s} ({secs:5.1f}s)  {detail}', flush=True)
    caught = results.count('caught')
    print(f'mutation score: {caught}/{len(results)} caught ({100*caught/max(len(results),1):.0f}%) in {time.time()-t0:.0f}s')
    print(f'{caught} passed, {len(results)-caught} failed')
    sys.exit(0 if caught == len(results) else 1)

if __name__ == '__main__': main()
