"""The book's synthetic regression data (section 3.3), drawn from a generator
the caller owns: the linear-regression and weight-decay experiments share it."""
from __future__ import annotations

import torch


def synthetic_data(w: torch.Tensor, b: float, num_examples: int, generator: torch.Generator,
                   noise: float = 0.01) -> tuple[torch.Tensor, torch.Tensor]:
    """The book's synthetic_data: X ~ N(0, 1), y = Xw + b + N(0, noise^2), y as a column."""
    X = torch.normal(0.0, 1.0, (num_examples, len(w)), generator=generator)
    y = torch.matmul(X, w) + b
    y += torch.normal(0.0, noise, y.shape, generator=generator)
    return X, y.reshape((-1, 1))
