"""The initialization page through AppTest: its formulas and figures show what
core computes (the product's norms, the per-layer statistics of the five
schemes, the symmetry runs), links set every control and bad values fall back
with a notice, and the preset trains the five schemes side by side with zero
initialization's first-layer gradient stuck at 0."""
from __future__ import annotations

import numpy as np
from apptest_support import open_page, panel, tick_until
from apptest_support import plotly_array as array
from apptest_support import plotly_spec as plotly

from core.ops.initialization import INITS, SHORT, matrix_product

PAGE, KEY = "topics/initialization.py", "initialization"
SMALL = {"num_layers": "3", "num_hiddens": "16"}  # quick nets for the tests that train






def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_the_page_draws_the_books_formulas_and_the_exploding_product():
    at = open_page(PAGE, {"seed": "3"})
    assert not at.exception, at.exception
    maths = " ".join(x.value for x in at.latex)
    assert r"\frac{2}{n_\mathrm{in} + n_\mathrm{out}}" in maths and r"\frac{2}{n_\mathrm{in}}" in maths
    assert r"\sigma(x)\,(1 - \sigma(x))" in maths and r"k = 1, \dots, 100" in maths
    (line,) = plotly(at, "init:product")["data"]
    expected = matrix_product(100, 4, seed=3)["norms"]
    np.testing.assert_allclose(array(line["y"]), expected, rtol=1e-12)
    assert array(line["y"])[-1] > 1e15
    sig = plotly(at, "init:sigmoid")["data"]
    grad = array(next(tr for tr in sig if tr["name"] == "gradient")["y"])
    assert abs(grad.max() - 0.25) < 1e-6


def test_before_training_the_five_schemes_are_drawn_per_layer_and_move_with_the_depth():
    at = open_page(PAGE, {"num_layers": "20", "activation": "tanh"})
    assert not at.exception, at.exception
    act = plotly(at, "init:before:act")["data"]
    notes = " ".join(a["text"] for a in plotly(at, "init:before:act")["layout"].get("annotations", []))
    assert "zero: all 0" in notes  # zero init: nothing to draw on a log axis, said in the figure
    xavier = next(tr for tr in act if tr["name"] == "Xavier")
    std = array(xavier["y"])
    assert len(std) == 20 and std.max() / std.min() < 10
    small = array(next(tr for tr in act if tr["name"].startswith("N(0, 0.01²)"))["y"])
    assert small[-1] < 1e-15  # vanished (about 0.01 · √128 per layer)
    sat = plotly(at, "init:before:sat")["data"]
    assert array(next(tr for tr in sat if tr["name"] == "N(0, 1)")["y"])[-1] > 0.8  # saturated tanh units
    at.slider(key="initialization.num_layers").set_value(5).run()
    assert len(array(next(tr for tr in plotly(at, "init:before:act")["data"] if tr["name"] == "Xavier")["y"])) == 5


def test_a_link_sets_every_control_and_bad_values_fall_back_with_a_notice():
    at = open_page(PAGE, {"init": "he", "activation": "relu", "num_layers": "50", "num_hiddens": "64",
                          "lr": "0.03", "product_std": "0.5", "hist_layer": "7", "sym_case": "dropout"})
    assert not at.exception, at.exception
    assert at.selectbox(key="initialization.init").value == "he"
    assert at.selectbox(key="initialization.activation").value == "relu"
    assert at.slider(key="initialization.num_layers").value == 50
    assert at.select_slider(key="initialization.lr").value == 0.03
    assert "layer 7" in plotly(at, "init:before:hact")["layout"]["title"]["text"]
    assert "dropout" in plotly(at, "init:units")["layout"]["title"]["text"]
    bad = open_page(PAGE, {"num_layers": "500", "init": "ones", "num_hiddens": "nan"})
    assert not bad.exception, bad.exception
    notes = captions(bad)
    assert "is above the maximum 50; using 10 instead" in notes
    assert "is not one of the choices" in notes and "is not a finite number" in notes
    assert bad.selectbox(key="initialization.init").value == "xavier"


def test_a_histogram_layer_past_the_depth_is_said_and_clamped():
    at = open_page(PAGE, {"num_layers": "4", "hist_layer": "30"})
    assert not at.exception, at.exception
    assert "the histograms show layer 4" in captions(at)
    assert "hidden layer 4" in plotly(at, "init:before:hact")["layout"]["title"]["text"]


def test_overflow_is_said_not_raised():
    at = open_page(PAGE, {"init": "normal_1", "activation": "relu", "num_layers": "50"})
    assert not at.exception, at.exception
    assert "overflowed float32" in captions(at)


def test_equal_weights_stay_equal_on_the_page_and_dropout_breaks_them():
    at = open_page(PAGE)
    lines = {tr["name"]: array(tr["y"]) for tr in plotly(at, "init:symmetry")["data"]}
    assert np.all(lines["equal initial weights"] == 0)
    assert lines["equal weights, dropout p = 0.5"][-1] > 0 and lines["random initial weights N(0, 0.01²)"][-1] > 0
    assert "identical, bit for bit" in captions(at)
    at.selectbox(key="initialization.sym_case").set_value("random").run()
    assert "drifted apart" in captions(at)


def test_the_preset_trains_the_five_schemes_and_zero_never_moves_its_first_layer():
    at = open_page(PAGE, SMALL)
    S = panel(at, KEY)
    tick_until(at, lambda at: not S.building)
    next(b for b in at.button if b.label == "Train the five initializations side by side").click().run()
    assert not at.exception, at.exception
    assert S.names == [SHORT[k] for k in INITS]
    tick_until(at, lambda at: min(len(S.history(n)["steps"]) for n in S.names) >= 8 or not S.active, timeout=180)
    if S.active:
        at.button(key=f"{KEY}:pause").click().run()
    zero = [r["grad_norm/linear1"] for r in S.history("zero")["steps"]]
    xavier = [r["grad_norm/linear1"] for r in S.history("Xavier")["steps"]]
    assert zero and all(g == 0 for g in zero) and all(g > 0 for g in xavier)
    at.run()
    assert not at.exception, at.exception
    live = plotly(at, "init:live:act")  # the live view: one line per run, zero's said in words
    assert {tr["name"].split(" (")[0] for tr in live["data"]} == {SHORT[k] for k in INITS if k != "zero"}
    assert "zero: all 0" in " ".join(a["text"] for a in live["layout"]["annotations"])
