"""Multilayer perceptrons (book sections 5.1-5.2): the book's MLP on
Fashion-MNIST, 784 inputs, one hidden layer of num_hiddens = 256 ReLU units,
10 outputs, cross-entropy and minibatch SGD with lr 0.1, batch 256, 10 epochs;
weights N(0, 0.01^2) and zero biases (the book's concise version). Here the
width and the activation are settings too.

`mlp` builds any such network (the 2-D toy of core.experiments.mlp_toy uses it
with torch's default initialisation); `picture` is the page's view of a run."""
from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from core.data.fashion_mnist import FashionMNIST
from core.experiments.classifier import classifier
from core.experiments.schema import Preset, config, setting
from core.ops import activations
from core.train.trainer import Trainer

WIDTHS = (16, 32, 64, 128, 256, 512, 1024)
LRS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


@config
class Config:
    """The book's settings (5.2, concise, 0.17.5 edition)."""

    num_hiddens: int = setting(256, "num_hiddens (hidden units)", options=WIDTHS,
                               help="Units in the hidden layer. A change starts a new run.")
    activation: str = setting("relu", "activation of the hidden layer", options=tuple(activations.NAMES),
                              labels=activations.NAMES, help="A change starts a new run.")
    lr: float = setting(0.1, "lr (learning rate)", options=LRS, live=True,
                        help="Takes effect at the next minibatch.")
    num_epochs: int = setting(10, "num_epochs", min=1, max=30, live=True)
    batch_size: int = 256
    sigma: float = 0.01  # the standard deviation of the initial weights


BOOK = Config()
BOOK_ACCURACY = (0.83, 0.85)  # test accuracy after 10 epochs, across the editions (shared/book-results.md)
PRESETS = [Preset("Compare ReLU, sigmoid and tanh",
                  {activations.NAMES[a]: {"activation": a} for a in ("relu", "sigmoid", "tanh")})]


def init_linear(layer: nn.Linear, gen: torch.Generator, sigma: float | None) -> None:
    """Weights N(0, sigma^2) and zero biases (the book's), or with sigma None
    torch's own default for nn.Linear, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
    both; drawn from `gen` either way."""
    with torch.no_grad():
        if sigma is not None:
            nn.init.normal_(layer.weight, 0.0, sigma, generator=gen)
            nn.init.zeros_(layer.bias)
        else:
            bound = 1 / math.sqrt(layer.in_features)
            nn.init.uniform_(layer.weight, -bound, bound, generator=gen)
            nn.init.uniform_(layer.bias, -bound, bound, generator=gen)


def mlp(num_inputs: int, num_hiddens: Sequence[int], num_outputs: int, activation: str = "relu", *,
        sigma: float | None = 0.01, flatten: bool = True):
    """net_fn(gen) of an MLP: [flatten,] hidden1, act1, hidden2, act2, ..., output
    (named so a page can read each layer). No layer draws from torch's global
    generator: the layers are made without initialising (skip_init), then
    initialised from `gen` (init_linear)."""
    activations.module(activation)  # an unknown name fails here, not in a worker
    widths = [num_inputs, *num_hiddens]

    def net_fn(gen: torch.Generator) -> nn.Sequential:
        layers: list[tuple[str, nn.Module]] = [("flatten", nn.Flatten())] if flatten else []
        for i, (a, b) in enumerate(zip(widths, widths[1:])):
            layers += [(f"hidden{i + 1}", nn.utils.skip_init(nn.Linear, a, b)),
                       (f"act{i + 1}", activations.module(activation))]
        layers.append(("output", nn.utils.skip_init(nn.Linear, widths[-1], num_outputs)))
        net = nn.Sequential(OrderedDict(layers))
        for m in net:
            if isinstance(m, nn.Linear):
                init_linear(m, gen, sigma)
        return net

    return net_fn


@torch.no_grad()
def hidden_outputs(net: nn.Sequential, X: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor]:
    """(pre-activations, activations) of each hidden layer and the output for
    a batch X: one forward pass layer by layer, the same arithmetic as net(X).
    Reads the net only (no mode change, nothing random)."""
    pre, post, h = [], [], X
    for name, m in net.named_children():
        h = m(h)
        if name.startswith("hidden"):
            pre.append(h)
        elif name.startswith("act"):
            post.append(h)
    return pre, post, h


def build(cfg: Config = BOOK, data: FashionMNIST | None = None, *, seed: int = 0, device="cpu") -> Trainer:
    if data is None:
        raise ValueError("the MLP experiment trains on Fashion-MNIST: pass the data set")
    net_fn = mlp(28 * 28, [cfg.num_hiddens], 10, cfg.activation, sigma=cfg.sigma)
    return classifier(net_fn, data, lr=cfg.lr, num_epochs=cfg.num_epochs, batch_size=cfg.batch_size, seed=seed,
                      device=device)


def gradient_flow(activation: str, z: torch.Tensor, threshold: float = 0.05) -> torch.Tensor:
    """True where a unit passes on less than `threshold` of its activation's
    largest derivative at pre-activation z: a ReLU that is off, a sigmoid or
    tanh that is saturated. Such a unit hands (almost) no gradient back."""
    grid = torch.linspace(-10, 10, 2001, dtype=torch.float64)
    top = float(activations.closed_form_derivative(activation, grid).max())
    return activations.closed_form_derivative(activation, z.double()) < threshold * top


def picture(trainers: Mapping[str, Trainer], data: FashionMNIST, *, units: int = 16, images: int = 500) -> dict:
    """The page's view (called in the run's worker between two steps): for
    the first run, the incoming weights of the first `units` hidden units as
    28 x 28 images, and on the first `images` test images the share of
    (image, unit) pairs whose activation passes (almost) no gradient back and
    the number of units that pass none on any of them ("dead")."""
    name, t = next(iter(trainers.items()))
    net = t.net
    W = net.hidden1.weight.detach()
    X = data.X_test[:images].to(t.device)
    pre, _, _ = hidden_outputs(net, X)
    act = next(m for n, m in net.named_children() if n == "act1")
    activation = next(k for k in activations.NAMES if type(activations.module(k)) is type(act))
    blocked = gradient_flow(activation, pre[0])
    return {"name": name, "step": t.step, "epoch": t.epoch, "activation": activation,
            "weights": W[:units].reshape(-1, 28, 28).cpu().numpy(), "num_hiddens": W.shape[0],
            "blocked": float(blocked.float().mean()), "dead": int(blocked.all(0).sum()), "images": len(X)}
