"""Forward and backward propagation by hand (core.ops.backprop) against torch.autograd:
every value and gradient of the book's network (section 5.3) for every φ and loss,
λ = 0 and λ > 0, several seeds and shapes; the walk's order; the layout; the typed
inputs' checks; and the expression mode's graph against autograd's own nodes."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from core.ops import backprop as bp
from core.ops.backprop import BadInput, format_tensor, network, parse_tensor, read_network, shown_at
from playground import messages

SEEDS = range(4)


def random_case(seed: int, loss: str):
    g = torch.Generator().manual_seed(seed)
    d, h, q = (int(v) for v in torch.randint(1, 4, (3,), generator=g))
    q = max(q, 2) if loss == "softmax_ce" else q
    x = torch.randn(d, generator=g, dtype=torch.float64)
    W1 = torch.randn(h, d, generator=g, dtype=torch.float64)
    W2 = torch.randn(q, h, generator=g, dtype=torch.float64)
    if loss == "softmax_ce":
        y = torch.softmax(torch.randn(q, generator=g, dtype=torch.float64) * 2, 0)  # a soft label
    else:
        y = torch.randn(q, generator=g, dtype=torch.float64)
    return x, W1, W2, y


def torch_reference(x, W1, W2, y, lambd, phi, loss):
    """The book's network written out in torch, its gradients from autograd (independent of core)."""
    W1, W2 = W1.clone().requires_grad_(True), W2.clone().requires_grad_(True)
    z = W1 @ x
    h = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[phi](z)
    o = W2 @ h
    squared = loss == "squared"  # else the soft-label cross-entropy of one example
    L = 0.5 * torch.sum((o - y) ** 2) if squared else torch.nn.functional.cross_entropy(o[None], y[None])
    s = lambd / 2 * (torch.linalg.matrix_norm(W1) ** 2 + torch.linalg.matrix_norm(W2) ** 2)
    J = L + s
    for t in (z, h, o, L, s, J):
        t.retain_grad()
    J.backward()
    vals = {"z": z, "h": h, "o": o, "L": L, "s": s, "J": J}
    grads = {**{n: t.grad for n, t in vals.items()}, "W1": W1.grad, "W2": W2.grad}
    return {n: t.detach().numpy() for n, t in vals.items()}, {n: t.numpy() for n, t in grads.items()}


@pytest.mark.parametrize("phi, loss, lambd", list(itertools.product(bp.ACTIVATIONS, bp.LOSSES, (0.0, 0.7))))
def test_every_value_and_gradient_equals_autograd(phi, loss, lambd):
    for seed in SEEDS:
        x, W1, W2, y = random_case(seed, loss)
        graph = network(x.numpy(), W1.numpy(), W2.numpy(), y.numpy(), lambd, phi, loss)
        values, grads = torch_reference(x, W1, W2, y, lambd, phi, loss)
        for name, v in values.items():
            np.testing.assert_allclose(graph.nodes[name].value, v, rtol=1e-12, atol=1e-12, err_msg=name)
        assert set(graph.grads()) == {"J", "L", "s", "o", "W2", "h", "z", "W1"}
        for name, g in graph.grads().items():
            assert np.shape(g) == graph.nodes[name].shape  # a gradient has its variable's shape
            np.testing.assert_allclose(g, grads[name], rtol=1e-12, atol=1e-12, err_msg=f"dJ/d{name} seed {seed}")
        # the page's own autograd comparison says the same
        assert bp.autograd_difference(graph, bp.autograd_network(x.numpy(), W1.numpy(), W2.numpy(), y.numpy(),
                                                                 lambd, phi, loss)) < 1e-12


def test_the_chain_rule_products_add_up_to_each_gradient_and_forward_products_to_each_value():
    for (phi, loss), seed in itertools.product(itertools.product(bp.ACTIVATIONS, bp.LOSSES), SEEDS):
        x, W1, W2, y = (t.numpy() for t in random_case(seed, loss))
        graph = network(x, W1, W2, y, 0.3, phi, loss)
        for step in graph.steps:
            if not step.terms:
                continue
            node = graph.nodes[step.node]
            total = sum(t.evaluate() for t in step.terms).reshape(node.shape)
            target = node.grad if step.phase == "backward" else node.value
            np.testing.assert_allclose(total, target, rtol=1e-12, atol=1e-12, err_msg=step.node)
        backward = {s.node: s for s in graph.steps if s.phase == "backward"}
        assert [t.op for t in backward["W2"].terms] == ["matmul", "scale"]  # (dJ/do) h^T + λ W2
        assert [f.transpose for f in backward["W2"].terms[0].factors] == [False, True]
        assert [t.op for t in backward["z"].terms] == ["hadamard"]  # dJ/dh ⊙ φ'(z)
        assert backward["h"].terms[0].factors[0].transpose  # W2^T dJ/do


def test_the_books_numbers_on_the_default_inputs():
    x, W1, W2, y = np.array([1.0, 2.0]), np.array([[0.5, -1], [1, 0.5]]), np.array([[1.0, -1], [0.5, 2]]), \
        np.array([1.0, 0.0])
    g = network(x, W1, W2, y, 0.1)
    np.testing.assert_allclose(g.nodes["z"].value, [-1.5, 2.0])
    np.testing.assert_allclose(g.nodes["h"].value, [0.0, 2.0])  # ReLU kills the first unit
    np.testing.assert_allclose(g.nodes["o"].value, [-2.0, 4.0])
    assert float(g.nodes["L"].value) == 12.5 and float(g.nodes["s"].value) == pytest.approx(0.4375)
    np.testing.assert_allclose(g.nodes["o"].grad, [-3.0, 4.0])  # o - y
    np.testing.assert_allclose(g.nodes["z"].grad[0], 0.0)  # a dead unit passes no gradient back
    np.testing.assert_allclose(g.nodes["W1"].grad[0], 0.1 * W1[0])  # ... so its row is λ W1's alone


def test_relu_at_zero_takes_autograds_derivative_zero():
    x, W1 = torch.tensor([1.0, -1.0], dtype=torch.float64), torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    W2, y = torch.tensor([[2.0]], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64)
    graph = network(x.numpy(), W1.numpy(), W2.numpy(), y.numpy(), 0.5)
    assert graph.nodes["z"].value[0] == 0.0
    _, grads = torch_reference(x, W1, W2, y, 0.5, "relu", "squared")
    np.testing.assert_allclose(graph.nodes["W1"].grad, grads["W1"])


def test_the_walk_is_inputs_then_forward_then_backward_in_the_books_order():
    graph = network([1.0, 2.0], [[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]], [0.5], 0.1)
    phases = [s.phase for s in graph.steps]
    assert phases == ["input"] + ["forward"] * 6 + ["backward"] * 8 and len(phases) == bp.NETWORK_STEPS
    assert graph.forward == ("x", "W1", "W2", "y", "z", "h", "o", "L", "s", "J")
    assert graph.backward == ("J", "L", "s", "o", "W2", "h", "z", "W1")
    for s in graph.steps:
        if s.phase == "forward":  # an operation runs once all its inputs are known
            known = graph.forward[:graph.forward.index(s.node)]
            assert s.op == "op:" + s.node and set(s.inputs) <= set(known)
            assert (s.op, s.node) in graph.edges and all((i, s.op) in graph.edges for i in s.inputs)
    order = graph.backward
    for s in graph.steps:  # a gradient is computed only after the gradients of everything that used it
        if s.phase == "backward" and s.node != "J":
            users = {b for op in graph.edges if op[0] == s.node for b in (op[1],)}
            outputs = {b for a, b in graph.edges if a in users}
            assert all(order.index(o) < order.index(s.node) for o in outputs), s.node


def test_shown_at_reveals_one_value_then_one_gradient_per_step():
    graph = network([1.0, 2.0], [[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]], [0.5], 0.1)
    first = shown_at(graph, 0)
    assert first.values == {"x", "W1", "W2", "y"} and not first.grads and not first.ops
    assert set(first.current) == {"x", "W1", "W2", "y"}
    for k in range(1, len(graph.steps)):
        before, after = shown_at(graph, k - 1), shown_at(graph, k)
        step = graph.steps[k]
        if step.phase == "forward":
            assert after.values - before.values == {step.node} and after.ops - before.ops == {step.op}
            assert not after.grads and after.current == (step.op, step.node)
        else:
            assert after.values == before.values and after.grads - before.grads == {step.node}
    last = shown_at(graph, 99)  # clipped to the walk
    assert last.grads == set(graph.backward) and last.phase == "backward"
    w2 = shown_at(graph, graph.steps.index(next(s for s in graph.steps if s.node == "W2" and s.phase == "backward")))
    assert set(w2.edges) == {("o", "op:o"), ("op:o", "W2"), ("s", "op:s"), ("op:s", "W2")}  # flows back


def test_layout_runs_left_to_right_with_the_main_path_on_one_row():
    graph = network([1.0, 2.0], [[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]], [0.5], 0.1)
    pos = bp.layout(graph)
    assert set(pos) == set(graph.nodes) and len(set(pos.values())) == len(pos)  # no two nodes share a place
    assert all(pos[a][0] < pos[b][0] for a, b in graph.edges)
    spine = ["x", "op:z", "z", "op:h", "h", "op:o", "o", "op:L", "L", "op:J", "J"]
    assert [pos[n] for n in spine] == [(i, 0) for i in range(len(spine))]
    assert pos["W1"][1] == pos["W2"][1] == pos["y"][1] == 1  # inputs just above the spine
    assert pos["op:s"] == (7, 2) and pos["s"] == (8, 2)  # the penalty's branch in a lane above them
    for key in bp.EXPRESSIONS:
        res = bp.expression(key, bp.check_leaves(key, {n: bp.LEAF_DEFAULTS[n][:3] for n in ("x", "w", "b")})[0])
        pos = bp.layout(res.graph)
        assert all(pos[a][0] < pos[b][0] for a, b in res.graph.edges)
        assert len(set(pos.values())) == len(pos)


# ------------------------------------------------------------------ typed inputs
@pytest.mark.parametrize("text, vector, expected", [
    ("1, 2", True, [1.0, 2.0]),
    ("1 2 3", True, [1.0, 2.0, 3.0]),
    ("1; 2", True, [1.0, 2.0]),  # a column is a vector too
    ("[1, -2.5e-1]", True, [1.0, -0.25]),
    ("\u22121, +.5", True, [-1.0, 0.5]),  # the minus sign a page prints
    ("0.5, -1; 1, 0.5", False, [[0.5, -1.0], [1.0, 0.5]]),
    ("[[1, 2], [3, 4]]", False, [[1.0, 2.0], [3.0, 4.0]]),
    ("1, 2\n3, 4;", False, [[1.0, 2.0], [3.0, 4.0]]),
])
def test_parse_reads_plain_numbers(text, vector, expected):
    np.testing.assert_array_equal(parse_tensor(text, "t", vector=vector), expected)


@pytest.mark.parametrize("text, vector, code", [
    ("", True, "empty"), (" ;, ", False, "empty"),
    ("1, a", True, "not_a_number"), ("nan", True, "not_a_number"), ("inf", True, "not_a_number"),
    ("1_000", True, "not_a_number"), ("__import__('os')", True, "not_a_number"), ("2*3", True, "not_a_number"),
    ("0x10", True, "not_a_number"), ("1e999", True, "not_finite"), ("101", True, "too_big"),
    ("1, 2; 3", False, "ragged"), ("1, 2; 3, 4", True, "not_a_vector"), ("1, 2, 3, 4, 5", True, "too_many"),
    ("1; 2; 3; 4; 5", False, "too_many"),
])
def test_parse_refuses_with_a_code(text, vector, code):
    with pytest.raises(BadInput) as err:
        parse_tensor(text, "t", vector=vector)
    assert err.value.problem.code == code and err.value.problem.name == "t"


def test_format_tensor_round_trips():
    for value in (np.array([1.0, -0.25]), np.array([[0.5, -1.0], [1e-3, 12.0]]), np.array([0.0, -0.0])):
        np.testing.assert_array_equal(parse_tensor(format_tensor(value), "t", vector=value.ndim == 1), value)


def test_read_network_checks_shapes_lambda_and_the_label():
    ok, problems = read_network({"x": "1, 2", "W1": "1, 2; 3, 4; 5, 6", "W2": "1, 2, 3", "y": "1"}, 0.5)
    assert problems == [] and ok.W1.shape == (3, 2) and ok.lambd == 0.5
    _, problems = read_network({"x": "1, 2, 3", "W1": "1, 2; 3, 4", "W2": "1, 2, 3", "y": "1, 2"}, 0.5)
    found = {(p.name, p.code): dict(p.details) for p in problems}
    assert found[("W1", "mismatch")]["expected"] == 3 and found[("W1", "mismatch")]["got"] == 2
    assert found[("W2", "mismatch")]["expected"] == 2 and found[("y", "mismatch")]["expected"] == 1
    _, problems = read_network({"x": "1", "W1": "1", "W2": "1; 1", "y": "0.5, 0.6"}, float("nan"), "softmax_ce")
    assert {(p.name, p.code) for p in problems} == {("lambd", "not_finite"), ("y", "not_a_distribution")}
    _, problems = read_network({"x": "1", "W1": "1", "W2": "1", "y": "1"}, -1)
    assert [(p.name, p.code) for p in problems] == [("lambd", "negative")]
    _, problems = read_network({"x": "oops", "W1": "1", "W2": "1", "y": "1"}, 0)
    assert [(p.name, p.code) for p in problems] == [("x", "not_a_number")]  # no shape noise after a bad parse
    with pytest.raises(ValueError):
        network([1.0], [[1.0, 2.0]], [[1.0]], [1.0], 0.1)


def test_random_inputs_are_seeded_valid_and_of_the_asked_shapes():
    a = bp.random_inputs(3, 2, 2, "softmax_ce", torch.Generator().manual_seed(5))
    b = bp.random_inputs(3, 2, 2, "softmax_ce", torch.Generator().manual_seed(5))
    assert a == b
    ok, problems = read_network(a, 0.1, "softmax_ce")
    assert not problems and ok.W1.shape == (2, 3) and ok.W2.shape == (2, 2) and sorted(ok.y) == [0.0, 1.0]


def test_every_input_problem_has_words():
    labels = {"x": "x", "W1": "W⁽¹⁾", "W2": "W⁽²⁾", "y": "y", "lambd": "λ"}
    seen = set()
    cases = [{"x": t, "W1": "1, 2; 3, 4", "W2": "1, 2", "y": "1"} for t in
             ("", "1, a", "1e999", "500", "1, 2; 3, 4", "1, 2, 3, 4, 5", "1, 2, 3")]
    cases += [{"x": "1", "W1": "1, 2; 3", "W2": "1", "y": "2"}]
    for texts in cases:
        for lambd, loss in ((0.1, "squared"), (-1.0, "softmax_ce")):
            _, problems = read_network(texts, lambd, loss)
            for p in problems:
                said = messages.input_problem(p, labels)
                assert "{" not in said and said.endswith(".") and labels[p.name] in said, (p, said)
                seen.add(p.code)
    assert seen == set(messages.BACKPROP_INPUT)
    (p,) = read_network({"x": "1, 2, 3", "W1": "1, 2; 3, 4", "W2": "1, 2", "y": "1"}, 0.1)[1]
    assert messages.input_problem(p, labels) == ("**W⁽¹⁾** has 2 columns, but **x** has 3 entries (d = 3).")


# ------------------------------------------------------------------ expressions
def literal(key: str, x, w=None, b=None):
    """The expression written out as torch code here (not through core): its output and leaves."""
    x = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    w = None if w is None else torch.tensor(w, dtype=torch.float64, requires_grad=True)
    b = None if b is None else torch.tensor(b, dtype=torch.float64, requires_grad=True)
    out = {"2xTx": lambda: 2 * torch.dot(x, x), "sum(x*x)": lambda: (x * x).sum(),
           "3(x+2)^2": lambda: ((x + 2) ** 2 * 3).sum(),
           "sigmoid(w.x+b)": lambda: torch.sigmoid(torch.dot(w, x) + b)}[key]()
    return out, {n: t for n, t in (("x", x), ("w", w), ("b", b)) if t is not None}


def walk_names(fn, seen=None) -> list[tuple[str, tuple]]:
    """autograd's nodes, depth first, by name (an independent walk of grad_fn.next_functions)."""
    seen = {} if seen is None else seen
    if id(fn) in seen:
        return []
    seen[id(fn)] = fn
    out = [(type(fn).__name__, tuple(type(f).__name__ if f is not None else None for f, _ in fn.next_functions))]
    for f, _ in fn.next_functions:
        if f is not None:
            out += walk_names(f, seen)
    return out


@pytest.mark.parametrize("key", list(bp.EXPRESSIONS))
def test_expression_graphs_are_autograds_and_gradients_equal_it(key):
    expr = bp.EXPRESSIONS[key]
    for seed in SEEDS:
        g = torch.Generator().manual_seed(seed)
        n = seed + 1
        raw = {"x": torch.randn(n, generator=g, dtype=torch.float64).tolist(),
               "w": torch.randn(n, generator=g, dtype=torch.float64).tolist(),
               "b": [float(torch.randn(1, generator=g, dtype=torch.float64))]}
        values, problems = bp.check_leaves(key, {k: v for k, v in raw.items() if k in expr.leaves})
        assert not problems
        res = bp.expression(key, values)
        out, leaves = literal(key, raw["x"], raw["w"] if "w" in expr.leaves else None,
                              raw["b"][0] if "b" in expr.leaves else None)
        out.backward()
        # the same autograd nodes, by name and links
        assert sorted(res.walk, key=repr) == sorted(walk_names(out.grad_fn), key=repr)
        ops = [node.note for node in res.graph.nodes.values() if node.kind == "operation"]
        assert ops == [op.grad_fn for op in expr.ops]
        assert {name for name, _ in res.walk} == set(ops) | {"AccumulateGrad"}
        np.testing.assert_allclose(res.graph.nodes[expr.output].value, out.detach().numpy(), rtol=1e-12)
        for leaf, t in leaves.items():
            for grads in (res.autograd, res.hand, res.closed, {leaf: res.graph.nodes[leaf].grad}):
                np.testing.assert_allclose(grads[leaf], t.grad.numpy(), rtol=1e-12, atol=1e-12, err_msg=leaf)
        for name, g_ in res.autograd.items():  # every intermediate's gradient, by hand = autograd's retained one
            np.testing.assert_allclose(res.hand[name], g_, rtol=1e-12, atol=1e-12, err_msg=name)
        assert len(res.graph.steps) == expr.step_count
        expected_edges = {(i, "op:" + op.out) for op in expr.ops for i in op.inputs} | {
            ("op:" + op.out, op.out) for op in expr.ops}
        assert set(res.graph.edges) == expected_edges and len(res.graph.edges) == len(expected_edges)


def test_the_books_autograd_example():
    """Book 2.5: x = arange(4.0), y = 2 x^T x = 28, x.grad = 4x."""
    values, _ = bp.check_leaves("2xTx", {"x": [0.0, 1.0, 2.0, 3.0]})
    res = bp.expression("2xTx", values)
    assert float(res.graph.nodes["y"].value) == 28.0
    np.testing.assert_array_equal(res.autograd["x"], [0.0, 4.0, 8.0, 12.0])
    back = {s.node: s for s in res.graph.steps if s.phase == "backward"}
    assert len(back["x"].terms) == 2  # x is used twice by the dot product: two products add up
    assert [s.phase for s in res.graph.steps] == ["input", "forward", "forward", "backward", "backward", "backward"]
    assert res.graph.backward == ("y", "u", "x")
    for s in res.graph.steps:
        if s.phase == "backward":
            total = sum(t.evaluate() for t in s.terms).reshape(res.graph.nodes[s.node].shape)
            np.testing.assert_allclose(total, res.graph.nodes[s.node].grad)


def test_check_leaves_refuses_bad_values():
    _, problems = bp.check_leaves("sigmoid(w.x+b)", {"x": [1.0, float("nan")], "w": [1.0], "b": [1e9]})
    assert {(p.name, p.code) for p in problems} == {("x", "not_finite"), ("w", "mismatch"), ("b", "too_big")}
    _, problems = bp.check_leaves("2xTx", {"x": []})
    assert [(p.name, p.code) for p in problems] == [("x", "empty")]
    _, problems = bp.check_leaves("2xTx", {"x": ["a"]})
    assert [(p.name, p.code) for p in problems] == [("x", "not_a_number")]
