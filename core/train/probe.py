"""Look inside a net in the middle of a run without changing the run.

A page draws a picture by sending a batch through the net: the histogram of a
layer's inputs, the dropout masks of one image, the batch statistics of a
batch-norm layer. That forward pass must leave no trace, or the run with
pictures would train differently from the run without. A forward pass can
leave five kinds of trace, and `probe` puts back all of them:

- each module's train/eval mode (the picture may want the other one);
- every buffer (batch norm's running statistics move in training mode), by
  value and by identity (the book's scratch BatchNorm assigns new tensors);
- random generators: the states of those handed in and of every module's
  `generator` attribute (dropout draws its masks there), and the attribute
  itself (a picture may use a generator of its own: `seed=`);
- plain attributes a forward pass sets for pages to read (`last_mean`,
  `last_var`, `last_input`, `last_mask`, `last_preactivation`, ...): every
  entry of a module's `__dict__` is put back by reference (a forward that
  assigns a new value is undone; one that writes into a tensor in place is
  not, buffers aside);
- autograd: the body runs under torch.no_grad.

    with probe(net, train=False, capture=["act1", "act2"]) as p:
        net(X)
    p.inputs["act1"], p.outputs["act2"]

Captured tensors are detached and stay on the net's device; when a module
runs more than once in the pass, the last call is kept.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

# nn.Module's own bookkeeping: containers that are mutated in place, never reassigned
_MODULE_INTERNALS = frozenset({"_parameters", "_buffers", "_modules", "_non_persistent_buffers_set"})


@dataclass
class Probe:
    """What a probe captured, by module name: the first positional input and the output."""

    inputs: dict[str, torch.Tensor] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)


def _detach(value):
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, (tuple, list)):
        return type(value)(_detach(v) for v in value)
    return value


@contextmanager
def probe(net: nn.Module, *, train: bool | None = None, generators: Iterable[torch.Generator] = (),
          seed: int | None = None, capture: Iterable[str] = ()) -> Iterator[Probe]:
    """Run the body (a forward pass of `net`) and put `net` back as it was.

    train: the mode for the pass (True training, False eval, None as it is);
    generators: more generators whose states to put back (e.g. a trainer's);
    seed: give every module with a `generator` attribute a fresh generator
    seeded with `seed` for the pass (a picture that does not depend on how far
    the run is), instead of drawing from (and restoring) the run's;
    capture: names of modules (as in `net.named_modules()`) whose input and
    output to keep; an unknown name raises KeyError."""
    modules = dict(net.named_modules())
    names = list(capture)
    missing = [n for n in names if n not in modules]
    if missing:
        raise KeyError(f"no module named {missing} in the net")
    attrs = [(m, {k: v for k, v in vars(m).items() if k not in _MODULE_INTERNALS}) for m in modules.values()]
    buffers = [(m, name, b, b.clone()) for m in modules.values() for name, b in m._buffers.items() if b is not None]
    gens = {id(g): g for g in generators}
    for m in modules.values():
        g = getattr(m, "generator", None)
        if isinstance(g, torch.Generator):
            gens[id(g)] = g
    states = [(g, g.get_state()) for g in gens.values()]
    result, hooks = Probe(), []

    def hook_for(name):
        def hook(module, inputs, output):
            result.inputs[name] = _detach(inputs[0]) if inputs else None
            result.outputs[name] = _detach(output)
        return hook

    try:
        for name in names:
            hooks.append(modules[name].register_forward_hook(hook_for(name)))
        if seed is not None:
            _seed_generators(modules.values(), net, seed)
        if train is not None:
            net.train(train)
        with torch.no_grad():
            yield result
    finally:
        for h in hooks:
            h.remove()
        for m, name, original, values in buffers:
            original.copy_(values)
            m._buffers[name] = original
        for m, saved in attrs:
            current = vars(m)
            for key in [k for k in current if k not in saved and k not in _MODULE_INTERNALS]:
                del current[key]
            current.update(saved)
        for g, state in states:
            g.set_state(state)


def _seed_generators(modules, net: nn.Module, seed: int) -> None:
    devices: dict[str, torch.Generator] = {}
    fallback = next(iter(net.parameters()), torch.empty(0)).device
    for m in modules:
        if not hasattr(m, "generator"):
            continue
        g = m.generator
        device = g.device if isinstance(g, torch.Generator) else fallback
        if str(device) not in devices:  # one shared picture generator per device, like the trainer's
            devices[str(device)] = torch.Generator(device=device).manual_seed(int(seed))
        m.generator = devices[str(device)]


@dataclass
class ProbeResult(Probe):
    output: Any = None


def forward_probe(net: nn.Module, *args, **kwargs) -> ProbeResult:
    """`probe(net, ...)` around one call `net(*args)`: returns the net's output
    (detached) with the captured inputs and outputs. Keyword arguments are
    probe's (train, generators, seed, capture)."""
    with probe(net, **kwargs) as p:
        output = net(*args)
    return ProbeResult(inputs=p.inputs, outputs=p.outputs, output=_detach(output))
