"""The linear-regression page in a real browser (Chromium via Playwright against
`streamlit run`): move lr, Start, watch the charts and the SGD path fill in;
a large lr shows the divergence message. Screenshots go to test-artifacts/."""
from __future__ import annotations

import pytest
from browser_support import (
    live_points,
    live_series,
    live_ticks,
    metric,
    no_exceptions,
    open_page,
    press_slider,
    query,
    require_browser,
    shot,
    wait_query,
)

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1400, 3200)  # tall: the pictures sit below the live charts

PLOTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => ({
    title: ((el.layout && el.layout.title && el.layout.title.text) || '').replace(/<[^>]+>/g, ''),
    traces: (el.data || []).map(tr => ({name: tr.name || '', type: tr.type || '',
                                        points: tr.x ? tr.x.length : 0})),
}))"""


def path_points(page) -> int:
    """Points of the SGD path drawn on the loss surface (0 when it is not drawn)."""
    for plot in page.evaluate(PLOTS_JS):
        for tr in plot["traces"]:
            if tr["type"] == "scatter" and "path" in tr["name"]:
                return tr["points"]
    return 0


def test_lr_moves_start_trains_and_the_path_fills_in(app_url, page):
    open_page(page, app_url + "/linear_regression", "Linear regression")
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60_000)
    assert path_points(page) == 1  # the start only
    press_slider(page, "lr (learning rate)", "ArrowRight", 1)  # 0.03 -> 0.1
    wait_query(page, "lr", "0.1")
    no_exceptions(page)
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_selector("text=Epoch 3 of 3", timeout=90_000)
    page.wait_for_function(f"() => ({PLOTS_JS})().some(p => p.traces.some(t => t.name.includes('path') "
                           "&& t.points === 301))", timeout=60_000)
    assert live_points(page, "Loss") == 3
    assert live_points(page, "Minibatch loss") >= 250  # 300 minibatches (downsampled to at most 400)
    assert set(live_series(page, "w and b per minibatch")["w and b per minibatch"]) >= {"w1", "w2", "b"}
    loss = float(metric(page, "loss"))
    assert loss < 1e-3, loss
    assert query(page) == {"lr": "0.1"}
    no_exceptions(page)
    shot(page, "browser-linear-regression")


def test_a_large_lr_diverges_with_the_panels_message(app_url, page):
    open_page(page, app_url + "/linear_regression?lr=3", "Linear regression")
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_selector("text=The loss became NaN or infinite", timeout=90_000)
    page.wait_for_selector("text=path left the picture", timeout=60_000)
    assert path_points(page) > 1
    ticks = live_ticks(page, "w and b per minibatch")  # w went to 1e+20 and beyond: short labels all the same
    assert ticks and any("e+" in t for t in ticks) and all(len(t) <= 8 for t in ticks), ticks
    no_exceptions(page)
    shot(page, "browser-linear-regression-diverged")
