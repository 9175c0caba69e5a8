"""Metrics as callables an objective can carry: accuracy, log_rmse, perplexity.

A metric over a whole epoch is not the mean of its per-batch values (a root of
a mean is not the mean of the roots), so each metric is split in two:
`batch_sum(y_hat, y)`, additive over examples, which the trainer sums over the
epoch and divides by the number of examples, and `finish(mean)`, which turns
that mean into the metric. The epoch's figure is then exactly the metric over
all its examples, as the book computes it over a whole data set.

`metric(y_hat, y)` is the metric of one batch: finish(batch_sum / count).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn import functional as F


def _identity(mean: float) -> float:
    return mean


def _examples(y_hat: torch.Tensor, y: torch.Tensor) -> int:
    return len(y)


@dataclass(frozen=True)
class Metric:
    name: str
    batch_sum: Callable[[torch.Tensor, torch.Tensor], float]  # additive over the batch's examples
    finish: Callable[[float], float] = _identity  # the epoch's mean -> the metric
    count: Callable[[torch.Tensor, torch.Tensor], int] = _examples  # what batch_sum sums over

    def __call__(self, y_hat: torch.Tensor, y: torch.Tensor) -> float:
        return self.finish(self.batch_sum(y_hat, y) / max(self.count(y_hat, y), 1))


# ---------------------------------------------------------------- accuracy
def correct(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    """The book's `accuracy(y_hat, y)`: the number of argmax predictions equal to y."""
    if y_hat.dim() > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    return float((y_hat.type(y.dtype) == y).sum())


accuracy = Metric("accuracy", correct)


# ---------------------------------------------------------------- log_rmse
def squared_log_error(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    """sum((log max(y_hat, 1) - log y)^2): predictions below 1 are clamped to 1,
    as the book does, so the logarithm stays finite and small."""
    clipped = torch.clamp(y_hat.detach(), 1, float("inf"))
    return float(((torch.log(clipped) - torch.log(y.reshape(clipped.shape))) ** 2).sum())


def _sqrt(mean: float) -> float:
    return math.sqrt(mean)


log_rmse = Metric("log_rmse", squared_log_error, _sqrt)
"""The book's house-price metric: sqrt(mean((log max(y_hat, 1) - log y)^2)),
an error relative to the price rather than absolute."""


# -------------------------------------------------------------- perplexity
def token_cross_entropy(logits: torch.Tensor, Y: torch.Tensor) -> float:
    """Summed cross-entropy of every token: logits (..., vocab), Y (...)."""
    return float(F.cross_entropy(logits.detach().reshape(-1, logits.shape[-1]), Y.reshape(-1), reduction="sum"))


def _tokens(logits: torch.Tensor, Y: torch.Tensor) -> int:
    return Y.numel()


def _exp(mean: float) -> float:
    try:
        return math.exp(mean)
    except OverflowError:
        return math.inf


perplexity = Metric("perplexity", token_cross_entropy, _exp, _tokens)
"""exp(mean cross-entropy per token): 1 is perfect, the vocabulary size is guessing."""

METRICS = {m.name: m for m in (accuracy, log_rmse, perplexity)}
