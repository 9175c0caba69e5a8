"""The model-selection page in a real browser (Debian's Chromium via Playwright
against `streamlit run`): the number of features moves the maths and the link,
Start grows the loss chart, the three cases draw three runs, and the pictures
(fitted polynomials, coefficients, validation curve, K-fold) are drawn.
Screenshots go to test-artifacts/.

Where Chromium or Playwright is missing these tests are skipped with the reason
printed, except under CI (CI=true), where a missing browser is a failure."""
from __future__ import annotations

import time

import pytest
from browser_support import (
    live_series,
    live_ticks,
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
VIEWPORT = (1400, 2400)
TITLE = "Model selection, underfitting and overfitting"
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def start_once_more_if_lost(page) -> None:
    """Press Start; if after 15 s the page still offers Start at epoch 0, press it once more and say so.
    A known defect (see README, "Known limits"): a click that lands while the
    panel's fragment re-runs can be lost; a student then presses again, and so does this test."""
    page.get_by_role("button", name="Start", exact=True).click()
    try:
        page.wait_for_function("() => !document.body.innerText.includes('Epoch 0 of')", timeout=15_000)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError: the click was lost
        print("\nthe Start click was lost; pressing it once more")
        page.get_by_role("button", name="Start", exact=True).click()


def test_features_slider_start_and_the_loss_chart_grows(app_url, page):
    open_page(page, app_url + "/model_selection", TITLE)
    press_slider(page, "number of features (degree + 1)", "ArrowRight", 16)  # 4 -> 20
    wait_query(page, "num_features", "20")
    page.wait_for_selector("text=20 features: more than the cubic needs", timeout=30_000)
    page.wait_for_selector("text=Epoch 0 of 400", timeout=60_000)  # built (a fresh server starts its workers first)
    start_once_more_if_lost(page)
    wait_live_points_beyond(page, "Loss", 0)  # (the worker may finish all 400 epochs between two redraws)
    page.wait_for_selector("text=Epoch 400 of 400", timeout=120_000)
    time.sleep(1.5)
    drawn = live_series(page, "Loss")["Loss"]
    assert drawn == {"train": 400, "test": 400}, drawn
    epochs = live_ticks(page, "Loss", "X")  # plain numbers, not "1e+2" (vega's tick-step precision)
    assert "400" in epochs and all(t.isdigit() for t in epochs), epochs
    assert live_series(page, "Coefficients w₀ to w₃")["Coefficients w₀ to w₃"] == {f"w{i}".translate(SUB): 400
                                                                                  for i in range(4)}
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)  # the fitted polynomial and the coefficients
    assert page.locator(".js-plotly-plot").count() >= 2
    assert query(page) == {"num_features": "20"}
    no_exceptions(page)
    shot(page, "browser-model-selection")


def test_three_cases_and_the_curves(app_url, page):
    open_page(page, app_url + "/model_selection", TITLE)
    page.get_by_role("button", name="Three cases: 4, 2 and 20 features").click()
    page.wait_for_selector("text=Epoch 400 of 400", timeout=180_000)
    time.sleep(1.5)
    loss = live_series(page, "Loss")["Loss"]
    runs = ("normal (4)", "underfit (2)", "overfit (20)")
    assert all(loss.get(f"{run} · {curve}") == 400 for run in runs for curve in ("train", "test")), loss
    no_exceptions(page)
    shot(page, "browser-model-selection-three-cases")
    page.get_by_role("button", name="Compute the validation curve and K-fold cross-validation").click()
    found = page.locator("text=K-fold picks")
    found.wait_for(timeout=60_000)
    page.wait_for_selector("text=5-fold cross-validation", timeout=30_000)
    assert page.locator(".js-plotly-plot").count() >= 4
    found.scroll_into_view_if_needed()
    no_exceptions(page)
    shot(page, "browser-model-selection-curves")
