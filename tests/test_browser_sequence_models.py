"""The sequence-model and text-minibatch pages in a real browser (Chromium via
Playwright against `streamlit run`): on 9.1 move tau, Start, and watch the
prediction charts change as the run trains; on 9.3 move batch_size and switch
to random sampling and watch the coloured spans change. Screenshots go to
test-artifacts/."""
from __future__ import annotations

import pytest
from browser_support import no_exceptions, open_page, press_slider, query, require_browser, shot, wait_idle, wait_query

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1400, 2600)

TRACE_JS = """([title, name]) => {
    for (const el of document.querySelectorAll('.js-plotly-plot')) {
        const t = ((el.layout && el.layout.title && el.layout.title.text) || '').replace(/<[^>]+>/g, '');
        if (!t.startsWith(title)) continue;
        for (const tr of (el.data || [])) {
            if (name === null || tr.name === name) return JSON.stringify([t, tr.y || tr.z]);
        }
    }
    return null;
}"""


def trace(page, title: str, name: str | None) -> str | None:
    """The title and the y (or z) values of the named trace of the plotly figure whose title starts with `title`."""
    return page.evaluate(TRACE_JS, [title, name])


def wait_trace_change(page, title: str, name: str | None, before: str | None, timeout: float = 90_000) -> str:
    page.wait_for_function(f"([t, n, b]) => {{ const v = ({TRACE_JS})([t, n]); return v !== null && v !== b; }}",
                           arg=[title, name, before], timeout=timeout)
    return trace(page, title, name)


def test_tau_moves_start_trains_and_the_predictions_change(app_url, page):
    open_page(page, app_url + "/sequence_models", "Sequence models")
    page.wait_for_selector("text=Predictions after epoch 0", timeout=180_000)  # a fresh server: workers start
    untrained = wait_trace_change(page, "Data and one-step-ahead predictions", "1-step preds", None)
    press_slider(page, "tau (the number of previous values the model sees)", "ArrowRight", 4)  # 4 -> 8
    wait_query(page, "tau", "8")
    no_exceptions(page)
    new_model = wait_trace_change(page, "Data and one-step-ahead predictions", "1-step preds", untrained)
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_selector("text=Epoch 5 of 5", timeout=90_000)
    page.wait_for_selector("text=Predictions after epoch 5", timeout=60_000)
    trained = wait_trace_change(page, "Data and one-step-ahead predictions", "1-step preds", new_model)
    assert trained != untrained
    assert trace(page, "Multi-step-ahead", "multistep preds") is not None
    assert trace(page, "k-step-ahead", "64-step preds") is not None
    assert query(page) == {"tau": "8"}
    wait_idle(page)
    no_exceptions(page)
    shot(page, "browser-sequence-models")


def test_batch_size_and_the_scheme_change_the_spans(app_url, page):
    open_page(page, app_url + "/language_models", "Language models and minibatches of text")
    title = "Sequential partitioning"
    page.wait_for_function(f"() => ({TRACE_JS})(['{title}', null]) !== null", timeout=60_000)
    before = trace(page, title, None)
    press_slider(page, "batch_size", "ArrowRight", 1)  # 3 -> 4
    wait_query(page, "batch_size", "4", timeout=60_000)
    after = wait_trace_change(page, title, None, before)
    assert "4 × 8" in after
    page.get_by_text("random sampling", exact=True).click()  # the segmented control
    wait_query(page, "scheme", "random", timeout=60_000)
    page.wait_for_function(f"() => ({TRACE_JS})(['Random sampling', null]) !== null", timeout=60_000)
    page.wait_for_selector("text=happen to continue", timeout=30_000)
    wait_idle(page)
    no_exceptions(page)
    shot(page, "browser-language-models")
