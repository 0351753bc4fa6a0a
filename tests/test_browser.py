"""End-to-end: a learner opens the course the way `make lab` does and runs a notebook in a real browser.

JupyterLab is started by `tools/lab.py` (what `make lab` runs) on 127.0.0.1, a free port and a random token, with
throw-away settings (no autosave and checkpoints outside nbs/, so the course folder stays untouched; no windowing, so
every cell and output is in the page). Headless Chromium (Debian's `chromium`, driven by Playwright for Python) opens the notebook, runs all
cells from the Run menu, waits until the kernel is idle and every cell has run, and reads what the learner would see.

- `test_lab_launcher`: the launcher finds the course kernel and adds `--allow-root` only for root (no browser needed);
- `test_course_notebook_runs_in_browser`: every numbered notebook is listed by the REST API; `01_pixels.ipynb` runs
  under the kernel `mnist_from_scratch` with no error output, renders at least one image and prints the book's numbers;
  a screenshot of the executed notebook goes to `.test-artifacts/browser/`;
- `test_checker_catches_failures`: the same checker reports a notebook that raises, and a kernel whose Python cannot
  import the package, so the negative path runs every time.

No Chromium or Playwright: skipped with instructions on a learner's machine, a failure where `CI` is set.
Knobs (for debugging and for showing the failure modes): BROWSER_TEST_ROOT (notebook folder, default nbs/),
BROWSER_TEST_NB (notebook, default 01_pixels.ipynb), BROWSER_TEST_EXPECT (regexes joined by ' && ', default FACTS
for that notebook), BROWSER_TEST_TIMEOUT (seconds for running all cells), BROWSER_TEST_CHROMIUM (default
/usr/bin/chromium); JUPYTER_PATH reaches the server (a kernel spec there shadows the course's: failure mode 2).
"""
import json, os, re, secrets, signal, socket, subprocess, sys, time, urllib.error, urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import lab  # the launcher behind `make lab`

CHROMIUM = os.environ.get('BROWSER_TEST_CHROMIUM', '/usr/bin/chromium')
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync']
NB_DIR = Path(os.environ.get('BROWSER_TEST_ROOT', ROOT/'nbs')).resolve()
NB = os.environ.get('BROWSER_TEST_NB', '01_pixels.ipynb')
# What the notebook must print, facts of MNIST that the book prints too: for 01_pixels the distances of the book's
# example 3 to the ideal 7 (L1 0.1586, RMSE 0.3021); for 02_broadcasting the baseline's accuracy on the 3s and the 7s.
FACTS = {'01_pixels.ipynb': [r'tensor\(0\.1586\b', r'tensor\(0\.3021\b'],
         '02_broadcasting.ipynb': [r'tensor\(0\.9168\b', r'tensor\(0\.9854\b']}
EXPECT = ([e for e in os.environ['BROWSER_TEST_EXPECT'].split(' && ') if e] if 'BROWSER_TEST_EXPECT' in os.environ
          else FACTS.get(NB, []))
RUN_TIMEOUT = float(os.environ.get('BROWSER_TEST_TIMEOUT', 600))
ARTIFACTS = ROOT/'.test-artifacts'/'browser'
CI = os.environ.get('CI', '').lower() not in ('', '0', 'false', 'no')
ENABLE = ("install Debian's Chromium (`sudo apt-get install chromium`: /usr/bin/chromium, or point BROWSER_TEST_CHROMIUM "
          "at another Chromium/Chrome) and Playwright for Python (`make install` installs it; `playwright install` is "
          "not needed)")
# what a learner sees as an error: IPython's traceback header, or a line naming the exception (SyntaxError has no header)
ERROR_RE = re.compile(r'Traceback \(most recent call last\)|^\s*[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b(:|\s*$)',
                      re.M)

def need_browser():
    "Skip (learner's machine) or fail (CI) when Chromium or Playwright is missing."
    missing = [] if os.access(CHROMIUM, os.X_OK) else [f'{CHROMIUM} (Chromium)']
    try: import playwright.sync_api  # noqa: F401
    except ImportError: missing.append('the Python package playwright')
    if not missing: return
    what = f"{' and '.join(missing)} not found"
    if CI: pytest.fail(f'browser test cannot run in CI: {what} (.ci/run installs Chromium before `make test`); {ENABLE}',
                       pytrace=False)
    pytest.skip(f'browser test skipped: {what}; to enable it, {ENABLE}')

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def port_open(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(('127.0.0.1', port)) == 0

def write_json(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True); path.write_text(json.dumps(obj, indent=1))

def lab_settings(d):
    "Settings for the test's JupyterLab: no autosave (notebooks stay as committed), every cell in the DOM, no news."
    ext = d/'@jupyterlab'
    write_json(ext/'notebook-extension'/'tracker.jupyterlab-settings', {'windowingMode': 'none'})
    write_json(ext/'docmanager-extension'/'plugin.jupyterlab-settings', {'autosave': False})
    write_json(ext/'apputils-extension'/'notification.jupyterlab-settings', {'fetchNews': 'false', 'checkForUpdates': False})
    return d

def descendants(pid):
    import psutil
    try: return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess: return []

def alive(procs):
    "Those of `procs` still running (zombies and vanished ones are not)."
    import psutil
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE: out.append(p)
        except psutil.NoSuchProcess: pass
    return out

@dataclass
class Lab:
    url: str; token: str; port: int; root: Path; log: Path
    def api(self, path, method='GET'):
        req = urllib.request.Request(f'{self.url}/api/{path}', method=method, headers={'Authorization': f'token {self.token}'})
        with urllib.request.urlopen(req, timeout=30) as r: return json.loads(r.read() or 'null')

@contextmanager
def jupyterlab(root, tmp, name, env=None):
    "JupyterLab from `tools/lab.py` on `root`; stopped (server, kernels, port) whatever happens."
    port, token = free_port(), secrets.token_urlsafe(16)
    tmp.mkdir(parents=True, exist_ok=True); ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS/f'jupyterlab-{name}.log'
    argv = lab.lab_argv('--no-browser', '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={port}', '--ServerApp.port_retries=0',
                        f'--IdentityProvider.token={token}', f'--LabApp.user_settings_dir={lab_settings(tmp/"settings")}',
                        f'--LabApp.workspaces_dir={tmp/"workspaces"}',
                        f'--FileCheckpoints.checkpoint_dir={tmp/"checkpoints"}',  # opening a notebook checkpoints it
                        root_dir=root)
    env = {**os.environ, 'JUPYTER_RUNTIME_DIR': str(tmp/'runtime'), **(env or {})}
    with open(log, 'w') as logf:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    srv = Lab(f'http://127.0.0.1:{port}', token, port, root, log)
    try:
        deadline = time.time() + 180
        while True:
            if proc.poll() is not None: pytest.fail(f'JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}')
            try: srv.api('status'); break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                if time.time() > deadline: pytest.fail(f'JupyterLab did not answer in 180s:\n{log.read_text()[-3000:]}')
                time.sleep(0.5)
        yield srv
    finally:
        kids = descendants(proc.pid)  # kernels run in sessions of their own: remember them before stopping
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down on SIGTERM
            try: proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL); proc.wait(10)
        t = time.time()
        while alive(kids) and time.time() - t < 15: time.sleep(0.3)
        stray = alive(kids)
        for p in stray: p.kill()
        assert not stray, f'processes left behind by JupyterLab (now killed): {stray}'
        assert not port_open(port), f'port {port} still open after JupyterLab stopped'

@dataclass
class Run:
    "What the learner sees after Run All Cells."
    notebook: str; kernel: str = ''; cells: int = 0; not_run: int = 0; images: int = 0; folded: int = 0
    errors: list = field(default_factory=list); text: str = ''; seconds: float = 0.

    @property
    def problems(self):
        "Everything that makes the run a failure, as readable lines (empty: the notebook ran cleanly)."
        out = [f'error output:\n{e}' for e in self.errors]
        if self.not_run: out.append(f'{self.not_run} of {self.cells} code cells did not run')
        return out

CELL_STATE_JS = """() => {
  const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  if (!nb) return null;
  const prompts = [...nb.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(e => e.textContent.trim());
  const outs = [...nb.querySelectorAll('.jp-OutputArea-output')];
  return {prompts,
          stderr: outs.filter(o => o.dataset.mimeType === 'application/vnd.jupyter.stderr').map(o => o.innerText),
          images: nb.querySelectorAll('.jp-OutputArea-output img').length,
          folded: nb.querySelectorAll('.jp-Cell .jp-InputPlaceholder').length,
          text: outs.map(o => o.innerText).join('\\n'),
          indicator: document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status || ''};
}"""

def open_and_run(browser, srv, nb, shot=None, timeout=RUN_TIMEOUT):
    "Open `nb` in JupyterLab, Run All Cells from the menu, wait until done; return a `Run` (and save `shot`)."
    t0, run = time.time(), Run(nb)
    page = browser.new_page(viewport={'width': 1400, 'height': 1000})
    try:
        page.goto(f'{srv.url}/lab/tree/{nb}?reset&token={srv.token}', timeout=180_000)  # reset: no tabs restored
        page.wait_for_selector('.jp-NotebookPanel .jp-Notebook .jp-Cell', timeout=180_000)
        # the kernel named in the notebook's metadata must start and go idle (a missing kernel opens a dialog instead)
        deadline = time.time() + 180
        while True:
            if page.locator('.jp-Dialog').count():
                pytest.fail(f'{nb}: JupyterLab asks to select a kernel: {page.locator(".jp-Dialog").inner_text()}')
            sess = [s for s in srv.api('sessions') if s['path'] == nb]
            if sess and sess[0]['kernel']['execution_state'] == 'idle' and \
               page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').count(): break
            if time.time() > deadline: pytest.fail(f'{nb}: kernel not idle after 180s: {sess}')
            time.sleep(0.5)
        run.kernel, kid = sess[0]['kernel']['name'], sess[0]['kernel']['id']
        page.click('.lm-MenuBar-itemLabel:text-is("Run")')
        page.click('.lm-Menu-itemLabel:text-is("Run All Cells")')
        deadline, calm = time.time() + timeout, 0
        while True:  # done: kernel idle, no [*] left, and nothing changes for two polls in a row
            time.sleep(1)
            st = page.evaluate(CELL_STATE_JS)
            busy = srv.api(f'kernels/{kid}')['execution_state'] != 'idle' or st['indicator'] != 'idle' \
                   or any(p.startswith('[*]') for p in st['prompts'])
            calm = 0 if busy or not any(re.match(r'\[\d+\]', p) for p in st['prompts']) else calm + 1
            if calm >= 2: break
            if time.time() > deadline: pytest.fail(f'{nb}: still running after {timeout:.0f}s; prompts {st["prompts"]}')
        run.cells, run.images, run.folded, run.text = len(st['prompts']), st['images'], st['folded'], st['text']
        run.not_run = sum(not re.match(r'\[\d+\]', p) for p in st['prompts'])
        run.errors = [e for e in st['stderr'] if ERROR_RE.search(e)]
        run.seconds = time.time() - t0
        if shot: screenshot(page, shot)
        return run
    finally:
        page.close()

def screenshot(page, path):
    "The whole executed notebook: hide the side bar, make the window as tall as the notebook, scroll to the top, shoot."
    path.parent.mkdir(parents=True, exist_ok=True)
    page.keyboard.press('Escape'); page.keyboard.press('Control+b')
    outer = '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer'
    h = page.evaluate(f"() => {{ const o = document.querySelector('{outer}'); return o ? o.scrollHeight - o.clientHeight : 0 }}")
    page.set_viewport_size({'width': 1400, 'height': min(1000 + h, 30_000)})
    page.wait_for_timeout(1000)
    page.evaluate(f"() => {{ const o = document.querySelector('{outer}'); if (o) o.scrollTop = 0 }}")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(path), full_page=True)

@pytest.fixture(scope='module')
def browser():
    need_browser()
    import psutil
    from playwright.sync_api import sync_playwright
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try: yield b
        finally: b.close()
    finally:
        pw.stop()
        t = time.time()
        while (left := alive([p for p in me.children(recursive=True) if p.pid not in before])) and time.time() - t < 15:
            time.sleep(0.3)
        for p in left: p.kill()
        assert not left, f'browser processes left behind (now killed): {left}'

@pytest.fixture(scope='module')
def course_lab(tmp_path_factory):
    need_browser()
    with jupyterlab(NB_DIR, tmp_path_factory.mktemp('lab'), 'course') as srv: yield srv

def test_lab_launcher():
    "`make lab` starts tools/lab.py, whose kernel has the package, with `--allow-root` exactly when we are root."
    assert lab.check_kernel() is None, lab.check_kernel()
    argv = lab.lab_argv()
    assert ('--allow-root' in argv) == (os.geteuid() == 0), argv
    assert f'--ServerApp.root_dir={ROOT/"nbs"}' in argv and f'--MultiKernelManager.default_kernel_name={lab.KERNEL}' in argv
    assert lab.lab_argv('--notebook-dir=x').count('--notebook-dir=x') == 1 and not any('root_dir' in a for a in lab.lab_argv('--notebook-dir=x'))
    r = subprocess.run(['make', '-n', 'lab'], cwd=ROOT, capture_output=True, text=True)
    assert 'tools/lab.py' in r.stdout, r.stdout + r.stderr

def test_course_notebook_runs_in_browser(browser, course_lab):
    srv, t0 = course_lab, time.time()
    numbered = sorted(p.name for p in NB_DIR.glob('[0-9][0-9]_*.ipynb'))
    listed = {c['name']: c['type'] for c in srv.api('contents')['content']}
    assert numbered and NB in numbered, f'{NB} is not among the numbered notebooks {numbered}'
    assert all(listed.get(n) == 'notebook' for n in numbered), f'REST API lists {listed}; expected every one of {numbered}'
    before = (NB_DIR/NB).read_bytes()
    run = open_and_run(browser, srv, NB, shot=ARTIFACTS/f'{Path(NB).stem}.png')
    write_json(ARTIFACTS/f'{Path(NB).stem}.json', {**run.__dict__, 'text': run.text[-3000:], 'test_seconds': time.time() - t0})
    assert run.kernel == lab.KERNEL, f'{NB} ran under kernel {run.kernel!r}, not the course kernel {lab.KERNEL!r}'
    assert not run.problems, f'{NB} in the browser:\n' + '\n'.join(run.problems)
    assert run.images >= 1, f'{NB}: no image output rendered'
    folded = sum(c['metadata'].get('jupyter', {}).get('source_hidden', False) for c in json.loads(before)['cells'])
    if NB in FACTS: assert folded >= 1, f'{NB}: its exercise solutions should be folded (cell metadata jupyter.source_hidden), but no cell is'
    assert run.folded == folded, f'{NB}: {folded} cells (the exercise solutions) should open folded; JupyterLab shows {run.folded}'
    missing = [e for e in EXPECT if not re.search(e, run.text)]
    assert not missing, f'{NB}: expected output {missing} not found in:\n{run.text[-3000:]}'
    assert (NB_DIR/NB).read_bytes() == before, f'the browser run changed {NB} on disk (autosave must stay off)'

def make_nb(path, *cells):
    cells = [{'cell_type': 'code', 'execution_count': None, 'id': f'c{i}', 'metadata': {}, 'outputs': [], 'source': s}
             for i, s in enumerate(cells)]
    write_json(path, {'cells': cells, 'nbformat': 4, 'nbformat_minor': 5, 'metadata': {'kernelspec': {
        'name': lab.KERNEL, 'display_name': 'mnist_from_scratch (Python 3)', 'language': 'python'}}})

# The course kernel's Python, where the package cannot be imported: what a learner gets from a kernel of another env.
NO_PACKAGE = f"""import sys
class NoPackage:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition('.')[0] == {lab.KERNEL!r}: raise ModuleNotFoundError(f'No module named {{name!r}}', name=name)
sys.meta_path.insert(0, NoPackage)
from ipykernel.kernelapp import launch_new_instance
launch_new_instance()"""

def test_checker_catches_failures(browser, tmp_path):
    "A notebook that raises, and a kernel that lacks the package, are both reported by the checker."
    nbs, jpath = tmp_path/'nbs', tmp_path/'jupyter'
    make_nb(nbs/'raises.ipynb', "print('before')", "raise ValueError('boom')", "print('after')")
    make_nb(nbs/'imports.ipynb', 'from mnist_from_scratch.data import mnist_sample_path', "print('after')")
    write_json(jpath/'kernels'/lab.KERNEL/'kernel.json', {'argv': [sys.executable, '-c', NO_PACKAGE, '-f', '{connection_file}'],
               'display_name': 'mnist_from_scratch (Python 3)', 'language': 'python'})
    with jupyterlab(nbs, tmp_path/'lab', 'negative', env={'JUPYTER_PATH': str(jpath)}) as srv:
        raised = open_and_run(browser, srv, 'raises.ipynb', timeout=180)
        assert any('ValueError: boom' in e for e in raised.errors) and raised.not_run == 1, raised
        assert 'before' in raised.text and 'after' not in raised.text, raised
        nopkg = open_and_run(browser, srv, 'imports.ipynb', shot=ARTIFACTS/'negative-no-package.png', timeout=180)
        assert nopkg.kernel == lab.KERNEL
        assert any("ModuleNotFoundError: No module named 'mnist_from_scratch" in e for e in nopkg.errors), nopkg
        assert nopkg.problems
