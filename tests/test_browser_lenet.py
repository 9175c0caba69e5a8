"""The LeNet page in a real browser: turn on the modern LeNet and lower lr,
press Start, and watch the C1 feature maps change while it trains; the
screenshot is taken while it trains. Screenshots go to test-artifacts/."""
from __future__ import annotations

import contextlib

import pytest
from browser_support import (
    no_exceptions,
    open_page,
    press_slider,
    query,
    require_browser,
    shot,
    wait_live_points_beyond,
    wait_query,
)

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1400, 5200)  # tall: the pictures sit below the live charts

# The sum of every heatmap value of the plotly figure whose title starts with `prefix`, and its title.
MAP_JS = """(prefix) => {
    for (const el of document.querySelectorAll('.js-plotly-plot')) {
        const title = ((el.layout && el.layout.title && el.layout.title.text) || '').replace(/<[^>]+>/g, '');
        if (!title.startsWith(prefix)) continue;
        let sum = 0, cells = 0;
        for (const tr of el.data || []) {
            for (const row of Array.from(tr.z || [])) {
                for (const v of Array.from(row)) { sum += v; cells += 1; }
            }
        }
        return {title: title, sum: sum, cells: cells};
    }
    return null;
}"""


def c1(page) -> dict | None:
    return page.evaluate(MAP_JS, "C1:")


def test_modern_lenet_trains_and_the_c1_feature_maps_change(app_url, page):
    try:
        trains_and_the_maps_change(app_url, page)
    except Exception:
        with contextlib.suppress(Exception):
            shot(page, "browser-lenet-failed")  # what the page showed when it failed
        raise


def trains_and_the_maps_change(app_url, page):
    open_page(page, app_url + "/lenet", "LeNet: feature maps while it learns", timeout=180_000)  # a loaded machine
    page.wait_for_function(f"() => ({MAP_JS})('C1:') !== null", timeout=240_000)  # the run is built in a worker
    first = c1(page)
    assert first["cells"] == 6 * 28 * 28 and "sigmoid" in first["title"]
    page.get_by_text("modern LeNet (ReLU and max pooling)", exact=True).click()
    wait_query(page, "modern", "true")
    press_slider(page, "lr (learning rate η)", "ArrowLeft", 3)  # 0.9 -> 0.5 -> 0.3 -> 0.1
    wait_query(page, "lr", "0.1")
    page.wait_for_function(f"() => (({MAP_JS})('C1:') || {{title: ''}}).title.includes('ReLU')", timeout=60_000)
    before = c1(page)
    no_exceptions(page)
    page.get_by_role("button", name="Start", exact=True).click()
    # the feature maps are recomputed in the worker every 2 s while it trains: they change
    page.wait_for_function(f"(s) => {{ const m = ({MAP_JS})('C1:'); return m && Math.abs(m.sum - s) > 1e-3; }}",
                           arg=before["sum"], timeout=90_000)
    wait_live_points_beyond(page, "Minibatch loss", 5)
    assert c1(page)["sum"] != pytest.approx(before["sum"], abs=1e-3)
    assert "ReLU" in c1(page)["title"] and query(page) == {"modern": "true", "lr": "0.1"}
    # the sliding-kernel section is drawn for the same run (its Next cell is tested through AppTest)
    page.wait_for_function(f"() => ({MAP_JS})('C1 feature map 0') !== null", timeout=60_000)
    no_exceptions(page)
    shot(page, "browser-lenet")
