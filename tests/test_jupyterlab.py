"""The lessons work in JupyterLab itself: a real browser runs a chapter.

Students use the course in JupyterLab, not through pytest, so this test takes
their path: it starts ``jupyter lab`` from this environment (so the ``python3``
kernel is this interpreter, with coursekit installed), opens a copy of
``notebooks/01_lenet.ipynb`` in headless Chromium driven by Playwright, clears
the committed outputs, runs all cells in the ``smoke`` profile and checks what
a student would see: no errors, the tqdm progress bar finished (its widget replaced by its last line),
the live training figure drawn as an image, and the final accuracy line.

It leaves ``artifacts/jupyterlab-01_lenet.png`` (uploaded by CI) and the
server log ``artifacts/jupyterlab-server.log``. With
``COURSEKIT_UPDATE_SCREENSHOT=1`` it also refreshes the README's
``docs/jupyterlab-01_lenet.png``.

Browser: ``$COURSEKIT_CHROMIUM``, else Debian's ``/usr/bin/chromium`` (``.ci/run``
installs it with apt when it runs as root), else ``chromium`` on the PATH,
else Playwright's own download (``python -m playwright install chromium``).
Without Playwright or any of those the test is skipped, saying why.
Deselect it with ``-m "not browser"``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = "notebooks/01_lenet.ipynb"
ARTIFACTS = REPO / "artifacts"
SCREENSHOT = ARTIFACTS / "jupyterlab-01_lenet.png"
README_SCREENSHOT = REPO / "docs" / "jupyterlab-01_lenet.png"

# Without the networking flags Chromium keeps trying to reach Google (a closed network floods with retries).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
SERVER_START_TIMEOUT = 90
RUN_TIMEOUT = 300  # seconds to open the notebook, and to run it (the smoke profile takes ~30 s on 2 busy CPUs)
FINAL_LINE = re.compile(r"loss \d+\.\d{3}, train acc \d\.\d{3}, test acc \d\.\d{3}, [\d.]+ examples/sec on \S+")
WIDGET_FAILURES = ("application/vnd.jupyter.widget-view+json", "Error displaying widget", "Loading widget...")

# User settings for this throwaway JupyterLab: nothing fetched from the internet, every cell kept in the DOM.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def find_chromium() -> str | None:
    """Path of the Chromium to drive, or None to use Playwright's downloaded one (if any)."""
    for candidate in (os.environ.get("COURSEKIT_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api(base: str, token: str, path: str, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains ``text`` (our kernels name our private runtime dir)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                pids.append(int(entry.name))
    return pids


@pytest.fixture
def browser():
    """A headless Chromium driven by Playwright; skipped (with the reason) only where none can be had."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed: pip install -e '.[test]'")
    executable = find_chromium()
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        except PlaywrightError as error:
            if executable is None and "Executable doesn't exist" in str(error):
                pytest.skip(
                    "no Chromium here: install Debian's (apt-get install chromium) or Playwright's "
                    "(python -m playwright install chromium); .ci/run does this where it can"
                )
            raise
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def jupyter_lab(tmp_path):
    """``jupyter lab`` on a free localhost port with a token, serving a throwaway copy of the notebook.

    Yields ``(base_url, token, root_dir, runtime_dir)``. The teardown asks the server to shut
    down (which stops its kernels), then SIGTERMs/SIGKILLs it if needed and
    fails the test if any kernel it started is still alive.
    """
    root = tmp_path / "course"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy2(REPO / NOTEBOOK, root / NOTEBOOK)
    settings_dir = tmp_path / "lab-settings"
    for name, values in LAB_SETTINGS.items():
        (settings_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (settings_dir / name).write_text(json.dumps(values))
    runtime_dir = tmp_path / "runtime"

    port, token = free_port(), secrets.token_hex(24)
    env = dict(
        os.environ,
        COURSEKIT_PROFILE="smoke",
        JUPYTER_RUNTIME_DIR=str(runtime_dir),
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "lab-workspaces"),
        JUPYTER_PLATFORM_DIRS="1",
        MPLBACKEND="module://matplotlib_inline.backend_inline",
    )
    env.pop("JUPYTER_TOKEN", None)
    command = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False",
        # Nothing that reaches the internet: no news, no update check, no PyPI extension manager.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if os.geteuid() == 0:  # CI containers
        command.append("--ServerApp.allow_root=True")
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "jupyterlab-server.log", "w")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited with {server.returncode}; see {log.name}")
            try:
                if api(base, token, "/api/status")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer on {base} within {SERVER_START_TIMEOUT} s; see {log.name}")
            time.sleep(0.5)
        yield base, token, root, runtime_dir
    finally:
        if server.poll() is None:
            try:
                api(base, token, "/api/shutdown", method="POST")  # stops the kernels, then the server
            except OSError:
                pass
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()
        log.close()
        # Kernels were started with a connection file in our private runtime dir: none may outlive the server.
        leftovers = processes_mentioning(str(runtime_dir))
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        assert not leftovers, f"kernel processes left behind by jupyter lab: {leftovers}"


def click_menu(page, menu: str, item: str) -> None:
    """Click ``menu`` in the menu bar, then its ``item``, as a student would."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu-content > .lm-Menu-item:visible", has_text=re.compile(rf"^{re.escape(item)}")).click()


def test_lenet_chapter_runs_in_jupyterlab(browser, jupyter_lab):  # browser first: skip before starting a server
    base, token, root, runtime_dir = jupyter_lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    messages, shot = [], False
    page.on("pageerror", lambda error: messages.append(f"page error: {error}"))
    try:
        page.goto(f"{base}/lab/tree/{NOTEBOOK}?reset&token={token}")
        notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first
        indicator = notebook.locator(".jp-Notebook-ExecutionIndicator")
        cells = notebook.locator(".jp-Notebook .jp-CodeCell")
        # The notebook opened (all its code cells, with their committed outputs) and its kernel, the "python3"
        # of this environment, started and went idle.
        n_cells = sum(c.cell_type == "code" for c in nbformat.read(REPO / NOTEBOOK, 4).cells)
        page.wait_for_function(
            """n => {
                const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                const kernel = panel && panel.querySelector('.jp-KernelName');
                const indicator = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
                return panel && panel.querySelectorAll('.jp-Notebook .jp-CodeCell').length === n
                    && kernel && kernel.textContent.includes('Python 3')
                    && indicator && indicator.dataset.status === 'idle';
            }""",
            arg=n_cells,
            timeout=RUN_TIMEOUT * 1000,
        )

        # Clear the committed outputs, so everything checked below comes from this run.
        click_menu(page, "Edit", "Clear Outputs of All Cells")
        page.wait_for_function(
            "cells => cells.every(c => !c.querySelector('.jp-OutputArea-output'))",
            arg=cells.element_handles(),
        )
        started = time.monotonic()
        click_menu(page, "Run", "Run All Cells")

        # Every code cell gets an execution count ([1]: ... [n]:) and the kernel goes back to idle.
        page.wait_for_function(
            """([cells, indicator]) => indicator.dataset.status === 'idle' && cells.every(
                   c => /^\\[\\d+\\]:$/.test(c.querySelector('.jp-InputPrompt').textContent.trim()))""",
            arg=[cells.element_handles(), indicator.element_handle()],
            timeout=RUN_TIMEOUT * 1000,
        )
        print(f"ran all {n_cells} code cells in {time.monotonic() - started:.1f} s")
        # The kernel is this environment's interpreter (jupyter_client runs the "python3" kernel with the server's).
        kernels = processes_mentioning(str(runtime_dir))
        assert kernels, "no kernel process found"
        for pid in kernels:
            argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
            assert Path(argv0).parent == Path(sys.executable).parent, (
                f"the kernel runs {argv0}, not this environment's {sys.executable}"
            )
        prompts = [p.strip() for p in cells.locator(".jp-InputPrompt").all_text_contents()]
        assert prompts == [f"[{i}]:" for i in range(1, n_cells + 1)], f"not one fresh top-to-bottom run: {prompts}"

        training = cells.filter(has_text="ck.fit(")
        assert training.count() == 1
        training.scroll_into_view_if_needed()
        outputs = training.locator(".jp-OutputArea-output")
        # The live training figure: an <img> (the PNG the display handle updated in place).
        figure = outputs.locator("img")
        assert figure.count() == 1, "one live figure, updated in place, not one per redraw"
        assert figure.evaluate("img => img.complete && img.naturalWidth > 100")
        # The finished progress bar leaves its last line as text (the widget showed it live), and no widget
        # failed to render.
        training_text = "\n".join(outputs.all_inner_texts())
        assert re.search(r"100%\|\S+\| (\d+)/\1 \[", training_text), f"no finished progress bar:\n{training_text}"
        output_text = "\n".join(notebook.locator(".jp-OutputArea").all_inner_texts())
        for failure in WIDGET_FAILURES:
            assert failure not in output_text, f"a widget did not render: {failure!r} in the outputs"
        # The final accuracy line, printed at the end of training.
        assert FINAL_LINE.search(training_text), f"no final accuracy line in the training cell's output:\n{training_text}"
        assert "Traceback" not in output_text, output_text
        page.screenshot(path=str(SCREENSHOT))
        shot = True

        # Save the throwaway copy and check what the kernel actually produced: no error outputs anywhere.
        page.keyboard.press("Control+s")
        page.wait_for_function(
            "panel => !panel.querySelector('.jp-mod-dirty') && !document.querySelector('.lm-TabBar-tab.jp-mod-dirty')",
            arg=notebook.element_handle(),
        )
        saved = nbformat.read(root / NOTEBOOK, 4)
        errors = [
            f"{cell.source[:80]!r}: {output.get('ename')}: {output.get('evalue')}"
            for cell in saved.cells if cell.cell_type == "code"
            for output in cell.outputs if output.output_type == "error"
        ]
        assert not errors, "error output in:\n" + "\n".join(errors)
        assert [c.execution_count for c in saved.cells if c.cell_type == "code"] == list(range(1, n_cells + 1))
        assert not messages, messages
        if os.environ.get("COURSEKIT_UPDATE_SCREENSHOT"):
            README_SCREENSHOT.parent.mkdir(exist_ok=True)
            shutil.copyfile(SCREENSHOT, README_SCREENSHOT)
    finally:
        if not shot:  # the test failed before its screenshot: keep what the browser showed then
            page.screenshot(path=str(SCREENSHOT))
        page.close()
