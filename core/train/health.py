"""The health of a run: per-layer statistics while it trains, and what went
wrong first when its loss stops being finite.

`Health` is a set of trainer callbacks (`attach(trainer)`; the worker attaches
one to every run it hosts). Every `every` steps (default: about
RECORDS_PER_EPOCH a epoch; the interval doubles each time another `cap`
records were taken, so a long run keeps O(cap · log steps) of them; and at
most one record per MIN_SECONDS) it merges into that step's record
`record["health"]`:

- "act":    {layer: RMS of the layer's output on the step's minibatch} (forward
            hooks that only read, registered just before the recorded step's
            forward and removed right after it; a module called several times
            in one forward, a recurrent cell, counts every call);
- "grad":   {layer: {tensor: ‖gradient‖}} at after_backward, before clipping;
- "update": {layer: ‖w_after − w_before‖ / ‖w_before‖} over the layer's own
            parameters (a copy of them is kept on the recorded step only);
- "dead":   {layer: share of the output units that an nn.ReLU right after the
            layer sets to 0 for every example of the minibatch} (layers
            followed by an nn.ReLU module only; a functional relu is not seen).

A layer is a module holding parameters of its own, named by its module path
("net" for the root). The hooks only read and run under the step's own
forward; a run with `Health` trains bit for bit as a run without.

When the loss of a step is NaN or infinite (the trainer then stops: diverged),
`diagnose` walks the modules in the order the forward calls them on the failing
minibatch, with the weights that step used, and the step's record gets
`record["divergence"]`: the step, the lr, and the first thing that is not
finite: the "input", a "gradient" (of the step before, which made the
weights), a "parameter", a layer's "output", or, when all of those were
finite, the "loss" itself (overflowed: `max_abs` is then the largest value of
the last layer's output). `Health` also keeps the run's last good snapshot (at
a recorded step whose weights were finite and whose loss was at most
GOOD_LOSS_FACTOR times the run's lowest: before the blow-up, not in it), which
`last_good` hands to the page's *Rewind* (a probe: it only reads).
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from core.train.protocols import HasState
from core.train.trainer import Snapshot, Trainer, _clone

RECORDS_PER_EPOCH = 20
CAP = 200  # records taken at one interval before it doubles
MIN_SECONDS = 0.25  # at most about four records a second, however short the steps
GOOD_LOSS_FACTOR = 10.0  # a good snapshot's loss is at most this times the run's lowest step loss
KEY, DIVERGENCE = "health", "divergence"
STATS = ("act", "grad", "update", "dead")
KINDS = ("input", "gradient", "parameter", "output", "loss")


def layers(net: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of every module with parameters of its own, in registration order."""
    return [(name or "net", m) for name, m in net.named_modules()
            if next(m.parameters(recurse=False), None) is not None]


def _first_tensor(value) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for v in value:
            t = _first_tensor(v)
            if t is not None:
                return t
    return None


def recorded(step: int, every: int, cap: int = CAP) -> bool:
    """Whether step `step` (1-based) is recorded: steps 1, 1 + every, ... for
    `cap` records, then at 2 · every for `cap` more, 4 · every, ... (a function
    of the step alone, so a rewound or restored run records the same steps)."""
    if step < 1:
        return False
    start, interval = 0, max(1, int(every))
    while step - 1 >= start + cap * interval:
        start += cap * interval
        interval *= 2
    return (step - 1 - start) % interval == 0


class _Hooks:
    """Read-only forward hooks for one recorded step: per layer the sum of
    squares and count of its outputs, and the dead-unit mask of an nn.ReLU
    called right after it. Only a forward with autograd on (the trainer's) is
    counted: a picture's forward (under no_grad, core.train.probe) is not."""

    def __init__(self, net: nn.Module):
        self.sumsq: dict[str, list[torch.Tensor]] = {}
        self.count: dict[str, int] = {}
        self.dead: dict[str, torch.Tensor] = {}
        self.last: str | None = None
        self.handles = []
        own = {id(m) for _, m in layers(net)}
        for name, m in net.named_modules():
            name = name or "net"
            if id(m) in own:
                self.handles.append(m.register_forward_hook(self._layer(name)))
            elif isinstance(m, nn.ReLU):
                self.handles.append(m.register_forward_hook(self._relu))
            elif not any(True for _ in m.children()):  # another leaf (dropout, pooling): not "right after"
                self.handles.append(m.register_forward_hook(self._other))

    def _layer(self, name: str):
        def hook(module, inputs, output):
            if not torch.is_grad_enabled():
                return
            out = _first_tensor(output)
            if out is not None and out.is_floating_point():
                out = out.detach()
                self.sumsq.setdefault(name, []).append(out.float().pow(2).sum())
                self.count[name] = self.count.get(name, 0) + out.numel()
            self.last = name
        return hook

    def _relu(self, module, inputs, output):
        if not torch.is_grad_enabled() or self.last is None:
            return
        name, self.last = self.last, None
        dead = (output.detach() == 0).all(dim=0) if output.dim() > 1 else (output.detach() == 0)
        before = self.dead.get(name)
        self.dead[name] = dead if before is None or before.shape != dead.shape else before & dead

    def _other(self, module, inputs, output):
        if torch.is_grad_enabled():
            self.last = None

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []

    def values(self) -> tuple[dict[str, float], dict[str, float]]:
        """({layer: RMS}, {layer: dead fraction}), with one synchronisation."""
        names = list(self.sumsq)
        dead_names = list(self.dead)
        parts = [torch.stack(self.sumsq[n]).sum() / self.count[n] for n in names]
        parts += [self.dead[n].float().mean() for n in dead_names]
        numbers = torch.stack(parts).tolist() if parts else []
        act = {n: math.sqrt(v) for n, v in zip(names, numbers)}
        return act, dict(zip(dead_names, numbers[len(names):]))


class Health:
    """The callbacks (see the module docstring). `every`: record every so many
    steps (default: the training data's minibatches per epoch divided by
    RECORDS_PER_EPOCH, at least 1); `cap`: records per interval before it doubles;
    `min_seconds`: a step on that grid is recorded only when at least this long
    (on the trainer's clock) has passed since the last record, so short steps
    (a small RNN's) are not recorded many times a second. Which steps are
    recorded never changes the run."""

    def __init__(self, every: int | None = None, cap: int = CAP, min_seconds: float = MIN_SECONDS):
        self.every, self.cap, self.min_seconds = every, cap, min_seconds
        self._last_at = -math.inf  # the trainer's clock at the last record
        self.good: Snapshot | None = None  # the last good snapshot
        self.lowest = math.inf  # the lowest step loss of the run so far
        self._hooks: _Hooks | None = None
        self._armed_for = 0  # the step the hooks are registered for
        self._before: dict[str, list[torch.Tensor]] | None = None
        self._record: dict | None = None

    def attach(self, trainer: Trainer) -> Health:
        trainer.add_callback("after_forward", self.after_forward)
        trainer.add_callback("after_backward", self.after_backward)
        trainer.add_callback("step_end", self.step_end)
        trainer.health = self
        self._arm(trainer)
        return self

    def interval(self, trainer: Trainer) -> int:
        if self.every is None:
            return max(1, len(trainer.train) // RECORDS_PER_EPOCH)
        return max(1, int(self.every))

    def records(self, trainer: Trainer, step: int) -> bool:
        return recorded(step, self.interval(trainer), self.cap)

    # ----------------------------------------------------------- the events
    def _arm(self, trainer: Trainer) -> None:
        self._disarm()
        if self.records(trainer, trainer.step + 1) and trainer.clock() - self._last_at >= self.min_seconds:
            self._hooks, self._armed_for = _Hooks(trainer.net), trainer.step + 1

    def _disarm(self) -> None:
        if self._hooks is not None:
            self._hooks.remove()
        self._hooks, self._armed_for = None, 0

    def after_forward(self, trainer: Trainer, record: dict) -> dict | None:
        step = record["step"]
        hooks = self._hooks if self._armed_for == step else None
        self._disarm()
        self._before, self._record = None, None
        out: dict[str, Any] = {}
        if not torch.isfinite(trainer.last_forward.out.loss.detach()).item():
            out[DIVERGENCE] = diagnose(trainer)
            return out
        if hooks is None:  # not a recorded step (or the run was rewound since the hooks were set)
            return None
        act, dead = hooks.values()
        self._record = {"act": act, "dead": dead}
        return None

    def after_backward(self, trainer: Trainer, record: dict) -> None:
        if self._record is None:
            return None
        named = layers(trainer.net)
        tensors = [(layer, pname, p) for layer, m in named for pname, p in m.named_parameters(recurse=False)]
        with_grad = [(layer, pname, p.grad) for layer, pname, p in tensors if p.grad is not None]
        norms = (torch.stack([torch.linalg.vector_norm(g.detach()).float() for _, _, g in with_grad]).tolist()
                 if with_grad else [])
        grad: dict[str, dict[str, float]] = {}
        for (layer, pname, _), v in zip(with_grad, norms):
            grad.setdefault(layer, {})[pname] = v
        self._record["grad"] = grad
        self._before = {layer: [p.detach().clone() for p in m.parameters(recurse=False)] for layer, m in named}
        return None

    def step_end(self, trainer: Trainer, record: dict) -> dict | None:
        out = None
        if self.good is not None and self.good.step >= trainer.step:  # rewound or reset since: stale
            self.good = None
        if trainer.step == 1:
            self.lowest = math.inf
        if math.isfinite(record["loss"]):
            self.lowest = min(self.lowest, record["loss"])
        if self._record is not None:
            update = {}
            if self._before is not None:
                named = dict(layers(trainer.net))
                parts, names = [], []
                for layer, before in self._before.items():
                    if layer not in named:
                        continue
                    after = list(named[layer].parameters(recurse=False))
                    diff = torch.cat([(a.detach() - b).reshape(-1).float() for a, b in zip(after, before)])
                    w = torch.cat([b.reshape(-1).float() for b in before])
                    parts += [torch.linalg.vector_norm(diff), torch.linalg.vector_norm(w)]
                    names.append(layer)
                numbers = torch.stack(parts).tolist() if parts else []
                for i, layer in enumerate(names):
                    d, w = numbers[2 * i], numbers[2 * i + 1]
                    update[layer] = d / w if w > 0 else None
            self._record["update"] = update
            out = {KEY: self._record}
            self._last_at = trainer.clock()
            self._keep_good(trainer, record)
        self._before, self._record = None, None
        self._arm(trainer)
        return out

    def _keep_good(self, trainer: Trainer, record: dict) -> None:
        """A snapshot now, when this step's loss is finite and at most
        GOOD_LOSS_FACTOR times the lowest so far (a run blowing up has finite
        but huge weights for a few steps before its loss overflows: a rewind
        there could not recover with a lower lr), the weights after it are
        finite, and the step did not end its epoch (the trainer finishes the
        epoch after step_end: a snapshot is whole only between two steps)."""
        loss = record["loss"]
        if trainer._pending is None or not math.isfinite(loss) or loss > GOOD_LOSS_FACTOR * self.lowest:
            return
        if not all(bool(torch.isfinite(p).all()) for p in trainer.net.parameters()):
            return
        self.good = trainer.snapshot()


def diagnose(trainer: Trainer) -> dict[str, Any]:
    """What first went non-finite on the current step's minibatch (the step
    whose forward just ran, with the weights it used): see the module docstring.
    Runs one more forward in a probe (core.train.probe: modes, buffers,
    generators and attributes put back, no autograd) with the objective's state
    put back too, so the run itself is not changed by the look."""
    net, batch = trainer.net, trainer.last_forward.batch
    step = trainer.step + 1
    found: dict[str, Any] = {"step": step, "lr": trainer.hparams.get("lr"), "layer": None, "kind": None,
                             "tensor": "", "max_abs": None}
    loss = float(trainer.last_forward.out.loss.detach())
    found["loss"] = "nan" if math.isnan(loss) else "inf"
    for i, x in enumerate(batch if isinstance(batch, (tuple, list)) else (batch,)):
        if isinstance(x, torch.Tensor) and x.is_floating_point() and not bool(torch.isfinite(x).all()):
            found.update(layer="input", kind="input", tensor=str(i))
            return found
    own = {id(m) for _, m in layers(net)}
    names = {id(m): (name or "net") for name, m in net.named_modules()}
    last_out: dict[str, Any] = {}

    def pre(module, inputs):
        if found["kind"] is not None or id(module) not in own:
            return
        for pname, p in module.named_parameters(recurse=False):
            if p.grad is not None and not bool(torch.isfinite(p.grad).all()):
                found.update(layer=names[id(module)], kind="gradient", tensor=pname)
                return
            if not bool(torch.isfinite(p).all()):
                found.update(layer=names[id(module)], kind="parameter", tensor=pname)
                return

    def post(module, inputs, output):
        if found["kind"] is not None:
            return
        out = _first_tensor(output)
        if out is None or not out.is_floating_point():
            return
        if not bool(torch.isfinite(out).all()):
            found.update(layer=names[id(module)], kind="output")
        elif id(module) in own:
            last_out["layer"], last_out["max_abs"] = names[id(module)], float(out.abs().max()) if out.numel() else 0.0

    handles = []
    for m in net.modules():
        handles.append(m.register_forward_pre_hook(pre))
        handles.append(m.register_forward_hook(post))
    objective = trainer.objective
    saved = _clone(objective.state_dict()) if isinstance(objective, HasState) else None
    try:
        # a forward that fails on non-finite values (an index, a check): what was seen stands
        with trainer.probe(train=net.training), contextlib.suppress(RuntimeError, ValueError):
            objective(net, batch)
    finally:
        for h in handles:
            h.remove()
        if saved is not None:
            objective.load_state_dict(saved)
    if found["kind"] is None:
        found.update(kind="loss", layer=last_out.get("layer", "net"), max_abs=last_out.get("max_abs"))
    return found


def attach(trainer: Trainer, every: int | None = None, cap: int = CAP, min_seconds: float = MIN_SECONDS) -> Health:
    """A `Health` on `trainer` (also kept as `trainer.health`)."""
    return Health(every, cap, min_seconds).attach(trainer)


# ------------------------------------------------------------ what pages read
def divergence(steps: list[dict]) -> dict | None:
    """The divergence record of a run's step records (the last step's), or None."""
    for record in reversed(steps[-3:]):
        if DIVERGENCE in record:
            return record[DIVERGENCE]
    return None


def layer_norms(grads: Mapping[str, float]) -> float:
    """A layer's gradient norm from its tensors' norms: sqrt of the sum of squares."""
    return math.sqrt(sum(v * v for v in grads.values()))


def series(steps: list[dict], stat: str) -> dict[str, tuple[list[float], list[float]]]:
    """{layer: (epochs, values)} of one statistic ("act", "grad" as each
    layer's norm over its tensors, "update", "dead") over the recorded steps,
    layers in the order they first appear; None and non-finite values left out."""
    if stat not in STATS:
        raise ValueError(f"unknown statistic {stat!r}: use one of {STATS}")
    out: dict[str, tuple[list[float], list[float]]] = {}
    for record in steps:
        health = record.get(KEY)
        if not health:
            continue
        for layer, value in health.get(stat, {}).items():
            if stat == "grad":
                value = layer_norms(value)
            if value is None or not math.isfinite(value):
                continue
            xs, ys = out.setdefault(layer, ([], []))
            xs.append(record["epoch"])
            ys.append(value)
    return out


def layer_names(steps: list[dict]) -> list[str]:
    """Every layer the records name, in the order they first appear."""
    names: dict[str, None] = {}
    for record in steps:
        for stat in ("grad", "act"):
            for layer in (record.get(KEY) or {}).get(stat, {}):
                names.setdefault(layer)
    return list(names)


def default_layers(names: list[str], limit: int = 12) -> list[str]:
    """At most `limit` of `names`, spread evenly from the first to the last."""
    if len(names) <= limit:
        return list(names)
    picks = sorted({round(i * (len(names) - 1) / (limit - 1)) for i in range(limit)})
    return [names[i] for i in picks]


def last_good(trainers: Mapping[str, Trainer]) -> dict[str, dict] | None:
    """A probe: {name: Snapshot.to_dict()} for the page's Rewind: a diverged
    trainer's last good snapshot, any other trainer as it is now; None when a
    diverged trainer has none (its divergence came before its first good record)."""
    out = {}
    for name, t in trainers.items():
        if t.diverged:
            health = getattr(t, "health", None)
            if health is None or health.good is None:
                return None
            out[name] = health.good.to_dict()
        else:
            out[name] = t.snapshot().to_dict()
    return out
