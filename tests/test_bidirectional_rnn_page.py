"""The bidirectional RNN page through AppTest: both lessons as values on the page."""
from __future__ import annotations

import math
import re

import pytest
from apptest_support import metric, open_page, panel, texts_shown, tick_until

PAGE = "topics/bidirectional_rnn.py"
PRESET = "Bidirectional against unidirectional"


def run_preset(at, key: str, epochs: int = 1):
    next(b for b in at.button if b.label == PRESET).click().run()
    R = panel(at, key)
    tick_until(at, lambda a: all(len(R.history(n)["epochs"]) >= epochs for n in R.names), timeout=90)
    at.run()
    tick_until(at, lambda a: len([m for m in a.metric if m.label in ("training perplexity", "training accuracy")
                                  and m.value != "–"]) == 2, timeout=30, every=0.5)
    # the figures come from a probe that may have seen an epoch end the page's last poll had not
    # yet brought: poll again until every run's records reach the epoch its figures name
    tick_until(at, lambda a: all(len(R.history(n)["epochs"]) >= e for n, e in zip(R.names, epochs_shown(a))),
               timeout=30, every=0.5)
    return R


def epochs_shown(at) -> list[int]:
    """The epoch each run's figures on the page are from (the view recomputes every few seconds)."""
    return [int(m) for el in at.markdown for m in re.findall(r"^\*\*\w+\*\* \(.*\), epoch (\d+)$", el.value)]


def test_equations_and_the_lesson():
    at = open_page(PAGE)
    assert not at.exception, at.exception
    formulas = " ".join(x.value for x in at.latex)
    assert r"\overrightarrow{\mathbf{H}}_{t-1}" in formulas and r"\overleftarrow{\mathbf{H}}_{t+1}" in formulas
    assert r"\left[\overrightarrow{\mathbf{H}}_t,\ \overleftarrow{\mathbf{H}}_t\right]" in formulas
    assert any("backward direction at step *t* has already read" in m.value for m in at.markdown)


def test_language_model_preset_shows_both_generations():
    at = open_page(PAGE, {"num_hiddens": "16", "num_epochs": "5"})
    R = run_preset(at, "bidirectional_rnn:lm")
    assert list(R.names) == ["bidirectional", "unidirectional"]
    texts = texts_shown(at)
    assert len(texts) == 2 and all(t.startswith("time traveller ") and len(t) == 65 for t in texts)
    shown = [float(m.value) for m in at.metric if m.label == "training perplexity"]
    for name, value, epoch in zip(R.names, shown, epochs_shown(at)):
        assert value == pytest.approx(math.exp(R.history(name)["epochs"][epoch - 1]["train_loss"]), abs=0.006)
    assert "Held-out perplexity: bidirectional" in " ".join(c.value for c in at.caption)


def test_fill_in_the_blank_preset_compares_accuracies():
    at = open_page(PAGE, {"task": "blank", "num_hiddens": "16", "num_epochs": "5", "context": "2"})
    assert not at.exception, at.exception
    R = run_preset(at, "bidirectional_rnn:blank")
    accuracies = [m.value for m in at.metric if m.label == "held-out accuracy"]
    assert len(accuracies) == 2
    for name, value, epoch in zip(R.names, accuracies, epochs_shown(at)):
        assert value == f"{R.history(name)['epochs'][epoch - 1]['test_metric']:.1%}"
    guesses = [m.value for m in at.markdown if m.value.startswith("Its likeliest characters for the blank in "
                                                                   "*the time trav_ller*")]
    assert len(guesses) == 2
    at.text_input(key="bidirectional_rnn.blank_text").set_value("no blank here").run()
    assert not at.exception, at.exception
    assert any("blank written _" in i.value for i in at.info)


def test_bad_url_values_fall_back_with_a_message():
    at = open_page(PAGE, {"task": "poetry", "context": "7", "bidirectional": "maybe"})
    assert not at.exception, at.exception
    notices = " ".join(el.value for kind in ("caption", "warning", "info", "markdown") for el in getattr(at, kind))
    assert "value for *Task*" in notices and "value for *bidirectional*" in notices
    assert metric(at, "training perplexity") == "–"
