"""The layers-and-parameters page in a real browser (Chromium via Playwright
against `streamlit run`): the module tree renders as a graph, choosing another
initializer redraws the per-layer weight histograms and goes into the link.
Screenshots go to test-artifacts/."""
from __future__ import annotations

import math

import pytest
from browser_support import metric, no_exceptions, open_page, query, require_browser, shot, wait_query, widget

pytestmark = pytest.mark.browser
require_browser()
TITLE = "Layers, modules and parameters"
VIEWPORT = (1400, 3700)  # the whole page: inspector, histograms, lazy, tied, custom layers

HIST_JS = """(title) => {
    const el = Array.from(document.querySelectorAll('.js-plotly-plot')).find(
        e => ((e.layout && e.layout.title && e.layout.title.text) || '').replace(/<[^>]+>/g, '')
                 .startsWith(title));
    if (!el) return null;
    const bar = (el.data || []).find(t => t.type === 'bar');
    return bar ? {x: Array.from(bar.x), y: Array.from(bar.y)} : null;
}"""


def histogram(page, title: str):
    return page.evaluate(HIST_JS, title)


def choose(page, label: str, option: str) -> None:
    """Open the selectbox labelled `label` and click `option`."""
    widget(page, "stSelectbox", label).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_the_initializer_redraws_the_histograms(app_url, page):
    page.set_default_timeout(120_000)  # a fresh server on a busy machine is slow to show its first page
    open_page(page, app_url + "/layers_parameters", TITLE, timeout=180_000)
    page.wait_for_function(f"() => ({HIST_JS})('hidden.weight') !== null", timeout=60_000)
    page.wait_for_selector("[data-testid='stGraphVizChart'] svg", timeout=60_000)
    assert page.locator("[data-testid='stGraphVizChart'] svg g.node").count() == 3  # MLP, hidden, out
    assert metric(page, "parameters (total)") == "7,946"
    before = histogram(page, "hidden.weight")
    assert sum(before["y"]) == 256 * 20
    bound = 1 / math.sqrt(20)  # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert max(abs(x) for x in before["x"]) < bound
    choose(page, "initializer", "my_init: U(-10, 10), zero where |w| < 5")
    wait_query(page, "init", "my_init")
    page.wait_for_function(f"() => {{ const h = ({HIST_JS})('hidden.weight'); "
                           "return h && Math.max(...h.x.map(Math.abs)) > 5; }", timeout=60_000)
    after = histogram(page, "hidden.weight")
    assert after["y"] != before["y"] and sum(after["y"]) == 256 * 20
    page.wait_for_selector("text=of the weights are exactly 0", timeout=30_000)
    assert query(page) == {"init": "my_init"}
    no_exceptions(page)
    shot(page, "browser-layers-parameters")
