"""Sequence models (book section 9.1, "Sequence Models" of the 0.17 edition):
an autoregressive model with a window of tau previous values.

The data: T = 1000 steps of x_t = sin(0.01 t) + N(0, 0.2^2) noise, t = 1..T,
drawn from the run's own generator. The features of example i are the tau
values x_i, ..., x_{i+tau-1} and its label is x_{i+tau}, so there are T - tau
examples; the first n_train = 600 train the model (minibatches of 16,
shuffled), the rest are held out (the test loss is the one-step-ahead error on
them). The model is the book's MLP: Linear(tau, 10), ReLU, Linear(10, 1),
weights Xavier-uniform; the loss is the squared error without the 1/2
(nn.MSELoss), the optimizer Adam with lr 0.01, 5 epochs. The loss printed
after each epoch is the mean squared error over all training examples (the
book's evaluate_loss); here it is `train_loss` (eval_train=True).

The pictures (`predictions`, the page's View) are the book's three figures:
one-step-ahead predictions net(features) against the data; multi-step-ahead
predictions from n_train + tau on, each prediction fed back as an input
(the errors compound and the prediction settles to a constant); and k-step-ahead
predictions for k = 1, 4, 16, 64, made from the data up to t - k and k - 1
of the model's own predictions.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from core.experiments.schema import config, setting
from core.train.trainer import Batches, Supervised, Trainer

T = 1000  # length of the series
NOISE = 0.2  # the standard deviation of the noise on the sine
MAX_STEPS = 64  # the book's max_steps for the k-step-ahead figure
BOOK_STEPS = (1, 4, 16, 64)  # the k the book draws
LRS = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


@config
class Config:
    """The book's settings (section 8.1 of the 0.17 edition, 9.1 of 1.0)."""

    tau: int = setting(4, "tau (the number of previous values the model sees)", min=1, max=64,
                       help="The features of x_t are x_{t-tau}, ..., x_{t-1}. A change starts a new run.")
    lr: float = setting(0.01, "lr (Adam)", options=LRS, live=True, help="Takes effect at the next minibatch.")
    num_epochs: int = setting(5, "num_epochs", min=1, max=50, live=True)
    n_train: int = 600  # examples used for training, from the start of the series
    batch_size: int = 16
    num_hiddens: int = 10


BOOK = Config()
# What the book prints after 5 epochs: the training loss (mean squared error over
# the 600 training windows) of its executed 0.17.5 notebook (d2l-pytorch-colab),
# 0.052816. Its runs are not seeded: the builds from 2020 to 2022 print
# 0.0453-0.0589 for the same code, the band the page shows. The floor is the
# noise the model cannot predict, its variance NOISE^2 = 0.04.
BOOK_LOSS = 0.0528
BOOK_LOSS_BAND = (0.045, 0.059)
NOISE_FLOOR = NOISE ** 2


# ----------------------------------------------------------------------- data
def make_data(seed: int = 0, T: int = T, noise: float = NOISE) -> torch.Tensor:
    """The book's series x of length T: sin(0.01 t) + N(0, noise^2), t = 1..T,
    the noise from the generator seeded with seed + 1000 (the data and the
    initial weights are independent draws)."""
    g = torch.Generator().manual_seed(seed + 1000)
    time = torch.arange(1, T + 1, dtype=torch.float32)
    return torch.sin(0.01 * time) + torch.normal(0.0, noise, (T,), generator=g)


def features_labels(x: torch.Tensor, tau: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The book's features (T - tau, tau), column i = x[i : T - tau + i], and
    labels x[tau:] as a column."""
    T_ = len(x)
    if not 1 <= tau < T_:
        raise ValueError(f"tau must be in [1, {T_ - 1}], got {tau}")
    features = torch.stack([x[i: T_ - tau + i] for i in range(tau)], dim=1)
    return features, x[tau:].reshape(-1, 1)


def series_of(trainer: Trainer) -> torch.Tensor:
    """The run's whole series x, read back from its examples: the first
    example's features are x_1..x_tau, the labels are x_{tau+1}..x_T."""
    (Xtr, ytr), (_, yte) = trainer.train.tensors, trainer.test.tensors
    return torch.cat([Xtr[0], ytr.reshape(-1), yte.reshape(-1)]).detach().cpu()


# ---------------------------------------------------------------- the model
def get_net(tau: int = 4, num_hiddens: int = 10):
    """net_fn of the book's MLP: Linear(tau, num_hiddens), ReLU,
    Linear(num_hiddens, 1). Weights Xavier-uniform (the book's init_weights);
    biases as nn.Linear draws them, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), here
    from the run's generator (skip_init leaves torch's global one alone)."""

    def linear(fan_in: int, fan_out: int, gen: torch.Generator) -> nn.Linear:
        layer = nn.utils.skip_init(nn.Linear, fan_in, fan_out)
        with torch.no_grad():
            nn.init.xavier_uniform_(layer.weight, generator=gen)
            bound = 1 / math.sqrt(fan_in)
            layer.bias.uniform_(-bound, bound, generator=gen)
        return layer

    def net_fn(gen: torch.Generator) -> nn.Module:
        return nn.Sequential(linear(tau, num_hiddens, gen), nn.ReLU(), linear(num_hiddens, 1, gen))

    return net_fn


def build(cfg: Config = BOOK, data=None, *, seed: int = 0, device="cpu") -> Trainer:
    """The run for `cfg`: `data` is a series x (1-D), or None to draw the
    book's from the seed."""
    x = make_data(seed) if data is None else torch.as_tensor(data, dtype=torch.float32).reshape(-1)
    if len(x) <= cfg.tau + cfg.n_train:
        raise ValueError(f"a series of {len(x)} values is too short for tau={cfg.tau} and n_train={cfg.n_train}")
    features, labels = features_labels(x, cfg.tau)
    features, labels = features.to(device), labels.to(device)
    n = cfg.n_train
    return Trainer(
        get_net(cfg.tau, cfg.num_hiddens),
        Batches(features[:n], labels[:n], batch_size=cfg.batch_size),
        test=Batches(features[n:], labels[n:], batch_size=256, shuffle=False),
        objective=Supervised(nn.MSELoss(reduction="none")),
        optimizer="adam", lr=cfg.lr, num_epochs=cfg.num_epochs, seed=seed, device=device, eval_train=True,
    )


# ---------------------------------------------------------------- predictions
@torch.no_grad()
def one_step(net: nn.Module, x: torch.Tensor, tau: int) -> torch.Tensor:
    """The book's onestep_preds = net(features): the prediction of x_t from
    the data x_{t-tau}..x_{t-1}, for t = tau+1..T (length T - tau)."""
    features, _ = features_labels(x, tau)
    return net(features).reshape(-1)


@torch.no_grad()
def multi_step(net: nn.Module, x: torch.Tensor, tau: int, n_train: int) -> torch.Tensor:
    """The book's multistep_preds (length T): the data up to n_train + tau,
    then each value predicted from the tau values before it, which from
    n_train + 2 tau on are all the model's own predictions."""
    preds = torch.zeros(len(x), device=x.device)
    preds[: n_train + tau] = x[: n_train + tau]
    for i in range(n_train + tau, len(x)):
        preds[i] = net(preds[i - tau: i].reshape(1, -1)).reshape(())
    return preds


@torch.no_grad()
def k_step(net: nn.Module, x: torch.Tensor, tau: int, max_steps: int = MAX_STEPS) -> torch.Tensor:
    """The book's k-step-ahead features, (T - tau - max_steps + 1, tau + max_steps):
    row r starts with the data x_{r+1}..x_{r+tau} (1-based t), then column
    tau + k - 1 holds the k-step-ahead prediction of x_{r+tau+k}, made from
    the data and the k - 1 predictions before it. The k-step predictions are
    the column tau + k - 1, for times tau + k .. T - max_steps + k."""
    T_ = len(x)
    rows = T_ - tau - max_steps + 1
    if rows < 1:
        raise ValueError(f"the series is too short for tau={tau} and {max_steps} steps ahead")
    features = torch.zeros((rows, tau + max_steps), device=x.device)
    for i in range(tau):
        features[:, i] = x[i: i + rows]
    for i in range(tau, tau + max_steps):
        features[:, i] = net(features[:, i - tau: i]).reshape(-1)
    return features


def k_step_times(tau: int, k: int, T_: int = T, max_steps: int = MAX_STEPS) -> torch.Tensor:
    """The times t (1-based, the book's `time`) of the k-step predictions: time[tau + k - 1 : T - max_steps + k]."""
    return torch.arange(1, T_ + 1)[tau + k - 1: T_ - max_steps + k]


def mse(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b) ** 2).mean())


def predictions(trainers, *, max_steps: int = MAX_STEPS) -> dict:
    """The page's view (called in the run's worker between two steps, without
    drawing from any generator): the first run's series and its one-step,
    multi-step and k-step-ahead predictions for every k up to max_steps (so
    the page's k picks a column without asking the worker again), with the
    mean squared error of each against the data (one-step and multi-step
    after n_train + tau, where the multi-step recursion is on its own; k-step
    over its times)."""
    name, t = next(iter(trainers.items()))
    x = series_of(t)
    tau = t.train.tensors[0].shape[1]
    n_train = t.train.num_examples
    xd = x.to(t.device)
    one = one_step(t.net, xd, tau).cpu()  # the MLP has no dropout or batch norm: train mode predicts as eval
    multi = multi_step(t.net, xd, tau, n_train).cpu()
    kpreds = k_step(t.net, xd, tau, max_steps).cpu()[:, tau:]  # column k - 1: the k-step predictions
    start = n_train + tau  # 0-based index where the multi-step recursion begins
    rows = len(kpreds)
    truth = torch.stack([x[tau + k - 1: tau + k - 1 + rows] for k in range(1, max_steps + 1)], dim=1)
    return {
        "name": name, "epoch": t.epoch, "step": t.step, "tau": tau, "n_train": n_train,
        "time": torch.arange(1, len(x) + 1).numpy(), "x": x.numpy(),
        "one_step": one.numpy(), "multi_step": multi.numpy(), "start": start, "k_preds": kpreds.numpy(),
        "mse_one_step": mse(one[start - tau:], x[start:]), "mse_multi_step": mse(multi[start:], x[start:]),
        "mse_k_step": ((kpreds - truth) ** 2).mean(dim=0).tolist(),
    }


def k_series(seen: dict, k: int):
    """(times, predictions) of the k-step-ahead predictions in a `predictions`
    result: column k - 1, at times tau + k .. T - max_steps + k."""
    preds = seen["k_preds"][:, k - 1]
    return seen["tau"] + k + np.arange(len(preds)), preds
