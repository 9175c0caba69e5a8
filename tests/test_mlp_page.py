"""The MLP page through AppTest: the derivatives drawn by autograd and in closed
form lie on each other, the book's MLP shows its settings and the book's band,
the toy trains and its boundary and hidden units are the network's, switching
between the two keeps each one's settings apart, and bad links give notices."""
from __future__ import annotations

import json

import numpy as np
import pytest
from apptest_support import find_widget, open_page, panel, tick_until, tick_until_stopped
from apptest_support import plotly_array as array
from apptest_support import plotly_spec as plotly

from core.experiments import mlp_toy
from core.ops import activations
from core.train.live_run import State

PAGE = "topics/mlp.py"




def has_plotly(at, key: str) -> bool:
    return any(el.proto.id.endswith("-" + key) for el in at.get("plotly_chart"))




def maths(at) -> str:
    return " ".join(l.value for l in at.latex)


def test_derivatives_by_autograd_and_closed_form_coincide_on_the_page():
    at = open_page(PAGE, {"plot_activations": ["sigmoid", "gelu"]})
    assert not at.exception, at.exception
    assert r"\Phi(x) + x\,\phi(x)" in maths(at) and r"\operatorname{sigmoid}(x)\left(1" in maths(at)
    traces = plotly(at, "mlp:derivatives")["data"]
    by_name = {tr["name"]: tr for tr in traces}
    assert set(by_name) == {"sigmoid, autograd", "sigmoid, closed form", "GELU, autograd", "GELU, closed form"}
    for name in ("sigmoid", "gelu"):
        label = activations.NAMES[name]
        auto, closed = by_name[f"{label}, autograd"], by_name[f"{label}, closed form"]
        x_auto, y_auto = array(auto["x"]), array(auto["y"])
        x_closed, y_closed = array(closed["x"]), array(closed["y"])
        assert np.allclose(np.interp(x_closed, x_auto, y_auto), y_closed, atol=1e-12)  # the dots sit on the line
    sig = array(by_name["sigmoid, autograd"]["y"])
    assert sig.max() == pytest.approx(0.25)
    functions = {tr["name"]: tr for tr in plotly(at, "mlp:functions")["data"]}
    assert set(functions) == {"sigmoid", "GELU"}


def test_no_activation_chosen_says_so():
    at = open_page(PAGE)
    at.multiselect(key="mlp.plot_activations").set_value([]).run()
    assert not at.exception, at.exception
    assert any("Pick at least one activation" in i.value for i in at.info)


def test_the_books_mlp_shows_its_settings_and_the_books_band():
    at = open_page(PAGE)
    assert not at.exception, at.exception
    assert r"784 \times 256" in maths(at) and r"\operatorname{ReLU}(\mathbf{X}" in maths(at)
    find_widget(at, "num_hiddens", "mlp").set_value(32).run()
    find_widget(at, "activation", "mlp").set_value("tanh").run()
    find_widget(at, "num_epochs", "mlp").set_value(1).run()
    assert r"784 \times 32" in maths(at) and r"\operatorname{tanh}" in maths(at)
    assert at.query_params["num_hiddens"] == "32" and at.query_params["activation"] == "tanh"
    S = panel(at, "mlp")
    tick_until(at, lambda at: not S.building)
    at.run()
    weights = plotly(at, "mlp:weights")
    assert len([tr for tr in weights["data"] if tr["type"] == "heatmap"]) == 16
    assert any(m.label == "dead units" and m.value == "0 of 32" for m in at.metric)
    at.button(key="mlp:start").click().run()
    tick_until_stopped(at)
    assert S.state == State.FINISHED and S.label == "tanh, 32 hidden units"
    last = S.history("")["epochs"][-1]
    assert last["test_metric"] > 0.6  # one epoch of the book's MLP, a narrow one
    chart = next(el for el in at.get("vega_lite_chart") if json.loads(el.proto.spec)["title"]["text"] == "Accuracy")
    assert "the book's test accuracy after 10 epochs, 0.83-0.85" in chart.proto.spec


def test_a_huge_lr_kills_the_relus_and_the_page_says_so():
    at = open_page(PAGE, {"lr": "10", "num_hiddens": "64"})
    assert "many hidden ReLUs end up off" in " ".join(c.value for c in at.caption)
    S = panel(at, "mlp")
    tick_until(at, lambda at: not S.building)
    at.button(key="mlp:start").click().run()
    tick_until(at, lambda at: len(S.history("")["steps"]) >= 10 or not S.active)
    if S.active:
        at.button(key="mlp:pause").click().run()
    at.run()
    assert not at.exception, at.exception
    dead = next(m.value for m in at.metric if m.label == "dead units")
    assert int(dead.split()[0]) > 48, dead


def test_the_toy_trains_and_its_pictures_are_the_networks():
    query = {"part": "toy", "dataset": "moons", "num_hiddens": "4", "num_layers": "2", "num_epochs": "40",
             "activation": "tanh", "lr": "0.3"}
    at = open_page(PAGE, query)
    assert not at.exception, at.exception
    assert r"2 \to 4 \to 4 \to 2" in maths(at) and r"\eta = 0.3" in maths(at)
    S = panel(at, "mlp_toy")
    tick_until(at, lambda at: not S.building)
    at.run()
    before = array(next(tr for tr in plotly(at, "mlp:boundary")["data"] if tr["type"] == "heatmap")["z"])
    at.button(key="mlp_toy:start").click().run()
    tick_until_stopped(at)
    at.run()
    assert not at.exception, at.exception
    assert S.state == State.FINISHED and S.epoch == 40
    last = S.history("")["epochs"][-1]
    assert last["test_metric"] > 0.9 and last["train_loss"] < S.history("")["epochs"][0]["train_loss"]
    fig = plotly(at, "mlp:boundary")
    heat = next(tr for tr in fig["data"] if tr["type"] == "heatmap")
    after = array(heat["z"])
    assert after.shape == before.shape == (81, 81) and not np.array_equal(after, before)
    assert ((after > 0.5) != (before > 0.5)).any()  # the boundary moved
    assert any(tr["type"] == "contour" for tr in fig["data"])
    # the picture is the trained network's, on the run's own points
    cfg = mlp_toy.Config(dataset="moons", num_hiddens=4, num_layers=2, num_epochs=40, activation="tanh", lr=0.3)
    X_train, y_train, _, _ = mlp_toy.make_data(cfg, 0)
    train0 = next(tr for tr in fig["data"] if tr.get("name", "").startswith("class 0, train"))
    assert len(array(train0["x"])) == int((y_train == 0).sum())
    assert f"test {last['test_metric']:.3f}" in fig["layout"]["title"]["text"]
    units = [tr for tr in plotly(at, "mlp:units")["data"] if tr["type"] == "heatmap"]
    assert len(units) == 2 * 4
    first = array(units[0]["z"])
    assert first.shape == (41, 41) and np.abs(first).max() <= 1.0  # a tanh unit


def test_switching_networks_keeps_each_ones_settings_and_pauses_the_other_run():
    at = open_page(PAGE, {"num_hiddens": "64"})
    assert find_widget(at, "num_hiddens", "mlp").value == 64
    find_widget(at, "part", "mlp").set_value("toy").run()
    assert not at.exception, at.exception
    assert "num_hiddens" not in at.query_params and at.query_params["part"] == "toy"
    toy_width = find_widget(at, "num_hiddens", "mlp_toy")
    assert toy_width.value == mlp_toy.Config().num_hiddens
    assert not any("is not one of the choices" in c.value for c in at.caption)
    S = panel(at, "mlp_toy")
    tick_until(at, lambda at: not S.building)
    at.button(key="mlp_toy:start").click().run()
    assert S.active
    find_widget(at, "part", "mlp").set_value("fmnist").run()
    assert not at.exception, at.exception
    assert not S.active  # the toy's run paused when it left the page
    assert find_widget(at, "num_hiddens", "mlp").value == 64 and at.query_params["num_hiddens"] == "64"
    assert "part" not in at.query_params


@pytest.mark.parametrize("raw", ["inf", "text", "x" * 3000, "-1"])
def test_bad_toy_values_in_a_link_fall_back_with_notices(raw):
    names = ["dataset", "noise", "num_hiddens", "num_layers", "activation", "lr", "num_epochs", "show_test"]
    at = open_page(PAGE, {"part": "toy", **{n: raw for n in names}})
    assert not at.exception, at.exception
    notes = " ".join(c.value for c in at.caption)
    assert notes.count("The link's value for") >= 7
    assert r"2 \to 16 \to 16 \to 16 \to 2" in maths(at)
