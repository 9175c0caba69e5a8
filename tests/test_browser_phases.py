"""Phase stepping on the LeNet page in a real browser: only Forward is enabled
at first; Forward draws the feature maps (C1 as a grid of six 28×28 maps),
Backward the gradients, Update the changes Δ, each enabling the next, and the
step counts once the update is done. A screenshot after each phase, the
window scrolled to its pictures, goes to test-artifacts/."""
from __future__ import annotations

import contextlib
import time

import pytest
from browser_support import no_exceptions, open_page, require_browser, shot, wait_idle

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1400, 1100)

# title -> [rows, columns] of the first heatmap of every plotly figure
PLOTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => {
    const title = ((el.layout && el.layout.title && el.layout.title.text) || '').replace(/<[^>]+>/g, '');
    const tr = (el._fullData || [])[0] || (el.data || [])[0] || {};
    const z = tr.z ? Array.from(tr.z) : [];
    return {title: title, type: tr.type || '', rows: z.length, cols: z.length ? Array.from(z[0]).length : 0};
})"""


def plots(page, prefix: str) -> list[dict]:
    return [p for p in page.evaluate(PLOTS_JS) if p["title"].startswith(prefix)]


def enabled(page) -> dict[str, bool]:
    return {name: page.get_by_role("button", name=name, exact=True).is_enabled()
            for name in ("Forward", "Backward", "Update")}


def view_shot(page, text: str, name: str) -> None:
    """The window scrolled to the phase's words, as a person sees it (Streamlit
    scrolls inside its own container: a full-page shot is the window)."""
    page.get_by_text(text).first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    shot(page, name)


def press(page, name: str, then: str) -> None:
    t0 = time.monotonic()
    page.get_by_role("button", name=name, exact=True).click()
    page.get_by_text(then).first.wait_for(timeout=60_000)
    t1 = time.monotonic()
    wait_idle(page, 60_000)
    print(f"{name}: {t1 - t0:.1f} s to its caption, {time.monotonic() - t1:.1f} s more to idle")


def test_lenet_forward_backward_update_in_order(app_url, page):
    try:
        steps(app_url, page)
    except Exception:
        with contextlib.suppress(Exception):
            shot(page, "browser-phases-failed")
        raise


def steps(app_url, page):
    t0 = time.monotonic()
    open_page(page, app_url + "/lenet", "LeNet: feature maps while it learns", timeout=180_000)
    page.get_by_text("next: forward · 0 step(s) done").wait_for(timeout=180_000)  # built in a worker
    print(f"page open: {time.monotonic() - t0:.1f} s")
    assert enabled(page) == {"Forward": True, "Backward": False, "Update": False}

    press(page, "Forward", "next: backward · 0 step(s) done")
    (act1,) = plots(page, "act1 (6×28×28)")
    assert act1["type"] == "heatmap" and (act1["rows"], act1["cols"]) == (2 * 29 - 1, 3 * 29 - 1)  # 6 maps, 3 a row
    (c3,) = plots(page, "act2 (16×10×10)")
    assert (c3["rows"], c3["cols"]) == (4 * 11 - 1, 4 * 11 - 1)  # 16 maps, 4 a row
    assert plots(page, "input X (1×28×28)") and not plots(page, "∇ ") and enabled(page)["Backward"]
    no_exceptions(page)
    view_shot(page, "One minibatch, phase by phase", "browser-phases-1-forward")

    press(page, "Backward", "next: update · 0 step(s) done")
    grads = {p["title"].split(" (")[0]: p for p in plots(page, "∇ ")}
    assert set(grads) == {f"∇ {layer}.{kind}" for layer in ("conv1", "conv2", "fc1", "fc2", "fc3")
                          for kind in ("weight", "bias")}
    assert grads["∇ conv1.weight"]["type"] == "heatmap" and (grads["∇ conv1.weight"]["rows"],
                                                              grads["∇ conv1.weight"]["cols"]) == (6, 25)
    assert grads["∇ fc1.weight"]["type"] == "bar"  # 120 × 400: a histogram
    assert enabled(page) == {"Forward": False, "Backward": False, "Update": True}
    view_shot(page, "gradients of the loss, ‖all gradients‖", "browser-phases-2-backward")

    press(page, "Update", "next: forward · 1 step(s) done")
    assert len(plots(page, "Δ ")) == 10 and len(plots(page, "∇ ")) == 10
    assert page.get_by_text("Plain SGD: Δ = −lr·∇").count() >= 1
    assert enabled(page) == {"Forward": True, "Backward": False, "Update": False}
    no_exceptions(page)
    view_shot(page, "Plain SGD: Δ = −lr·∇", "browser-phases-3-update")
