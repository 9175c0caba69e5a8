"""The beam-search page in a real browser (Chromium via Playwright): Next and
Back reveal and hide the search tree; the trained model's tree. Screenshots
go to test-artifacts/.

Where Chromium or Playwright is missing these tests are skipped with the reason
printed, except under CI (CI=true), where a missing browser is a failure."""
from __future__ import annotations

import time

import pytest
from browser_support import browser_page, no_exceptions, require_browser, shot, wait_idle

pytestmark = pytest.mark.browser
require_browser()

NODE_TRACES = ["start", "in the beam", "finished (<eos>)", "pruned"]


@pytest.fixture
def page():
    with browser_page() as p:
        yield p


def tree_points(page) -> int:
    """Nodes drawn in the search tree (the plotly chart with the node traces)."""
    return page.evaluate("""(names) => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .flatMap(el => el.data || []).filter(tr => names.includes(tr.name))
        .reduce((n, tr) => n + (tr.x ? tr.x.length : 0), 0)""", NODE_TRACES)


def wait_points(page, not_equal: int, timeout: float = 30_000) -> int:
    page.wait_for_function("""([names, old]) => {
        const n = Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(el => el.data || [])
            .filter(tr => names.includes(tr.name)).reduce((n, tr) => n + (tr.x ? tr.x.length : 0), 0);
        return n > 0 && n !== old; }""", arg=[NODE_TRACES, not_equal], timeout=timeout)
    return settled(page)


def settled(page, quiet: float = 1.0, timeout: float = 30.0) -> int:
    """The node count once the app is idle and the count has not changed for `quiet` seconds
    (a rerun redraws elements one after another)."""
    deadline, last, since = time.time() + timeout, None, time.time()
    while time.time() < deadline:
        wait_idle(page)
        n = tree_points(page)
        if n != last:
            last, since = n, time.time()
        elif time.time() - since >= quiet:
            return n
        time.sleep(0.2)
    return last


def test_next_and_back_in_the_browser(app_url, page):
    page.goto(app_url + "/beam_search")
    page.wait_for_selector("h1:has-text('Beam search, step by step')", timeout=60_000)
    wait_points(page, 0)
    counts = [tree_points(page)]
    shot(page, "browser-beam-toy-step1")
    for name in ("Next", "Next", "Back"):
        page.get_by_role("button", name=name, exact=True).first.click()
        counts.append(wait_points(page, counts[-1]))
        no_exceptions(page)
    assert counts[0] < counts[1] < counts[2] and counts[3] == counts[1], counts
    assert "beam_step=2" in page.url
    shot(page, "browser-beam-toy-step2")
    page.goto(app_url + "/beam_search?beam_step=4&beam_k=2")
    wait_points(page, 0)
    assert tree_points(page) > counts[2]
    no_exceptions(page)
    shot(page, "browser-beam-toy-step4")


def test_model_mode_trains_and_reveals_a_translation(app_url, page):
    page.goto(app_url + "/beam_search?beam_mode=Trained+seq2seq&num_epochs=10&beam_k=3")
    page.wait_for_selector("h1:has-text('Beam search, step by step')", timeout=60_000)
    stand_in = page.get_by_text("Continue with a stand-in")
    page.wait_for_selector("button:has-text('Start'), label:has-text('Continue with a stand-in')", timeout=60_000)
    if stand_in.count():
        stand_in.first.click()
    page.wait_for_selector("button:has-text('Start')", timeout=60_000)
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("text=Epoch 10 of 10", timeout=240_000)  # a short run: the tree is what is tested
    wait_idle(page, timeout=60_000)
    before = tree_points(page)
    for _ in range(4):
        page.get_by_role("button", name="Next", exact=True).first.click()
        before = wait_points(page, before)
    no_exceptions(page)
    shot(page, "browser-beam-model")
