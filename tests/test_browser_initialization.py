"""The initialization page in a real browser (Chromium via Playwright against
`streamlit run`): move the depth slider, see the per-layer figures follow, press
Start and watch the live charts and the live per-layer view fill in.
Screenshots go to test-artifacts/."""
from __future__ import annotations

import pytest
from browser_support import (
    live_points,
    no_exceptions,
    open_page,
    press_slider,
    query,
    require_browser,
    shot,
    wait_live_points_beyond,
    wait_query,
    wait_settled,
)

pytestmark = pytest.mark.browser
require_browser()
TITLE = "Numerical stability and initialization"
VIEWPORT = (1400, 5800)  # the whole page: the figures before training, the live panel and its view, symmetry

PLOTS_JS = """(title) => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .filter(el => ((el.layout && el.layout.title && el.layout.title.text) || '').replace(/<[^>]+>/g, '')
                  .startsWith(title))
    .map(el => (el.data || []).map(tr => ({name: tr.name || '', points: tr.x ? tr.x.length : 0})))"""


def per_layer(page, title: str) -> list[dict[str, int]]:
    """For each plotly figure whose title starts with `title`: points per line."""
    return [{tr["name"]: tr["points"] for tr in fig} for fig in page.evaluate(PLOTS_JS, title)]


def test_depth_moves_the_figures_and_start_draws_the_live_view(app_url, page):
    page.set_default_timeout(120_000)  # a busy machine draws a dozen plotly figures slowly (and screenshots them)
    open_page(page, app_url + "/initialization?num_layers=3&num_hiddens=32&num_epochs=2", TITLE, timeout=120_000)
    page.wait_for_function(f"() => ({PLOTS_JS})('std of each hidden layer').length >= 1", timeout=180_000)
    before = per_layer(page, "std of each hidden layer")[0]  # the live view's copy may follow: one more figure
    assert before["Xavier"] == 3
    press_slider(page, "hidden layers (depth)", "ArrowRight", 2)  # 3 -> 5
    wait_query(page, "num_layers", "5")
    page.wait_for_function(f"() => ({PLOTS_JS})('std of each hidden layer')[0].some(t => t.name === 'Xavier' "
                           "&& t.points === 5)", timeout=120_000)
    no_exceptions(page)
    page.get_by_role("button", name="Start", exact=True).click()
    wait_live_points_beyond(page, "Gradient norm per minibatch", 20, timeout=180_000)
    page.wait_for_selector("text=Epoch 2 of 2", timeout=180_000)
    page.wait_for_selector("text=While training: per-layer statistics", timeout=120_000)
    wait_settled(page, 120_000)
    assert live_points(page, "Loss") == 2
    figs = per_layer(page, "std of each hidden layer")
    assert len(figs) == 2 and all(f.get("Xavier") == 5 for f in figs), figs  # before training, and the live view
    assert query(page) == {"num_layers": "5", "num_hiddens": "32", "num_epochs": "2"}
    no_exceptions(page)
    shot(page, "browser-initialization")
