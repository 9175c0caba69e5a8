"""The softmax-regression page through AppTest: the maths shows the settings,
the weight images are the run's W, a one-epoch run's confusion matrix agrees
with its test accuracy, a large lr from scratch gives the divergence messages,
and the temperature and log-sum-exp sections show naive vs stable values."""
from __future__ import annotations

import json

import numpy as np
import pytest
from apptest_support import metric, open_page, panel, tick_until, tick_until_stopped
from apptest_support import plotly_array as array
from apptest_support import plotly_spec as plotly

from core.data.fashion_mnist import TEXT_LABELS, load_fashion_mnist
from core.experiments import softmax_regression as sr
from core.train.live_run import State

PAGE, KEY = "topics/softmax_regression.py", "softmax_regression"






def built(at):
    S = panel(at, KEY)
    tick_until(at, lambda at: not S.building)
    at.run()  # the pictures of the built run
    assert not at.exception, at.exception
    return S


def run_to_the_end(at):
    S = built(at)
    next(b for b in at.button if b.label == "Start").click().run()
    tick_until_stopped(at)
    at.run()  # the pictures of the finished run
    assert not at.exception, at.exception
    return S


def test_the_maths_the_initial_weights_and_the_numerics():
    at = open_page(PAGE, {"lr": "0.3", "batch_size": "64", "impl": "concise"})
    assert not at.exception, at.exception
    maths = " ".join(x.value for x in at.latex)
    assert r"\eta = 0.3" in maths and r"|\mathcal{B}| = 64" in maths
    assert "nn.CrossEntropyLoss()" in at.code[0].value
    built(at)
    fig = plotly(at, "softmax:weights")
    panels = [tr for tr in fig["data"] if tr["type"] == "heatmap"]
    assert len(panels) == 10
    # the run's initial W, rebuilt here from the same seed: panel j is column j as a 28x28 image
    W, _ = sr.get_W_b(sr.build(sr.Config(lr=0.3, batch_size=64, impl="concise"),
                               load_fashion_mnist(allow_download=False), seed=0).net)
    for j in (0, 7):
        assert np.allclose(array(panels[j]["z"]), W[:, j].reshape(28, 28).numpy())
    assert [a["text"] for a in fig["layout"]["annotations"]][:10] == TEXT_LABELS
    # the softmax of test image 0 adds up to 1
    bars = plotly(at, "softmax:probs")["data"][0]
    assert sum(array(bars["y"])) == pytest.approx(1.0, abs=1e-6)
    # the numerics: 1000, 0 as written gives inf and nan, stably 1000, as torch
    table = at.dataframe[-1].value
    row = table[table["quantity"] == "log Σ exp(o)"].iloc[0]
    assert row["naive (as written)"] == "∞" and row["stable (max subtracted)"] == "1000"
    assert row["torch (logsumexp, softmax, log_softmax, cross_entropy)"] == "1000"
    assert table[table["quantity"] == "softmax(o)"].iloc[0]["naive (as written)"] == "[NaN, 0]"
    assert table[table["quantity"] == "cross-entropy, y = 0"].iloc[0]["stable (max subtracted)"] == "0"  # not -0
    # typed text is parsed, never evaluated; bad text gives a message, not an exception
    at.text_input(key="softmax_regression.logits").set_value("1, __import__('os')").run()
    assert not at.exception and "which is not a number" in " ".join(e.value for e in at.error)
    at.text_input(key="softmax_regression.logits").set_value("-1000, 0").run()
    table = at.dataframe[-1].value
    row = table[table["quantity"] == "log softmax(o)"].iloc[0]
    assert row["naive (as written)"] == "[−∞, 0]" and row["stable (max subtracted)"] == "[-1000, 0]"
    at.slider(key="softmax_regression.label").set_value(5).run()
    assert "using y = 1" in " ".join(c.value for c in at.caption)
    # the temperature: at T = 0.01 the book's softmax overflows, the stable one saturates
    at.select_slider(key="softmax_regression.temperature").set_value(0.01).run()
    assert not at.exception, at.exception
    assert "overflows float32" in " ".join(w.value for w in at.warning)
    stable, naive = plotly(at, "softmax:temperature")["data"]
    assert array(stable["y"]).tolist() == pytest.approx([1, 0, 0], abs=1e-6) and naive["text"][0] == "NaN"


def test_one_epoch_the_confusion_matrix_is_the_test_accuracy():
    at = open_page(PAGE, {"num_epochs": "1"})
    S = run_to_the_end(at)
    assert S.state == State.FINISHED and S.epoch == 1
    last = S.history("")["epochs"][-1]
    assert 0.74 < last["test_metric"] < 0.82 and metric(at, "test acc") == f"{last['test_metric']:.3f}"
    fig = plotly(at, "softmax:confusion")
    counts = np.array([[int(v) for v in row] for row in fig["data"][0]["text"]])
    assert counts.sum() == 10_000 and np.trace(counts) / 10_000 == pytest.approx(last["test_metric"])
    assert fig["layout"]["title"]["text"] == f"Confusion matrix, epoch 1: accuracy {last['test_metric']:.3f}"
    wrong = plotly(at, "softmax:wrong")
    num_wrong = 10_000 - np.trace(counts)
    assert wrong["layout"]["title"]["text"] == f"The first 12 of {num_wrong:,} misclassified test images"
    # each misclassified image's title: its true class, then a different predicted class
    titles = [a["text"] for a in wrong["layout"]["annotations"] if a["text"]]
    assert len(titles) == 12
    for t in titles:
        true, pred = t.split(": ", 1)[1].split("<br>→ ")
        assert true != pred.rsplit(" (", 1)[0]
    assert "after step 235" in plotly(at, "softmax:weights")["layout"]["title"]["text"]
    acc_chart = next(el for el in at.get("vega_lite_chart") if json.loads(el.proto.spec)["title"]["text"] == "Accuracy")
    assert "the book's test accuracy after 10 epochs, 0.83" in acc_chart.proto.spec


def test_a_large_lr_from_scratch_diverges_with_a_message_not_an_exception():
    at = open_page(PAGE, {"lr": "1"})
    S = run_to_the_end(at)
    assert S.state == State.DIVERGED and S.epoch == 0
    warnings = " ".join(w.value for w in at.warning)
    assert "The loss became NaN or infinite" in warnings
    assert "−log 0 = ∞" in " ".join(i.value for i in at.info)
    assert not at.error


def test_scratch_and_concise_lie_on_top_of_each_other():
    at = open_page(PAGE, {"num_epochs": "1"})
    S = built(at)
    next(b for b in at.button if b.label == "Compare scratch and concise").click().run()
    tick_until_stopped(at)
    at.run()
    assert not at.exception, at.exception
    assert S.names == ["scratch", "concise"] and S.state == State.FINISHED
    a, b = (S.history(n)["steps"] for n in S.names)
    assert len(a) == len(b) == 235
    assert [r["loss"] for r in a] == pytest.approx([r["loss"] for r in b], rel=1e-4)
    ea, eb = (S.history(n)["epochs"][-1] for n in S.names)
    assert ea["test_metric"] == pytest.approx(eb["test_metric"], abs=1e-3)
    assert "The ten weight vectors (scratch)" in [h.value for h in at.subheader]  # the pictures name their run
