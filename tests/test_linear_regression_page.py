"""The linear-regression page through AppTest: the maths shows the settings, a run
at the book's settings ends near the book's loss with the path on the surface
read from its records, a large lr gives the divergence message, and the
scratch and concise runs of the preset lie on top of each other."""
from __future__ import annotations

import json

import numpy as np
import pytest
from apptest_support import metric, open_page, panel, tick_until, tick_until_stopped
from apptest_support import plotly_array as array
from apptest_support import plotly_spec as plotly

from core.experiments.linear_regression import TRUE_B, TRUE_W, window
from core.train.live_run import State

PAGE, KEY = "topics/linear_regression.py", "linear_regression"






def paths(at) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Legend name -> (w1, w2) of every SGD path on the loss surface."""
    return {tr["name"]: (array(tr["x"]), array(tr["y"])) for tr in plotly(at, "linreg:surface")["data"]
            if tr.get("type") == "scatter" and "path" in tr.get("name", "")}


def run_to_the_end(at):
    S = panel(at, KEY)
    tick_until(at, lambda at: not S.building)
    next(b for b in at.button if b.label == "Start").click().run()
    tick_until_stopped(at)
    at.run()  # the pictures of the finished run
    assert not at.exception, at.exception
    return S


def test_the_maths_shows_the_settings_and_the_start_is_on_the_surface():
    at = open_page(PAGE, {"batch_size": "20", "noise": "0.1"})
    assert not at.exception, at.exception
    maths = " ".join(l.value for l in at.latex)
    assert r"\eta = 0.03" in maths and r"|\mathcal{B}| = 20" in maths and r"\mathcal{N}(0, 0.1^2)" in maths
    tick_until(at, lambda at: not panel(at, KEY).building)
    at.run()
    surface = plotly(at, "linreg:surface")
    contour = next(tr for tr in surface["data"] if tr["type"] == "contour")
    assert array(contour["z"]).shape == (61, 61)
    (w1_lo, w1_hi), (w2_lo, w2_hi) = window()
    assert surface["layout"]["xaxis"]["range"] == [w1_lo, w1_hi]
    assert surface["layout"]["yaxis"]["range"] == [w2_lo, w2_hi]
    (w1, w2), = paths(at).values()
    assert len(w1) == 1 and abs(w1[0]) < 0.05 and abs(w2[0]) < 0.05  # not trained yet: the start, w ~ N(0, 0.01^2)
    star = next(tr for tr in surface["data"] if tr.get("name", "").startswith("true w"))
    assert star["x"] == [TRUE_W[0]] and star["y"] == [TRUE_W[1]]


def test_the_books_settings_reach_the_books_loss_and_the_path_is_the_records():
    at = open_page(PAGE)
    S = run_to_the_end(at)
    assert S.state == State.FINISHED and S.epoch == 3
    steps = S.history("")["steps"]
    last = S.history("")["epochs"][-1]
    assert last["train_loss"] < 1e-3 and metric(at, "loss") == f"{last['train_loss']:.2e}"
    assert metric(at, "error in w1") == f"{last['err_w1']:+.4f}"
    (w1, w2), = paths(at).values()
    assert len(w1) == len(steps) + 1  # the start, then one point per minibatch
    assert np.array_equal(w1[1:], [r["w1"] for r in steps]) and np.array_equal(w2[1:], [r["w2"] for r in steps])
    table = at.dataframe[0].value
    row = table[table["parameter"] == "b"].iloc[0]
    assert row["true"] == TRUE_B and row["error (true − learned)"] == f"{TRUE_B - steps[-1]['b']:+.4f}"
    assert abs(float(row["error (true − learned)"])) < 5e-3
    assert not any("left the picture" in w.value for w in at.warning)
    # the loss chart draws the book's value as a reference line
    loss_chart = next(el for el in at.get("vega_lite_chart") if json.loads(el.proto.spec)["title"]["text"] == "Loss")
    assert "book, after 3 epochs: 5e-05" in loss_chart.proto.spec


def test_a_large_lr_diverges_with_a_message_not_an_exception():
    at = open_page(PAGE, {"lr": "3"})
    S = run_to_the_end(at)
    assert S.state == State.DIVERGED
    warnings = " ".join(w.value for w in at.warning)
    assert "The loss became NaN or infinite" in warnings and "Try a smaller learning rate" in warnings
    assert "path left the picture at step" in warnings
    (w1, w2), = paths(at).values()
    (lo, hi), _ = window()
    assert not np.all((w1 >= lo) & (w1 <= hi) & np.isfinite(w1))  # the path leaves the fixed axes
    assert not at.error


def test_scratch_and_concise_lie_on_top_of_each_other():
    at = open_page(PAGE)
    S = panel(at, KEY)
    tick_until(at, lambda at: not S.building)
    next(b for b in at.button if b.label == "Compare scratch and concise").click().run()
    tick_until_stopped(at)
    at.run()
    assert not at.exception, at.exception
    assert S.names == ["scratch", "concise"]
    a, b = (S.history(n)["steps"] for n in S.names)
    assert len(a) == len(b) == 300
    for key in ("loss", "w1", "w2", "b"):
        assert [r[key] for r in a] == pytest.approx([r[key] for r in b], rel=1e-5, abs=1e-7), key
    assert set(paths(at)) == {"scratch path (300 steps)", "concise path (300 steps)"}


def test_a_bad_lr_in_the_link_falls_back_with_a_notice():
    at = open_page(PAGE, {"lr": "0.07", "batch_size": "7"})
    assert not at.exception, at.exception
    notes = " ".join(c.value for c in at.caption)
    assert r"(`0.07`) is not one of the choices; using 0\.03 instead" in notes  # markdown-escaped
    assert "(`7`) is not one of the choices; using 10 instead" in notes
    assert r"\eta = 0.03" in " ".join(l.value for l in at.latex)
