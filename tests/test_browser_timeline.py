"""The timeline in a real browser, on the GRU page with a small net: train a few
epochs, pause, move the timeline slider to its first point (the untrained net):
the gate heatmaps change (the plotly figures' data compared before and after),
the charts mark the point; Resume from here starts a new run from it with the
old one drawn faded beside it. On LeNet: paused within its first epoch, the
first point shows the untrained net's C1 feature maps. Screenshots in test-artifacts/."""
from __future__ import annotations

import json
import time

import pytest
from browser_support import (
    live_series,
    no_exceptions,
    open_page,
    require_browser,
    shot,
    use_stand_in_if_missing,
    wait_idle,
    wait_live_points_beyond,
    widget,
)

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1400, 2400)

HEATMAPS = """() => JSON.stringify(Array.from(document.querySelectorAll('.js-plotly-plot'))
    .filter(el => (el.data || []).some(tr => tr.type === 'heatmap'))
    .map(el => el.data.filter(tr => tr.type === 'heatmap').map(tr => tr.z)))"""

# an idle machine trains this net ~9 epochs a second and the panel redraws twice a second:
# wait for "at least k epochs", not for one of the few numbers it may skip
EPOCH_AT_LEAST = """(k) => { const m = /Epoch (\\d+) of 200/.exec(document.body.innerText);
    return m !== null && Number(m[1]) >= k && Number(m[1]) < 200; }"""


def heatmaps(page) -> str:
    return page.evaluate(HEATMAPS)


def test_scrub_back_then_resume_from_there(app_url, page):
    open_page(page, app_url + "/gru_lstm?num_hiddens=16&num_epochs=200", "GRU and LSTM gates", timeout=180_000)
    use_stand_in_if_missing(page)
    page.wait_for_selector("button:has-text('Start')", timeout=180_000)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=180_000)
    page.get_by_role("button", name="Start").click()
    page.wait_for_function(EPOCH_AT_LEAST, arg=3, timeout=120_000)
    page.get_by_role("button", name="Pause").click()
    wait_idle(page, 60_000)
    slider = widget(page, "stSlider", "Timeline")
    slider.wait_for(timeout=60_000)
    time.sleep(1.0)  # the pictures' recompute after the pause
    wait_idle(page, 60_000)
    now = heatmaps(page)
    assert json.loads(now), "no gate heatmaps on the page"
    assert "now (step" in slider.inner_text()

    thumb = slider.get_by_role("slider")
    thumb.focus()
    thumb.press("Home")  # the first point: epoch 0, the untrained net
    page.wait_for_function("() => document.body.innerText.includes('epoch 0 (step 0)')", timeout=60_000)
    wait_idle(page, 60_000)
    page.wait_for_function(f"() => ({HEATMAPS})() !== {json.dumps(now)}", timeout=60_000)
    scrubbed = heatmaps(page)
    assert scrubbed != now and json.loads(scrubbed)
    no_exceptions(page)
    shot(page, "timeline-scrubbed")

    page.get_by_role("button", name="Resume from here").click()
    page.wait_for_function("() => document.body.innerText.includes('(running)')", timeout=120_000)
    page.wait_for_function(EPOCH_AT_LEAST, arg=1, timeout=120_000)
    page.get_by_role("button", name="Pause").click()
    wait_idle(page, 60_000)
    series = " ".join(name for chart in live_series(page).values() for name in chart)
    assert "resumed at epoch 0" in series and "GRU scratch, h=16, lr=1 ·" in series.replace(
        "resumed at epoch 0", ""), series
    no_exceptions(page)
    shot(page, "timeline-resumed")


# The sum of the C1 feature maps' values (the LeNet page's plotly figure titled "C1: ..."), or null.
C1_SUM = """() => {
    for (const el of document.querySelectorAll('.js-plotly-plot')) {
        const title = ((el.layout && el.layout.title && el.layout.title.text) || '').replace(/<[^>]+>/g, '');
        if (!title.startsWith('C1:')) continue;
        let sum = 0;
        for (const tr of el.data || [])
            for (const row of Array.from(tr.z || [])) for (const v of Array.from(row)) sum += v;
        return sum;
    }
    return null;
}"""


def test_lenet_scrubbed_to_its_first_point_shows_the_untrained_feature_maps(app_url, page):
    page.set_viewport_size({"width": 1400, "height": 5200})  # the feature maps sit below the live charts
    open_page(page, app_url + "/lenet?modern=true&lr=0.1", "LeNet: feature maps while it learns", timeout=180_000)
    page.wait_for_function(f"() => ({C1_SUM})() !== null", timeout=240_000)
    untrained = page.evaluate(C1_SUM)
    page.get_by_role("button", name="Start", exact=True).click()
    wait_live_points_beyond(page, "Minibatch loss", 30)  # well into the first epoch: points within it
    page.get_by_role("button", name="Pause").click()
    wait_idle(page, 60_000)
    page.wait_for_function(f"(u) => {{ const s = ({C1_SUM})(); return s !== null && Math.abs(s - u) > 1e-3; }}",
                           arg=untrained, timeout=60_000)  # the paused run's maps: trained a little
    slider = widget(page, "stSlider", "Timeline")
    slider.wait_for(timeout=60_000)
    assert "now (step" in slider.inner_text()
    thumb = slider.get_by_role("slider")
    thumb.focus()
    thumb.press("Home")
    page.wait_for_function("() => document.body.innerText.includes('epoch 0 (step 0)')", timeout=60_000)
    page.wait_for_function(f"(u) => Math.abs(({C1_SUM})() - u) < 1e-3", arg=untrained, timeout=60_000)
    no_exceptions(page)
    shot(page, "timeline-lenet-scrubbed")
