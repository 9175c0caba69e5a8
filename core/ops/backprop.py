"""Forward and backward propagation on a computational graph (book section 5.3).

Two graphs, one shape of answer (`Graph`):

* `network(x, W1, W2, y, lambd, phi, loss)`: the book's one-hidden-layer network
  with an L2 penalty, exactly as section 5.3 writes it,

      z = W1 x,  h = phi(z),  o = W2 h,  L = l(o, y),
      s = lambd/2 (||W1||_F^2 + ||W2||_F^2),  J = L + s,

  and its gradients by hand (numpy, no autograd), in the book's order:
  dJ/dL = dJ/ds = 1, dJ/do = dL/do, dJ/dW2 = dJ/do h^T + lambd W2,
  dJ/dh = W2^T dJ/do, dJ/dz = dJ/dh * phi'(z), dJ/dW1 = dJ/dz x^T + lambd W1.

* `expression(key, leaves)`: a small expression from a fixed menu (`EXPRESSIONS`,
  never text to evaluate) built with torch; its graph is read from autograd's
  own nodes (`grad_fn.next_functions`), its gradients are autograd's, and the
  chain rule is also run by hand op by op (the tests hold the two equal).

Each graph comes with the steps of a Next/Back walk: the inputs, the forward
computations one by one, then the backward ones (`Step`); `shown_at(graph, k)`
says what is revealed after step k and `layout(graph)` where each node goes
(left to right in forward order). Inputs typed by a person are read by
`read_network` / `check_leaves`, which return problems as codes with their
numbers (`InputProblem`), never sentences.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

MAX_DIM = 4  # entries along any axis of a typed tensor
ABS_MAX = 100.0  # largest |entry| accepted (keeps exp() and squares readable)


# ------------------------------------------------------------------ the graph
@dataclass(frozen=True)
class Node:
    name: str  # unique key: "x", "W1", "z", ... ; an operation is "op:<its output>"
    symbol: str  # plain text drawn on the node: "W⁽¹⁾", "×", "φ"
    tex: str  # LaTeX of the symbol
    kind: str  # "variable", "parameter" or "operation"
    shape: tuple[int, ...]
    value: np.ndarray | None = None  # operations: None (their output variable holds the value)
    grad: np.ndarray | None = None  # d(output)/d(node); None for operations and where no gradient is needed
    note: str = ""  # an operation: what computes it (autograd's node name in the expression mode)


@dataclass(frozen=True)
class Factor:
    tex: str
    value: np.ndarray
    transpose: bool = False


@dataclass(frozen=True)
class Term:
    """One product: `op` joins the factors. "matmul": the matrix product
    (vectors are columns; a transposed one a row), "hadamard": elementwise,
    "scale": numbers times (at most) one array. One factor alone is itself."""

    op: str
    factors: tuple[Factor, ...]

    def evaluate(self) -> np.ndarray:
        vals = [np.asarray(f.value, dtype=float) for f in self.factors]
        if self.op == "matmul":
            mats = []
            for f, v in zip(self.factors, vals):
                m = v.reshape(-1, 1) if v.ndim == 1 else v
                mats.append(m.T if f.transpose else m)
            out = mats[0]
            for m in mats[1:]:
                out = out @ m
            return out
        out = vals[0]
        for v in vals[1:]:
            out = out * v
        return out

    def tex(self) -> str:
        """The product in symbols (the factors' LaTeX)."""
        parts = [f.tex + (r"^\top" if f.transpose else "") for f in self.factors]
        return (r" \odot " if self.op == "hadamard" else " ").join(parts)


@dataclass(frozen=True)
class Step:
    """One step of the walk. phase "input": the given values (nodes = the inputs);
    "forward": `node` is computed by operation `op` from `inputs`; "backward":
    the gradient of `node`, the sum of `terms` (the chain-rule products).
    `tex` is the book's formula for the step; a forward step's `terms`, when it
    has them, evaluate to the node's value."""

    phase: str
    node: str | None
    tex: str
    nodes: tuple[str, ...] = ()  # highlighted
    edges: tuple[tuple[str, str], ...] = ()  # highlighted (drawn in the flow's direction)
    op: str | None = None
    inputs: tuple[str, ...] = ()
    terms: tuple[Term, ...] = ()


@dataclass(frozen=True)
class Graph:
    nodes: dict[str, Node]  # in forward order: an operation right before its output
    edges: tuple[tuple[str, str], ...]  # forward direction: input -> operation -> output
    steps: tuple[Step, ...]
    output: str
    inputs: tuple[str, ...]

    @property
    def forward(self) -> tuple[str, ...]:
        """The variables in the order they are known: the inputs, then each computed one."""
        return self.inputs + tuple(s.node for s in self.steps if s.phase == "forward")

    @property
    def backward(self) -> tuple[str, ...]:
        """The nodes whose gradients the backward pass computes, in its order."""
        return tuple(s.node for s in self.steps if s.phase == "backward")

    def grads(self) -> dict[str, np.ndarray]:
        return {n: self.nodes[n].grad for n in self.backward}


@dataclass(frozen=True)
class Shown:
    """What the picture reveals after a step."""

    values: frozenset[str]  # variables whose values are known
    ops: frozenset[str]  # operations that have run
    grads: frozenset[str]  # nodes whose gradients are known
    current: tuple[str, ...]  # highlighted nodes
    edges: tuple[tuple[str, str], ...]  # highlighted edges, in the flow's direction
    phase: str


def shown_at(graph: Graph, k: int) -> Shown:
    """What is revealed once steps 0..k have been taken (k is clipped to the walk)."""
    k = max(0, min(int(k), len(graph.steps) - 1))
    values, ops, grads = set(graph.inputs), set(), set()
    for s in graph.steps[1:k + 1]:
        if s.phase == "forward":
            values.add(s.node)
            ops.add(s.op)
        elif s.phase == "backward":
            grads.add(s.node)
    step = graph.steps[k]
    return Shown(frozenset(values), frozenset(ops), frozenset(grads), step.nodes, step.edges, step.phase)


def _consumers(edges: Sequence[tuple[str, str]], name: str) -> list[str]:
    return [b for a, b in edges if a == name]


def _backward_step(graph_edges: Sequence[tuple[str, str]], name: str, tex: str, terms: Sequence[Term]) -> Step:
    """The step that computes the gradient of `name`: it flows back from the
    output of each operation that used `name`, through that operation, to `name`
    (highlighted edges out -> op -> name, in the flow's direction)."""
    edges, ops = [], []
    for op in _consumers(graph_edges, name):
        ops.append(op)
        for result in _consumers(graph_edges, op):
            edges.append((result, op))
        edges.append((op, name))
    return Step("backward", name, tex, (name, *dict.fromkeys(ops)), tuple(dict.fromkeys(edges)),
                terms=tuple(terms))


def layout(graph: Graph) -> dict[str, tuple[int, int]]:
    """(column, row) of every node. Columns grow along every edge (left to right
    in forward order). The spine, the longest path from an input to the output,
    is row 0; every other node sits as far right as its uses allow, inputs just
    above the spine (rows 1, 2, ...) and the other nodes off the spine in a lane
    above all of them (the penalty's branch of the network), so that its long
    edges from the parameters pass over the inputs rather than through the spine."""
    names = list(graph.nodes)
    index = {n: i for i, n in enumerate(names)}
    preds: dict[str, list[str]] = defaultdict(list)
    succs: dict[str, list[str]] = defaultdict(list)
    for a, b in graph.edges:
        preds[b].append(a)
        succs[a].append(b)
    order, indeg = [], {n: len(preds[n]) for n in names}
    ready = sorted((n for n in names if indeg[n] == 0), key=index.get)
    while ready:
        n = ready.pop(0)
        order.append(n)
        for s in succs[n]:
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
                ready.sort(key=index.get)
    if len(order) != len(names):
        raise ValueError("the graph has a cycle")
    depth: dict[str, int] = {}
    for n in order:
        depth[n] = 1 + max((depth[p] for p in preds[n]), default=-1)
    spine, n = [graph.output], graph.output
    while preds[n]:
        n = max(preds[n], key=lambda p: (depth[p], -index[p]))
        spine.append(n)
    col = {n: depth[n] for n in spine}
    for n in reversed(order):
        if n not in col:
            col[n] = min((col[s] for s in succs[n]), default=depth[n] + 1) - 1
    rows: dict[str, int] = {n: 0 for n in spine}
    off = [n for n in names if n not in rows]
    sources = [n for n in off if not preds[n]]
    lane = 1 + max((sum(col[m] == col[n] for m in sources) for n in sources), default=0)
    for group, first in ((sources, 1), ([n for n in off if preds[n]], lane)):
        taken: dict[int, int] = defaultdict(int)
        for n in group:  # in forward order
            rows[n] = first + taken[col[n]]
            taken[col[n]] += 1
    return {n: (col[n], rows[n]) for n in names}


# ------------------------------------------------------------- the network
@dataclass(frozen=True)
class Activation:
    key: str
    tex: str  # phi applied to z
    prime_tex: str  # phi'(z)
    f: Callable[[np.ndarray], np.ndarray]
    prime: Callable[[np.ndarray], np.ndarray]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


ACTIVATIONS: dict[str, Activation] = {a.key: a for a in [
    Activation("relu", r"\operatorname{ReLU}(\mathbf{z})", r"\mathbf{1}(\mathbf{z} > 0)",
               lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),  # torch's: 0 at z = 0
    Activation("sigmoid", r"\sigma(\mathbf{z})", r"\sigma(\mathbf{z}) \odot (1 - \sigma(\mathbf{z}))",
               _sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    Activation("tanh", r"\tanh(\mathbf{z})", r"1 - \tanh^2(\mathbf{z})", np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
]}


def _log_softmax(o):
    m = np.max(o)
    return o - m - np.log(np.sum(np.exp(o - m)))


@dataclass(frozen=True)
class Loss:
    key: str
    tex: str  # l(o, y)
    grad_tex: str  # dL/do
    f: Callable[[np.ndarray, np.ndarray], float]
    grad: Callable[[np.ndarray, np.ndarray], np.ndarray]


LOSSES: dict[str, Loss] = {l.key: l for l in [
    Loss("squared", r"\frac{1}{2}\|\mathbf{o} - \mathbf{y}\|^2", r"\mathbf{o} - \mathbf{y}",
         lambda o, y: 0.5 * float(np.sum((o - y) ** 2)), lambda o, y: o - y),
    Loss("softmax_ce", r"-\sum_j y_j \log \operatorname{softmax}(\mathbf{o})_j",
         r"\operatorname{softmax}(\mathbf{o}) - \mathbf{y}",  # y sums to 1 (checked by read_network)
         lambda o, y: -float(np.sum(y * _log_softmax(o))), lambda o, y: np.exp(_log_softmax(o)) - y),
]}

SYMBOLS = {  # name -> (drawn symbol, LaTeX, kind)
    "x": ("x", r"\mathbf{x}", "variable"),
    "W1": ("W⁽¹⁾", r"\mathbf{W}^{(1)}", "parameter"),
    "z": ("z", r"\mathbf{z}", "variable"),
    "h": ("h", r"\mathbf{h}", "variable"),
    "W2": ("W⁽²⁾", r"\mathbf{W}^{(2)}", "parameter"),
    "o": ("o", r"\mathbf{o}", "variable"),
    "y": ("y", r"\mathbf{y}", "variable"),
    "L": ("L", "L", "variable"),
    "s": ("s", "s", "variable"),
    "J": ("J", "J", "variable"),
    "op:z": ("×", r"\times", "operation"),
    "op:h": ("φ", r"\phi", "operation"),
    "op:o": ("×", r"\times", "operation"),
    "op:L": ("l", "l", "operation"),
    "op:s": ("‖·‖²", r"\|\cdot\|_F^2", "operation"),
    "op:J": ("+", "+", "operation"),
}
NETWORK_INPUTS = ("x", "W1", "W2", "y")
NETWORK_EDGES = (("x", "op:z"), ("W1", "op:z"), ("op:z", "z"), ("z", "op:h"), ("op:h", "h"), ("h", "op:o"),
                 ("W2", "op:o"), ("op:o", "o"), ("o", "op:L"), ("y", "op:L"), ("op:L", "L"), ("W1", "op:s"),
                 ("W2", "op:s"), ("op:s", "s"), ("L", "op:J"), ("s", "op:J"), ("op:J", "J"))
BACKWARD_ORDER = ("J", "L", "s", "o", "W2", "h", "z", "W1")  # the book's order
NETWORK_STEPS = 1 + 6 + len(BACKWARD_ORDER)  # the inputs, six forward computations, eight gradients


def d(num: str, den: str) -> str:
    """LaTeX of the partial derivative of `num` by `den` (both LaTeX)."""
    return rf"\frac{{\partial {num}}}{{\partial {den}}}"


def _prod(a: str, b: str) -> str:
    return rf"\text{{prod}}\left({a}, {b}\right)"


def network(x, W1, W2, y, lambd: float, phi: str = "relu", loss: str = "squared") -> Graph:
    """The book's network on one example, its forward values and, by hand, every
    gradient of J. x: (d,), W1: (h, d), W2: (q, h), y: (q,); check typed inputs
    with `read_network` first (this raises ValueError on wrong shapes)."""
    x, W1, W2, y = (np.asarray(v, dtype=float) for v in (x, W1, W2, y))
    if W1.ndim != 2 or W2.ndim != 2 or x.shape != (W1.shape[1],) or W2.shape[1] != W1.shape[0] \
            or y.shape != (W2.shape[0],):
        raise ValueError(f"shapes do not fit: x {x.shape}, W1 {W1.shape}, W2 {W2.shape}, y {y.shape}")
    act, l = ACTIVATIONS[phi], LOSSES[loss]
    lambd = float(lambd)
    T = {n: SYMBOLS[n][1] for n in SYMBOLS}

    # forward, storing every intermediate variable (the book: "calculation and storage")
    z = W1 @ x
    h = act.f(z)
    o = W2 @ h
    L = l.f(o, y)
    n1, n2 = float(np.sum(W1 ** 2)), float(np.sum(W2 ** 2))
    s = lambd / 2 * (n1 + n2)
    J = L + s
    values = {"x": x, "W1": W1, "W2": W2, "y": y, "z": z, "h": h, "o": o, "L": np.float64(L), "s": np.float64(s),
              "J": np.float64(J)}

    # backward, by hand, in the book's order
    one = np.float64(1.0)
    dL_do = l.grad(o, y)
    dJ_do = 1.0 * dL_do
    dJ_dW2 = np.outer(dJ_do, h) + lambd * W2
    dJ_dh = W2.T @ dJ_do
    dJ_dz = dJ_dh * act.prime(z)
    dJ_dW1 = np.outer(dJ_dz, x) + lambd * W1
    grads = {"J": one, "L": one, "s": one, "o": dJ_do, "W2": dJ_dW2, "h": dJ_dh, "z": dJ_dz, "W1": dJ_dW1}

    def F(name: str, transpose: bool = False) -> Factor:
        return Factor(T[name], values[name], transpose)

    def G(name: str, transpose: bool = False) -> Factor:
        return Factor(d("J", T[name]), grads[name], transpose)

    lam = Factor(r"\lambda", np.float64(lambd))
    E = NETWORK_EDGES

    def fwd(name, tex, terms=()):
        op = "op:" + name
        inputs = tuple(a for a, b in E if b == op)
        return Step("forward", name, tex, (op, name), tuple((i, op) for i in inputs) + ((op, name),), op, inputs,
                    tuple(terms))

    loss_tex = rf"L = l(\mathbf{{o}}, \mathbf{{y}}) = {l.tex}"
    loss_terms = ((Term("scale", (Factor(r"\frac{1}{2}", np.float64(0.5)),
                                  Factor(r"\|\mathbf{o} - \mathbf{y}\|^2", np.float64(np.sum((o - y) ** 2))))),)
                  if loss == "squared" else ())
    norms = Factor(rf"\left(\|{T['W1']}\|_F^2 + \|{T['W2']}\|_F^2\right)", np.float64(n1 + n2))
    steps = [
        Step("input", None, r"\mathbf{x},\; \mathbf{W}^{(1)},\; \mathbf{W}^{(2)},\; \mathbf{y},\; \lambda",
             NETWORK_INPUTS),
        fwd("z", r"\mathbf{z} = \mathbf{W}^{(1)} \mathbf{x}", [Term("matmul", (F("W1"), F("x")))]),
        fwd("h", rf"\mathbf{{h}} = \phi(\mathbf{{z}}) = {act.tex}"),
        fwd("o", r"\mathbf{o} = \mathbf{W}^{(2)} \mathbf{h}", [Term("matmul", (F("W2"), F("h")))]),
        fwd("L", loss_tex, loss_terms),
        fwd("s", rf"s = \frac{{\lambda}}{{2}} \left(\|{T['W1']}\|_F^2 + \|{T['W2']}\|_F^2\right)",
            [Term("scale", (Factor(r"\frac{\lambda}{2}", np.float64(lambd / 2)), norms))]),
        fwd("J", "J = L + s", [Term("scale", (F("L"),)), Term("scale", (F("s"),))]),
    ]
    back = {
        "J": (d("J", "J") + " = 1", [Term("scale", (Factor("1", one),))]),
        "L": (d("J", "L") + " = 1", [Term("scale", (Factor("1", one),))]),
        "s": (d("J", "s") + " = 1", [Term("scale", (Factor("1", one),))]),
        "o": (rf"{d('J', T['o'])} = {_prod(d('J', 'L'), d('L', T['o']))} = {d('L', T['o'])} = {l.grad_tex}",
              [Term("scale", (G("L"), Factor(d("L", T["o"]), dL_do)))]),
        "W2": (rf"{d('J', T['W2'])} = {_prod(d('J', T['o']), d(T['o'], T['W2']))} + "
               rf"{_prod(d('J', 's'), d('s', T['W2']))} = {d('J', T['o'])} \mathbf{{h}}^\top + \lambda {T['W2']}",
               [Term("matmul", (G("o"), F("h", True))), Term("scale", (lam, F("W2")))]),
        "h": (rf"{d('J', T['h'])} = {_prod(d('J', T['o']), d(T['o'], T['h']))} = "
              rf"{{{T['W2']}}}^\top {d('J', T['o'])}",
              [Term("matmul", (F("W2", True), G("o")))]),
        "z": (rf"{d('J', T['z'])} = {_prod(d('J', T['h']), d(T['h'], T['z']))} = "
              rf"{d('J', T['h'])} \odot \phi'\left(\mathbf{{z}}\right)",
              [Term("hadamard", (G("h"), Factor(act.prime_tex, act.prime(z))))]),
        "W1": (rf"{d('J', T['W1'])} = {_prod(d('J', T['z']), d(T['z'], T['W1']))} + "
               rf"{_prod(d('J', 's'), d('s', T['W1']))} = {d('J', T['z'])} \mathbf{{x}}^\top + \lambda {T['W1']}",
               [Term("matmul", (G("z"), F("x", True))), Term("scale", (lam, F("W1")))]),
    }
    steps += [_backward_step(E, name, *back[name]) for name in BACKWARD_ORDER]

    nodes = {}
    for name in ("x", "W1", "op:z", "z", "op:h", "h", "W2", "op:o", "o", "y", "op:L", "L", "op:s", "s", "op:J", "J"):
        symbol, tex, kind = SYMBOLS[name]
        target = name.removeprefix("op:")
        shape = tuple(np.shape(values[target]))
        nodes[name] = Node(name, symbol, tex, kind, shape, None if kind == "operation" else values[name],
                           grads.get(name) if kind != "operation" else None)
    return Graph(nodes, E, tuple(steps), "J", NETWORK_INPUTS)


def autograd_network(x, W1, W2, y, lambd: float, phi: str = "relu", loss: str = "squared") -> dict[str, np.ndarray]:
    """The same network in torch (float64) with autograd: every forward value and
    the gradients of J that `network` computes by hand, for the page to compare."""
    t = {n: torch.tensor(np.asarray(v, dtype=float), dtype=torch.float64) for n, v in
         (("x", x), ("W1", W1), ("W2", W2), ("y", y))}
    t["W1"].requires_grad_(True)
    t["W2"].requires_grad_(True)
    fn = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[phi]
    z = t["W1"] @ t["x"]
    h = fn(z)
    o = t["W2"] @ h
    L = 0.5 * ((o - t["y"]) ** 2).sum() if loss == "squared" else -(t["y"] * torch.log_softmax(o, dim=0)).sum()
    s = lambd / 2 * ((t["W1"] ** 2).sum() + (t["W2"] ** 2).sum())
    J = L + s
    for v in (z, h, o, L, s, J):
        v.retain_grad()
    J.backward()
    out = {"z": z, "h": h, "o": o, "L": L, "s": s, "J": J}
    res = {n: v.detach().numpy() for n, v in out.items()}
    res.update({f"d{n}": v.grad.numpy() for n, v in out.items()})
    res["dW1"], res["dW2"] = t["W1"].grad.numpy(), t["W2"].grad.numpy()
    return res


def autograd_difference(graph: Graph, reference: Mapping[str, np.ndarray]) -> float:
    """The largest |hand - autograd| over every forward value and gradient."""
    worst = 0.0
    for name in ("z", "h", "o", "L", "s", "J"):
        worst = max(worst, float(np.max(np.abs(graph.nodes[name].value - reference[name]))))
    for name in BACKWARD_ORDER:
        worst = max(worst, float(np.max(np.abs(graph.nodes[name].grad - reference["d" + name]))))
    return worst


# ------------------------------------------------------------- typed inputs
@dataclass(frozen=True)
class InputProblem:
    """What is wrong with one typed input. Codes: empty, not_a_number (token),
    not_finite (token), too_big (token, limit), ragged (lengths), not_a_vector
    (shape), too_many (shape, limit), mismatch (what, got, expected, other, other_what, dim),
    not_a_distribution (sum, negative), negative (value)."""

    name: str
    code: str
    details: Mapping = field(default_factory=dict)


class BadInput(ValueError):
    def __init__(self, problem: InputProblem):
        self.problem = problem
        super().__init__(f"{problem.name}: {problem.code} {dict(problem.details)}")


NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_tensor(text: str, name: str, *, vector: bool) -> np.ndarray:
    """Typed numbers as an array: entries separated by commas or spaces, matrix
    rows by ';' or new lines (numpy's "[[1, 2], [3, 4]]" also reads). Only plain
    decimal numbers are read (no nan, inf, expressions); raises BadInput."""
    t = str(text).replace("\u2212", "-")
    t = re.sub(r"\]\s*,?\s*\[", ";", t).replace("[", " ").replace("]", " ")
    rows = [r.strip() for r in re.split(r"[;\n]", t)]
    rows = [r for r in rows if r.strip(", \t")]
    if not rows:
        raise BadInput(InputProblem(name, "empty"))
    parsed = []
    for row in rows:
        vals = []
        for tok in (tok for tok in re.split(r"[,\s]+", row) if tok):
            shown = tok if len(tok) <= 20 else tok[:17] + "..."
            if not NUMBER.fullmatch(tok):
                raise BadInput(InputProblem(name, "not_a_number", {"token": shown}))
            v = float(tok)
            if not math.isfinite(v):
                raise BadInput(InputProblem(name, "not_finite", {"token": shown}))
            if abs(v) > ABS_MAX:
                raise BadInput(InputProblem(name, "too_big", {"token": shown, "limit": ABS_MAX}))
            vals.append(v)
        parsed.append(vals)
    lengths = [len(r) for r in parsed]
    if len(set(lengths)) > 1:
        raise BadInput(InputProblem(name, "ragged", {"lengths": tuple(lengths)}))
    arr = np.array(parsed, dtype=float)
    if vector:
        if arr.shape[0] != 1 and arr.shape[1] != 1:
            raise BadInput(InputProblem(name, "not_a_vector", {"shape": arr.shape}))
        arr = arr.reshape(-1)
    if max(arr.shape) > MAX_DIM:
        raise BadInput(InputProblem(name, "too_many", {"shape": arr.shape, "limit": MAX_DIM}))
    return arr


def format_tensor(value) -> str:
    """An array as text that parse_tensor reads back to the same array."""
    a = np.asarray(value, dtype=float)

    def num(v: float) -> str:
        return "0" if v == 0 else f"{v:g}"

    if a.ndim == 1:
        return ", ".join(num(v) for v in a)
    return "; ".join(", ".join(num(v) for v in row) for row in a)


@dataclass(frozen=True)
class NetworkInputs:
    x: np.ndarray
    W1: np.ndarray
    W2: np.ndarray
    y: np.ndarray
    lambd: float

    def arrays(self) -> dict:
        return {"x": self.x, "W1": self.W1, "W2": self.W2, "y": self.y, "lambd": self.lambd}


def read_network(texts: Mapping[str, str], lambd, loss: str = "squared"
                 ) -> tuple[NetworkInputs | None, list[InputProblem]]:
    """The typed x, W1, W2, y (texts by those names) and λ, checked: numbers,
    shapes that fit (W1: h x d with d = len(x), W2: q x h, y: q entries), λ
    finite and >= 0, and for cross-entropy a y that is a distribution. Returns
    (inputs, []) or (None, every problem found)."""
    problems: list[InputProblem] = []
    arrays: dict[str, np.ndarray] = {}
    for name in NETWORK_INPUTS:
        try:
            arrays[name] = parse_tensor(texts.get(name, ""), name, vector=name in ("x", "y"))
        except BadInput as err:
            problems.append(err.problem)
    try:
        lam = float(lambd)
    except (TypeError, ValueError):
        lam = math.nan
    if not math.isfinite(lam):
        problems.append(InputProblem("lambd", "not_finite", {"token": str(lambd)[:20]}))
    elif lam < 0:
        problems.append(InputProblem("lambd", "negative", {"value": lam}))
    if "x" in arrays and "W1" in arrays and arrays["W1"].shape[1] != arrays["x"].shape[0]:
        problems.append(InputProblem("W1", "mismatch", {"what": "columns", "got": arrays["W1"].shape[1],
                                                        "expected": arrays["x"].shape[0], "other": "x",
                                                        "other_what": "entries", "dim": "d"}))
    if "W1" in arrays and "W2" in arrays and arrays["W2"].shape[1] != arrays["W1"].shape[0]:
        problems.append(InputProblem("W2", "mismatch", {"what": "columns", "got": arrays["W2"].shape[1],
                                                        "expected": arrays["W1"].shape[0], "other": "W1",
                                                        "other_what": "rows", "dim": "h"}))
    if "W2" in arrays and "y" in arrays and arrays["y"].shape[0] != arrays["W2"].shape[0]:
        problems.append(InputProblem("y", "mismatch", {"what": "entries", "got": arrays["y"].shape[0],
                                                       "expected": arrays["W2"].shape[0], "other": "W2",
                                                       "other_what": "rows", "dim": "q"}))
    if loss == "softmax_ce" and "y" in arrays:
        y = arrays["y"]
        if (y < 0).any() or abs(float(y.sum()) - 1.0) > 1e-6:
            problems.append(InputProblem("y", "not_a_distribution", {"sum": float(y.sum()),
                                                                     "negative": bool((y < 0).any())}))
    if problems:
        return None, problems
    return NetworkInputs(arrays["x"], arrays["W1"], arrays["W2"], arrays["y"], lam), []


def random_inputs(d: int, h: int, q: int, loss: str, generator: torch.Generator) -> dict[str, str]:
    """Texts for x (d), W1 (h x d), W2 (q x h) and y (q) with one decimal, drawn
    from `generator`; y is one-hot for cross-entropy."""
    def draw(*shape):
        return torch.round(torch.randn(*shape, generator=generator, dtype=torch.float64) * 10) / 10

    out = {"x": format_tensor(draw(d).numpy()), "W1": format_tensor(draw(h, d).numpy()),
           "W2": format_tensor(draw(q, h).numpy())}
    if loss == "softmax_ce":
        y = np.zeros(q)
        y[int(torch.randint(q, (1,), generator=generator))] = 1.0
    else:
        y = draw(q).numpy()
    out["y"] = format_tensor(y)
    return out


# ------------------------------------------------------------ expressions
@dataclass(frozen=True)
class ExprOp:
    out: str  # the tensor this operation makes
    kind: str  # dot, mul, mul_const, add, add_const, pow2, sum, sigmoid
    inputs: tuple[str, ...]
    tex: str  # its formula, e.g. "u = x^T x"
    grad_fn: str  # the autograd node torch records for it
    const: float = 0.0


OP_SYMBOLS = {"dot": "·", "mul": "×", "mul_const": "×", "add": "+", "add_const": "+", "pow2": "²", "sum": "Σ",
              "sigmoid": "σ"}


@dataclass(frozen=True)
class Expression:
    key: str
    tex: str
    output: str
    leaves: tuple[str, ...]  # x first; "b" is a number, the others vectors as long as x
    names: Mapping[str, str]  # every tensor's LaTeX
    ops: tuple[ExprOp, ...]
    closed_tex: Mapping[str, str]  # the gradient of each leaf in closed form
    closed: Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]]
    code: str  # the PyTorch line it runs (shown, never evaluated)

    @property
    def step_count(self) -> int:
        """Steps of its walk: the leaves, each operation, then a gradient for every tensor."""
        return 1 + len(self.ops) + len(self.leaves) + len(self.ops)


def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def _sigmoid_closed(v):
    s = _sig(float(v["w"] @ v["x"] + v["b"]))
    return {"x": s * (1 - s) * v["w"], "w": s * (1 - s) * v["x"], "b": np.float64(s * (1 - s))}


EXPRESSIONS: dict[str, Expression] = {e.key: e for e in [
    Expression("2xTx", r"y = 2\mathbf{x}^\top\mathbf{x}", "y", ("x",),
               {"x": r"\mathbf{x}", "u": "u", "y": "y"},
               (ExprOp("u", "dot", ("x", "x"), r"u = \mathbf{x}^\top\mathbf{x}", "DotBackward0"),
                ExprOp("y", "mul_const", ("u",), "y = 2u", "MulBackward0", 2.0)),
               {"x": r"4\mathbf{x}"}, lambda v: {"x": 4 * v["x"]}, "y = 2 * torch.dot(x, x)"),
    Expression("sum(x*x)", r"y = \sum_i x_i x_i", "y", ("x",),
               {"x": r"\mathbf{x}", "u": r"\mathbf{u}", "y": "y"},
               (ExprOp("u", "mul", ("x", "x"), r"\mathbf{u} = \mathbf{x} \odot \mathbf{x}", "MulBackward0"),
                ExprOp("y", "sum", ("u",), r"y = \sum_i u_i", "SumBackward0")),
               {"x": r"2\mathbf{x}"}, lambda v: {"x": 2 * v["x"]}, "y = (x * x).sum()"),
    Expression("3(x+2)^2", r"y = \sum_i 3(x_i + 2)^2", "y", ("x",),
               {"x": r"\mathbf{x}", "a": r"\mathbf{a}", "b": r"\mathbf{b}", "c": r"\mathbf{c}", "y": "y"},
               (ExprOp("a", "add_const", ("x",), r"\mathbf{a} = \mathbf{x} + 2", "AddBackward0", 2.0),
                ExprOp("b", "pow2", ("a",), r"\mathbf{b} = \mathbf{a}^2", "PowBackward0"),
                ExprOp("c", "mul_const", ("b",), r"\mathbf{c} = 3\mathbf{b}", "MulBackward0", 3.0),
                ExprOp("y", "sum", ("c",), r"y = \sum_i c_i", "SumBackward0")),
               {"x": r"6(\mathbf{x} + 2)"}, lambda v: {"x": 6 * (v["x"] + 2)}, "y = ((x + 2) ** 2 * 3).sum()"),
    Expression("sigmoid(w.x+b)", r"z = \sigma(\mathbf{w}^\top\mathbf{x} + b)", "z", ("x", "w", "b"),
               {"x": r"\mathbf{x}", "w": r"\mathbf{w}", "b": "b", "u": "u", "v": "v", "z": "z"},
               (ExprOp("u", "dot", ("w", "x"), r"u = \mathbf{w}^\top\mathbf{x}", "DotBackward0"),
                ExprOp("v", "add", ("u", "b"), "v = u + b", "AddBackward0"),
                ExprOp("z", "sigmoid", ("v",), r"z = \sigma(v)", "SigmoidBackward0")),
               {"x": r"\sigma(v)(1 - \sigma(v))\,\mathbf{w}", "w": r"\sigma(v)(1 - \sigma(v))\,\mathbf{x}",
                "b": r"\sigma(v)(1 - \sigma(v))"},
               _sigmoid_closed, "z = torch.sigmoid(torch.dot(w, x) + b)"),
]}
LEAF_DEFAULTS = {"x": (0.0, 1.0, 2.0, 3.0), "w": (0.5, -1.0, 2.0, -0.5), "b": (0.1,)}  # x: the book's arange(4.0)


def check_leaves(key: str, leaves: Mapping[str, Sequence[float]]) -> tuple[dict[str, np.ndarray] | None,
                                                                           list[InputProblem]]:
    """The leaves of expression `key` as arrays, checked: finite numbers within
    ±ABS_MAX, x with 1 to MAX_DIM entries, w as long as x, b one number."""
    expr = EXPRESSIONS[key]
    problems, out = [], {}
    for name in expr.leaves:
        try:
            a = np.asarray(leaves.get(name, ()), dtype=float).reshape(-1)
        except (TypeError, ValueError):
            problems.append(InputProblem(name, "not_a_number", {"token": str(leaves.get(name))[:20]}))
            continue
        if not np.isfinite(a).all():
            problems.append(InputProblem(name, "not_finite", {"token": format_tensor(a[~np.isfinite(a)][:1])}))
        elif (np.abs(a) > ABS_MAX).any():
            problems.append(InputProblem(name, "too_big", {"token": format_tensor(a[np.abs(a) > ABS_MAX][:1]),
                                                           "limit": ABS_MAX}))
        out[name] = a
    if "x" in out and not 1 <= out["x"].size <= MAX_DIM:
        problems.append(InputProblem("x", "too_many" if out["x"].size else "empty",
                                     {"shape": out["x"].shape, "limit": MAX_DIM} if out["x"].size else {}))
    if "w" in out and "x" in out and out["w"].size != out["x"].size:
        problems.append(InputProblem("w", "mismatch", {"what": "entries", "got": out["w"].size,
                                                       "expected": out["x"].size, "other": "x",
                                                       "other_what": "entries", "dim": "n"}))
    if "b" in out and out["b"].size != 1:
        problems.append(InputProblem("b", "not_a_number", {"token": format_tensor(out["b"])[:20]}))
    if problems:
        return None, problems
    if "b" in out:
        out["b"] = out["b"].reshape(())
    return out, []


def _torch_op(op: ExprOp, a, b=None):
    if op.kind == "dot":
        return torch.dot(a, b)
    if op.kind == "mul":
        return a * b
    if op.kind == "mul_const":
        return a * op.const
    if op.kind == "add":
        return a + b
    if op.kind == "add_const":
        return a + op.const
    if op.kind == "pow2":
        return a ** 2
    if op.kind == "sum":
        return a.sum()
    if op.kind == "sigmoid":
        return torch.sigmoid(a)
    raise ValueError(f"unknown operation {op.kind!r}")


def _numpy_op(op: ExprOp, a, b=None):
    return {"dot": lambda: np.float64(a @ b), "mul": lambda: a * b, "mul_const": lambda: a * op.const,
            "add": lambda: a + b, "add_const": lambda: a + op.const, "pow2": lambda: a ** 2,
            "sum": lambda: np.float64(np.sum(a)), "sigmoid": lambda: _sig(a)}[op.kind]()


def _local_terms(op: ExprOp, g: Factor, vals: Mapping[str, np.ndarray], names: Mapping[str, str]
                 ) -> list[tuple[str, Term]]:
    """(input, the chain-rule product it gets) for each input of `op`, given the
    gradient g of the expression's output with respect to op's output."""
    ins = op.inputs
    V = {n: Factor(names[n], vals[n]) for n in ins}
    if op.kind == "dot":
        return [(ins[0], Term("scale", (g, V[ins[1]]))), (ins[1], Term("scale", (g, V[ins[0]])))]
    if op.kind == "mul":
        return [(ins[0], Term("hadamard", (g, V[ins[1]]))), (ins[1], Term("hadamard", (g, V[ins[0]])))]
    if op.kind == "mul_const":
        return [(ins[0], Term("scale", (Factor(f"{op.const:g}", np.float64(op.const)), g)))]
    if op.kind in ("add", "add_const"):
        return [(i, Term("scale", (g,))) for i in ins]
    if op.kind == "pow2":
        a = ins[0]
        return [(a, Term("hadamard", (g, Factor(f"2{names[a]}", 2 * vals[a]))))]
    if op.kind == "sum":
        a = ins[0]
        return [(a, Term("scale", (g, Factor(r"\mathbf{1}", np.ones_like(vals[a])))))]
    if op.kind == "sigmoid":
        a = ins[0]
        s = _sig(vals[a])
        return [(a, Term("scale" if np.ndim(s) == 0 else "hadamard",
                         (g, Factor(rf"\sigma({names[a]})(1 - \sigma({names[a]}))", s * (1 - s)))))]
    raise ValueError(f"unknown operation {op.kind!r}")


def node_name(fn) -> str:
    """An autograd node's name as Python shows it ("MulBackward0", "AccumulateGrad")."""
    return type(fn).__name__


def autograd_walk(root) -> list[tuple[str, tuple[str | None, ...]]]:
    """autograd's graph from `root` (a grad_fn), breadth first: each node's name
    and the names of its next_functions (None for an input that needs no gradient)."""
    out, seen, queue = [], {}, [root]  # seen holds the nodes, so their ids stay theirs
    while queue:
        fn = queue.pop(0)
        if id(fn) in seen:
            continue
        seen[id(fn)] = fn
        nxt = tuple(None if f is None else node_name(f) for f, _ in fn.next_functions)
        out.append((node_name(fn), nxt))
        queue += [f for f, _ in fn.next_functions if f is not None]
    return out


@dataclass(frozen=True)
class ExpressionResult:
    graph: Graph
    walk: list[tuple[str, tuple[str | None, ...]]]  # autograd's nodes, breadth first from the output's grad_fn
    autograd: dict[str, np.ndarray]  # .grad of every tensor (intermediates retained), by name
    hand: dict[str, np.ndarray]  # the chain rule run by hand, by name
    closed: dict[str, np.ndarray]  # the closed forms, leaves only


def expression(key: str, leaves: Mapping[str, np.ndarray]) -> ExpressionResult:
    """Expression `key` on the given leaves (checked by `check_leaves`): torch
    runs it and its backward pass; the graph drawn is autograd's, read from
    grad_fn.next_functions, named by the expression's tensors."""
    expr = EXPRESSIONS[key]
    names = expr.names
    leaf_t = {n: torch.tensor(np.asarray(leaves[n], dtype=float), dtype=torch.float64, requires_grad=True)
              for n in expr.leaves}
    tensors: dict[str, torch.Tensor] = dict(leaf_t)
    for op in expr.ops:
        tensors[op.out] = _torch_op(op, *(tensors[i] for i in op.inputs))
        tensors[op.out].retain_grad()
    root = tensors[expr.output]
    root.backward()
    autograd = {n: t.grad.detach().numpy().copy() for n, t in tensors.items()}
    values = {n: t.detach().numpy().copy() for n, t in tensors.items()}

    # autograd's graph, named: each grad_fn is the op whose output it made; AccumulateGrad holds a leaf
    # (torch hands back the same Python object for a node while one is held, so `is` identifies it)
    made_by = [(tensors[op.out].grad_fn, op.out) for op in expr.ops]
    walk = autograd_walk(root.grad_fn)

    def var_of(fn) -> str:
        if node_name(fn) == "AccumulateGrad":
            return next(n for n, t in leaf_t.items() if t is fn.variable)
        return next(out for f, out in made_by if f is fn)

    edges, seen, queue = [], {}, [root.grad_fn]
    while queue:
        fn = queue.pop(0)
        if id(fn) in seen:
            continue
        seen[id(fn)] = fn
        if node_name(fn) == "AccumulateGrad":
            continue
        out = var_of(fn)
        inputs = [var_of(f) for f, _ in fn.next_functions if f is not None]
        edges = [(i, "op:" + out) for i in inputs] + [("op:" + out, out)] + edges
        queue += [f for f, _ in fn.next_functions if f is not None]
    order = list(expr.leaves) + [n for op in expr.ops for n in ("op:" + op.out, op.out)]
    edges = sorted(dict.fromkeys(edges), key=lambda e: (order.index(e[1]), order.index(e[0])))

    # the chain rule by hand
    hand_vals = {n: np.asarray(leaves[n], dtype=float) for n in expr.leaves}
    for op in expr.ops:
        hand_vals[op.out] = _numpy_op(op, *(hand_vals[i] for i in op.inputs))
    out_tex = names[expr.output]
    terms: dict[str, list[Term]] = defaultdict(list)
    grads: dict[str, np.ndarray] = {expr.output: np.float64(1.0)}
    terms[expr.output].append(Term("scale", (Factor("1", np.float64(1.0)),)))
    sent: set[str] = set()
    for op in reversed(expr.ops):
        g = Factor(d(out_tex, names[op.out]), grads[op.out])
        for name, term in _local_terms(op, g, hand_vals, names):
            terms[name].append(term)
        sent.add(op.out)
        for name in dict.fromkeys(op.inputs):
            if all(c.out in sent for c in expr.ops if name in c.inputs):  # every use has sent its part
                grads[name] = np.asarray(sum(t.evaluate() for t in terms[name]), dtype=float).reshape(
                    np.shape(hand_vals[name]))

    def kind(name):
        return "variable" if name == "x" or name not in expr.leaves else "parameter"

    nodes = {}
    for name in order:
        if name.startswith("op:"):
            op = next(o for o in expr.ops if o.out == name[3:])
            nodes[name] = Node(name, OP_SYMBOLS[op.kind], op.tex, "operation", np.shape(values[op.out]),
                               note=op.grad_fn)
        else:
            nodes[name] = Node(name, name, names[name], kind(name), np.shape(values[name]), values[name],
                               grads[name], "AccumulateGrad" if name in expr.leaves else "")
    steps = [Step("input", None, r",\; ".join(names[n] for n in expr.leaves), tuple(expr.leaves))]
    for op in expr.ops:
        o = "op:" + op.out
        ins = tuple(dict.fromkeys(op.inputs))
        steps.append(Step("forward", op.out, op.tex, (o, op.out), tuple((i, o) for i in ins) + ((o, op.out),), o,
                          ins))
    for name in reversed(order):
        if name.startswith("op:"):
            continue
        ts = terms[name]
        tex = rf"{d(out_tex, names[name])} = " + (" + ".join(t.tex() for t in ts) if name != expr.output else "1")
        steps.append(_backward_step(edges, name, tex, ts))
    graph = Graph(nodes, tuple(edges), tuple(steps), expr.output, tuple(expr.leaves))
    closed = {n: np.asarray(v, dtype=float) for n, v in expr.closed(hand_vals).items()}
    return ExpressionResult(graph, walk, autograd, {n: grads[n] for n in grads}, closed)
