"""The GRU and LSTM page in a real browser (Chromium via Playwright against
`streamlit run`): Start, watch the perplexity chart grow and the generated text
change, read the gate heatmaps. Screenshots go to test-artifacts/. Skipped
(failing under CI) like every browser test."""
from __future__ import annotations

import time

import pytest
from browser_support import (
    TEXT_BLOCK,
    live_points,
    metric,
    no_exceptions,
    open_page,
    press_slider,
    require_browser,
    shot,
    use_stand_in_if_missing,
    wait_idle,
)

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1400, 3000)  # tall: the app scrolls inside, so a screenshot shows the viewport


def points_in(page, title: str) -> int:
    """Points drawn in the live chart titled `title`."""
    return live_points(page, title)


def heatmap_titles(page) -> list[str]:
    return [c["title"] for c in charts(page) if c["heatmap"]]


def charts(page) -> list[dict]:
    """Every plotly chart: its title as plain text (Streamlit's theme wraps it in <b>), the
    number of points of each trace, and whether it holds a heatmap."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => ({
        title: ((el.layout && el.layout.title && el.layout.title.text) || '').replace(/<[^>]+>/g, ''),
        points: (el.data || []).map(tr => tr.x ? tr.x.length : 0),
        heatmap: (el.data || []).some(tr => tr.type === 'heatmap'),
    }))""")


def generated(page) -> str:
    codes = page.locator(TEXT_BLOCK)
    return codes.last.inner_text() if codes.count() else ""


def open_gru_page(page, url: str) -> None:
    open_page(page, url, "GRU and LSTM gates")
    use_stand_in_if_missing(page)  # no real data here: the page says so; go on with the stand-in
    page.wait_for_selector("button:has-text('Start')", timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=60_000)
    page.wait_for_selector("[data-testid='stVegaLiteChart']", timeout=60_000)


def test_gru_trains_live_and_shows_gates(app_url, page):
    open_gru_page(page, app_url + "/gru_lstm?num_hiddens=64")
    no_exceptions(page)
    assert any("reset gate R" in t for t in heatmap_titles(page))
    assert any("untrained" in t for t in heatmap_titles(page))
    before_text = generated(page)
    assert before_text.startswith("time traveller")
    shot(page, "gru-lstm-before")

    page.get_by_role("button", name="Start").click()
    page.wait_for_function("() => document.body.innerText.includes('(running)')", timeout=60_000)
    page.wait_for_function("() => /Epoch [1-9]/.test(document.body.innerText)", timeout=120_000)
    first = points_in(page, "Minibatch perplexity")
    assert first > 0
    deadline = time.monotonic() + 30  # the chart grows while the run trains (read between redraws)
    while (second := points_in(page, "Minibatch perplexity")) <= first and time.monotonic() < deadline:
        time.sleep(0.5)
    assert second > first, (first, second)
    assert points_in(page, "Perplexity") >= 1
    text = generated(page)
    assert text.startswith("time traveller") and len(text) > len("time traveller ") + 40
    no_exceptions(page)
    shot(page, "gru-lstm-running")
    page.get_by_role("button", name="Pause").click()
    wait_idle(page, 30_000)
    no_exceptions(page)


def test_lstm_from_the_url(app_url, page):
    open_gru_page(page, app_url + "/gru_lstm?cell=lstm&num_hiddens=32")
    no_exceptions(page)
    titles = " ".join(heatmap_titles(page))
    assert "forget gate F" in titles and "memory cell C" in titles
    page.get_by_role("button", name="Step").click()
    page.wait_for_function("() => document.body.innerText.includes('Epoch 1 of')", timeout=120_000)
    wait_idle(page, 60_000)
    assert points_in(page, "Perplexity") >= 1
    no_exceptions(page)
    shot(page, "gru-lstm-lstm")


def finished_reading(page, epochs: int) -> tuple[str | None, str]:
    """After the run has ended: the page's perplexity and its greedy generation (both from the final model)."""
    page.wait_for_function(f"() => document.body.innerText.includes('Epoch {epochs} of {epochs}') && "
                           "!document.body.innerText.includes('(running)')", timeout=240_000)
    wait_idle(page, 60_000)
    time.sleep(1.0)  # the view's last recompute after the end
    wait_idle(page, 60_000)
    return metric(page, "training perplexity"), generated(page)


def test_moving_gate_views_mid_run_never_disturbs_the_run(app_url, page):
    """The same seeded run twice, once left alone and once with the gate views'
    controls moved all through it (each move reruns the page; some make the
    view probe the net in its worker): the same final model. The run is long
    (about 20 s here) beside a move (about 1 s here, a few under a loaded CI), so
    the moves land while it trains; ten moves are enough."""
    epochs = 100
    open_gru_page(page, app_url + f"/gru_lstm?num_hiddens=32&num_epochs={epochs}")
    page.get_by_role("button", name="Start").click()
    quiet = finished_reading(page, epochs)
    assert quiet[0] is not None and quiet[1].startswith("time traveller")
    page.get_by_role("button", name="Reset", exact=True).click()
    page.wait_for_selector("button:has-text('Start')", timeout=30_000)
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_function("() => document.body.innerText.includes('(running)')", timeout=60_000)
    moves = 0
    while "(running)" in page.inner_text("body") and moves < 10:
        press_slider(page, "unit drawn as lines", "ArrowRight", 1)
        if moves % 2 == 0:
            page.get_by_text("side by side with the untrained net", exact=True).click()
        if moves % 3 == 0:
            page.get_by_text("stretch gate colours to their range", exact=True).click()
        moves += 1
        time.sleep(0.3)
    moved = finished_reading(page, epochs)
    assert moves >= 3, "the run ended before the controls were moved"
    assert moved == quiet, (moved, quiet)
    assert "Training stopped" not in page.inner_text("body")
    no_exceptions(page)
    shot(page, "gru-lstm-views-moved")
