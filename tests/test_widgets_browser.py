"""The notebooks' widgets, moved by a user in a real browser.

JupyterLab runs on a localhost port with a real kernel; headless Chromium (Debian's
``chromium`` package, ``make browser-deps``) is driven by Python ``playwright`` through the
UI only: the Run menu runs every cell, the arrow keys move a slider, and the test checks
that the picture below the widget changed and that no cell ended in an error. Each widget,
with its output, is saved as a PNG into ``docs/widgets/``.

Skipped, with the reason, when ``playwright`` or Chromium is missing (``.ci/run`` installs
both, so in CI it runs).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import sys
import time
import urllib.request
from pathlib import Path

import pytest

# ---------------------------------------------------------------------------------------
# What is tested: one row per widget. Rename a notebook or a slider here, and only here.
#   notebook, screenshot (in docs/widgets/), slider label, key to press, presses, value after
WIDGETS = [
    ("01_warping.ipynb", "01_flow.png", "rotation", "ArrowRight", 10, 10.0),
    ("02_degradation.ipynb", "02_disturbance.png", "magnitude", "ArrowRight", 5, 2.0),
    ("03_self_conditioned_block.ipynb", "03_gamma.png", "channel", "ArrowRight", 5, 5),
    ("00_task_and_data.ipynb", "00_crop.png", "crop", "ArrowLeft", 2, 0),
    ("00_task_and_data.ipynb", "00_browse.png", "face", "ArrowRight", 3, 3),
]
# ---------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
#: Screenshots go to docs/widgets/ (shown in the README) only when asked, SELFSR_SCREENSHOTS=docs;
#: otherwise (CI) to a temporary folder, so a test run never rewrites tracked files.
SHOTS = ROOT / "docs" / "widgets" if os.environ.get("SELFSR_SCREENSHOTS") == "docs" else \
    Path(tempfile.mkdtemp(prefix="selfsr_widgets_"))
CHROMIUM = os.environ.get("SELFSR_CHROMIUM", "/usr/bin/chromium")
# the closed network here refuses Chromium's background connections: switch them all off
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RUN_ALL_TIMEOUT = 420        # s: a whole notebook, quick mode, on a busy 2-core machine
WIDGET_TIMEOUT = 120         # s: one slider move to a new picture
SERVER_TIMEOUT = 120         # s: JupyterLab answering on its port

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(sync_playwright is None,
                       reason="Python playwright is not installed (pip install -e '.[dev]')"),
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                       reason=f"Chromium not found at {CHROMIUM} (make browser-deps: apt-get install chromium)"),
]

# JupyterLab settings for a quiet, deterministic UI: no news toast, no kernel-picker dialog,
# every cell in the DOM
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "none", "autoStartDefaultKernel": True},
}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(server, path, method="GET"):
    req = urllib.request.Request(f"{server['url']}{path}", method=method,
                                 headers={"Authorization": f"token {server['token']}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read()
    return json.loads(body) if body else None


def _shutdown_kernels(server):
    for k in _api(server, "/api/kernels"):
        _api(server, f"/api/kernels/{k['id']}", method="DELETE")


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """JupyterLab on a free localhost port, serving a temporary copy of notebooks/."""
    import secrets

    base = tmp_path_factory.mktemp("lab")
    root = base / "notebooks"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for name, value in LAB_SETTINGS.items():
        path = base / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, SELFSR_QUICK="1", OMP_NUM_THREADS="1",
               SELFSR_CACHE=str(tmp_path_factory.getbasetemp() / "selfsr_cache"),
               JUPYTER_RUNTIME_DIR=str(base / "runtime"), JUPYTER_CONFIG_DIR=str(base / "config"))
    env.pop("MPLBACKEND", None)   # the kernel's default, the inline backend, as a learner has it
    jupyter = Path(sys.executable).with_name("jupyter")
    cmd = [str(jupyter), "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
           f"--LabApp.user_settings_dir={base / 'settings'}", f"--LabApp.workspaces_dir={base / 'workspaces'}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(base / "server.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = {"url": f"http://127.0.0.1:{port}", "token": token, "root": root, "log": base / "server.log"}
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{server['log'].read_text()[-3000:]}")
            try:
                _api(server, "/api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not answer in {SERVER_TIMEOUT} s")
                time.sleep(0.5)
        yield server
    finally:
        try:
            if proc.poll() is None:
                _shutdown_kernels(server)
        except OSError:
            pass
        if proc.poll() is None:
            proc.terminate()      # the server shuts its kernels down on SIGTERM
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium, driven by playwright's bundled driver (no browser download)."""
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


def _prompts(page):
    """The execution prompt of every code cell: '[3]:', '[*]:' or '[ ]:'."""
    return page.eval_on_selector_all(".jp-CodeCell .jp-InputArea-prompt", "els => els.map(e => e.textContent)")


def _run_all(page, timeout):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    # the kernel took the cells: the first prompt is no longer '[ ]:' (fail fast, not after minutes)
    page.wait_for_function("() => !/\\[ \\]/.test(document.querySelector('.jp-CodeCell .jp-InputArea-prompt')"
                           ".textContent)", timeout=60_000)
    deadline = time.monotonic() + timeout
    while True:
        prompts = _prompts(page)
        if prompts and all(re.fullmatch(r"\[\d+\]:", p.strip()) for p in prompts):
            return prompts
        if time.monotonic() > deadline:
            raise AssertionError(f"cells not all run after {timeout} s; prompts: {prompts}")
        page.wait_for_timeout(1000)


def _tracebacks(where):
    """Texts of rendered tracebacks (JupyterLab shows an error output as stderr)."""
    return [t for t in where.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            .all_inner_texts() if "Traceback" in t]


def _outputs_png(widget):
    """The src of the images in the widget's output area (the interact function's figure)."""
    return widget.locator(".widget-output img").evaluate_all("els => els.map(e => e.src)")


@pytest.mark.parametrize("notebook,shot,label,key,presses,value_after", WIDGETS,
                         ids=[w[0].removesuffix(".ipynb") for w in WIDGETS])
def test_widget_in_browser(lab_server, browser, notebook, shot, label, key, presses, value_after):
    t0 = time.monotonic()
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, device_scale_factor=1)
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    try:
        workspace = notebook.split(".")[0].replace("_", "-")
        page.goto(f"{lab_server['url']}/lab/workspaces/{workspace}/tree/{notebook}?token={lab_server['token']}")
        page.locator(".jp-Notebook .jp-CodeCell").first.wait_for(timeout=SERVER_TIMEOUT * 1000)
        # a kernel, not a kernel-picker dialog (a user would accept the notebook's own kernel)
        page.wait_for_timeout(1000)
        if page.locator(".jp-Dialog").count():
            page.locator(".jp-Dialog button", has_text="Select").click()
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=SERVER_TIMEOUT * 1000)
        page.wait_for_timeout(2000)
        _run_all(page, RUN_ALL_TIMEOUT)
        t_run = time.monotonic() - t0

        # the saved notebook tells what every cell produced: no error anywhere
        page.keyboard.press("Control+s")
        deadline = time.monotonic() + 60
        while True:
            saved = json.loads((lab_server["root"] / notebook).read_text())
            if all(c.get("execution_count") for c in saved["cells"] if c["cell_type"] == "code"):
                break
            assert time.monotonic() < deadline, f"{notebook}: Ctrl+S did not save the executed notebook"
            page.wait_for_timeout(500)
        errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(saved["cells"])
                  for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, f"{notebook}: cells ended in errors {errors}"
        assert _tracebacks(page) == [], f"{notebook}: a traceback on the page"

        # the interact widget holding the slider, rendered with its first picture
        slider_box = page.locator(".widget-slider", has=page.locator(".widget-label", has_text=re.compile(f"^{label}$")))
        slider_box.wait_for(timeout=WIDGET_TIMEOUT * 1000)
        widget = page.locator(".widget-interact", has=slider_box)
        assert widget.count() == 1
        widget.locator(".widget-output img").first.wait_for(timeout=WIDGET_TIMEOUT * 1000)
        before = _outputs_png(widget)
        readout = slider_box.locator(".widget-readout")
        value_before = readout.inner_text().strip()

        # a user: click the slider's handle, then press the arrow key
        handle = slider_box.locator(".noUi-handle")
        handle.click()
        for _ in range(presses):
            page.keyboard.press(key)
            page.wait_for_timeout(150)
        page.wait_for_function("([el, v]) => parseFloat(el.textContent) === v",   # the readout: '2.00'
                               arg=[readout.element_handle(), value_after], timeout=WIDGET_TIMEOUT * 1000)
        assert float(value_before) != value_after

        # the picture changes, then settles (continuous updates: one callback a key press)
        deadline = time.monotonic() + WIDGET_TIMEOUT
        last, stable_since = None, None
        while True:
            now = _outputs_png(widget)
            if now and now != before and now == last:
                if time.monotonic() - stable_since > 3:
                    break
            else:
                last, stable_since = now, time.monotonic()
            assert time.monotonic() < deadline, f"{notebook}: the output of '{label}' did not change"
            page.wait_for_timeout(500)
        assert _tracebacks(widget) == [], f"{notebook}: the widget's callback raised"

        SHOTS.mkdir(parents=True, exist_ok=True)
        widget.screenshot(path=str(SHOTS / shot))
        print(f"{notebook}: run all {t_run:.0f} s, total {time.monotonic() - t0:.0f} s, "
              f"'{label}' {value_before} -> {value_after}, screenshot {SHOTS / shot}")
    except Exception:
        failed = lab_server["log"].with_name(f"failed_{shot}")
        page.screenshot(path=str(failed), full_page=True)
        print(f"page at failure: {failed}; server log: {lab_server['log']}; browser console errors: {console_errors}")
        raise
    finally:
        page.close()
        _shutdown_kernels(lab_server)
