#!/usr/bin/env python
"""`make lab`: start JupyterLab on `nbs/` with the course's kernel as the default.

- the kernel `mnist_from_scratch` ("mnist_from_scratch (Python 3)", registered by `make install`) runs this
  venv's Python, where the package is installed, so `from mnist_from_scratch.data import ...` works in every
  notebook; the notebooks name it in their metadata, and new notebooks get it as the default kernel;
- JupyterLab refuses to run as root unless told `--allow-root` (CI, containers): added only when we are root;
- any further arguments go to `jupyter lab` unchanged (`make lab LAB_ARGS="--port 9999"`); a folder given there
  (`--notebook-dir=...`) replaces `nbs/`.

The end-to-end browser test (`tests/test_browser.py`) starts JupyterLab through `lab_argv` too.
"""
import os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNEL = 'mnist_from_scratch'
BIN = Path(sys.executable).parent
ROOT_OPTS = ('--ServerApp.root_dir', '--notebook-dir', '--ServerApp.notebook_dir')  # a folder given by the caller wins

def lab_argv(*extra, root_dir=None):
    "The `jupyter lab` command line: notebooks folder, default kernel, `--allow-root` only for root, then `extra`."
    argv = [str(BIN/'jupyter-lab'), f'--MultiKernelManager.default_kernel_name={KERNEL}']
    if not any(a.startswith(ROOT_OPTS) for a in extra): argv.append(f'--ServerApp.root_dir={root_dir or ROOT/"nbs"}')
    if os.geteuid() == 0: argv.append('--allow-root')
    return argv + list(extra)

def check_kernel():
    "Error message if the course's kernel is missing or its Python cannot find the package, else None."
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    try: spec = KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel: return f"kernel {KERNEL!r} is not registered: run `make install`"
    r = subprocess.run([spec.argv[0], '-c', f'import importlib.util as u, sys; sys.exit(u.find_spec({KERNEL!r}) is None)'],
                       capture_output=True, cwd=ROOT/'nbs')
    if r.returncode: return (f"kernel {KERNEL!r} runs {spec.argv[0]}, which cannot import the package {KERNEL!r}: "
                             f"run `make install` (kernel spec in {spec.resource_dir})")

def main():
    msg = check_kernel()
    if msg: sys.exit(f'make lab: {msg}')
    argv = lab_argv(*sys.argv[1:])
    os.execv(argv[0], argv)

if __name__ == '__main__': main()
