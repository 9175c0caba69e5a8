"""The MLP page in a real browser (Chromium via Playwright against `streamlit
run`): the activation plots are drawn, num_hiddens moves into the link, then
the 2-D toy trains and its decision boundary and hidden units are redrawn as
it learns. Screenshots go to test-artifacts/."""
from __future__ import annotations

import re

import pytest
from browser_support import (
    live_points,
    no_exceptions,
    open_page,
    press_slider,
    query,
    require_browser,
    shot,
    wait_idle,
    wait_query,
)

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1400, 3800)  # tall: the pictures sit below the live charts

PLOTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => ({
    title: ((el.layout && el.layout.title && el.layout.title.text) || '').replace(/<[^>]+>/g, ''),
    traces: (el.data || []).map(tr => ({name: tr.name || '', type: tr.type || ''})),
}))"""
BOUNDARY = re.compile(r"Decision boundary after epoch (\d+) \(step (\d+)\)\s*train accuracy ([\d.]+), test ([\d.]+)")


def boundary(page) -> tuple[int, float, float] | None:
    """(epoch, train accuracy, test accuracy) in the boundary picture's title; None before it is drawn."""
    for plot in page.evaluate(PLOTS_JS):
        m = BOUNDARY.search(plot["title"])
        if m:
            return int(m.group(1)), float(m.group(3)), float(m.group(4))
    return None


def test_num_hiddens_moves_then_the_toy_trains_and_its_boundary_is_redrawn(app_url, page):
    open_page(page, app_url + "/mlp", "Multilayer perceptrons and activation functions")
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60_000)
    names = {tr["name"] for plot in page.evaluate(PLOTS_JS) for tr in plot["traces"]}
    assert {"ReLU", "sigmoid", "tanh", "ReLU, autograd", "ReLU, closed form"} <= names
    press_slider(page, "num_hiddens (hidden units)", "ArrowLeft", 2)  # 256 -> 64
    wait_query(page, "num_hiddens", "64")
    page.wait_for_selector("text=units pass (almost) no gradient", timeout=60_000)
    wait_idle(page, 60_000)
    no_exceptions(page)
    shot(page, "browser-mlp-fashion-mnist")

    page.get_by_text("2-D toy (decision boundary)", exact=True).click()  # the segmented control
    wait_query(page, "part", "toy")
    page.wait_for_function(f"() => ({PLOTS_JS})().some(p => p.title.startsWith('Decision boundary'))",
                           timeout=60_000)
    assert "num_hiddens" not in query(page)  # the book's MLP's settings left the link with it
    epoch0, train0, _ = boundary(page)
    assert epoch0 == 0
    # 3000 epochs: the run lasts (an idle machine trains the default 300 in about two seconds)
    open_page(page, app_url + "/mlp?part=toy&num_epochs=3000", "Multilayer perceptrons and activation functions")
    page.wait_for_selector("text=Epoch 0 of 3000", timeout=60_000)
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_function(f"""() => ({PLOTS_JS})().some(p => {{
        const m = /after epoch (\\d+)/.exec(p.title); return m && +m[1] >= 60; }})""", timeout=120_000)
    epoch, train, test = boundary(page)
    assert epoch >= 60 and train > max(train0, 0.6), (epoch, train0, train)
    assert live_points(page, "Loss") >= 30
    page.wait_for_function(f"""() => ({PLOTS_JS})().some(p => p.title.startsWith('The hidden units')
        && p.traces.filter(t => t.type === 'heatmap').length === 3 * 8)""", timeout=30_000)  # 3 layers, 8 of 16
    seen = []  # while it trains the picture is redrawn in place, never removed
    for _ in range(12):
        page.wait_for_timeout(250)
        seen.append(boundary(page))
    assert all(s is not None for s in seen), seen
    page.wait_for_function(f"""() => ({PLOTS_JS})().some(p => {{
        const m = /after epoch (\\d+)/.exec(p.title); return m && +m[1] >= 300; }})""", timeout=180_000)
    later = boundary(page)
    assert later[0] > epoch, (epoch, later)  # it moved on with the epochs
    assert later[1] > 0.9, later  # the spiral learned: train accuracy
    page.get_by_role("button", name="Pause", exact=True).click()
    page.wait_for_selector("button:has-text('Start')", timeout=30_000)
    wait_idle(page, 60_000)
    no_exceptions(page)
    shot(page, "browser-mlp-toy")
