"""Ready-made trainer callbacks: what a page plots besides the loss.

Each is a callable `cb(trainer, record) -> dict` with the event it belongs to
in `cb.event`:

    trainer.add_callback(cb.event, cb)

- `WeightNorm("weight")`, epoch_end: ‖w‖ of one parameter (the weight-decay page's curve);
- `GradNorms()`, after_backward: the gradient norm of every layer, on each step
  record (exploding and vanishing gradients, before any clipping);
- `ActivationStats(X)`, epoch_end: mean and standard deviation of chosen
  layers' outputs on a fixed probe batch X, through `core.train.probe`, so
  the look changes nothing in the run (`trainer.probe`).

They only look: a run with them trains bit for bit as a run without.
"""
from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


class WeightNorm:
    """epoch_end: {key: ‖param‖} for the parameter named `param`
    (as in net.named_parameters(), e.g. "weight" or "fc1.weight")."""

    event = "epoch_end"

    def __init__(self, param: str = "weight", key: str = "w_norm"):
        self.param, self.key = param, key

    def __call__(self, trainer, record: dict) -> dict:
        return {self.key: float(trainer.net.get_parameter(self.param).detach().norm())}


def _layers(net: nn.Module) -> list[tuple[str, list[nn.Parameter]]]:
    """(name, own parameters) of every module that holds parameters itself."""
    out = []
    for name, m in net.named_modules():
        params = list(m.parameters(recurse=False))
        if params:
            out.append((name or "net", params))
    return out


class GradNorms:
    """after_backward: {f"{prefix}{layer}": ‖gradient of the layer's own
    parameters‖} on the step record, for every module with parameters (or only
    those named in `layers`). One synchronisation per step, not one per layer."""

    event = "after_backward"

    def __init__(self, layers: Iterable[str] | None = None, prefix: str = "grad_norm/"):
        self.layers, self.prefix = None if layers is None else list(layers), prefix

    def __call__(self, trainer, record: dict) -> dict:
        layers = _layers(trainer.net)
        if self.layers is not None:
            chosen = dict(layers)
            missing = [n for n in self.layers if n not in chosen]
            if missing:
                raise KeyError(f"no layer with parameters named {missing}")
            layers = [(n, chosen[n]) for n in self.layers]
        norms = []
        for _, params in layers:
            grads = [p.grad.detach().reshape(-1) for p in params if p.grad is not None]
            norms.append(torch.linalg.vector_norm(torch.cat(grads)) if grads else params[0].new_zeros(()))
        values = torch.stack(norms).tolist() if norms else []
        return {f"{self.prefix}{name}": v for (name, _), v in zip(layers, values)}


class ActivationStats:
    """epoch_end: {f"act_mean/{name}", f"act_std/{name}"} of the outputs of the
    modules `modules` (default: the net's direct children) on the fixed batch
    X, in eval mode (train=True for training mode), through a probe. A module
    that returns a tuple (a recurrent layer's outputs and state) counts its first part."""

    event = "epoch_end"

    def __init__(self, X: torch.Tensor, modules: Iterable[str] | None = None, train: bool = False):
        self.X, self.modules, self.train = X, None if modules is None else list(modules), train

    def __call__(self, trainer, record: dict) -> dict:
        names = self.modules if self.modules is not None else [n for n, _ in trainer.net.named_children()]
        with trainer.probe(train=self.train, capture=names) as p:
            trainer.net(self.X.to(trainer.device))
        values = {}
        for name in names:
            out = p.outputs[name]
            if isinstance(out, (tuple, list)):  # a recurrent layer's (outputs, state): the outputs
                out = out[0]
            out = out.float()
            values[f"act_mean/{name}"] = out.mean()
            values[f"act_std/{name}"] = out.std(unbiased=False)
        numbers = torch.stack(list(values.values())).tolist()
        return dict(zip(values, numbers))
