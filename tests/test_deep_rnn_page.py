"""The deep RNN page through AppTest: the values it shows, not only that it renders."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from apptest_support import open_page, panel, plotly_array, plotly_spec, texts_shown, tick_until

PAGE = "topics/deep_rnn.py"
SMALL = {"num_hiddens": "16", "num_epochs": "10"}


def heatmap(at, layer: int) -> tuple[str, np.ndarray]:
    spec = plotly_spec(at, f"deep_rnn:layer:{layer}")
    return spec["layout"]["title"]["text"], plotly_array(spec["data"][0]["z"])


@pytest.fixture(scope="module")
def depth_preset():
    """The 1-2-3-4-layer preset trained for an epoch or more (16 hidden units)."""
    at = open_page(PAGE, SMALL)
    assert not at.exception, at.exception
    next(b for b in at.button if b.label.startswith("Perplexity against depth")).click().run()
    R = panel(at, "deep_rnn")
    tick_until(at, lambda a: R.epoch >= 1 and all(R.history(n)["epochs"] for n in R.names), timeout=90)
    if R.active:  # paused, the view's epoch and the page's records cannot drift apart
        at.button(key="deep_rnn:pause").click().run()
    at.run()
    tick_until(at, lambda a: any(el.proto.id.endswith("-deep_rnn:depth") for el in a.get("plotly_chart")),
               timeout=30, every=0.5)
    return at


def test_equations_and_defaults():
    at = open_page(PAGE)
    assert not at.exception, at.exception
    formulas = " ".join(x.value for x in at.latex)
    assert r"\mathbf{H}_t^{(l-1)} \mathbf{W}_{xh}^{(l)}" in formulas and r"\mathbf{H}_{t-1}^{(l)}" in formulas
    assert r"\mathbf{H}_t^{(L)} \mathbf{W}_{hq}" in formulas
    assert at.select_slider(key="deep_rnn.num_layers").value == 2


def test_depth_preset_draws_perplexity_against_depth(depth_preset):
    at = depth_preset
    R = panel(at, "deep_rnn")
    assert list(R.names) == ["1 layer", "2 layers", "3 layers", "4 layers"]
    spec = plotly_spec(at, "deep_rnn:depth")
    train = next(t for t in spec["data"] if t["name"] == "training")
    assert list(plotly_array(train["x"])) == [1, 2, 3, 4]
    shown = plotly_array(train["y"])
    epochs = [int(e) for c in at.caption for e in re.findall(r"greedy generation after the prefix \(epoch (\d+)\)",
                                                             c.value)]
    assert len(epochs) == 4
    for name, y, epoch in zip(R.names, shown, epochs):  # the view's figures are from the epoch it says
        assert y == pytest.approx(math.exp(R.history(name)["epochs"][epoch - 1]["train_loss"]), rel=1e-6)
    assert all(1 < y < 40 for y in shown)
    generated = texts_shown(at)
    assert len(generated) == 4 and all(g.startswith("time traveller ") for g in generated)


def test_every_layer_of_the_deepest_run_has_a_heatmap(depth_preset):
    at = depth_preset
    for layer in range(4):
        title, z = heatmap(at, layer)
        assert title.startswith(f"layer {layer + 1} of 4")
        assert z.shape == (16, len("time traveller"))  # 16 units x 14 characters
        assert np.all(np.abs(z) <= 1)
    with pytest.raises(AssertionError):
        heatmap(at, 4)
    _, bottom = heatmap(at, 0)
    _, top = heatmap(at, 3)
    assert not np.allclose(bottom, top)


def test_bad_url_values_fall_back_with_a_message():
    at = open_page(PAGE, {"num_layers": "9", "lr": "nan"})
    assert not at.exception, at.exception
    assert at.select_slider(key="deep_rnn.num_layers").value == 2
    notices = " ".join(el.value for kind in ("caption", "warning", "info", "markdown") for el in getattr(at, kind))
    assert "value for *layers*" in notices and "is not one of the choices; using 2 instead" in notices
    assert "value for *learning rate*" in notices and "is not a finite number" in notices
    at.text_input(key="deep_rnn.state_text").set_value("123 !!").run()
    assert not at.exception, at.exception
    assert at.text_input(key="deep_rnn.state_text").value == "123 !!"
