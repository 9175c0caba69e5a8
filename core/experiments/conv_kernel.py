"""Learning a kernel (book section 7.2.4): which 1x2 kernel turns the book's
6x8 image X into Y = corr2d(X, [[1, -1]])? Only the input-output pair is seen.

The book's loop, one update per "epoch" (the whole data is one pair):

    conv2d = nn.LazyConv2d(1, kernel_size=(1, 2), bias=False)
    for i in range(10):
        Y_hat = conv2d(X)
        l = (Y_hat - Y) ** 2
        conv2d.zero_grad()
        l.sum().backward()
        conv2d.weight.data[:] -= lr * conv2d.weight.grad   # lr = 3e-2

Here the layer is an eager nn.Conv2d(1, 1, (1, 2), bias=False) whose weight
is drawn as torch draws it (kaiming-uniform: U(-1/sqrt(2), 1/sqrt(2)) for
fan_in 2) but from the run's own generator; the objective is the summed
squared error and the update the book's w <- w - lr * grad (sgd_scratch).
A step's loss is the one computed before its update, as the book prints it.

The loss is quadratic in the two weights, with Hessian H = 2 sum_(i,j)
x_ij x_ij^T over the 42 windows x_ij = (X[i, j], X[i, j+1]): eigenvalues 60
and 12 for the book's X. Gradient descent is stable for lr < 2 / 60 = 0.0333
(`stability_limit`): the book's 0.03 is just below, and each step multiplies
the error along (1, 1) by 1 - 60 lr = -0.8 and along (1, -1) by 1 - 12 lr =
0.64 (`closed_form` gives the whole path).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from core.experiments.schema import config, setting
from core.ops.conv2d import BOOK_K, book_X, corr2d
from core.train.protocols import StepOut
from core.train.trainer import Batches, Trainer

LRS = (0.001, 0.003, 0.01, 0.02, 0.03, 0.033, 0.034, 0.04, 0.1)


@config
class Config:
    """The book's settings: lr 3e-2, 10 updates."""

    lr: float = setting(0.03, "lr (learning rate)", options=LRS, live=True,
                        help="Takes effect at the next update. Above 2/60 = 0.0333 every update overshoots "
                             "further: the loss grows.")
    num_epochs: int = setting(10, "num_epochs (updates)", min=1, max=60, live=True,
                              help="One epoch is one update on the one pair (X, Y), as in the book's loop.")


BOOK = Config()
# What the book prints (loss at updates 2, 4, 6, 8, 10, and the kernel after 10),
# one unseeded run per edition (d2l-ai/d2l-pytorch-colab-classic and d2l-pytorch-colab).
BOOK_LOSSES = {
    "0.17.5": {2: 10.265, 4: 2.159, 6: 0.541, 8: 0.164, 10: 0.058},
    "1.0.3": {2: 11.522, 4: 2.078, 6: 0.408, 8: 0.093, 10: 0.026},
}
BOOK_KERNELS = {"0.17.5": (1.0082, -0.9616), "1.0.3": (0.9963, -0.9694)}


def make_data(device="cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """The book's X (1, 1, 6, 8) and Y = corr2d(X, [[1, -1]]) (1, 1, 6, 7)."""
    X = book_X()
    Y = corr2d(X, torch.tensor(BOOK_K))
    return X.reshape(1, 1, 6, 8).to(device), Y.reshape(1, 1, 6, 7).to(device)


def conv_layer(gen: torch.Generator) -> nn.Module:
    """net_fn: nn.Conv2d(1, 1, (1, 2), bias=False) with torch's default
    initial distribution, drawn from `gen` (skip_init: torch's own init would
    draw from the global generator)."""
    net = nn.utils.skip_init(nn.Conv2d, 1, 1, kernel_size=(1, 2), bias=False)
    bound = 1.0 / math.sqrt(2.0)  # kaiming_uniform_(a=sqrt(5)) with fan_in = 1 * 1 * 2
    with torch.no_grad():
        net.weight.uniform_(-bound, bound, generator=gen)
    return net


class SquaredErrorSum:
    """The book's objective: l = (Y_hat - Y) ** 2, summed (l.sum())."""

    def __call__(self, net: nn.Module, batch: tuple) -> StepOut:
        X, Y = batch
        Y_hat = net(X)
        l = ((Y_hat - Y) ** 2).sum()
        return StepOut(l, 1, None, Y_hat.detach())


def kernel_of(net: nn.Module) -> list[float]:
    return [float(v) for v in net.weight.detach().reshape(-1).cpu()]


def _record_kernel(trainer: Trainer, record: dict) -> dict:
    k0, k1 = kernel_of(trainer.net)
    return {"k0": k0, "k1": k1, "kernel_error": max(abs(k0 - BOOK_K[0][0]), abs(k1 - BOOK_K[0][1]))}


def build(cfg: Config = BOOK, data=None, *, seed: int = 0, device="cpu") -> Trainer:
    """The run: one pair (X, Y), one update per epoch; every epoch record holds
    the kernel after the update (k0, k1) and its largest distance from [1, -1].
    `data` is unused (the book's X is built here)."""
    X, Y = make_data(device)
    return Trainer(conv_layer, Batches(X, Y, batch_size=1, shuffle=False), objective=SquaredErrorSum(),
                   optimizer="sgd_scratch", lr=cfg.lr, num_epochs=cfg.num_epochs, seed=seed, device=device,
                   callbacks=[("epoch_end", _record_kernel)])


def book_loop(w0, lr: float = 0.03, num_epochs: int = 10) -> tuple[list[float], list[float]]:
    """The book's loop verbatim from the initial kernel w0 (two numbers): the
    losses it prints (every one, not only each second) and the final kernel."""
    X, Y = make_data()
    conv2d = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)
    with torch.no_grad():
        conv2d.weight.copy_(torch.tensor(w0, dtype=torch.float32).reshape(1, 1, 1, 2))
    losses = []
    for _ in range(num_epochs):
        Y_hat = conv2d(X)
        l = (Y_hat - Y) ** 2
        conv2d.zero_grad()
        l.sum().backward()
        conv2d.weight.data[:] -= lr * conv2d.weight.grad
        losses.append(float(l.sum().detach()))
    return losses, kernel_of(conv2d)


# ----------------------------------------------------- the maths of the run
def hessian(X: torch.Tensor | None = None) -> torch.Tensor:
    """H of the summed squared error of a 1x2 kernel on X (float64):
    2 * sum over windows of x x^T, x = (X[i, j], X[i, j+1])."""
    X = book_X() if X is None else X
    X = X.double().reshape(X.shape[-2], X.shape[-1])
    windows = torch.stack([X[:, :-1].reshape(-1), X[:, 1:].reshape(-1)], dim=1)  # (42, 2)
    return 2 * windows.T @ windows


def stability_limit(X: torch.Tensor | None = None) -> float:
    """The largest lr for which gradient descent on this quadratic does not
    blow up: 2 / (largest eigenvalue of H); 2/60 for the book's X."""
    return float(2.0 / torch.linalg.eigvalsh(hessian(X)).max())


def closed_form(w0, lr: float, num_epochs: int) -> tuple[list[float], list[list[float]]]:
    """The exact path of gradient descent from w0 (float64): the loss before
    each update and the kernel after it. With w* = [1, -1] the data fit
    exactly, so the loss is (w - w*)^T (H / 2) (w - w*) and each update is
    w <- w - lr H (w - w*)."""
    H = hessian()
    w_star = torch.tensor(BOOK_K[0], dtype=torch.float64)
    w = torch.tensor(w0, dtype=torch.float64)
    losses, kernels = [], []
    for _ in range(num_epochs):
        e = w - w_star
        losses.append(float(e @ (H / 2) @ e))
        w = w - lr * (H @ e)
        kernels.append(w.tolist())
    return losses, kernels


@torch.no_grad()
def picture(trainers) -> dict:
    """The page's view (called in the run's worker between two steps): the
    kernel now, Y_hat = conv2d(X) and the target Y, of the first run. Reads
    the weights only, draws nothing random."""
    name, t = next(iter(trainers.items()))
    X, Y = make_data(t.device)
    return {"name": name, "epoch": t.epoch, "kernel": kernel_of(t.net),
            "Y_hat": t.net(X)[0, 0].cpu().tolist(), "Y": Y[0, 0].cpu().tolist()}
