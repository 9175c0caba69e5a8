"""Toy data for environment and distribution shift (book section 4.7).

Covariate shift: inputs x in R^2 from a Gaussian with identity covariance,
the training (source) inputs around SOURCE_MEAN, the test (target) inputs
around `target_mean(shift)`, a point `shift` further along the class
boundary. The labels come from one fixed p(y | x) in both:

    p(y = 1 | x) = sigmoid(SHARPNESS * (x2 - x1^2 / 2)),

a parabola as the class boundary, so a linear classifier fitted where the
source data lies is wrong where the target data lies. With equal covariances
the density ratio is known in closed form and is log-linear in x,

    log q(x) / p(x) = (mu_t - mu_s) . x - (|mu_t|^2 - |mu_s|^2) / 2,

which a logistic-regression domain classifier can represent exactly.

Label shift: three classes with fixed p(x | y) = N(CLASS_MEANS[y], I); the
source has uniform p(y), the target q(y) moves from uniform towards SKEWED
with `amount`.

Every draw comes from a generator seeded by the caller; nothing touches the
global RNG. Tensors are float32 for the models; the closed forms use float64.
"""
from __future__ import annotations

import math

import torch

SOURCE_MEAN = (-1.0, 0.5)
SHARPNESS = 4.0  # how crisp the labels are near the boundary (label noise: 1 / (1 + e^-4) at distance 1 in x2)
CLASS_MEANS = ((0.0, 1.2), (-1.04, -0.6), (1.04, -0.6))  # an equilateral triangle, radius 1.2
SOURCE_PRIOR = (1 / 3, 1 / 3, 1 / 3)
SKEWED = (0.1, 0.2, 0.7)  # the target's p(y) at amount 1


# ------------------------------------------------------------ covariate shift
def boundary(x1: torch.Tensor) -> torch.Tensor:
    """The true class boundary x2 = x1^2 / 2."""
    return x1 ** 2 / 2


def target_mean(shift: float) -> tuple[float, float]:
    """The target's mean: the source's moved `shift` along x1 and onto the
    boundary's height there, so both classes are present in both domains."""
    a = SOURCE_MEAN[0] + shift
    return (a, SOURCE_MEAN[1] + a * a / 2 - SOURCE_MEAN[0] ** 2 / 2)


def p_y1(X: torch.Tensor) -> torch.Tensor:
    """The fixed p(y = 1 | x), the same in source and target (no concept shift)."""
    X = X.to(torch.float64)
    return torch.sigmoid(SHARPNESS * (X[:, 1] - boundary(X[:, 0])))


def draw_inputs(mean, n: int, gen: torch.Generator) -> torch.Tensor:
    return torch.tensor(mean, dtype=torch.float64) + torch.randn(n, 2, generator=gen, dtype=torch.float64)


def draw_labels(X: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    return (torch.rand(len(X), generator=gen, dtype=torch.float64) < p_y1(X)).long()


def covariate_data(shift: float, n_train: int, n_test: int, seed: int = 0) -> dict:
    """Source (training) and target (test) sets: X, y, X_test, y_test (X float32,
    y int64), drawn from a generator seeded seed + 4700."""
    g = torch.Generator().manual_seed(seed + 4700)
    X = draw_inputs(SOURCE_MEAN, n_train, g)
    y = draw_labels(X, g)
    X_test = draw_inputs(target_mean(shift), n_test, g)
    y_test = draw_labels(X_test, g)
    return {"X": X.float(), "y": y, "X_test": X_test.float(), "y_test": y_test}


def log_density_ratio(X: torch.Tensor, shift: float) -> torch.Tensor:
    """log q(x) / p(x) in closed form (float64): target over source density."""
    mu_s = torch.tensor(SOURCE_MEAN, dtype=torch.float64)
    mu_t = torch.tensor(target_mean(shift), dtype=torch.float64)
    return X.to(torch.float64) @ (mu_t - mu_s) - (mu_t @ mu_t - mu_s @ mu_s) / 2


def bayes_accuracy(X: torch.Tensor) -> float:
    """The expected accuracy of the best possible classifier (predict the
    likelier class under the true p(y | x)) on the inputs X."""
    p = p_y1(X)
    return float(torch.maximum(p, 1 - p).mean())


# ---------------------------------------------------------------- label shift
def target_prior(amount: float) -> tuple[float, ...]:
    """q(y): (1 - amount) * uniform + amount * SKEWED."""
    return tuple((1 - amount) * s + amount * k for s, k in zip(SOURCE_PRIOR, SKEWED))


def draw_classes(prior, n: int, gen: torch.Generator) -> torch.Tensor:
    """n labels drawn from `prior` (a multinomial draw per example)."""
    return torch.multinomial(torch.tensor(prior, dtype=torch.float64), n, replacement=True, generator=gen)


def class_inputs(y: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """x | y ~ N(CLASS_MEANS[y], I): the same p(x | y) in source and target."""
    means = torch.tensor(CLASS_MEANS, dtype=torch.float64)[y]
    return means + torch.randn(len(y), 2, generator=gen, dtype=torch.float64)


def label_shift_data(amount: float, n: int, seed: int = 0) -> dict:
    """Source training set (X, y), a source validation set (X_valid, y_valid)
    of n each, and a target set (X_target, y_target) of n whose labels the
    method never sees (they measure accuracy and the true frequencies);
    seeded seed + 4701."""
    g = torch.Generator().manual_seed(seed + 4701)
    out = {}
    for name, prior in (("", SOURCE_PRIOR), ("_valid", SOURCE_PRIOR), ("_target", target_prior(amount))):
        y = draw_classes(prior, n, g)
        out["X" + name], out["y" + name] = class_inputs(y, g).float(), y
    return out


def effective_sample_size(beta: torch.Tensor) -> float:
    """(sum beta)^2 / sum beta^2: how many equally weighted examples the weighted set is worth."""
    beta = beta.to(torch.float64)
    s2 = float((beta * beta).sum())
    return float(beta.sum()) ** 2 / s2 if s2 > 0 and math.isfinite(s2) else 0.0
