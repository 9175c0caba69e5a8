"""The backpropagation page (book 5.3) through AppTest: Next and Back walk the
graph, a link's step is respected, what each step shows is core's numbers, and
bad inputs give a message, never an exception."""
from __future__ import annotations

import json

import numpy as np
from apptest_support import errors, open_page

from core.ops import backprop as bp
from playground.compgraph import CURRENT, NODE_TRACES, latex_array

PAGE = "topics/backprop.py"
NS = "backprop"
DEFAULT = bp.network([1.0, 2.0], [[0.5, -1.0], [1.0, 0.5]], [[1.0, -1.0], [0.5, 2.0]], [1.0, 0.0], 0.1)


def step(at) -> int:
    return at.slider(key=f"{NS}.bp_step").value


def graph_spec(at) -> dict:
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    graphs = [s for s in specs if any(tr.get("name") in NODE_TRACES for tr in s["data"])]
    assert len(graphs) == 1
    return graphs[0]


def current(at) -> list[str]:
    """The nodes the picture highlights."""
    return next(tr.get("customdata", []) for tr in graph_spec(at)["data"] if tr.get("name") == CURRENT)


def latex(at) -> str:
    return "\n".join(el.value for el in at.latex)


def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def press(at, name: str, times: int = 1):
    for _ in range(times):
        at.button(key=f"bp_step:{name}").click().run()
        assert not at.exception, at.exception
    return at


def test_next_and_back_walk_forward_then_backward():
    at = open_page(PAGE)
    assert not at.exception, at.exception
    assert step(at) == 0 and "Step 0 of 14" in captions(at)
    assert set(current(at)) == {"x", "W1", "W2", "y"}
    press(at, "next")
    assert step(at) == 1 and current(at) == ["op:z", "z"]
    assert "forward: z from x, W⁽¹⁾" in captions(at)
    assert latex_array(DEFAULT.nodes["z"].value) in latex(at)  # z = W1 x with its numbers
    press(at, "back")
    assert step(at) == 0
    press(at, "next", 7)  # six forward steps, then the backward pass starts at J
    assert step(at) == 7 and current(at) == ["J"] and "backward: ∂J/∂J" in captions(at)
    press(at, "next")
    assert step(at) == 8 and "backward: ∂J/∂L" in captions(at)
    assert at.query_params["bp_step"] == "8"


def test_the_links_step_is_respected_and_shows_the_chain_rule_with_numbers():
    at = open_page(PAGE, {"bp_step": "11"})
    assert not at.exception, at.exception
    assert step(at) == 11 and current(at)[0] == "W2" and "backward: ∂J/∂W⁽²⁾" in captions(at)
    shown = latex(at)
    assert r"\mathbf{h}^\top + \lambda \mathbf{W}^{(2)}" in shown  # the book's formula
    assert latex_array(DEFAULT.nodes["W2"].grad) in shown  # and the gradient core computed
    assert latex_array(DEFAULT.nodes["h"].value, transpose=True) in shown  # h^T as a row


def test_the_last_step_agrees_with_autograd():
    at = open_page(PAGE, {"bp_step": "14"})
    assert step(at) == 14 and current(at)[0] == "W1"
    assert any("agrees with the hand computation" in s.value for s in at.success)
    assert {m.label: m.value for m in at.metric} == {"L": "12.5", "s": "0.4375", "J": "12.94"}


def test_values_are_revealed_only_once_computed():
    at = open_page(PAGE)
    assert [m.value for m in at.metric] == ["–", "–", "–"]
    text = " ".join(t for tr in graph_spec(at)["data"] if tr.get("name") == "values" for t in tr["text"])
    assert "[-1.5, 2]" not in text and "[1, 2]" in text  # z not yet, x given
    press(at, "next")
    text = " ".join(t for tr in graph_spec(at)["data"] if tr.get("name") == "values" for t in tr["text"])
    assert "[-1.5, 2]" in text


def test_phi_and_loss_change_the_values():
    at = open_page(PAGE, {"bp_step": "6"})
    assert at.metric[2].value == "12.94"
    at.selectbox(key=f"{NS}.phi").set_value("tanh").run()
    J = float(bp.network([1.0, 2.0], [[0.5, -1.0], [1.0, 0.5]], [[1.0, -1.0], [0.5, 2.0]], [1.0, 0.0], 0.1,
                         "tanh").nodes["J"].value)
    assert at.metric[2].value == f"{J:.4g}" and step(at) == 6  # the step stays when the inputs change
    at.selectbox(key=f"{NS}.loss").set_value("softmax_ce").run()
    assert not at.exception and r"\operatorname{softmax}" in latex(at)


def test_bad_inputs_give_a_message_not_an_exception():
    at = open_page(PAGE)
    at.text_input(key=f"{NS}.W1").set_value("1, 2; 3").run()
    assert not at.exception, at.exception
    assert "rows of different lengths (2, 1)" in errors(at)
    assert not at.get("plotly_chart") and step(at) == 0  # no picture, but the step is kept
    at.text_input(key=f"{NS}.W1").set_value("1, 2, 3; 4, 5, 6").run()
    assert "**W⁽¹⁾** has 3 columns, but **x** has 2 entries (d = 2)" in errors(at)
    at.text_input(key=f"{NS}.x").set_value("nan, 1, 2").run()
    assert "not a plain number" in errors(at) and "nan" in errors(at)
    at.text_input(key=f"{NS}.x").set_value("1, 2, 3").run()
    assert not at.error and graph_spec(at)  # the shapes fit again: W1 is 2 x 3
    at.selectbox(key=f"{NS}.loss").set_value("softmax_ce").run()
    at.text_input(key=f"{NS}.y").set_value("1, 1").run()
    assert "must be a probability distribution" in errors(at)


def test_hostile_link_values_fall_back_or_are_explained():
    at = open_page(PAGE, {"bp_step": "99", "lambd": "-3", "phi": "softplus"})
    assert not at.exception, at.exception
    assert at.slider(key=f"{NS}.bp_step").value == 0 and at.slider(key=f"{NS}.lambd").value == 0.1
    assert at.selectbox(key=f"{NS}.phi").value == "relu"
    notes = captions(at)
    assert "is above the maximum 14" in notes and "is below the minimum 0" in notes
    assert "is not one of the choices" in notes
    at = open_page(PAGE, {"W2": "1e999, 1; 2, 3", "bp_step": "3"})
    assert not at.exception, at.exception
    assert step(at) == 3
    assert "**W⁽²⁾** holds `1e999`, which is not a finite number." in errors(at)  # the typed matrix is core's to check


def test_random_values_keep_the_shapes_and_go_in_the_link():
    at = open_page(PAGE, {"W1": "1, 2; 3, 4; 5, 6", "W2": "1, 2, 3", "y": "1"})
    assert not at.error
    at.button(key="backprop:random").click().run()
    assert not at.exception and not at.error
    W1 = bp.parse_tensor(at.text_input(key=f"{NS}.W1").value, "W1", vector=False)
    assert W1.shape == (3, 2) and at.query_params["W1"] == at.text_input(key=f"{NS}.W1").value
    assert not np.array_equal(W1, [[1, 2], [3, 4], [5, 6]])


# ------------------------------------------------------------------ autograd mode
def test_autograd_mode_steps_through_the_books_example():
    at = open_page(PAGE, {"bp_mode": "Autograd"})
    assert not at.exception, at.exception
    assert any("equal the closed form" in s.value for s in at.success)
    walk = next(d.value for d in at.dataframe)
    assert list(walk["node"]) == ["MulBackward0", "DotBackward0", "AccumulateGrad"]
    assert r"\texttt{x.grad} = " + latex_array(np.array([0.0, 4.0, 8.0, 12.0])) in latex(at)
    ag = f"{NS}.ag_step"
    for _ in range(3):
        at.button(key="ag_step:next").click().run()
    assert at.slider(key=ag).value == 3 and "backward: ∂y/∂y" in captions(at)
    at.button(key="ag_step:next").click().run()
    at.button(key="ag_step:next").click().run()
    assert current(at)[0] == "x" and r"\frac{\partial y}{\partial u} \mathbf{x} + \frac{\partial y}{\partial u} " \
        r"\mathbf{x}" in latex(at)  # x is used twice: two products
    at.selectbox(key=f"{NS}.expr").set_value("sigmoid(w.x+b)").run()
    assert not at.exception and at.slider(key=ag).value == 0  # a new expression starts at step 0
    assert {n.label for n in at.number_input} >= {"w1", "x1", "b"}


def test_autograd_mode_reads_its_link_and_refuses_bad_numbers():
    at = open_page(PAGE, {"bp_mode": "Autograd", "expr": "sigmoid(w.x+b)", "ag_step": "3", "n": "2", "x0": "nan",
                          "b": "1e308"})
    assert not at.exception, at.exception
    assert at.slider(key=f"{NS}.ag_step").value == 3
    assert at.number_input(key=f"{NS}.x0").value == 0.0 and at.number_input(key=f"{NS}.b").value == 0.1
    assert "is not a finite number" in captions(at) and "is above the maximum 100" in captions(at)
    assert "forward: z from v" in captions(at)
