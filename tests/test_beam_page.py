"""The beam-search page (book 10.8) through AppTest: the toy example's numbers,
Back / Next, and the trained seq2seq's translations."""
from __future__ import annotations

import json
import statistics

import pytest
from apptest_support import open_page, tick_until

from playground.tree import NODE_TRACES

PAGE = "topics/beam_search.py"


def tree_nodes(at) -> int:
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    trees = [s for s in charts if any(tr.get("name") in NODE_TRACES for tr in s["data"])]
    assert len(trees) == 1
    return sum(len(tr["x"]) for tr in trees[0]["data"] if tr.get("name") in NODE_TRACES)


def comparison(at):
    df = next(d.value for d in at.dataframe if "search" in d.value.columns)
    return {row["search"]: row for _, row in df.iterrows()}


def test_toy_comparison_is_the_books():
    at = open_page(PAGE)
    assert not at.exception, at.exception
    rows = comparison(at)
    assert round(rows["greedy (k = 1)"]["P"], 3) == 0.048
    assert rows["greedy (k = 1)"]["best sequence"] == "A B C <eos>"
    assert round(rows["beam (k = 2)"]["P"], 3) == 0.054
    assert rows["beam (k = 2)"]["best sequence"] == "A C B <eos>"
    assert rows["exhaustive"]["best sequence"] == "A C B <eos>"
    table = next(d.value for d in at.dataframe if "prefix" in d.value.columns)
    assert list(table["prefix"])[-1] == "any other prefix"


def test_next_and_back_grow_and_shrink_the_tree():
    at = open_page(PAGE)
    counts = [tree_nodes(at)]
    for name in ("next", "next", "back"):
        at.button(key=f"beam_step:{name}").click().run()
        assert not at.exception, at.exception
        counts.append(tree_nodes(at))
    assert counts[0] < counts[1] < counts[2] and counts[3] == counts[1]
    assert at.slider(key="beam_search.beam_step").value == 2


def test_the_step_is_read_from_the_url():
    at = open_page(PAGE, {"beam_step": "4", "beam_k": "2"})
    assert at.slider(key="beam_search.beam_step").value == 4
    ends = next(d.value for d in at.dataframe if "candidate" in d.value.columns)
    assert list(ends["candidate"]) == ["A C B <eos>", "A B C <eos>"]


@pytest.fixture(scope="module")
def model_page():
    """The real-model mode, trained a little (the stand-in pairs when fra.txt is missing)."""
    at = open_page(PAGE)
    at.segmented_control(key="beam_search.beam_mode").set_value("Trained seq2seq").run()
    assert not at.exception, at.exception
    stand_in = [t for t in at.toggle if t.label.startswith("Continue with a stand-in")]
    if stand_in:
        stand_in[0].set_value(True).run()
    at.button(key="seq2seq:start").click().run()
    assert not at.exception, at.exception
    return at


def test_model_mode_trains_and_the_loss_falls(model_page):
    at = model_page
    S = at.session_state["live:seq2seq"]
    tick_until(at, lambda at: S.steps >= 60 or not (S.active or S.building))
    losses = [r["loss"] for r in S.history()["steps"]]
    assert len(losses) >= 10
    n = max(3, len(losses) // 5)
    assert statistics.fmean(losses[-n:]) < statistics.fmean(losses[:n])


def test_unknown_words_are_flagged(model_page):
    at = model_page
    at.text_input(key="beam_search.beam_src").set_value("go zzzq .").run()
    assert not at.exception, at.exception
    notes = " ".join(w.value for w in at.warning)
    assert "<unk>" in notes and "zzzq" in notes


def pause(at):
    """Freeze the model: while it trains, every rerun is a tick that changes it."""
    if at.session_state["live:seq2seq"].active:
        at.button(key="seq2seq:pause").click().run()
    assert not at.session_state["live:seq2seq"].active


def test_bleu_of_an_exact_reference_is_one(model_page):
    at = model_page
    pause(at)
    at.button(key="pick:i lost .").click().run()
    assert at.text_input(key="beam_search.beam_src").value == "i lost ."
    at.slider(key="beam_search.beam_mstep").set_value(10).run()
    assert not at.exception, at.exception
    best = next(m.value for m in at.metric if m.label == "best translation")
    assert best and best != "…"
    at.text_input(key="beam_search.beam_ref").set_value(best).run()
    bleu = next(m.value for m in at.metric if m.label.startswith("BLEU"))
    assert bleu == "1.000"
    ends = next(d.value for d in at.dataframe if "candidate" in d.value.columns)
    assert "BLEU" in ends.columns and ends["BLEU"].max() == pytest.approx(1.0)


def test_a_new_sentence_starts_at_step_one(model_page):
    at = model_page
    pause(at)
    step = "beam_search.beam_mstep"
    at.text_input(key="beam_search.beam_src").set_value("go .").run()
    at.slider(key=step).set_value(4).run()
    at.run()
    assert at.slider(key=step).value == 4  # a rerun alone keeps the step
    at.text_input(key="beam_search.beam_src").set_value("he's calm .").run()
    assert not at.exception, at.exception
    assert at.slider(key=step).value == 1
    at.button(key=f"{step.split('.')[1]}:next").click().run()
    assert at.slider(key=step).value == 2
    at.button(key="pick:i lost .").click().run()  # a book example picked by its button
    assert at.slider(key=step).value == 1
    at.slider(key=step).set_value(3).run()
    at.text_input(key="beam_search.beam_src").set_value("I lost.").run()  # the same sentence, normalised
    assert at.slider(key=step).value == 3


def test_a_links_step_is_kept_on_the_first_run():
    at = open_page(PAGE, {"beam_mode": "Trained seq2seq", "beam_src": "i lost .", "beam_mstep": "3"})
    assert not at.exception, at.exception
    assert at.slider(key="beam_search.beam_mstep").value == 3
