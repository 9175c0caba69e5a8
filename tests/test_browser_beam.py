"""The beam-search page in a real browser (Chromium via Playwright): Next and
Back reveal and hide the search tree; the trained model's tree and the
translation it ends in, the one core gives for the same seeded run.
Screenshots go to test-artifacts/.

Where Chromium or Playwright is missing these tests are skipped with the reason
printed, except under CI (CI=true), where a missing browser is a failure."""
from __future__ import annotations

import time

import pytest
from browser_support import (
    metric,
    no_exceptions,
    open_page,
    query,
    require_browser,
    shot,
    use_stand_in_if_missing,
    wait_idle,
    wait_metric,
)

from core.experiments.seq2seq import BOOK, load_corpus, make_trainer, stand_in_corpus
from core.models.seq2seq import translate
from playground.tree import NODE_TRACES as TRACE_NAMES

pytestmark = pytest.mark.browser
require_browser()
TITLE = "Beam search, step by step"
NODE_TRACES = list(TRACE_NAMES)  # the tree's legend names, as a JSON array for the page's scripts


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
    return tree_settled(page)


def tree_settled(page, quiet: float = 1.0, timeout: float = 30.0) -> int:
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
    open_page(page, app_url + "/beam_search", TITLE)
    wait_points(page, 0)
    counts = [tree_points(page)]
    shot(page, "browser-beam-toy-step1")
    for name in ("Next", "Next", "Back"):
        page.get_by_role("button", name=name, exact=True).first.click()
        counts.append(wait_points(page, counts[-1]))
        no_exceptions(page)
    assert counts[0] < counts[1] < counts[2] and counts[3] == counts[1], counts
    assert query(page)["beam_step"] == "2"
    shot(page, "browser-beam-toy-step2")
    page.goto(app_url + "/beam_search?beam_step=4&beam_k=2")
    wait_points(page, 0)
    assert tree_points(page) > counts[2]
    no_exceptions(page)
    shot(page, "browser-beam-toy-step4")


def core_translation(stand_in: bool, sentence: str, epochs: int, k: int) -> str:
    """What the page's run (seed 0, CPU, `epochs` epochs) translates `sentence`
    to, computed here with core alone: a seeded run replays exactly."""
    num_steps = BOOK.num_steps
    corpus = stand_in_corpus() if stand_in else load_corpus(num_steps, BOOK.num_examples)
    trainer = make_trainer(corpus.data, seed=0, device="cpu", num_epochs=epochs)
    trainer.advance()
    assert trainer.done
    return translate(trainer.net, sentence, corpus.data.src_vocab, corpus.data.tgt_vocab, num_steps, "cpu",
                     k=k, alpha=0.75).text


def test_model_mode_trains_and_reveals_a_translation(app_url, page):
    open_page(page, app_url + "/beam_search?beam_mode=Trained+seq2seq&num_epochs=10&beam_k=3", TITLE)
    stand_in = use_stand_in_if_missing(page)
    page.wait_for_selector("button:has-text('Start')", timeout=60_000)
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("text=Epoch 10 of 10", timeout=240_000)  # a short run: the tree is what is tested
    wait_idle(page, timeout=60_000)
    wait_metric(page, "best translation", "…", timeout=60_000)  # not before the search has ended
    before = tree_points(page)
    for _ in range(BOOK.num_steps):  # Next until the search has ended (at most num_steps steps)
        if metric(page, "best translation") != "…":
            break
        page.get_by_role("button", name="Next", exact=True).first.click()
        before = wait_points(page, before)
    shown = metric(page, "best translation")
    assert shown and shown != "…", shown
    assert shown == core_translation(stand_in, "go .", epochs=10, k=3)
    no_exceptions(page)
    shot(page, "browser-beam-model")
