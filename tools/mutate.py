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
    # 00 data
    ('def_device ignores CUDA', '00_data', "return torch.device('cuda' if cuda else 'mps' if mps else 'cpu')",
     "return torch.device('mps' if mps else 'cpu')", ['00_data']),
    ('check_dataset ignores truncated files', '00_data', "if st != size: problems.append(", "if False: problems.append(", ['00_data']),
    # 01 pixels, 02 broadcasting
    ('pixels not divided by 255', '01_pixels', "for fn in digit_paths(folder)])).float()/255", "for fn in digit_paths(folder)])).float()", ['01_pixels']),
    ('mean digit over the wrong axis', '01_pixels', "return stacked.mean(0)", "return stacked.mean(1)", ['01_pixels']),
    ('mnist_distance averages over the wrong axes', '02_broadcasting', "return (a - b).abs().mean((-1, -2))", "return (a - b).abs().mean((-1, -3))", ['02_broadcasting']),
    ('mnist_distance takes abs after the mean', '02_broadcasting', "return (a - b).abs().mean((-1, -2))", "return (a - b).mean((-1, -2)).abs()", ['02_broadcasting']),
    ('is_3 compares the wrong way', '02_broadcasting', "return mnist_distance(x, mean3) < mnist_distance(x, mean7)",
     "return mnist_distance(x, mean3) > mnist_distance(x, mean7)", ['02_broadcasting']),
    ('accuracy on 7s without 1 -', '02_broadcasting', "acc7 = (1 - is_3(valid_7s, mean3, mean7).float()).mean()",
     "acc7 = is_3(valid_7s, mean3, mean7).float().mean()", ['02_broadcasting']),
    # 03 SGD
    ('apply_step with the wrong sign', '03_sgd', "params.data -= lr * params.grad.data", "params.data += lr * params.grad.data", ['03_sgd']),
    ('apply_step keeps the old gradient', '03_sgd', "params.grad = None", "pass", ['03_sgd']),
    # 04 the MNIST loss
    ('mnist_loss without its sigmoid', '04_mnist_loss', "p = predictions.sigmoid()", "p = predictions", ['04_mnist_loss']),
    ('torch.where branches swapped', '04_mnist_loss', "torch.where(targets == 1, 1 - p, p)", "torch.where(targets == 1, p, 1 - p)", ['04_mnist_loss']),
    ('SGD step with the wrong sign', '04_mnist_loss', "p.data -= p.grad*lr", "p.data += p.grad*lr", ['04_mnist_loss']),
    ('gradients not zeroed', '04_mnist_loss', "p.data -= p.grad*lr\n            p.grad.zero_()", "p.data -= p.grad*lr", ['04_mnist_loss']),
    ('batch_accuracy thresholds probabilities at 0', '04_mnist_loss', "((xb > 0) == (yb == 1))", "((xb.sigmoid() > 0) == (yb == 1))", ['04_mnist_loss']),
    ('shape guard removed ([N,1] vs [N] broadcasts)', '04_mnist_loss', "if predictions.shape != targets.shape:", "if False:", ['04_mnist_loss']),
    # 07 learner, 08 all ten digits
    ('Learner skips zero_grad', '07_learner', "def zero_grad(self, learn): learn.opt.zero_grad()", "def zero_grad(self, learn): pass", ['07_learner']),
    ('Learner never zeroes: event not fired', '07_learner', "self.callback('step'); self.callback('zero_grad')", "self.callback('step')", ['07_learner']),
    ('test_close broadcasts and zips again', '00_data', "    _same_layout(a, b)\n", "", ['00_data']),
    ('Learner keeps stale callback methods', '07_learner', "if self.cbs != self._cbs_seen: self._cbs_seen, self._methods = list(self.cbs), {}",
     "if self._cbs_seen is None: self._cbs_seen, self._methods = list(self.cbs), {}", ['07_learner']),
    ('MetricsCB averages batch means unweighted', '07_learner', "return float((values * torch.tensor(ns, dtype=torch.float64)).sum() / sum(ns))",
     "return float(values.mean())", ['07_learner']),
    ('TensorBatches reuses one order every epoch', '07_learner', "idx = torch.randperm(len(self.x), generator=g,",
     "idx = torch.randperm(len(self.x), generator=torch.Generator(self.device).manual_seed(0) if g is None else g.manual_seed(0),", ['07_learner']),
    ('softmax without the max-subtraction', '08_full_mnist', "e = (x - x.amax(dim, keepdim=True).detach()).exp()", "e = x.exp()", ['08_full_mnist']),
    ('log_softmax without the max-subtraction', '08_full_mnist', "s = x - x.amax(dim, keepdim=True).detach()", "s = x", ['08_full_mnist']),
    # %%MORE%%
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
