"""The distribution-shift page in a real browser (Debian's Chromium via Playwright
against `streamlit run`): the amount of shift moves the maths and the link, the
preset trains the uncorrected and corrected classifiers side by side and the
accuracy chart grows, the picture draws both learned boundaries over the
weighted points, and the label-shift bars are drawn. Screenshots go to test-artifacts/."""
from __future__ import annotations

import time

import pytest
from browser_support import (
    live_series,
    metric,
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
VIEWPORT = (1400, 4800)  # tall: the picture and the label-shift section sit below the live charts
TITLE = "Environment and distribution shift"

PLOTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => ({
    title: ((el.layout && el.layout.title && el.layout.title.text) || '').replace(/<[^>]+>/g, ''),
    names: (el.data || []).map(tr => tr.name || ''),
}))"""


def test_shift_slider_preset_and_the_accuracy_chart_grows(app_url, page):
    open_page(page, app_url + "/distribution_shift?num_epochs=8", TITLE)
    press_slider(page, "amount of shift", "ArrowRight", 2)  # 2 -> 2.5
    wait_query(page, "shift", "2.5")
    page.wait_for_selector("text=around (1.5, 1.125)", timeout=30_000)  # the text follows the slider
    page.wait_for_selector("text=Epoch 0 of 8", timeout=60_000)  # built (a fresh server starts its workers first)
    page.get_by_role("button", name="Uncorrected vs corrected", exact=True).click()
    wait_live_points_beyond(page, "Accuracy", 0, timeout=120_000)
    page.wait_for_selector("text=Epoch 8 of 8", timeout=120_000)
    time.sleep(2.0)
    drawn = live_series(page, "Accuracy")["Accuracy"]
    assert drawn == {f"{run} · {curve}": 8 for run in ("uncorrected", "corrected (β)")
                     for curve in ("train (source)", "test (shifted target)")}, drawn
    page.wait_for_function(f"() => ({PLOTS_JS})().some(p => p.names.includes('learned boundary: corrected (β)'))",
                           timeout=60_000)
    names = {n for p in page.evaluate(PLOTS_JS) for n in p["names"]}
    assert {"learned boundary: uncorrected", "train, y = 1 (size: β)", "true boundary x₂ = x₁²/2",
            "estimate q̂ = C⁻¹μ"} <= names
    before, after = float(metric(page, "accuracy on the target, before")), float(metric(page, "after (β = q̂/p)"))
    assert after > before
    assert query(page) == {"shift": "2.5", "num_epochs": "8"}
    no_exceptions(page)
    shot(page, "browser-distribution-shift")
