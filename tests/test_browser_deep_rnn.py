"""The deep and bidirectional RNN pages in a real browser (Chromium via
Playwright against `streamlit run`): on the deep page, one more layer, Start,
the perplexity chart grows and every layer gets its heatmap; on the
bidirectional page, Start and the generated text changes. Screenshots go to
test-artifacts/."""
from __future__ import annotations

import pytest
from browser_support import (
    TEXT_BLOCK,
    live_points,
    no_exceptions,
    open_page,
    press_slider,
    require_browser,
    shot,
    use_stand_in_if_missing,
    wait_idle,
    wait_live_points_beyond,
    wait_query,
)

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1400, 3000)  # tall: the pictures sit below the live charts

TITLES_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el =>
    ((el.layout && el.layout.title && el.layout.title.text) || '').replace(/<[^>]+>/g, ''))"""


def generated(page) -> list[str]:
    return [c.inner_text() for c in page.locator(TEXT_BLOCK).all()]


def test_deep_rnn_one_more_layer_trains_live(app_url, page):
    open_page(page, app_url + "/deep_rnn?num_hiddens=16&num_epochs=30", "Deep recurrent neural networks")
    use_stand_in_if_missing(page)
    page.wait_for_selector("button:has-text('Start')", timeout=180_000)  # a fresh server starts its workers
    no_exceptions(page)
    press_slider(page, "layers", "ArrowRight", 1)  # 2 -> 3 layers
    wait_query(page, "num_layers", "3")
    wait_idle(page, 60_000)
    page.wait_for_function(f"() => ({TITLES_JS})().filter(t => t.startsWith('layer ')).length === 3",
                           timeout=60_000)
    assert live_points(page, "Perplexity") == 0
    page.get_by_role("button", name="Start").click()
    page.wait_for_function("() => document.body.innerText.includes('(running)')", timeout=60_000)
    first = wait_live_points_beyond(page, "Perplexity", 0, timeout=120_000)
    second = wait_live_points_beyond(page, "Perplexity", first, timeout=120_000)
    assert second > first
    titles = page.evaluate(TITLES_JS)
    assert sorted({t.split(":")[0] for t in titles if t.startswith("layer ")}) == [f"layer {i} of 3" for i in (1, 2, 3)]
    assert "of 30" in page.inner_text("body")  # the progress bar: Epoch n of 30
    no_exceptions(page)
    shot(page, "deep-rnn-3-layers-running")
    page.get_by_role("button", name="Pause").click()
    wait_idle(page, 30_000)


def test_bidirectional_generation_changes_as_it_trains(app_url, page):
    open_page(page, app_url + "/bidirectional_rnn?num_hiddens=32&num_epochs=400",
              "Bidirectional recurrent neural networks")
    use_stand_in_if_missing(page)
    page.wait_for_selector(TEXT_BLOCK, timeout=180_000)
    before = generated(page)
    assert len(before) == 1 and before[0].startswith("time traveller ")
    page.get_by_role("button", name="Start").click()
    page.wait_for_function("() => document.body.innerText.includes('(running)')", timeout=60_000)
    page.wait_for_function(
        f"(b) => {{ const c = document.querySelectorAll(\"{TEXT_BLOCK}\"); "
        "return c.length === 1 && c[0].innerText !== b && /epoch [1-9]/.test(document.body.innerText); }",
        arg=before[0], timeout=120_000)
    after = generated(page)
    assert after[0].startswith("time traveller ") and after != before
    assert live_points(page, "Perplexity") >= 1
    no_exceptions(page)
    shot(page, "bidirectional-rnn-running")
    page.get_by_role("button", name="Pause").click()
    wait_idle(page, 30_000)
    no_exceptions(page)
