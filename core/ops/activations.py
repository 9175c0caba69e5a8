"""Activation functions (book section 5.1): ReLU, sigmoid, tanh, and GELU and
leaky ReLU, each with its derivative computed two ways: by autograd (as the
book does, `y.backward(torch.ones_like(x))`) and in closed form.

    relu(x)       = max(x, 0)                    relu'(x)    = 1 if x > 0 else 0 (0 at 0, the book's choice)
    sigmoid(x)    = 1 / (1 + exp(-x))            sigmoid'(x) = sigmoid(x) (1 - sigmoid(x))
    tanh(x)       = (1 - exp(-2x)) / (1 + exp(-2x))  tanh'(x) = 1 - tanh(x)^2
    gelu(x)       = x Phi(x)                     gelu'(x)    = Phi(x) + x phi(x)
    leaky_relu(x) = max(x, 0) + alpha min(x, 0)  leaky'(x)   = 1 if x > 0 else alpha

Phi and phi are the standard normal's distribution function and density.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

LEAKY_SLOPE = 0.1  # alpha of the leaky ReLU (the book's pReLU with a fixed alpha); torch's default is 0.01
NAMES = {"relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh", "gelu": "GELU", "leaky_relu": "leaky ReLU"}

FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "gelu": nn.functional.gelu,
    "leaky_relu": lambda x: nn.functional.leaky_relu(x, LEAKY_SLOPE),
}

LATEX = {
    "relu": (r"\operatorname{ReLU}(x) = \max(x, 0)",
             r"\frac{d}{dx}\operatorname{ReLU}(x) = \begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}"),
    "sigmoid": (r"\operatorname{sigmoid}(x) = \frac{1}{1 + \exp(-x)}",
                r"\frac{d}{dx}\operatorname{sigmoid}(x) = "
                r"\operatorname{sigmoid}(x)\left(1-\operatorname{sigmoid}(x)\right)"),
    "tanh": (r"\tanh(x) = \frac{1 - \exp(-2x)}{1 + \exp(-2x)}", r"\frac{d}{dx}\tanh(x) = 1 - \tanh^2(x)"),
    "gelu": (r"\operatorname{GELU}(x) = x\,\Phi(x)", r"\frac{d}{dx}\operatorname{GELU}(x) = \Phi(x) + x\,\phi(x)"),
    "leaky_relu": (rf"\operatorname{{leaky}}(x) = \max(x, 0) + {LEAKY_SLOPE:g} \min(x, 0)",
                   rf"\frac{{d}}{{dx}}\operatorname{{leaky}}(x) = \begin{{cases}} 1 & x > 0 \\ {LEAKY_SLOPE:g} & "
                   r"x \le 0 \end{cases}"),
}


def module(name: str) -> nn.Module:
    """The activation as a layer for nn.Sequential."""
    layers = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "gelu": nn.GELU,
              "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE)}
    if name not in layers:
        raise ValueError(f"unknown activation {name!r}: use one of {list(NAMES)}")
    return layers[name]()


def closed_form_derivative(name: str, x: torch.Tensor) -> torch.Tensor:
    """The derivative written out (see the module docstring)."""
    if name == "relu":
        return (x > 0).to(x.dtype)
    if name == "sigmoid":
        s = torch.sigmoid(x)
        return s * (1 - s)
    if name == "tanh":
        return 1 - torch.tanh(x) ** 2
    if name == "gelu":
        cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
        pdf = torch.exp(-x ** 2 / 2) / math.sqrt(2 * math.pi)
        return cdf + x * pdf
    if name == "leaky_relu":
        return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, LEAKY_SLOPE))
    raise ValueError(f"unknown activation {name!r}: use one of {list(NAMES)}")


def autograd_derivative(name: str, x: torch.Tensor) -> torch.Tensor:
    """The derivative as the book computes it: y = f(x), y.backward(ones), x.grad."""
    if name not in FUNCTIONS:
        raise ValueError(f"unknown activation {name!r}: use one of {list(NAMES)}")
    x = x.detach().clone().requires_grad_(True)
    y = FUNCTIONS[name](x)
    y.backward(torch.ones_like(x))
    return x.grad.detach()


def curves(names, lo: float = -8.0, hi: float = 8.0, num: int = 321) -> dict:
    """For each activation: x, f(x), f'(x) by autograd and in closed form, and
    the largest gap between the two derivatives (float64)."""
    x = torch.linspace(lo, hi, num, dtype=torch.float64)
    out = {}
    for name in names:
        auto, closed = autograd_derivative(name, x), closed_form_derivative(name, x)
        out[name] = {"x": x.numpy(), "y": FUNCTIONS[name](x).numpy(), "grad_autograd": auto.numpy(),
                     "grad_closed": closed.numpy(), "max_gap": float((auto - closed).abs().max())}
    return out
