"""The three dataset pages in a real browser (Chromium via Playwright against
`streamlit run`): open each by its URL, move a control, see the page change.
Screenshots go to test-artifacts/. Skipped (failing under CI) like every browser test."""
from __future__ import annotations

import pytest
from browser_support import (
    SHARED_DATA,
    metric,
    no_exceptions,
    open_page,
    press_slider,
    query,
    require_browser,
    shot,
    use_stand_in_if_missing,
    wait_metric,
    wait_query,
    wait_settled,
)

from core.data.text import lines_from_text
from core.data.vocab import Vocab, tokenize
from core.ops.text_stats import SAMPLE_TEXT, round_trip
from core.ops.translation_stats import SAMPLE_PAIRS, nmt_view, truncated_share

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1400, 3000)  # tall: the screenshots show the whole page


GRID_WIDTH = """const el = document.querySelector('.js-plotly-plot');
    const z = el && el._fullData && el._fullData[0] && el._fullData[0].z; return z ? z[0].length : 0;"""


def image_width(page) -> int:
    """Width in pixels of the first plotly heatmap (the sample grid)."""
    return page.evaluate(f"() => {{ {GRID_WIDTH} }}")


def test_fashion_mnist_samples_and_epoch_timing(app_url, page):
    open_page(page, app_url + "/fashion_mnist", "Image classification dataset")
    stand_in = use_stand_in_if_missing(page)
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    before = image_width(page)
    assert before == 8 * 30 - 2, before  # 8 images of 28 pixels with 2-pixel gaps
    wait_settled(page)
    shot(page, "dataset-fashion-mnist")
    press_slider(page, "images per class", "ArrowLeft", 5)
    page.wait_for_function(f"(w) => (() => {{ {GRID_WIDTH} }})() === w", arg=3 * 30 - 2, timeout=30_000)
    assert query(page)["per_class"] == "3"
    page.get_by_role("button", name="New draw (seed + 1)").click()  # another draw, reproducible from the link
    page.wait_for_selector("text=drawn at random within each class with seed 1 (a torch.Generator", timeout=30_000)
    wait_query(page, "seed", "1")
    page.get_by_role("button", name="Time one epoch").click()
    page.wait_for_selector("[data-testid='stMetric']:has-text('seconds per epoch')", timeout=60_000)
    assert float(metric(page, "seconds per epoch")) > 0
    assert metric(page, "minibatches") == ("24" if stand_in else "235")  # 6,000 or 60,000 images / 256, rounded up
    no_exceptions(page)
    wait_settled(page)
    page.mouse.move(0, 0)  # no tooltip over the page in the screenshot
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.wait_for_timeout(500)
    shot(page, "dataset-fashion-mnist-timed")


def test_text_preprocessing_min_freq(app_url, page):
    open_page(page, app_url + "/text_preprocessing", "Text preprocessing")
    stand_in = use_stand_in_if_missing(page)
    page.wait_for_selector("[data-testid='stMetric']:has-text('vocabulary size')", timeout=30_000)
    text = SAMPLE_TEXT if stand_in else (SHARED_DATA / "timemachine.txt").read_text(encoding="utf-8")
    tokens = tokenize(lines_from_text(text), "word")
    assert metric(page, "vocabulary size") == f"{len(Vocab(tokens)):,}"
    assert metric(page, "tokens mapped to <unk>") == "0"
    wait_settled(page)
    shot(page, "dataset-text")
    press_slider(page, "min_freq", "ArrowRight", 3)
    vocab = Vocab(tokens, min_freq=3)
    wait_metric(page, "vocabulary size", f"{len(vocab):,}")
    unk = round_trip([t for line in tokens for t in line], vocab).num_unk
    assert unk > 0
    page.wait_for_selector(f"text=except the {unk:,} mapped to <unk>", timeout=30_000)  # the last element
    wait_settled(page)
    assert metric(page, "tokens mapped to <unk>") == f"{unk:,}"
    assert query(page)["min_freq"] == "3"
    no_exceptions(page)
    shot(page, "dataset-text-min-freq")


def test_mt_dataset_num_steps(app_url, page):
    open_page(page, app_url + "/mt_dataset", "Machine translation dataset")
    stand_in = use_stand_in_if_missing(page)
    page.wait_for_selector("[data-testid='stMetric']:has-text('cut at num_steps')", timeout=30_000)
    page.wait_for_selector("[data-testid='stDataFrame']", timeout=30_000)
    text = SAMPLE_PAIRS if stand_in else (SHARED_DATA / "fra-eng" / "fra.txt").read_text(encoding="utf-8")
    wait_settled(page)
    shot(page, "dataset-mt")
    press_slider(page, "num_steps", "ArrowLeft", 5)  # 8 -> 3: most sentences are cut now
    src, tgt, _ = nmt_view(text, 600, 3)
    wait_metric(page, "cut at num_steps", f"{truncated_share(src, 3):.0%} / {truncated_share(tgt, 3):.0%}")
    assert query(page)["num_steps"] == "3"
    wait_settled(page)
    no_exceptions(page)
    shot(page, "dataset-mt-num-steps")
