"""The data module under attack: builds killed at random points, two FASTAI_HOMEs at once, no network.

These drive real processes, so they live here rather than in a notebook; `make test` runs them.
`MNIST_FAULT_TRIALS` sets how many kill trials run (default 5)."""
import os, random, signal, socket, subprocess, sys, textwrap, time
from pathlib import Path

import numpy as np, pytest
from PIL import Image

from mnist_from_scratch.data import SAMPLE_COUNTS, check_dataset, fastai_data_dir, load_mnist

CALL = "from mnist_from_scratch.data import *; p = mnist_sample_path(); print(p, len(check_dataset(p)))"

@pytest.fixture
def scratch(tmp_path_factory):
    "A temporary folder beside fastai's data (some machines' /tmp is slow at many small files)."
    import tempfile, shutil
    base = fastai_data_dir().parent/'tmp'; base.mkdir(parents=True, exist_ok=True)
    d = Path(tempfile.mkdtemp(dir=base)); yield d; shutil.rmtree(d, ignore_errors=True)

def spawn(code, home, **kw):
    env = {**os.environ, 'FASTAI_HOME': str(home)}
    return subprocess.Popen([sys.executable, '-c', code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)

def verify_deep(dest: Path):
    "Every PNG decodes to exactly the archive's image, and the counts are MNIST's."
    m = load_mnist()
    assert check_dataset(dest) == []
    for sub, n in SAMPLE_COUNTS.items():
        files = list((dest/sub).glob('*.png')); assert len(files) == n, sub
        xs = m.train_x if sub.startswith('train') else m.test_x
        for f in files[::50]:   # a spread of files, each compared pixel for pixel
            assert np.array_equal(np.array(Image.open(f)), xs[int(f.stem)].numpy()), f

def test_kill_storm(scratch):
    "Builds killed with SIGKILL at random points never leave a folder that looks complete; the next call completes it."
    rng = random.Random(int(os.environ.get('MNIST_FAULT_SEED', 0)))
    data, dest = scratch/'data', scratch/'data'/'mnist_sample'
    trials = int(os.environ.get('MNIST_FAULT_TRIALS', 5))
    for i in range(trials):
        p = spawn(CALL, scratch)
        t0 = time.time()
        while not list(data.glob('.mnist_sample.tmp-*')) and p.poll() is None and time.time() - t0 < 120: time.sleep(0.02)
        time.sleep(rng.uniform(0, 3.0))                       # a random point of the build
        p.send_signal(signal.SIGKILL); p.wait()
        assert not dest.exists() or check_dataset(dest) == [], f"trial {i}: killed build left an incomplete folder"
        if dest.exists(): break                               # the build won the race: nothing left to interrupt
    out = subprocess.run([sys.executable, '-c', CALL], env={**os.environ, 'FASTAI_HOME': str(scratch)}, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-1000:]
    assert out.stdout.strip() == f'{dest} 0'
    verify_deep(dest)
    assert not list(data.glob('.mnist_sample.tmp-*')), "leftovers of killed builds were not cleaned"

def test_two_homes_at_once(scratch):
    "Two FASTAI_HOMEs used at the same moment get two independent, complete datasets."
    a, b = scratch/'a', scratch/'b'
    procs = [spawn(CALL, a), spawn(CALL, b)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-800:] for o in outs]
    assert outs[0][0].strip() == f"{a/'data'/'mnist_sample'} 0" and outs[1][0].strip() == f"{b/'data'/'mnist_sample'} 0"
    for h in (a, b): verify_deep(h/'data'/'mnist_sample')

def test_no_network_needed(scratch):
    "A fresh FASTAI_HOME and the book's `untar_data` line work with every socket connection refused."
    code = textwrap.dedent('''
        import socket
        def refuse(*a, **k): raise OSError("network disabled by the test")
        socket.socket.connect = refuse; socket.create_connection = refuse; socket.getaddrinfo = refuse
        from mnist_from_scratch.data import mnist_sample_path
        from fastai.data.external import untar_data, URLs
        p = mnist_sample_path(); assert untar_data(URLs.MNIST_SAMPLE) == p; print('ok')
    ''')
    r = spawn(code, scratch); out, err = r.communicate(timeout=600)
    assert r.returncode == 0 and out.strip() == 'ok', err[-1500:]
