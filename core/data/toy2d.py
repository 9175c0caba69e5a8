"""Two-dimensional toy data sets for two classes, as TensorFlow Playground
draws them: two interleaved half moons, and two interleaved spirals. Every
number comes from the generator the caller passes (never the global RNG), so
one seed gives the same points on any machine.

Both lie inside the square [-DOMAIN, DOMAIN]^2 (the plane a page pictures),
labels are 0 and 1 (int64, for cross-entropy), half of the points of each.
`noise` is the standard deviation of the Gaussian noise added to each
coordinate, in units of the data set's own scale (a moon's radius, the
spiral's unit turn), so the same value blurs both about as much.
"""
from __future__ import annotations

import math

import torch

DOMAIN = 6.0  # the plane pictured: [-DOMAIN, DOMAIN] in both coordinates
DATASETS = {"moons": "two moons", "spiral": "spiral"}
MOON_SCALE = 3.0  # a moon of radius 1 drawn 3 units wide
SPIRAL_RADIUS = 5.0
SPIRAL_NOISE = 2.5  # the spiral's unit of noise: its arms lie 5 / 1.75 / 2 = 1.43 apart, a moon's about 0.5


def _labels(n: int) -> torch.Tensor:
    return torch.cat([torch.zeros(n - n // 2, dtype=torch.int64), torch.ones(n // 2, dtype=torch.int64)])


def two_moons(n: int, noise: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two half circles of radius 1 (scikit-learn's make_moons), the upper one
    (class 0) centred at the origin, the lower one (class 1) at (1, 0.5),
    shifted to the middle of the plane and scaled by MOON_SCALE."""
    y = _labels(n)
    t = torch.rand(n, generator=generator, dtype=torch.float64) * math.pi
    upper = torch.stack([torch.cos(t), torch.sin(t)], 1)
    lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], 1)
    X = torch.where((y == 0)[:, None], upper, lower)
    X = X + noise * torch.randn(n, 2, generator=generator, dtype=torch.float64)
    X = (X - torch.tensor([0.5, 0.25], dtype=torch.float64)) * MOON_SCALE
    return X.float(), y


def spiral(n: int, noise: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """TensorFlow Playground's spiral: class c's point i of m at radius
    r = 5 i / m and angle 1.75 * 2 pi i / m + c pi, so the two arms wind
    around each other for almost a turn. The noise is in units of SPIRAL_NOISE."""
    y = _labels(n)
    m = torch.bincount(y, minlength=2).to(torch.float64)
    index = torch.cat([torch.arange(int(m[0])), torch.arange(int(m[1]))]).to(torch.float64)
    frac = index / m[y]
    r = SPIRAL_RADIUS * frac
    t = 1.75 * 2 * math.pi * frac + math.pi * y.to(torch.float64)
    X = torch.stack([r * torch.sin(t), r * torch.cos(t)], 1)
    X = X + noise * SPIRAL_NOISE * torch.randn(n, 2, generator=generator, dtype=torch.float64)
    return X.float(), y


def make(dataset: str, n: int, noise: float, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` points of `dataset` ("moons" or "spiral"), in a random order (drawn
    from `generator` too, so a split into train and test takes both classes)."""
    if dataset == "moons":
        X, y = two_moons(n, noise, generator)
    elif dataset == "spiral":
        X, y = spiral(n, noise, generator)
    else:
        raise ValueError(f"unknown data set {dataset!r}: use one of {list(DATASETS)}")
    order = torch.randperm(n, generator=generator)
    return X[order], y[order]


def split(dataset: str, num_train: int, num_test: int, noise: float, generator: torch.Generator):
    """(X_train, y_train, X_test, y_test): one draw of num_train + num_test points, split."""
    X, y = make(dataset, num_train + num_test, noise, generator)
    return X[:num_train], y[:num_train], X[num_train:], y[num_train:]


def grid(num: int, domain: float = DOMAIN) -> tuple[torch.Tensor, torch.Tensor]:
    """(coordinates (num,), points (num * num, 2)) of a num x num grid over the
    plane; the points run along x first, so `values.reshape(num, num)` has rows
    along y and columns along x (as a heatmap takes it)."""
    xs = torch.linspace(-domain, domain, num)
    gy, gx = torch.meshgrid(xs, xs, indexing="ij")
    return xs, torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
