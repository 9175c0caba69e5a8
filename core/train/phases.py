"""One minibatch a phase at a time: what forward, backward and update computed.

The Trainer runs a step in three phases (`forward()`, `backward()`,
`update()`); `run_phase(trainer)` runs the next one and returns a small,
plain summary of what it did, for a page to draw:

- forward: the minibatch's loss and, for the first `examples` examples, the
  input and every layer's output (forward hooks on the leaf modules, set for
  this phase only and removed after it), with shapes and norms;
- backward: the gradient of every parameter tensor (as the backward pass left
  it, before any clipping), whole when it has at most `small` numbers (a
  heatmap), else as a histogram, with its norm;
- update: Δ = w_after − w_before of every parameter tensor (same form) with
  its norm, the lr of its group, and the step's record. For plain SGD without
  weight decay or momentum Δ is −lr·grad; `sgd` says how closely (float32
  rounds w − lr·grad to w's precision, so the difference is at most about one
  unit in the last place of w, and exactly zero where w was 0).

Nothing here draws from a random generator or changes a parameter: the hooks
copy outputs, the summaries read tensors. A run stepped by phases is bit for
bit the run advanced by whole steps (tests/test_phases.py). Words for a
person are the page's; this module returns numbers and codes.
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from core.train.trainer import Trainer

PHASES = ("forward", "backward", "update")
NEXT = {"forward": "backward", "backward": "update", "update": "forward"}
EXAMPLES = 2  # examples whose activations are kept
SMALL = 256  # a tensor with at most this many numbers is sent whole (a heatmap); a bigger one as a histogram
MAX_VALUES = 8192  # an activation of one example with more numbers than this is summarised, not sent
BINS = 40
PLAIN_SGD = ("sgd", "sgd_scratch")


def leaf_modules(net: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules without children, in registration order; a net that has
    none (the scratch linear regression) is its own only layer, named "net"."""
    leaves = [(name, m) for name, m in net.named_modules() if name and not any(True for _ in m.children())]
    return leaves or [("net", net)]


def histogram(values: torch.Tensor, bins: int = BINS) -> dict[str, Any]:
    """counts and edges of the finite values, and how many were not finite."""
    v = values.detach().reshape(-1).double().cpu().numpy()
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        counts, edges = np.zeros(bins, dtype=np.int64), np.linspace(-1.0, 1.0, bins + 1)
    else:
        lo, hi = float(finite.min()), float(finite.max())
        if lo == hi:
            lo, hi = lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0)
        counts, edges = np.histogram(finite, bins=bins, range=(lo, hi))
    return {"counts": counts.astype(np.int64).tolist(), "edges": edges.tolist(), "nonfinite": int(v.size - finite.size)}


def summary(values: torch.Tensor | None, *, small: int = SMALL, bins: int = BINS) -> dict[str, Any]:
    """A parameter-shaped tensor for the page: shape, norm, min, max, and the
    values themselves (as a 2-D float32 array: a vector as one row, a tensor of
    more axes flattened after its first) when it has at most `small` numbers,
    else a histogram."""
    if values is None:
        return {"shape": None, "norm": None, "values": None, "hist": None}
    t = values.detach()
    out: dict[str, Any] = {"shape": list(t.shape), "numel": t.numel(), "norm": float(t.double().norm()),
                           "min": float(t.min()) if t.numel() else None, "max": float(t.max()) if t.numel() else None}
    if t.numel() <= small:
        out["values"] = t.reshape(1, -1).float().cpu().numpy() if t.dim() < 2 else \
            t.reshape(t.shape[0], -1).float().cpu().numpy()
        out["hist"] = None
    else:
        out["values"], out["hist"] = None, histogram(t, bins)
    return out


def _first(batch) -> torch.Tensor | None:
    if isinstance(batch, torch.Tensor):
        return batch
    if isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], torch.Tensor):
        return batch[0]
    return None


def _activation(output, examples: int) -> dict[str, Any] | None:
    """What the page gets of one layer's output: per-example shape, the first
    examples' norms, and their values when small enough."""
    if isinstance(output, (tuple, list)):  # a recurrent layer's (output, state): its output
        output = output[0] if output and isinstance(output[0], torch.Tensor) else None
    if not isinstance(output, torch.Tensor) or output.dim() == 0:
        return None
    first = output.detach()[:examples].float()
    per = first.reshape(len(first), -1)
    return {"shape": list(output.shape[1:]), "norms": per.double().norm(dim=1).tolist(),
            "values": first.cpu().numpy() if per.shape[1] <= MAX_VALUES else None,
            "hist": histogram(first[0]) if per.shape[1] > MAX_VALUES else None}


def _forward(trainer: Trainer, examples: int) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    order: list[str] = []
    types: dict[str, str] = {}

    def hook_for(name: str):
        def hook(module, inputs, output):
            if name not in seen:
                order.append(name)
            seen[name] = _activation(output, examples)
        return hook

    hooks = []
    try:
        for name, m in leaf_modules(trainer.net):
            types[name] = type(m).__name__
            hooks.append(m.register_forward_hook(hook_for(name)))
        t0 = time.perf_counter()
        fwd = trainer.forward()
        seconds = time.perf_counter() - t0
    finally:
        for h in hooks:
            h.remove()
    X = _first(fwd.batch)
    y = fwd.batch[1] if isinstance(fwd.batch, (tuple, list)) and len(fwd.batch) > 1 else None
    y_hat = fwd.y_hat
    return {
        "loss": fwd.loss, "batch_size": int(fwd.out.n), "seconds": seconds,
        "input": None if X is None else _activation(X, examples),
        "y": None if not isinstance(y, torch.Tensor) else y[:examples].detach().cpu().numpy(),
        "y_hat": None if not isinstance(y_hat, torch.Tensor) else y_hat[:examples].detach().float().cpu().numpy(),
        "layers": [{"name": n, "module": types[n], **seen[n]} for n in order if seen[n] is not None],
    }


def _backward(trainer: Trainer, small: int, bins: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    trainer.backward()
    seconds = time.perf_counter() - t0
    grads = [{"name": name, **summary(p.grad, small=small, bins=bins)} for name, p in trainer.net.named_parameters()]
    total = math.sqrt(sum(g["norm"] ** 2 for g in grads if g["norm"] is not None))
    return {"grads": grads, "norm": total, "seconds": seconds}


def plain_sgd(trainer: Trainer) -> bool:
    """Whether the run's update is w <- w − lr·grad: SGD without momentum, weight decay or clipping."""
    return (trainer.optimizer_name in PLAIN_SGD and not trainer.grad_clip
            and all(not g.get("weight_decay") and not g.get("momentum") for g in trainer.optimizer.param_groups))


def _update(trainer: Trainer, small: int, bins: int) -> dict[str, Any]:
    params = list(trainer.net.named_parameters())
    before = {name: p.detach().clone() for name, p in params}
    lrs = {id(p): float(g["lr"]) for g in trainer.optimizer.param_groups for p in g["params"]}
    t0 = time.perf_counter()
    records = trainer.update()
    seconds = time.perf_counter() - t0
    sgd = plain_sgd(trainer)
    deltas = []
    for name, p in params:
        delta = p.detach() - before[name]
        entry = {"name": name, "lr": lrs.get(id(p)), **summary(delta, small=small, bins=bins)}
        if sgd and p.grad is not None:
            expected = -lrs[id(p)] * p.grad
            scale = torch.maximum(before[name].abs(), p.detach().abs())
            entry["sgd"] = {"max_diff": float((delta - expected).abs().max()) if delta.numel() else 0.0,
                            "max_ulp": float(scale.max() * torch.finfo(p.dtype).eps) if delta.numel() else 0.0,
                            "exact": bool(torch.equal(delta, expected))}
        deltas.append(entry)
    total = math.sqrt(sum(d["norm"] ** 2 for d in deltas if d["norm"] is not None))
    step = next((r for r in records if "loss" in r and "train_loss" not in r), {})
    return {"deltas": deltas, "norm": total, "plain_sgd": sgd, "lr": trainer.hparams.get("lr"),
            "loss": step.get("loss"), "epoch_ended": any("train_loss" in r for r in records), "seconds": seconds,
            "diverged": trainer.diverged}


def run_phase(trainer: Trainer, *, examples: int = EXAMPLES, small: int = SMALL, bins: int = BINS) -> dict[str, Any]:
    """Run the trainer's next phase (forward, backward or update) and return
    what it computed (see the module docstring), with `phase` (the one run),
    `next` (the one after it), `step` (steps finished) and `epoch`. A run
    that is done raises ValueError (Trainer.forward does)."""
    phase = trainer.phase
    if phase == "forward":
        out = _forward(trainer, max(1, int(examples)))
    elif phase == "backward":
        out = _backward(trainer, small, bins)
    else:
        out = _update(trainer, small, bins)
    return {"phase": phase, "next": trainer.phase, "step": trainer.step, "epoch": trainer.epoch, **out}


__all__ = ["EXAMPLES", "NEXT", "PHASES", "histogram", "leaf_modules", "plain_sgd", "run_phase", "summary"]
