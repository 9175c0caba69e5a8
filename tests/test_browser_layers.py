"""The dropout, padding and stride, pooling and batch-norm pages in a real browser (Debian's Chromium via Playwright
against `streamlit run`): a control moves what is shown, training adds points
to the live chart, and no Streamlit exception box appears. Screenshots go to
test-artifacts/.

Where Chromium or Playwright is missing these tests are skipped with the reason
printed, except under CI (CI=true), where a missing browser is a failure."""
from __future__ import annotations

import pytest
from browser_support import (
    metric,
    no_exceptions,
    open_page,
    press_slider,
    query,
    require_browser,
    shot,
    wait_live_points_beyond,
    wait_metric,
    wait_metric_change,
    wait_query,
)

from core.ops.conv_arithmetic import shift_comparison

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1400, 1600)


def wait_progress_beyond(page, title: str, value: int, timeout: float = 90_000) -> int:
    """Points in the live chart titled `title`, once more than `value` are drawn."""
    return wait_live_points_beyond(page, title, value, timeout)


def open_chart_page(page, url: str, title: str) -> None:
    open_page(page, url, title)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)


def test_padding_stride_page(app_url, page):
    open_chart_page(page, app_url + "/padding_stride?n_h=8&n_w=8&k_h=3&k_w=3", "Padding and stride")
    label = "output shape (book's formula)"
    assert metric(page, label) == "8 × 8"
    press_slider(page, "stride s_h", "ArrowRight", 1)
    wait_metric(page, label, "4 × 8")  # both, once the rerun has drawn them
    wait_metric(page, "output shape (torch's conv2d)", "4 × 8")
    wait_query(page, "s_h", "2")
    assert query(page)["n_h"] == "8" and query(page)["k_h"] == "3"  # the link's settings stay
    no_exceptions(page)
    shot(page, "browser-padding-stride")


def test_pooling_page(app_url, page):
    open_chart_page(page, app_url + "/pooling", "Pooling")
    label = "pooled outputs unchanged"
    before = metric(page, label)
    assert before == f"{shift_comparison(shift=1, mode='max')['pool_unchanged']:.0%}"
    press_slider(page, "shift (columns; the edge column is repeated)", "ArrowRight", 1)
    wait_metric_change(page, label, before)
    expected = shift_comparison(shift=2, mode="max")["pool_unchanged"]
    wait_metric(page, label, f"{expected:.0%}")
    no_exceptions(page)
    shot(page, "browser-pooling")


@pytest.mark.parametrize("path, title, inside", [("dropout", "Dropout", "The network on one test image"),
                                                 ("batch_norm", "Batch normalization", "Inputs of the sigmoids")])
def test_training_page_adds_points_live(app_url, page, path, title, inside):
    open_chart_page(page, f"{app_url}/{path}", title)
    page.wait_for_selector("button:has-text('Start')", timeout=30_000)
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("button:has-text('Pause')", timeout=30_000)
    first = wait_progress_beyond(page, "Minibatch loss", 0)  # the first minibatches are drawn
    second = wait_progress_beyond(page, "Minibatch loss", first)  # and later ones join them
    assert second > first > 0, (first, second)
    no_exceptions(page)
    shot(page, f"browser-{path.replace('_', '-')}")
    page.get_by_role("button", name="Pause").click()
    page.wait_for_selector("button:has-text('Start')", timeout=30_000)
    page.set_viewport_size({"width": 1400, "height": 3000})  # the app scrolls inside: a tall window shows all
    page.get_by_text(inside).first.wait_for(timeout=30_000)
    no_exceptions(page)
    shot(page, f"browser-{path.replace('_', '-')}-inside")
