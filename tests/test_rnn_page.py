"""The RNN page (9.4-9.6) through AppTest: the values it shows, not only that it renders."""
from __future__ import annotations

import json

import numpy as np
import pytest
from apptest_support import live_charts, open_page, panel, plotly_array, series_points, texts_shown, tick_until

PAGE = "topics/rnn.py"


def heatmaps(at) -> dict[str, np.ndarray]:
    out = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        for trace in spec["data"]:
            if trace.get("type") == "heatmap":
                out[spec["layout"]["title"]["text"]] = plotly_array(trace["z"])
    return out


def trained_a_little(at, epochs: int = 2):
    next(b for b in at.button if b.label == "Start").click().run()
    assert not at.exception, at.exception
    R = panel(at, "rnn")
    tick_until(at, lambda at: R.epoch >= epochs and any(t.startswith("trained") for t in heatmaps(at)
                                                         if "epoch 0)" not in t), timeout=60)
    return R


@pytest.fixture(scope="module")
def trained():
    at = open_page(PAGE, {"num_hiddens": "32", "num_epochs": "10"})
    assert not at.exception, at.exception
    trained_a_little(at)
    return at


def test_formulas_and_one_hot_input():
    at = open_page(PAGE)
    latex = " ".join(x.value for x in at.latex)
    assert r"\mathbf{H}_{t-1} \mathbf{W}_{hh}" in latex and r"\mathbf{O}_t = \mathbf{H}_t \mathbf{W}_{hq}" in latex
    onehot = next(z for t, z in heatmaps(at).items() if "one-hot" in t)
    assert onehot.shape == (28, 12)  # the vocabulary x the first 12 characters of "time traveller "
    assert np.array_equal(onehot.sum(axis=0), np.ones(12))  # one 1 per character
    assert onehot[:, 0].argmax() == onehot[:, 5].argmax()  # "t" of "time" and of "traveller"


def test_training_shows_both_perplexities_with_the_books_figures(trained):
    at = trained
    chart = live_charts(at)["Perplexity"]
    points = series_points(chart)
    assert any("training" in s for s in points) and any("validation" in s for s in points)
    spec = json.dumps(chart["spec"])
    assert "7.24" in spec and "1.0 edition" in spec and "0.x editions" in spec
    data = chart["data"]
    train = data[data.series.str.contains("training")].y.to_numpy()
    assert train[-1] < train[0] < 28 * 1.2  # falls from about the vocabulary size


def test_hidden_states_and_generation(trained):
    at = trained
    maps = heatmaps(at)
    states = {t: z for t, z in maps.items() if "hidden state" in t}
    assert any(t.startswith("untrained") for t in states) and any(t.startswith("trained") for t in states)
    for title, z in states.items():
        assert z.shape == (32, len("time traveller")), title
        assert np.all(np.abs(z) <= 1), title  # tanh
    untrained = next(z for t, z in states.items() if t.startswith("untrained"))
    assert np.abs(untrained).max() < 0.1  # weights of 0.01: a state near 0
    text = texts_shown(at)[-1]
    assert text.startswith("time traveller ") and len(text) == len("time traveller ") + 50
    softmax = next(c.value for c in at.caption if "softmax for the next character" in c.value)
    probs = [float(p.split()[-1]) for p in softmax.split(": ", 1)[1].split(", ")]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0 + 1e-6


def test_scratch_and_nn_rnn_side_by_side():
    at = open_page(PAGE, {"num_hiddens": "16", "num_epochs": "10", "untrained": "false"})
    next(b for b in at.button if b.label == "Scratch and nn.RNN side by side").click().run()
    assert not at.exception, at.exception
    R = panel(at, "rnn")
    assert set(R.names) == {"scratch", "nn.RNN"}
    tick_until(at, lambda at: all(R.history(n)["epochs"] for n in R.names) and
               sum("hidden state" in t for t in heatmaps(at)) == 2, timeout=60)
    assert {"scratch", "nn.RNN"} <= {t.split(",")[0] for t in heatmaps(at)}
    labels = {m.label for m in at.metric}
    assert "training perplexity (scratch)" in labels and "validation perplexity (nn.RNN)" in labels


def test_concise_and_random_partitioning_say_so():
    at = open_page(PAGE, {"impl": "concise", "partition": "random", "num_hiddens": "16", "untrained": "false"})
    assert not at.exception, at.exception
    assert any("nn.RNN(len(vocab), num_hiddens)" in c.value for c in at.code)
    assert any("Random sampling" in c.value for c in at.caption)
    at.text_input(key="rnn.state_text").set_value("").run()
    next(b for b in at.button if b.label == "Step").click().run()  # one epoch: the chart draws the book's lines
    R = panel(at, "rnn")
    tick_until(at, lambda at: R.epoch >= 1 and not R.active, timeout=60)
    at.run()  # the run that saw the end asked for a full rerun before drawing (the browser makes it)
    assert not at.exception, at.exception
    spec = json.dumps(live_charts(at)["Perplexity"]["spec"])
    assert "7.19" in spec and "1.3 (0.x editions, concise" in spec  # the concise figures of each edition


def test_bad_text_gives_a_message():
    at = open_page(PAGE)
    at.text_input(key="rnn.prefix").set_value("1234 !!").run()
    at.text_input(key="rnn.state_text").set_value("...").run()
    assert not at.exception, at.exception
    infos = " ".join(i.value for i in at.info)
    assert "prefix with at least one letter" in infos and "text with at least one letter" in infos
    assert not heatmaps(at)
