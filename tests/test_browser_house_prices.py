"""The house-prices page in a real browser (Chromium via Playwright against
`streamlit run`): k moves the maths and the link, Start trains the final
model, the cross-validation button trains the folds beside it (one curve per
fold), their average and the submission show; a bad upload gets its message.
Screenshots go to test-artifacts/."""
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
VIEWPORT = (1400, 3400)  # tall: the fold summary and the submission sit below the live charts
TITLE = "Predicting house prices on Kaggle"


def test_k_start_folds_side_by_side_submission_and_a_bad_upload(app_url, page):
    open_page(page, app_url + "/house_prices?num_epochs=20", TITLE)
    page.wait_for_selector("text=2,919 houses: 79 features before, 330 columns after", timeout=30_000)
    press_slider(page, "k (folds)", "ArrowLeft", 2)  # 5 -> 3
    wait_query(page, "k", "3")
    page.wait_for_selector("text=Epoch 0 of 20", timeout=60_000)  # built (a fresh server starts its workers first)
    page.get_by_role("button", name="Start", exact=True).click()
    wait_live_points_beyond(page, "log RMSE", 0)
    page.wait_for_selector("text=Epoch 20 of 20", timeout=120_000)
    page.wait_for_selector("text=Download submission.csv", timeout=60_000)
    page.get_by_role("button", name="3-fold cross-validation and the final model").click()
    page.wait_for_selector("text=average valid log RMSE (3 folds)", timeout=120_000)
    page.wait_for_selector("text=Epoch 20 of 20", timeout=120_000)
    time.sleep(2)
    drawn = live_series(page, "log RMSE")["log RMSE"]
    for i in (1, 2, 3):
        assert drawn.get(f"fold {i} · valid") == 20 and drawn.get(f"fold {i} · train") == 20, drawn
    assert drawn.get("all training data · train") == 20, drawn
    average = float(metric(page, "average valid log RMSE (3 folds)"))
    assert 0.1 < average < 1.5, average  # after 20 of the book's 100 epochs about 1.0, on the way down to ~0.17
    page.wait_for_selector("text=Download submission.csv", timeout=60_000)
    assert page.locator(".js-plotly-plot").count() >= 1  # the predicted prices
    assert query(page) == {"k": "3", "num_epochs": "20"}
    no_exceptions(page)
    shot(page, "browser-house-prices")

    page.get_by_text("Use your own CSV files instead of the bundled ones").click()
    page.locator("[data-testid='stFileUploader'] input[type=file]").first.set_input_files(
        files=[{"name": "mine.csv", "mimeType": "text/csv", "buffer": b"Id,LotArea\n1,2\n"}])
    found = page.locator("text=The CSV lacks 79 required column(s)")
    found.wait_for(timeout=30_000)
    assert page.locator("text=The bundled train.csv is used instead.").count() == 1
    found.scroll_into_view_if_needed()
    no_exceptions(page)
    shot(page, "browser-house-prices-bad-upload")
