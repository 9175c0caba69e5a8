"""Optimizers by name: torch's built-ins and the book's from-scratch versions.

`make_optimizer(name, groups, lr=..., weight_decay=..., **hparams)` builds one;
`OPTIMIZERS[name].hparams` lists the hyperparameters it has besides lr and
weight_decay, with their defaults (what `Trainer.set_hparams` may change).

Built-ins ("sgd", "momentum", "adagrad", "rmsprop", "adam") keep torch's
defaults and names, except that "momentum" is SGD with momentum 0.9 (else it is
plain SGD) and "rmsprop" starts at the book's alpha 0.9 (torch's 0.99).
The scratch versions are the book's update equations (chapter 12) written as
torch.optim.Optimizer subclasses, with the book's names and defaults:

    sgd_scratch       w <- w - lr g
    momentum_scratch  v <- momentum v + g;                      w <- w - lr v
    adagrad_scratch   s <- s + g^2;                             w <- w - lr g / sqrt(s + eps)
    rmsprop_scratch   s <- gamma s + (1 - gamma) g^2;           w <- w - lr g / sqrt(s + eps)
    adam_scratch      v <- beta1 v + (1 - beta1) g;  s <- beta2 s + (1 - beta2) g^2
                      v_hat = v / (1 - beta1^t);     s_hat = s / (1 - beta2^t)
                      w <- w - lr v_hat / (sqrt(s_hat) + eps)

Weight decay, in every one of them, is torch's: g <- g + weight_decay w before
the update (the L2 penalty's gradient). Note the book (and these) add eps
inside the square root for Adagrad and RMSProp, torch outside: the two differ by
about eps / (2 sqrt(s)), nothing for torch's eps 1e-10.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.optim import Optimizer


class _Scratch(Optimizer):
    """Shared by the scratch optimizers: one update per parameter with a gradient."""

    def __init__(self, params, defaults: dict[str, Any]):
        for name, value in defaults.items():
            if isinstance(value, float) and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["weight_decay"]:
                    g = g + group["weight_decay"] * p
                self._update(p, g, self.state[p], group)
        return loss

    def _update(self, p: torch.Tensor, g: torch.Tensor, state: dict, group: dict) -> None:
        raise NotImplementedError


class SGDScratch(_Scratch):
    """The book's sgd: w <- w - lr g."""

    def __init__(self, params, lr: float = 0.1, weight_decay: float = 0.0):
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay})

    def _update(self, p, g, state, group):
        p.sub_(group["lr"] * g)


class MomentumScratch(_Scratch):
    """The book's sgd_momentum: v <- momentum v + g, w <- w - lr v (v starts at 0)."""

    def __init__(self, params, lr: float = 0.1, momentum: float = 0.9, weight_decay: float = 0.0):
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    def _update(self, p, g, state, group):
        if "v" not in state:
            state["v"] = torch.zeros_like(p)
        v = state["v"]
        v.mul_(group["momentum"]).add_(g)
        p.sub_(group["lr"] * v)


class AdagradScratch(_Scratch):
    """The book's adagrad: s <- s + g^2, w <- w - lr g / sqrt(s + eps)."""

    def __init__(self, params, lr: float = 0.1, eps: float = 1e-6, weight_decay: float = 0.0):
        super().__init__(params, {"lr": lr, "eps": eps, "weight_decay": weight_decay})

    def _update(self, p, g, state, group):
        if "s" not in state:
            state["s"] = torch.zeros_like(p)
        s = state["s"]
        s.add_(g * g)
        p.sub_(group["lr"] * g / torch.sqrt(s + group["eps"]))


class RMSPropScratch(_Scratch):
    """The book's rmsprop: s <- gamma s + (1 - gamma) g^2, w <- w - lr g / sqrt(s + eps)."""

    def __init__(self, params, lr: float = 0.01, gamma: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0):
        super().__init__(params, {"lr": lr, "gamma": gamma, "eps": eps, "weight_decay": weight_decay})

    def _update(self, p, g, state, group):
        if "s" not in state:
            state["s"] = torch.zeros_like(p)
        s, gamma = state["s"], group["gamma"]
        s.mul_(gamma).add_((1 - gamma) * g * g)
        p.sub_(group["lr"] * g / torch.sqrt(s + group["eps"]))


class AdamScratch(_Scratch):
    """The book's adam, with bias correction by the step count t of each parameter."""

    def __init__(self, params, lr: float = 0.01, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-6,
                 weight_decay: float = 0.0):
        super().__init__(params, {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps,
                                  "weight_decay": weight_decay})

    def _update(self, p, g, state, group):
        if "v" not in state:
            state["t"], state["v"], state["s"] = 0, torch.zeros_like(p), torch.zeros_like(p)
        beta1, beta2 = group["beta1"], group["beta2"]
        state["t"] += 1
        t, v, s = state["t"], state["v"], state["s"]
        v.mul_(beta1).add_((1 - beta1) * g)
        s.mul_(beta2).add_((1 - beta2) * g * g)
        v_bias_corr = v / (1 - beta1 ** t)
        s_bias_corr = s / (1 - beta2 ** t)
        p.sub_(group["lr"] * v_bias_corr / (torch.sqrt(s_bias_corr) + group["eps"]))


@dataclass(frozen=True)
class OptimizerSpec:
    cls: type[Optimizer]
    hparams: dict[str, Any] = field(default_factory=dict)  # besides lr and weight_decay, with defaults


OPTIMIZERS: dict[str, OptimizerSpec] = {
    "sgd": OptimizerSpec(torch.optim.SGD),
    "momentum": OptimizerSpec(torch.optim.SGD, {"momentum": 0.9}),
    "adagrad": OptimizerSpec(torch.optim.Adagrad, {"eps": 1e-10, "lr_decay": 0.0}),
    "rmsprop": OptimizerSpec(torch.optim.RMSprop, {"alpha": 0.9, "eps": 1e-8, "momentum": 0.0}),
    "adam": OptimizerSpec(torch.optim.Adam, {"betas": (0.9, 0.999), "eps": 1e-8}),
    "sgd_scratch": OptimizerSpec(SGDScratch),
    "momentum_scratch": OptimizerSpec(MomentumScratch, {"momentum": 0.9}),
    "adagrad_scratch": OptimizerSpec(AdagradScratch, {"eps": 1e-6}),
    "rmsprop_scratch": OptimizerSpec(RMSPropScratch, {"gamma": 0.9, "eps": 1e-6}),
    "adam_scratch": OptimizerSpec(AdamScratch, {"beta1": 0.9, "beta2": 0.999, "eps": 1e-6}),
}


def hparam_names(name: str) -> list[str]:
    """Every hyperparameter optimizer `name` has: lr, weight_decay and its own."""
    return ["lr", "weight_decay", *spec_of(name).hparams]


def spec_of(name: str) -> OptimizerSpec:
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}: use one of {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[name]


def default_hparams(name: str, lr: float = 0.1, weight_decay: float = 0.0, **hparams: Any) -> dict[str, Any]:
    """lr, weight_decay and the optimizer's own hyperparameters, defaults overridden
    by `hparams`; an unknown name raises ValueError. Numbers become floats,
    pairs (betas) tuples of floats, so a value compares and serialises plainly."""
    spec = spec_of(name)
    values = {"lr": lr, "weight_decay": weight_decay, **spec.hparams}
    for key, value in hparams.items():
        if key not in values:
            raise ValueError(f"optimizer {name!r} has no hyperparameter {key!r}: it has {sorted(values)}")
        values[key] = value
    return {key: as_hparam(value) for key, value in values.items()}


def as_hparam(value: Any) -> float | tuple[float, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(float(v) for v in value)
    return float(value)


def make_optimizer(name: str, groups: Iterable, **hparams: Any) -> Optimizer:
    """Optimizer `name` over `groups` (parameters, or dicts as torch's optimizers
    take them; a group's own keys win over `hparams`)."""
    return spec_of(name).cls(groups, **default_hparams(name, **hparams))
