#!/usr/bin/env python
"""Training-speed benchmark (`make bench`): our batch source + Learner against the book's and PyTorch's ways.

For three tasks — the 3-vs-7 linear model, `simple_net`, and a 784-100-10 MLP on full MNIST — each
contender trains the same initial weights (same seed) with plain SGD at batch size 256, on `def_device`:

  (a) book:  fastai `DataLoader(list(zip(x, y)))` + fastai `Learner` (its default progress and recorder)
  (b) torch: `torch.utils.data.DataLoader(TensorDataset(x, y))` + a plain training loop
  (c) ours:  `TensorBatches` + our `Learner` (progress bars and recorder on, as a learner uses it)
  (d) floor: the same SGD steps on contiguous slices of pre-shuffled tensors: no loader, no gather, no callbacks

Each epoch is a training pass plus a validation pass. The contenders take turns, one epoch each, round after
round (a warm-up round first), so a change in the machine's speed during the run (another process, a
thermal limit) falls on all of them alike. Reported: the median epoch time of `--epochs` rounds, the ratios
a/c, b/c and c/d, and the validation accuracy each reached.
Also the time to get the stacked 3s and 7s by decoding PNGs (the book's way) vs from the packaged archive.
Writes bench/results.md, bench/results.csv and bench/bench.png (shown in the README)."""
import argparse, contextlib, copy, io, os, statistics, sys, time
from pathlib import Path

import torch, torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
from mnist_from_scratch.data import def_device, load_mnist, mnist_sample_path
from mnist_from_scratch.loss import mnist_loss, threes_sevens
from mnist_from_scratch.learner import Learner, TensorBatches, DataLoaders, ProgressCB

BS = 256

def sync():
    if def_device.type == 'cuda': torch.cuda.synchronize()
    elif def_device.type == 'mps': torch.mps.synchronize()

def binary_acc(preds, y): return ((preds > 0).float() == y).float().mean()
def multi_acc(preds, y): return (preds.argmax(1) == y).float().mean()

def tasks():
    "name -> (make_model, loss, metric, lr, train_x, train_y, valid_x, valid_y)"
    ts = threes_sevens(device='cpu'); m = load_mnist()
    fx = lambda x: x.reshape(len(x), -1).float() / 255
    return {
        '3v7 linear': (lambda: nn.Linear(784, 1), mnist_loss, binary_acc, 1.0, ts.train_x, ts.train_y, ts.valid_x, ts.valid_y),
        'simple_net': (lambda: nn.Sequential(nn.Linear(784, 30), nn.ReLU(), nn.Linear(30, 1)), mnist_loss, binary_acc, 0.1,
                       ts.train_x, ts.train_y, ts.valid_x, ts.valid_y),
        'MLP 784-100-10': (lambda: nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10)), F.cross_entropy, multi_acc, 0.1,
                           fx(m.train_x), m.train_y, fx(m.test_x), m.test_y),
    }

@torch.no_grad()
def accuracy(model, metric, vx, vy):
    model.eval(); vx, vy = vx.to(def_device), vy.to(def_device)
    return float(metric(model(vx), vy))

def time_rounds(epoch_fns, n):
    "Run one epoch of each contender in turn, one warm-up round then `n` timed rounds; name -> per-epoch seconds."
    times = {name: [] for name in epoch_fns}
    for r in range(n + 1):
        for name, run_epoch in epoch_fns.items():
            sync(); t = time.perf_counter(); run_epoch(); sync()
            if r: times[name].append(time.perf_counter() - t)
    return times

def book_way(model, loss, metric, lr, tx, ty, vx, vy):
    "(a): one epoch of fastai's `Learner` on the book's `DataLoader(list(zip(x, y)))`."
    from fastai.data.load import DataLoader as FDL
    from fastai.data.core import DataLoaders as FDLs
    from fastai.learner import Learner as FLearner
    from fastai.optimizer import SGD
    dls = FDLs(FDL(list(zip(tx, ty)), bs=BS, shuffle=True), FDL(list(zip(vx, vy)), bs=BS), device=def_device)
    learn = FLearner(dls, model, opt_func=SGD, loss_func=loss, metrics=metric)
    def epoch():
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()): learn.fit(1, lr)
    return epoch

def torch_way(model, loss, metric, lr, tx, ty, vx, vy):
    "(b): one epoch of a plain loop over PyTorch's `DataLoader(TensorDataset(x, y))`."
    from torch.utils.data import DataLoader, TensorDataset
    pin = def_device.type == 'cuda'
    tdl = DataLoader(TensorDataset(tx, ty), batch_size=BS, shuffle=True, pin_memory=pin)
    vdl = DataLoader(TensorDataset(vx, vy), batch_size=BS, pin_memory=pin)
    model.to(def_device); opt = torch.optim.SGD(model.parameters(), lr)
    def epoch():
        model.train()
        for xb, yb in tdl:
            xb, yb = xb.to(def_device, non_blocking=pin), yb.to(def_device, non_blocking=pin)
            l = loss(model(xb), yb); l.backward(); opt.step(); opt.zero_grad()
        model.eval(); tot = 0.
        with torch.no_grad():
            for xb, yb in vdl: tot += metric(model(xb.to(def_device)), yb.to(def_device)) * len(yb)
        return tot / len(vx)
    return epoch

def our_way(model, loss, metric, lr, tx, ty, vx, vy):
    "(c): one epoch of our `Learner` on `TensorBatches`, with fastprogress bars (text bars in a script, like fastai's in (a)) and the recorder."
    dls = DataLoaders(TensorBatches(tx, ty, BS, shuffle=True, seed=0), TensorBatches(vx, vy, BS))
    learn = Learner(dls, model, loss, lr=lr, metrics=metric, cbs=[ProgressCB(mode='bars')])
    def epoch():
        with contextlib.redirect_stdout(io.StringIO()): learn.fit(1)
    return epoch

def floor_way(model, loss, metric, lr, tx, ty, vx, vy):
    "(d): the same SGD steps on contiguous slices of tensors shuffled once: no loader, no gather, no callbacks."
    model.to(def_device); opt = torch.optim.SGD(model.parameters(), lr)
    perm = torch.randperm(len(tx))
    tx, ty, vx, vy = tx[perm].to(def_device), ty[perm].to(def_device), vx.to(def_device), vy.to(def_device)
    def epoch():
        model.train()
        for i in range(0, len(tx), BS):
            l = loss(model(tx[i:i+BS]), ty[i:i+BS]); l.backward(); opt.step(); opt.zero_grad()
        model.eval()
        with torch.no_grad(): return metric(model(vx), vy)
    return epoch

CONTENDERS = {'a book': book_way, 'b torch': torch_way, 'c ours': our_way, 'd floor': floor_way}

def load_times():
    "Seconds to get the stacked 3s and 7s: decoding PNGs the book's way vs the packaged archive."
    import numpy as np
    from PIL import Image
    import mnist_from_scratch.data as D
    path = mnist_sample_path()
    t = time.perf_counter()
    st = {d: torch.stack([torch.tensor(np.array(Image.open(o))) for o in sorted((path/'train'/d).iterdir())]).float()/255 for d in '37'}
    png = time.perf_counter() - t
    D._load_arrays.cache_clear()
    t = time.perf_counter(); ts = threes_sevens(device='cpu'); arc = time.perf_counter() - t
    assert torch.equal(ts.train_x[:len(st['3'])], st['3'].reshape(len(st['3']), -1)), "archive and PNGs disagree"
    return png, arc

def md_table(df):
    "A pandas DataFrame as a Markdown table (without needing `tabulate`)."
    cols = [df.index.name or ''] + list(df.columns)
    lines = ['| ' + ' | '.join(cols) + ' |', '|' + '---|' * len(cols)]
    lines += ['| ' + ' | '.join([str(i)] + [f'{v:g}' if isinstance(v, float) else str(v) for v in r]) + ' |' for i, r in zip(df.index, df.values)]
    return '\n'.join(lines)

def device_name():
    if def_device.type == 'cuda': return f'cuda: {torch.cuda.get_device_name()}'
    if def_device.type == 'mps': return 'mps (Apple GPU)'
    import platform
    return f'cpu: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads'

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--epochs', type=int, default=5, help='timed epochs per contender (after one warm-up)')
    p.add_argument('--tasks', default='', help='comma-separated subset of task names')
    p.add_argument('--out', type=Path, default=ROOT/"bench")
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    import pandas as pd
    rows, dev = [], device_name()
    print(f'device: {dev}; torch {torch.__version__}; batch size {BS}; median of {a.epochs} epochs after 1 warm-up', flush=True)
    for name, (make, loss, metric, lr, tx, ty, vx, vy) in tasks().items():
        if a.tasks and name not in a.tasks.split(','): continue
        torch.manual_seed(0); init = make()
        models = {cname: copy.deepcopy(init) for cname in CONTENDERS}
        torch.manual_seed(1)
        times = time_rounds({cname: fn(models[cname], loss, metric, lr, tx, ty, vx, vy) for cname, fn in CONTENDERS.items()}, a.epochs)
        res = {cname: (statistics.median(times[cname]), accuracy(models[cname], metric, vx, vy)) for cname in CONTENDERS}
        for cname, (t, acc) in res.items(): print(f'  {name:15s} {cname:8s} {t*1000:8.1f} ms/epoch  acc {acc:.4f}', flush=True)
        med = {k: v[0] for k, v in res.items()}
        rows.append(dict(task=name, **{f'{k} s/epoch': round(v, 4) for k, v in med.items()},
                         **{f'{k} acc': round(v[1], 4) for k, v in res.items()},
                         **{'a/c': round(med['a book']/med['c ours'], 2), 'b/c': round(med['b torch']/med['c ours'], 2),
                            'c/d': round(med['c ours']/med['d floor'], 2)}))
    df = pd.DataFrame(rows).set_index('task')
    png, arc = load_times()
    print(df.T.to_string())
    print(f'stacked 3s and 7s: PNG decoding {png:.2f}s, packaged archive {arc:.2f}s ({png/arc:.1f}x faster)')
    df.to_csv(a.out/'results.csv')
    md = (f'Device: **{dev}**, torch {torch.__version__}, batch size {BS}, plain SGD; median epoch time (train + validation) '
          f'of {a.epochs} epochs after a warm-up, the contenders taking turns epoch by epoch, same initial weights for every contender.\n\n'
          + md_table(df[[c for c in df.columns if 's/epoch' in c or '/' in c[:3]]]) + '\n\n'
          + 'Validation accuracy reached:\n\n' + md_table(df[[c for c in df.columns if c.endswith(' acc')]]) + '\n\n'
          + f'Stacked 3s and 7s: decoding {12396:,} PNGs {png:.2f} s, packaged archive {arc:.2f} s ({png/arc:.1f}x).\n')
    (a.out/'results.md').write_text(md)
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    ax = df[[c for c in df.columns if 's/epoch' in c]].rename(columns=lambda c: c.replace(' s/epoch', '')).plot.bar(figsize=(8, 4), rot=0)
    ax.set_ylabel('seconds per epoch (lower is better)'); ax.set_title(f'Training speed, {dev}')
    plt.tight_layout(); plt.savefig(a.out/'bench.png', dpi=100)
    print(f'wrote {a.out}/results.md, results.csv, bench.png')

if __name__ == '__main__': main()
