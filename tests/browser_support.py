"""Everything the browser tests share: start `streamlit run` on a free
localhost port, drive Debian's Chromium with Playwright, and read a page
(its metrics, its URL's settings) the way a person would see it.

The `page` and `app_url` fixtures in conftest.py use these; a test module
sets VIEWPORT = (width, height) for a larger window."""
from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("PLAYGROUND_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
ARTIFACTS = ROOT / "test-artifacts"


def chromium_missing_reason() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    return None


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(env: dict | None = None, timeout: float = 60):
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / f"streamlit-{port}.log").open("w")  # the server's output, for a failing test
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"streamlit did not start (exit code {proc.poll()})")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def browser():
    """Debian's Chromium, for tests that open several browser contexts (each
    context is one student's browser: its own cookies, its own tabs)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@contextlib.contextmanager
def browser_page(width: int = 1400, height: int = 1000):
    with browser() as b:
        page = b.new_page(viewport={"width": width, "height": height})
        page.set_default_timeout(60_000)  # a click waits for its button this long on a loaded machine
        yield page


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script (no 'running' status)."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)


def exceptions(page) -> list[str]:
    return [e.inner_text() for e in page.query_selector_all("[data-testid='stException']")]


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


SHARED_DATA = ROOT.parent / "shared" / "data"


def require_browser() -> None:
    """Call at the top of a browser test module: skip it, saying why, when Chromium or
    Playwright is missing, except under CI (CI=true), where that is a failure."""
    import pytest

    reason = chromium_missing_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
        pytest.skip(f"BROWSER TESTS SKIPPED: {reason}", allow_module_level=True)


def app_env() -> dict:
    """The server's environment: the real data beside the checkout when it is there,
    and a fresh folder for saved models (a run saved by one test server is never
    offered by another)."""
    env = {"PLAYGROUND_MODELS_DIR": tempfile.mkdtemp(prefix="playground-models-")}
    if SHARED_DATA.is_dir():
        env["PLAYGROUND_DATA_DIR"] = str(SHARED_DATA)
    return env


def no_exceptions(page) -> None:
    found = exceptions(page)
    assert not found, f"Streamlit exception on the page: {found}"


def widget(page, kind: str, label: str):
    """The widget of this kind ('stSlider', 'stToggle', ...) whose label is exactly `label`."""
    exact = re.compile(rf"^\s*{re.escape(label)}\s*$")
    return page.locator(f"[data-testid='{kind}']").filter(
        has=page.locator("[data-testid='stWidgetLabel']").filter(has_text=exact)).first


def press_slider(page, label: str, key: str, times: int) -> None:
    """Focus the slider labelled exactly `label` and press `key` (ArrowRight, ...) `times` times."""
    thumb = widget(page, "stSlider", label).get_by_role("slider")
    thumb.focus()
    for _ in range(times):
        thumb.press(key)


def open_page(page, url: str, title: str, timeout: float = 60_000) -> None:
    """Go to `url` and wait until the page titled `title` has finished its script run."""
    page.goto(url)
    page.wait_for_selector(f"h1:has-text('{title}')", timeout=timeout)
    wait_idle(page, timeout)


STAND_IN_TOGGLE = "[data-testid='stToggle']:has-text('Continue with a stand-in')"


def use_stand_in_if_missing(page) -> bool:
    """Where the page says its data is missing, turn on the stand-in it offers
    and wait for the rerun. True when the page now shows the stand-in."""
    toggle = page.locator(STAND_IN_TOGGLE)
    if not toggle.count():
        return False
    toggle.first.click()
    page.wait_for_selector("text=Stand-in data", timeout=30_000)
    wait_idle(page, 60_000)
    return True


def query(page) -> dict[str, str]:
    """The settings in the page's URL, exactly: name -> value."""
    return {k: v[-1] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query).items()}


def wait_query(page, name: str, value: str, timeout: float = 30_000) -> None:
    """Until the URL holds exactly `name`=`value` (the app writes it after the rerun)."""
    page.wait_for_function("([n, v]) => new URLSearchParams(location.search).get(n) === v",
                           arg=[name, value], timeout=timeout)


METRIC_JS = """(label) => {
    const m = Array.from(document.querySelectorAll('[data-testid="stMetric"]')).find(
        el => el.querySelector('[data-testid="stMetricLabel"]').innerText.trim() === label);
    return m ? m.querySelector('[data-testid="stMetricValue"]').innerText.trim() : null;
}"""


def metric(page, label: str) -> str | None:
    """The value of the metric labelled exactly `label`; None when there is none."""
    return page.evaluate(METRIC_JS, label)


def wait_metric(page, label: str, value: str, timeout: float = 30_000) -> None:
    """Until the metric labelled exactly `label` shows exactly `value`."""
    page.wait_for_function(f"([l, v]) => ({METRIC_JS})(l) === v", arg=[label, value], timeout=timeout)


def wait_metric_change(page, label: str, before: str | None, timeout: float = 30_000) -> str:
    """Until the metric labelled `label` shows something other than `before`; its new value."""
    page.wait_for_function(f"([l, b]) => {{ const v = ({METRIC_JS})(l); return v !== null && v !== b; }}",
                           arg=[label, before], timeout=timeout)
    return metric(page, label)


def wait_settled(page, timeout: float = 30_000) -> None:
    """Until no element is marked stale (the script run has redrawn everything)."""
    for _ in range(2):  # twice: a rerun may mark elements stale a moment after it starts
        page.wait_for_timeout(300)
        page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=timeout)


LIVE_JS = """(title) => {
    const out = {};
    for (const el of document.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
        const t = el.querySelector('g.role-title text');
        const name = t ? t.textContent : '';
        if (title !== null && name !== title) continue;
        const series = {};
        el.querySelectorAll('g.mark-line path').forEach(p => {
            const m = /series: ([^;]*)/.exec(p.getAttribute('aria-label') || '');
            const key = m ? m[1].trim() : '?';
            const n = (p.getAttribute('d') || '').split(/[ML]/).length - 1;
            series[key] = Math.max(series[key] || 0, n);
        });
        out[name] = series;
    }
    return out;
}"""


def live_series(page, title: str | None = None) -> dict[str, dict[str, int]]:
    """The live panel's charts (vega-lite, drawn as SVG) by title: points drawn per series."""
    return page.evaluate(LIVE_JS, title)


# The page's own text blocks (generated text): st.code in the main area, not the exported script's
# listing (Python) nor the sidebar's link to copy.
TEXT_BLOCK = "[data-testid='stMain'] [data-testid='stCode']:has(code.language-plaintext)"


def live_points(page, title: str) -> int:
    """The most points of any series in the live chart titled `title` (0 before training)."""
    return max(live_series(page, title).get(title, {}).values(), default=0)


def wait_live_points_beyond(page, title: str, value: int, timeout: float = 90_000) -> int:
    page.wait_for_function(f"""([t, v]) => Math.max(0, ...Object.values(({LIVE_JS})(t)[t] || {{}})) > v""",
                           arg=[title, value], timeout=timeout)
    return live_points(page, title)


def live_ticks(page, title: str, axis: str = "Y") -> list[str]:
    """The tick labels drawn on one axis ("X" or "Y") of the live chart titled `title`."""
    return page.evaluate("""([title, axis]) => {
        for (const el of document.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
            const t = el.querySelector('g.role-title text');
            if (!t || t.textContent !== title) continue;
            const ax = Array.from(el.querySelectorAll('g.role-axis'))
                .find(a => (a.getAttribute('aria-label') || '').startsWith(axis + '-axis'));
            return ax ? Array.from(ax.querySelectorAll('g.role-axis-label text')).map(x => x.textContent)
                                     .filter(x => x !== '') : [];
        }
        return null;
    }""", [title, axis])


def live_placeholders(page) -> list[str]:
    """The texts the live charts show before there is anything to draw."""
    return page.evaluate("""() => Array.from(document.querySelectorAll(
        '[data-testid="stVegaLiteChart"] g.mark-text text')).map(t => t.textContent)""")
