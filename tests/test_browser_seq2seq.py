"""The seq2seq page in a real browser: the architecture diagram, fewer GRU
layers change the shapes, Start trains and the BLEU curves and the per-token
loss picture fill in. Screenshots go to test-artifacts/."""
from __future__ import annotations

import pytest
from browser_support import (
    live_points,
    live_series,
    no_exceptions,
    open_page,
    press_slider,
    require_browser,
    shot,
    use_stand_in_if_missing,
    wait_query,
)

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1400, 3400)
TITLE = "Encoder-decoder and seq2seq training"
BLEU = "BLEU of the book's four sentences (greedy, k = 2)"


def test_layers_change_the_shapes_and_training_fills_bleu_and_the_loss_picture(app_url, page):
    open_page(page, app_url + "/seq2seq?num_epochs=20", TITLE)
    use_stand_in_if_missing(page)
    page.wait_for_selector("svg .node", state="attached", timeout=60_000)  # graphviz drew the architecture
    assert page.locator("text=encoder GRU, 2 layer(s)").count() >= 1
    press_slider(page, "GRU layers", "ArrowLeft", 1)
    wait_query(page, "num_layers", "1")
    page.wait_for_selector("text=encoder GRU, 1 layer(s)", timeout=30_000)
    no_exceptions(page)
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_function("() => document.body.innerText.includes('Cross-entropy of each target token')",
                           timeout=120_000)
    page.wait_for_selector("text=Epoch 20 of 20", timeout=180_000)
    assert live_points(page, "Loss per target token") == 20
    assert len(live_series(page, BLEU)[BLEU]) == 4
    no_exceptions(page)
    shot(page, "browser-seq2seq")
