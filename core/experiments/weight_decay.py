"""The book's weight-decay experiment: high-dimensional linear regression.

y = 0.05 + sum_i 0.01 x_i + eps, eps ~ N(0, 0.01^2), with d = 200 inputs but only
20 training examples, so an unregularised model overfits. Training minimises the
book's squared loss plus (lambd / 2) ||w||^2, i.e. SGD with weight decay lambd on
w (not on b); the reported losses are the plain squared loss, as in the book."""
from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from core.data.synthetic import synthetic_data
from core.experiments.schema import Preset, config, setting
from core.train.callbacks import WeightNorm
from core.train.trainer import Batches, Trainer


@config
class Config:
    """The book's settings (section 3.7); λ is torch's `weight_decay` on w."""

    weight_decay: float = setting(0.0, "λ (weight decay)", min=0.0, max=10.0, step=0.5, live=True,
                                  help="Changes take effect at the next minibatch, even mid-run.")
    num_epochs: int = setting(100, "epochs", min=10, max=300, step=10, live=True)
    lr: float = 0.003
    batch_size: int = 5
    n_train: int = 20
    n_test: int = 100
    num_inputs: int = 200


BOOK = Config()
PRESETS = [Preset("Compare λ = 0 and λ = 3", {"λ = 0": {"weight_decay": 0.0}, "λ = 3": {"weight_decay": 3.0}})]


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


def build(cfg: Config = BOOK, data=None, *, seed: int = 0, device="cpu") -> Trainer:
    """The run for `cfg`: SGD with weight decay on w only; ‖w‖ recorded every epoch.
    The data is drawn from the seed (`data` is unused: every experiment's build
    takes the same arguments)."""
    (X, y), (X_test, y_test) = make_data(seed, n_train=cfg.n_train, n_test=cfg.n_test, num_inputs=cfg.num_inputs,
                                         device=device)
    return Trainer(
        linreg(cfg.num_inputs),
        Batches(X, y, batch_size=cfg.batch_size),
        test=Batches(X_test, y_test, batch_size=cfg.n_test, shuffle=False),
        lr=cfg.lr, weight_decay=cfg.weight_decay, num_epochs=cfg.num_epochs, seed=seed, device=device,
        eval_train=True,
        param_groups=lambda net: [{"params": [net.weight]}, {"params": [net.bias], "decay": False}],
        callbacks=[("epoch_end", WeightNorm("weight", "w_norm"))],
    )


def make_trainer(lambd: float = 0.0, *, seed: int = 0, device="cpu", **settings) -> Trainer:
    """build() with λ and any other setting as keywords (benchmarks, tests)."""
    return build(replace(BOOK, weight_decay=lambd, **settings), seed=seed, device=device)
