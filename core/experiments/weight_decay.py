"""The book's weight-decay experiment: high-dimensional linear regression.

y = 0.05 + sum_i 0.01 x_i + eps, eps ~ N(0, 0.01^2), with d = 200 inputs but only
20 training examples, so an unregularised model overfits. Training minimises the
book's squared loss plus (lambd / 2) ||w||^2, i.e. SGD with weight decay lambd on
w (not on b); the reported losses are the plain squared loss, as in the book."""
from __future__ import annotations

import torch
from torch import nn

from core.train.trainer import Batches, Trainer

BOOK = dict(n_train=20, n_test=100, num_inputs=200, batch_size=5, lr=0.003, num_epochs=100)


def synthetic_data(w: torch.Tensor, b: float, num_examples: int, generator: torch.Generator):
    """The book's synthetic_data: X ~ N(0, 1), y = Xw + b + N(0, 0.01^2)."""
    X = torch.normal(0.0, 1.0, (num_examples, len(w)), generator=generator)
    y = X @ w + b
    y += torch.normal(0.0, 0.01, y.shape, generator=generator)
    return X, y.reshape(-1, 1)


def make_data(seed: int = 0, n_train: int = 20, n_test: int = 100, num_inputs: int = 200, device="cpu"):
    g = torch.Generator().manual_seed(seed + 1000)
    true_w, true_b = torch.ones(num_inputs) * 0.01, 0.05
    train = synthetic_data(true_w, true_b, n_train, g)
    test = synthetic_data(true_w, true_b, n_test, g)
    return tuple(t.to(device) for t in train), tuple(t.to(device) for t in test)


def linreg(num_inputs: int):
    """net_fn: a linear layer with w ~ N(0, 1) and b = 0, as the book's init_params."""

    def net_fn(gen: torch.Generator) -> nn.Module:
        net = nn.Linear(num_inputs, 1)
        with torch.no_grad():
            net.weight.normal_(0.0, 1.0, generator=gen)
            net.bias.zero_()
        return net

    return net_fn


def w_norm(net: nn.Module) -> float:
    return float(net.weight.detach().norm())


def make_trainer(lambd: float = 0.0, *, seed: int = 0, device="cpu", num_epochs: int = BOOK["num_epochs"],
                 lr: float = BOOK["lr"], batch_size: int = BOOK["batch_size"], n_train: int = BOOK["n_train"],
                 num_inputs: int = BOOK["num_inputs"]) -> Trainer:
    (X, y), (X_test, y_test) = make_data(seed, n_train=n_train, num_inputs=num_inputs, device=device)
    return Trainer(
        linreg(num_inputs),
        Batches(X, y, batch_size=batch_size),
        test=Batches(X_test, y_test, batch_size=100, shuffle=False),
        lr=lr, weight_decay=lambd, num_epochs=num_epochs, seed=seed, device=device,
        eval_train=True,
        param_groups=lambda net: [{"params": [net.weight]}, {"params": [net.bias], "decay": False}],
        extras={"w_norm": w_norm},
        config={"lambd": lambd},
    )
