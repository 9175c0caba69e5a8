"""Numerical stability and initialization (book section 5.4), the parts a page draws.

- `sigmoid_curve`: the sigmoid and its gradient, the gradient by autograd as the
  book computes it (it vanishes for large |x|);
- `matrix_product`: the book's product of 100 random 4 x 4 N(0, 1) matrices,
  the norm of the running product after each factor (it explodes);
- `deep_mlp`: an MLP of `num_layers` hidden layers initialized by one of the
  book's schemes (`INITS`), and `layer_stats`: the per-layer statistics of its
  activations and weight gradients on one batch, the gradients by the book's
  chain rule written out (`forward_backward`, checked against autograd);
- `symmetry_run`: a 2-unit hidden layer started with equal weights stays
  symmetric under SGD; random weights or dropout break the symmetry.

Everything random is drawn from an explicit torch.Generator.
"""
from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

INITS = {
    "zero": "all zero",
    "normal_001": "N(0, 0.01²)",
    "normal_1": "N(0, 1)",
    "xavier": "Xavier: N(0, 2/(n_in+n_out))",
    "he": "He: N(0, 2/n_in)",
}
SHORT = {"zero": "zero", "normal_001": "N(0, 0.01²)", "normal_1": "N(0, 1)", "xavier": "Xavier", "he": "He"}
ACTIVATIONS = {"tanh": "tanh", "relu": "ReLU", "sigmoid": "sigmoid"}
SATURATED = 0.05  # a unit whose φ'(z) is below this passes on (almost) no gradient


# ------------------------------------------------------------------ the sigmoid
def sigmoid_curve(lo: float = -8.0, hi: float = 8.0, n: int = 161) -> dict[str, np.ndarray]:
    """x, sigmoid(x) and its gradient, computed as the book does: y.backward on x."""
    x = torch.linspace(lo, hi, n, requires_grad=True)
    y = torch.sigmoid(x)
    y.backward(torch.ones_like(x))
    return {"x": x.detach().numpy(), "y": y.detach().numpy(), "grad": x.grad.numpy()}


# ------------------------------------------------------- a product of matrices
def matrix_product(n: int = 100, size: int = 4, *, seed: int = 0, std: float = 1.0) -> dict:
    """The book's example: M = N(0, std²) of shape (size, size), then M = M @ N(0, std²)
    `n` times. Returns the Frobenius norm of the running product after each factor
    (`norms[0]` is the first matrix alone: n + 1 values), the first and the last
    matrix, and the factors themselves. float64, so a larger std overflows later."""
    g = torch.Generator().manual_seed(int(seed))
    factors = torch.normal(0.0, float(std), size=(n + 1, size, size), generator=g, dtype=torch.float64)
    M = factors[0].clone()
    norms = [float(torch.linalg.matrix_norm(M))]
    for k in range(1, n + 1):
        M = M @ factors[k]
        norms.append(float(torch.linalg.matrix_norm(M)))
    return {"norms": np.array(norms), "first": factors[0].numpy(), "last": M.numpy(), "factors": factors.numpy()}


# ------------------------------------------------------------------ the deep MLP
def init_std(scheme: str, n_in: int, n_out: int) -> float:
    """The standard deviation of a layer's weights under `scheme` (biases are zero)."""
    if scheme == "zero":
        return 0.0
    if scheme == "normal_001":
        return 0.01
    if scheme == "normal_1":
        return 1.0
    if scheme == "xavier":
        return math.sqrt(2.0 / (n_in + n_out))
    if scheme == "he":
        return math.sqrt(2.0 / n_in)
    raise ValueError(f"unknown initialization {scheme!r}: use one of {list(INITS)}")


def init_linear_(layer: nn.Linear, scheme: str, gen: torch.Generator) -> nn.Linear:
    """Weights N(0, init_std²) drawn from `gen`, biases zero (in place)."""
    n_out, n_in = layer.weight.shape
    std = init_std(scheme, n_in, n_out)
    with torch.no_grad():
        w = torch.randn(layer.weight.shape, generator=gen, dtype=layer.weight.dtype) * std
        layer.weight.copy_(w)
        layer.bias.zero_()
    return layer


def _act_module(activation: str) -> nn.Module:
    if activation == "tanh":
        return nn.Tanh()
    if activation == "relu":
        return nn.ReLU()
    if activation == "sigmoid":
        return nn.Sigmoid()
    raise ValueError(f"unknown activation {activation!r}: use one of {list(ACTIVATIONS)}")


def act(activation: str, z: torch.Tensor) -> torch.Tensor:
    if activation == "tanh":
        return torch.tanh(z)
    if activation == "relu":
        return torch.relu(z)
    if activation == "sigmoid":
        return torch.sigmoid(z)
    raise ValueError(f"unknown activation {activation!r}")


def act_grad(activation: str, z: torch.Tensor) -> torch.Tensor:
    """φ'(z): 1 - tanh², [z > 0], sigmoid (1 - sigmoid)."""
    if activation == "tanh":
        return 1 - torch.tanh(z) ** 2
    if activation == "relu":
        return (z > 0).to(z.dtype)
    if activation == "sigmoid":
        s = torch.sigmoid(z)
        return s * (1 - s)
    raise ValueError(f"unknown activation {activation!r}")


class DeepMLP(nn.Sequential):
    """flatten, linear1, act1, ..., linearL, actL, output: `num_layers` hidden
    layers of one width and one activation (named so a page can read them)."""

    activation: str = "tanh"

    @property
    def hidden(self) -> list[nn.Linear]:
        return [m for name, m in self.named_children() if name.startswith("linear")]

    @property
    def linears(self) -> list[nn.Linear]:
        """The hidden layers, then the output layer."""
        return self.hidden + [self.output]


def deep_mlp(num_layers: int = 5, num_hiddens: int = 256, activation: str = "tanh", init: str = "xavier",
             num_inputs: int = 784, num_outputs: int = 10):
    """net_fn(gen) for DeepMLP; every linear layer (the output one too) is
    initialized by `init` from `gen`."""
    if num_layers < 1:
        raise ValueError("num_layers must be at least 1")
    init_std(init, 1, 1)  # an unknown scheme fails here, not in a worker
    _act_module(activation)

    def net_fn(gen: torch.Generator) -> DeepMLP:
        layers: list[tuple[str, nn.Module]] = [("flatten", nn.Flatten())]
        n_in = num_inputs
        for i in range(1, num_layers + 1):
            layers += [(f"linear{i}", nn.Linear(n_in, num_hiddens)), (f"act{i}", _act_module(activation))]
            n_in = num_hiddens
        layers.append(("output", nn.Linear(n_in, num_outputs)))
        net = DeepMLP(OrderedDict(layers))
        net.activation = activation
        for layer in net.linears:
            init_linear_(layer, init, gen)
        return net

    return net_fn


@torch.no_grad()
def forward_backward(net: DeepMLP, X: torch.Tensor, y: torch.Tensor) -> dict[str, list[torch.Tensor]]:
    """One batch through `net` and back by the chain rule, without autograd and
    without touching the net (nor its .grad): for the mean cross-entropy loss l,
    dl/do = (softmax(o) - onehot(y)) / n, then per layer from the top
    dl/dz = dl/dh ⊙ φ'(z), dl/dW = (dl/dz)ᵀ h_prev, dl/db = Σ dl/dz,
    dl/dh_prev = dl/dz W. Returns z, h (hidden layers 1..L), dW, db (layers
    1..L and the output layer), dh (dl/dh for layers 1..L) and the loss."""
    f = net.activation
    h = X.reshape(len(X), -1)
    zs, hs, prev = [], [], [h]
    for layer in net.hidden:
        z = h @ layer.weight.T + layer.bias
        h = act(f, z)
        zs.append(z)
        hs.append(h)
        prev.append(h)
    o = h @ net.output.weight.T + net.output.bias
    loss = F.cross_entropy(o, y)
    g = (torch.softmax(o, dim=1) - F.one_hot(y, o.shape[1]).to(o.dtype)) / len(X)
    dW, db = [g.T @ prev[-1]], [g.sum(0)]
    dh = g @ net.output.weight
    dhs = [dh]
    for i in range(len(zs) - 1, -1, -1):
        gz = dh * act_grad(f, zs[i])
        layer = net.hidden[i]
        dW.append(gz.T @ prev[i])
        db.append(gz.sum(0))
        if i > 0:
            dh = gz @ layer.weight
            dhs.append(dh)
    return {"z": zs, "h": hs, "dW": dW[::-1], "db": db[::-1], "dh": dhs[::-1], "loss": loss}


def histogram(values: torch.Tensor, bins: int = 30, lo: float | None = None, hi: float | None = None) -> dict:
    """{"edges", "fraction"} of the finite values on `bins` equal bins over [lo, hi]
    (default: their range; values outside are counted in the end bins);
    "nonfinite": the fraction that was inf or NaN."""
    a = values.detach().reshape(-1).float()
    ok = torch.isfinite(a)
    total = max(1, a.numel())
    a = a[ok]
    if lo is None or hi is None:
        lo_, hi_ = (float(a.min()), float(a.max())) if a.numel() else (0.0, 1.0)
        lo = lo_ if lo is None else lo
        hi = hi_ if hi is None else hi
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.histc(a.clamp(lo, hi), bins=bins, min=lo, max=hi) if a.numel() else torch.zeros(bins)
    return {"edges": np.linspace(lo, hi, bins + 1), "fraction": counts.double().numpy() / total,
            "nonfinite": 1.0 - a.numel() / total}


def _std(t: torch.Tensor) -> float:
    return float(t.double().std(unbiased=False))


def layer_stats(net: DeepMLP, X: torch.Tensor, y: torch.Tensor, *, bins: int = 30) -> dict:
    """Per-layer statistics of one batch (lists indexed by layer; activations
    for the hidden layers 1..L, gradients for 1..L and the output layer L + 1):
    act_std, act_mean, saturated (fraction of hidden values with φ'(z) < SATURATED:
    a flat tanh or sigmoid, a dead ReLU), grad_std and grad_norm (of dl/dW),
    histograms of the activations (act_hist) and of log10 |dl/dW| (grad_hist; an
    exactly zero gradient counts in grad_zero, an inf or NaN one in grad_nonfinite),
    and the loss. Reads the net only (no autograd, no .grad)."""
    fb = forward_backward(net, X, y)
    f = net.activation
    out: dict = {"layers": len(fb["h"]), "loss": float(fb["loss"])}
    for key in ("act_std", "act_mean", "saturated", "act_hist", "grad_std", "grad_norm", "grad_hist", "grad_zero",
                "grad_nonfinite"):
        out[key] = []
    lo, hi = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}.get(f, (None, None))
    for z, h in zip(fb["z"], fb["h"]):
        out["act_std"].append(_std(h))
        out["act_mean"].append(float(h.double().mean()))
        out["saturated"].append(float((act_grad(f, z) < SATURATED).float().mean()))
        out["act_hist"].append(histogram(h, bins, lo, hi))
    for dW in fb["dW"]:
        out["grad_std"].append(_std(dW))
        out["grad_norm"].append(float(torch.linalg.vector_norm(dW.double())))
        a = dW.abs().reshape(-1)
        finite = torch.isfinite(a)
        out["grad_zero"].append(float((a == 0).float().mean()))
        out["grad_nonfinite"].append(float((~finite).float().mean()))
        out["grad_hist"].append(histogram(torch.log10(a[finite & (a > 0)]), bins))
    return out


# ------------------------------------------------------------------- symmetry
SYMMETRY_CASES = {"equal": "equal initial weights", "dropout": "equal weights, dropout p = 0.5",
                  "random": "random initial weights N(0, 0.01²)"}


def symmetry_net(case: str, *, num_inputs: int = 784, num_outputs: int = 10, c: float = 0.001,
                 seed: int = 0) -> nn.Sequential:
    """flatten, hidden (2 tanh units), [dropout], output. With "equal" and
    "dropout" both hidden units start with every weight equal to `c` and the
    output layer's two columns equal (each row drawn N(0, 0.01²)), so the two
    units are interchangeable; "random" draws every weight N(0, 0.01²)."""
    from core.models.mlp import Dropout

    if case not in SYMMETRY_CASES:
        raise ValueError(f"unknown case {case!r}: use one of {list(SYMMETRY_CASES)}")
    g = torch.Generator().manual_seed(int(seed))
    layers = [("flatten", nn.Flatten()), ("hidden", nn.Linear(num_inputs, 2)), ("tanh", nn.Tanh())]
    if case == "dropout":
        layers.append(("dropout", Dropout(0.5)))
    layers.append(("output", nn.Linear(2, num_outputs)))
    net = nn.Sequential(OrderedDict(layers))
    with torch.no_grad():
        net.hidden.bias.zero_()
        net.output.bias.zero_()
        if case == "random":
            net.hidden.weight.copy_(torch.randn(2, num_inputs, generator=g) * 0.01)
            net.output.weight.copy_(torch.randn(num_outputs, 2, generator=g) * 0.01)
        else:
            net.hidden.weight.fill_(c)
            net.output.weight.copy_((torch.randn(num_outputs, 1, generator=g) * 0.01).expand(num_outputs, 2))
    if case == "dropout":
        net.dropout.generator = torch.Generator().manual_seed(int(seed) + 2)
    return net


def symmetry_run(X: torch.Tensor, y: torch.Tensor, case: str, *, steps: int = 100, lr: float = 0.5,
                 batch_size: int = 64, seed: int = 0) -> dict:
    """Minibatch SGD on (X, y) for `steps` steps (batches drawn from a generator
    seeded with `seed` + 1), the two hidden units watched: `diff` is
    ‖w₁ − w₂‖ of their incoming weights after each step (`diff[0]` before the
    first), `out_diff` the same for their outgoing weights; `w` their final
    incoming weights (2, num_inputs) and `loss` per step."""
    net = symmetry_net(case, num_inputs=X[0].numel(), num_outputs=int(y.max()) + 1, seed=seed)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(int(seed) + 1)

    def diffs():
        W, V = net.hidden.weight.detach(), net.output.weight.detach()
        return float((W[0] - W[1]).norm()), float((V[:, 0] - V[:, 1]).norm())

    d, od = diffs()
    diff, out_diff, losses = [d], [od], []
    for _ in range(steps):
        idx = torch.randint(0, len(X), (batch_size,), generator=g)
        loss = F.cross_entropy(net(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        d, od = diffs()
        diff.append(d)
        out_diff.append(od)
    return {"diff": np.array(diff), "out_diff": np.array(out_diff), "loss": np.array(losses),
            "w": net.hidden.weight.detach().clone().numpy(), "case": case}
