"""The softmax-regression page in a real browser (Chromium via Playwright against
`streamlit run`): move lr, Start, watch the accuracy chart grow and the weight
images, the confusion matrix and the misclassified images follow the run.
Screenshots go to test-artifacts/."""
from __future__ import annotations

import pytest
from browser_support import (
    live_points,
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
VIEWPORT = (1400, 5400)  # tall: the pictures and the numerics sit below the live charts

TITLES_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el =>
    ((el.layout && el.layout.title && el.layout.title.text) || '').replace(/<[^>]+>/g, ''))"""


def titles(page) -> list[str]:
    return page.evaluate(TITLES_JS)


def test_lr_moves_start_trains_and_the_pictures_follow(app_url, page):
    open_page(page, app_url + "/softmax_regression?num_epochs=2", "Softmax regression")
    page.wait_for_function(f"() => ({TITLES_JS})().some(t => t.startsWith('Confusion matrix, epoch 0'))",
                           timeout=90_000)
    page.wait_for_function(f"() => ({TITLES_JS})().some(t => t.startsWith('W[:, j] as 28 × 28 images after step 0'))",
                           timeout=30_000)
    press_slider(page, "lr (learning rate)", "ArrowLeft", 1)  # 0.1 -> 0.03
    wait_query(page, "lr", "0.03")
    no_exceptions(page)
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_selector("text=Epoch 2 of 2", timeout=120_000)
    page.wait_for_function(f"() => ({TITLES_JS})().some(t => t.startsWith('Confusion matrix, epoch 2'))",
                           timeout=90_000)
    assert live_points(page, "Accuracy") == 2 and live_points(page, "Loss") == 2
    assert live_points(page, "Minibatch loss") >= 200  # 2 x 235 minibatches (downsampled to at most 400)
    acc = float(metric(page, "test acc"))
    assert 0.7 < acc < 0.9, acc
    confusion = next(t for t in titles(page) if t.startswith("Confusion matrix, epoch 2"))
    assert confusion.endswith(f"{acc:.3f}")  # the matrix's diagonal is the run's test accuracy
    weights = next(t for t in titles(page) if t.startswith("W[:, j]"))
    assert "after step 0" not in weights
    assert any("misclassified test images" in t for t in titles(page))
    assert query(page) == {"num_epochs": "2", "lr": "0.03"}
    no_exceptions(page)
    shot(page, "browser-softmax-regression")
