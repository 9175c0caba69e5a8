"""Layers, modules and parameters (d2l 1.0 sections 6.1-6.5): a model inspector
and the section's experiments, as values a page draws.

- `inspect(net, X)`: the module tree (each module's class and, through forward
  hooks, its output shape on the sample input X), the parameter table (dotted
  name, shape, count, mean, std, min, max; a tied parameter once, with its other
  names) and the totals. It leaves the net's parameters, its train/eval mode
  and torch's global random stream as they were.
- `NETS`: the book's nets by key, `(label, factory(generator), input_shape)`;
  a new net for the inspector is one more line here.
- `INITS` / `initialize`: the book's initializers, drawn from a torch.Generator;
  `weight_histograms`: what the page's histograms show.
- `lazy_demo` (6.4 deferred initialization), `shared_demo` (6.2 tied
  parameters: the gradient of a shared layer is the sum over its uses),
  `centered_demo` and `my_linear_demo` (6.5 custom layers).

The page does not train; `Config` holds its controls so a link keeps them."""
from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.experiments.schema import config, setting
from core.models import builders, cnn_zoo
from core.models.builders import MyLinear, quiet_global_rng
from core.models.lenet import lenet

DATA_OFFSET = 0x9E3779B9  # the sample input's generator is seeded seed + this, the weights' seed itself


class NetEntry(NamedTuple):
    label: str
    factory: Callable[[torch.Generator], nn.Module]  # the net, its parameters drawn from the generator
    input_shape: tuple[int, ...]  # the sample input X's shape (the book's)


def _zoo_net(key: str, gen: torch.Generator) -> nn.Module:
    with quiet_global_rng():
        return cnn_zoo.make(key, width=4, gen=gen)


def _lenet(gen: torch.Generator) -> nn.Module:
    with quiet_global_rng():
        return lenet()(gen)


NETS: dict[str, NetEntry] = {
    "mlp": NetEntry("MLP class: 20 -> 256 -> 10, ReLU (6.1)", builders.mlp, (2, 20)),
    "sequential": NetEntry("nn.Sequential MLP (6.1)", builders.sequential_mlp, (2, 20)),
    "my_sequential": NetEntry("MySequential (6.1)", builders.my_sequential, (2, 20)),
    "fixed_hidden": NetEntry("FixedHiddenMLP (6.1)", builders.fixed_hidden_mlp, (2, 20)),
    "nest": NetEntry("NestMLP (6.1)", builders.nest_mlp, (2, 20)),
    "chimera": NetEntry("chimera: NestMLP, Linear, FixedHiddenMLP (6.1)", builders.chimera, (2, 20)),
    "param_net": NetEntry("4 -> 8 -> 1 of parameter management (6.2)", builders.param_net, (2, 4)),
    "tied": NetEntry("tied: one shared Linear(8, 8) used twice (6.2)", builders.tied_net, (2, 4)),
    "centered": NetEntry("Linear(8, 128) + CenteredLayer (6.5)", builders.centered_net, (4, 8)),
    "my_linear": NetEntry("MyLinear(64, 8), MyLinear(8, 1) (6.5)", builders.my_linear_net, (2, 64)),
    "lenet": NetEntry("LeNet (7.6)", _lenet, (2, 1, 28, 28)),
    # the modern CNNs (core.models.cnn_zoo) at the book's input sizes with a quarter of the
    # channels, so one forward pass stays well under a second on a CPU (full size: the Modern CNNs page)
    **{key: NetEntry(f"{label}, channels ÷ 4, {cnn_zoo.BOOK_SIZE[key]}×{cnn_zoo.BOOK_SIZE[key]} input",
                     functools.partial(_zoo_net, key), (1, 1, cnn_zoo.BOOK_SIZE[key], cnn_zoo.BOOK_SIZE[key]))
       for key, label in (("alexnet", "AlexNet (8.1)"), ("vgg", "VGG-11 (8.2)"), ("nin", "NiN (8.3)"),
                          ("googlenet", "GoogLeNet (8.4)"), ("resnet", "ResNet-18 (8.6)"),
                          ("densenet", "DenseNet (8.7)"))},
}

INITS = {
    "default": "as built (PyTorch's default; LeNet: Xavier)",
    "normal": "normal(0, 0.01), bias 0",
    "constant": "constant 1, bias 0",
    "xavier": "Xavier uniform",
    "my_init": "my_init: U(-10, 10), zero where |w| < 5",
    "zeros": "zeros",
}


@config
class Config:
    net: str = setting("mlp", "net", options=tuple(NETS), labels={k: v.label for k, v in NETS.items()},
                       help="The book's nets; each is drawn from the seed, then initialized as chosen.")
    init: str = setting("default", "initializer", options=tuple(INITS), labels=INITS,
                        help="Applied to every weight matrix (Linear, Conv2d, MyLinear), as the book's "
                             "net.apply(init_...) does; the histograms and the table follow.")
    num_inputs: int = setting(20, "input width of the first batch", min=1, max=64,
                              help="The lazy net learns its first layer's shape from this batch.")
    batch_size: int = 2  # the book's sample X = torch.rand(2, 20)


# ------------------------------------------------------------------ the inspector
def _shape(out):
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    if isinstance(out, (tuple, list)):
        return tuple(_shape(o) for o in out)
    return None


def _is_lazy(p) -> bool:
    return isinstance(p, nn.parameter.UninitializedParameter)


def _stats(p: torch.Tensor) -> dict:
    t = p.detach().double()
    return {"mean": float(t.mean()), "std": float(t.std(correction=0)), "min": float(t.min()),
            "max": float(t.max())}


def inspect(net: nn.Module, X: torch.Tensor | None = None) -> dict:
    """What a model inspector shows of `net` (with X: after one forward pass on it).

    Returns {"modules": rows in the order of named_modules (a module reached
    twice is listed under each name, `same_as` naming its first), each
    {"name", "depth", "class", "params" (its own), "outputs" (the shape of
    each call on X, in order), "same_as"}; "parameters": rows {"name", "shape",
    "count", "mean", "std" (population), "min", "max", "also" (other names of
    the same tensor)}, an uninitialized (lazy) parameter with shape None;
    "constants": tensors held by a module that are not parameters or buffers
    (FixedHiddenMLP's rand_weight); "total": the number of distinct
    parameter values; "uninitialized": how many parameters are still lazy;
    "output": the shape of net(X) or None}.

    The forward pass runs in eval mode without gradients (the mode is put
    back), with torch's global random state restored afterwards; only a lazy
    layer changes, as any first batch makes it."""
    named = list(net.named_modules(remove_duplicate=False))
    calls: dict[int, list] = {}
    output = None
    if X is not None:
        handles = []
        for _, m in named:
            if id(m) not in calls:
                calls[id(m)] = []
                handles.append(m.register_forward_hook(
                    lambda mod, args, out, rec=calls[id(m)]: rec.append(_shape(out))))
        modes = [(m, m.training) for _, m in named]
        net.eval()
        try:
            with torch.no_grad(), quiet_global_rng():
                output = _shape(net(X))
        finally:
            for h in handles:
                h.remove()
            for m, mode in modes:
                m.training = mode
    first: dict[int, str] = {}
    modules = []
    for name, m in named:
        same_as = first.get(id(m))
        first.setdefault(id(m), name)
        own = [p for p in m.parameters(recurse=False)]
        modules.append({
            "name": name, "depth": 0 if not name else name.count(".") + 1, "class": type(m).__name__,
            "params": None if any(_is_lazy(p) for p in own) else sum(p.numel() for p in own),
            "outputs": list(calls.get(id(m), [])), "same_as": same_as,
        })
    names: dict[int, list[str]] = {}
    tensors: dict[int, torch.Tensor] = {}
    for name, p in net.named_parameters(remove_duplicate=False):
        names.setdefault(id(p), []).append(name)
        tensors[id(p)] = p
    parameters = []
    for key, p in tensors.items():
        row = {"name": names[key][0], "also": names[key][1:], "requires_grad": p.requires_grad}
        if _is_lazy(p):
            row |= {"shape": None, "count": None, "mean": None, "std": None, "min": None, "max": None}
        else:
            row |= {"shape": tuple(p.shape), "count": p.numel()} | _stats(p)
        parameters.append(row)
    constants = []
    for name, m in net.named_modules():
        for attr, value in vars(m).items():
            if isinstance(value, torch.Tensor) and not isinstance(value, nn.Parameter):
                constants.append({"name": f"{name}.{attr}" if name else attr, "shape": tuple(value.shape)})
    return {"modules": modules, "parameters": parameters, "constants": constants,
            "total": sum(r["count"] for r in parameters if r["count"] is not None),
            "uninitialized": sum(r["count"] is None for r in parameters), "output": output}


def format_shape(shape) -> str:
    """(2, 256) -> '2 × 256', () -> 'scalar', None -> '?'."""
    if shape is None:
        return "?"
    if len(shape) and isinstance(shape[0], tuple):
        return "(" + ", ".join(format_shape(s) for s in shape) + ")"
    return " × ".join(str(n) for n in shape) if shape else "scalar"


def module_dot(info: dict, title: str = "net") -> str:
    """The module tree of inspect() as Graphviz DOT: one box per module (its
    class, output shape, own parameter count), an edge from each module to its
    children, a reused module drawn once with an edge from each parent."""
    def esc(text: str) -> str:
        return str(text).replace("\\", "\\\\").replace('"', '\\"')

    lines = ["digraph {", "  rankdir=TB;", '  node [shape=box, style="rounded,filled", fillcolor="#f1f3f5", '
             'fontname="Helvetica", fontsize=10];', '  edge [color="#868e96"];']
    node_of: dict[str, str] = {}
    for i, row in enumerate(info["modules"]):
        target = row["same_as"]
        if target is not None:
            node_of[row["name"]] = node_of[target]
        else:
            node_of[row["name"]] = f"m{i}"
            shapes = [format_shape(s) for s in row["outputs"]]
            out = ""
            if shapes:
                out = "\\nout " + (shapes[0] if len(set(shapes)) == 1 else " | ".join(shapes))
                out += f" (called {len(shapes)}×)" if len(shapes) > 1 else ""
            params = "\\nparams ?" if row["params"] is None else (
                f"\\nparams {row['params']:,}" if row["params"] else "")
            label = f"{esc(row['name'] or title)}: {esc(row['class'])}{out}{params}"
            lines.append(f'  m{i} [label="{label}"];')
        if row["name"]:
            parent = row["name"].rsplit(".", 1)[0] if "." in row["name"] else ""
            if target is None:
                edge = f"  {node_of[parent]} -> {node_of[row['name']]};"
            else:  # the same module again: a dashed edge named by its second place
                edge = (f'  {node_of[parent]} -> {node_of[row["name"]]} [style=dashed, '
                        f'label="{esc(row["name"])} (same module)", fontsize=9];')
            if edge not in lines:
                lines.append(edge)
    lines.append("}")
    return "\n".join(lines)


def sample_input(input_shape, seed: int) -> torch.Tensor:
    """The book's sample X = torch.rand(shape), drawn from its own generator."""
    return torch.rand(tuple(input_shape), generator=torch.Generator().manual_seed(int(seed) + DATA_OFFSET))


def build_net(key: str, init: str = "default", *, seed: int = 0) -> tuple[nn.Module, torch.Tensor]:
    """NETS[key] drawn from a generator seeded `seed`, initialized by `init`
    from the same generator; and its sample input."""
    if key not in NETS:
        raise ValueError(f"unknown net {key!r}: use one of {list(NETS)}")
    gen = torch.Generator().manual_seed(int(seed))
    net = initialize(NETS[key].factory(gen), init, gen)
    return net, sample_input(NETS[key].input_shape, seed)


# ------------------------------------------------------------------ initializers
def weights(net: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules whose weight matrix an initializer sets (the book's `type(m) == nn.Linear`,
    widened to Conv and MyLinear): (name, module), each module once."""
    kinds = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, MyLinear)
    return [(n, m) for n, m in net.named_modules() if isinstance(m, kinds) and not _is_lazy(m.weight)]


def xavier_bound(w: torch.Tensor) -> float:
    """Xavier uniform's bound sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(w)
    return math.sqrt(6.0 / (fan_in + fan_out))


def initialize(net: nn.Module, scheme: str, gen: torch.Generator) -> nn.Module:
    """The book's initializers (6.3), every weight matrix in `net`, drawn from `gen`, in place:
    default (leave as built), normal (N(0, 0.01²) weights, zero biases), constant (weights 1,
    zero biases), xavier (Xavier uniform weights, biases kept), my_init (U(-10, 10), then
    zero where |w| < 5; biases kept), zeros (weights and biases 0)."""
    if scheme not in INITS:
        raise ValueError(f"unknown initializer {scheme!r}: use one of {list(INITS)}")
    if scheme == "default":
        return net
    with torch.no_grad():
        for _, m in weights(net):
            w, b = m.weight, getattr(m, "bias", None)
            if scheme == "normal":
                nn.init.normal_(w, mean=0.0, std=0.01, generator=gen)
            elif scheme == "constant":
                nn.init.constant_(w, 1.0)
            elif scheme == "xavier":
                nn.init.xavier_uniform_(w, generator=gen)
            elif scheme == "my_init":
                nn.init.uniform_(w, -10, 10, generator=gen)
                w *= w.abs() >= 5
            elif scheme == "zeros":
                nn.init.zeros_(w)
            if b is not None and scheme in ("normal", "constant", "zeros"):
                nn.init.zeros_(b)
    return net


def weight_histograms(net: nn.Module, bins: int = 30) -> list[dict]:
    """Per weight matrix: {"name", "shape", "edges", "counts", "zeros" (fraction
    exactly 0), "xavier_bound"}; `counts` from numpy.histogram with `bins` bins
    (all values equal: one bin around them)."""
    out = []
    for name, m in weights(net):
        w = m.weight.detach().double().reshape(-1).numpy()
        lo, hi = float(w.min()), float(w.max())
        if lo == hi:
            counts, edges = np.array([w.size]), np.array([lo - 0.5, hi + 0.5])
        else:
            counts, edges = np.histogram(w, bins=bins)
        out.append({"name": f"{name}.weight" if name else "weight", "shape": tuple(m.weight.shape),
                    "edges": edges, "counts": counts, "zeros": float(np.mean(w == 0)),
                    "xavier_bound": xavier_bound(m.weight)})
    return out


# ---------------------------------------------------- 6.4 deferred initialization
def lazy_demo(num_inputs: int = 20, *, seed: int = 0, batch_size: int = 2) -> dict:
    """The book's lazy MLP before and after its first batch of width `num_inputs`.
    After the batch its parameters are drawn from a generator seeded `seed` in
    PyTorch's default way, as the eager twin's are, so the two nets are equal.
    Returns {"before": inspect(lazy), "after": inspect(lazy, X), "eager": inspect(eager, X),
    "X": X, "net": the lazy net (now initialized), "eager_net": its eager twin}."""
    if not 1 <= int(num_inputs) <= 100_000:
        raise ValueError("num_inputs must be a positive width")
    net = builders.lazy_mlp()
    before = inspect(net)
    X = sample_input((batch_size, num_inputs), seed)
    with torch.no_grad(), quiet_global_rng():
        net(X)  # the first batch: the lazy layers take their shapes (and global-RNG values, replaced next)
    builders.torch_default_init_(net, torch.Generator().manual_seed(int(seed)))
    eager = builders.eager_mlp(num_inputs, torch.Generator().manual_seed(int(seed)))
    return {"before": before, "after": inspect(net, X), "eager": inspect(eager, X), "X": X, "net": net,
            "eager_net": eager}


# ------------------------------------------------------------- 6.2 tied parameters
def shared_demo(*, seed: int = 0, batch_size: int = 2) -> dict:
    """The book's tied net (one Linear(8, 8) `shared` at positions 2 and 4) on X of shape
    (batch_size, 4) (the book's is (2, 4)), loss = net(X).sum().

    Returns {"same_object": net[2].weight is net[4].weight, "same_storage": their data pointers
    agree, "book_check": the book's `net[2].weight.data[0] == net[4].weight.data[0]` after
    setting net[2].weight.data[0, 0] = 100 (on a copy), "grad": autograd's .grad of the shared
    weight, "use1", "use2": the gradient through each use alone (the net untied into two copies
    with the same values, each copy's .grad), "bias_grad", "bias_use1", "bias_use2",
    "max_diff": max |grad - (use1 + use2)| over weight and bias, "loss", "untied_loss"}."""
    gen = torch.Generator().manual_seed(int(seed))
    net = builders.tied_net(gen)
    X = sample_input((batch_size, 4), seed)
    same_object = net[2].weight is net[4].weight
    same_storage = net[2].weight.data_ptr() == net[4].weight.data_ptr()
    probe = copy.deepcopy(net)  # deepcopy keeps the tie
    with torch.no_grad():
        probe[2].weight[0, 0] = 100
    book_check = (probe[2].weight.data[0] == probe[4].weight.data[0]).tolist()

    net.zero_grad()
    loss = net(X).sum()
    loss.backward()
    grad, bias_grad = net[2].weight.grad.clone(), net[2].bias.grad.clone()

    untied = copy.deepcopy(net)
    untied[4] = copy.deepcopy(untied[2])  # a second Linear with the same values, no longer the same tensor
    untied.zero_grad()
    untied_loss = untied(X).sum()
    untied_loss.backward()
    use1, use2 = untied[2].weight.grad.clone(), untied[4].weight.grad.clone()
    b1, b2 = untied[2].bias.grad.clone(), untied[4].bias.grad.clone()
    max_diff = max(float((grad - (use1 + use2)).abs().max()), float((bias_grad - (b1 + b2)).abs().max()))
    return {"same_object": same_object, "same_storage": same_storage, "book_check": book_check,
            "grad": grad, "use1": use1, "use2": use2, "bias_grad": bias_grad, "bias_use1": b1, "bias_use2": b2,
            "max_diff": max_diff, "loss": float(loss.detach()), "untied_loss": float(untied_loss.detach()),
            "net": net, "X": X}


# --------------------------------------------------------------- 6.5 custom layers
def centered_demo(*, seed: int = 0) -> dict:
    """CenteredLayer on the book's [1, 2, 3, 4, 5], and the book's
    Sequential(Linear(8, 128), CenteredLayer()) on X of shape (4, 8): Y and its mean."""
    layer = builders.CenteredLayer()
    x = torch.tensor([1.0, 2, 3, 4, 5])
    net = builders.centered_net(torch.Generator().manual_seed(int(seed)))
    X = sample_input((4, 8), seed)
    with torch.no_grad():
        Y = net(X)
        pre = net[0](X)
    return {"x": x, "y": layer(x), "X": X, "Y": Y, "mean": float(Y.mean()), "pre_mean": float(pre.mean())}


def my_linear_demo(*, seed: int = 0) -> dict:
    """The book's MyLinear(5, 3) on X of shape (2, 5): its weight, bias, output, and
    relu(F.linear(X, weight.T, bias)) with the same values; and the book's
    Sequential(MyLinear(64, 8), MyLinear(8, 1)) on X of shape (2, 64)."""
    gen = torch.Generator().manual_seed(int(seed))
    linear = MyLinear(5, 3, gen=gen)
    X = sample_input((2, 5), seed)
    net = builders.my_linear_net(gen)
    X64 = sample_input((2, 64), seed + 1)
    with torch.no_grad():
        out = linear(X)
        ref = F.relu(F.linear(X, linear.weight.T, linear.bias))
        net_out = net(X64)
    return {"weight": linear.weight.detach(), "bias": linear.bias.detach(), "X": X, "out": out, "ref": ref,
            "max_diff": float((out - ref).abs().max()), "net_out": net_out}
