"""What an image classification data set looks like (book section 4.2): class
counts, mean images, pixel statistics, sample grids, the time one epoch of
minibatch iteration takes. (The stand-in for Fashion-MNIST is
core.data.fashion_mnist.stand_in_fashion_mnist.)"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from core.train.trainer import Batches

CHUNK = 8192  # images per chunk when summing, to bound temporary memory

def class_counts(y: torch.Tensor, num_classes: int = 10) -> np.ndarray:
    """Number of examples of each class."""
    return torch.bincount(y.reshape(-1).cpu(), minlength=num_classes)[:num_classes].numpy()


def class_means(X: torch.Tensor, y: torch.Tensor, num_classes: int = 10) -> np.ndarray:
    """The mean image of each class, (num_classes, H, W); NaN for an empty class."""
    flat = X.reshape(len(X), -1)
    sums = torch.zeros(num_classes, flat.shape[1], dtype=torch.float64, device=X.device)
    for i in range(0, len(X), CHUNK):
        sums.index_add_(0, y[i:i + CHUNK].to(X.device), flat[i:i + CHUNK].double())
    counts = torch.tensor(class_counts(y, num_classes), dtype=torch.float64, device=X.device)
    means = sums / counts[:, None]
    return means.reshape(num_classes, *X.shape[-2:]).cpu().numpy()


@dataclass
class PixelStats:
    mean: float  # over every pixel of every image
    std: float  # population standard deviation of those pixels
    class_mean: np.ndarray  # (num_classes,)
    class_std: np.ndarray
    count: np.ndarray  # images per class


def pixel_stats(X: torch.Tensor, y: torch.Tensor, num_classes: int = 10) -> PixelStats:
    """Mean and standard deviation of the pixel values, overall and per class,
    from per-image sums and sums of squares accumulated in float64."""
    flat = X.reshape(len(X), -1)
    per_pixel = flat.shape[1]
    s = torch.zeros(num_classes, dtype=torch.float64, device=X.device)
    s2 = torch.zeros_like(s)
    for i in range(0, len(X), CHUNK):
        chunk = flat[i:i + CHUNK].double()
        labels = y[i:i + CHUNK].to(X.device)
        s.index_add_(0, labels, chunk.sum(1))
        s2.index_add_(0, labels, (chunk * chunk).sum(1))
    count = class_counts(y, num_classes)
    n = torch.tensor(count, dtype=torch.float64, device=X.device) * per_pixel
    s, s2, n = s.cpu().numpy(), s2.cpu().numpy(), n.cpu().numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        cm = s / n
        cs = np.sqrt(np.maximum(s2 / n - cm**2, 0.0))
    total = n.sum()
    mean = s.sum() / total
    std = math.sqrt(max(s2.sum() / total - mean**2, 0.0))
    return PixelStats(float(mean), float(std), cm, cs, count)


def sample_indices(y: torch.Tensor, classes, per_class: int,
                   generator: torch.Generator) -> list[list[int]]:
    """For each class in `classes`, `per_class` distinct example indices drawn
    at random with `generator` (fewer when the class has fewer examples)."""
    labels = y.cpu()
    rows = []
    for c in classes:
        idx = torch.nonzero(labels == int(c)).reshape(-1)
        pick = torch.randperm(len(idx), generator=generator)[:per_class]
        rows.append(idx[pick].tolist())
    return rows


def image_grid(images: np.ndarray | torch.Tensor, rows: list[list[int]] | None = None,
               pad: int = 2) -> np.ndarray:
    """Tile images into one array with NaN gaps (blank in a heatmap).

    `images` is (N, H, W) or (N, 1, H, W); `rows` lists the indices for each
    row of the grid (default: all images in one row)."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    images = np.asarray(images, dtype=float)
    if images.ndim == 4:
        images = images[:, 0]
    if rows is None:
        rows = [list(range(len(images)))]
    h, w = images.shape[-2:]
    ncols = max((len(r) for r in rows), default=0)
    grid = np.full((len(rows) * (h + pad) - pad if rows else 0,
                    max(ncols * (w + pad) - pad, 0)), np.nan)
    for r, row in enumerate(rows):
        for c, i in enumerate(row):
            grid[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = images[i]
    return grid


@dataclass
class EpochTiming:
    seconds: float
    num_batches: int
    num_examples: int

    @property
    def examples_per_sec(self) -> float:
        return self.num_examples / self.seconds if self.seconds > 0 else float("inf")


def time_epoch(batches: Batches, generator: torch.Generator | None = None) -> EpochTiming:
    """Iterate over one epoch of `batches` (touching every batch, nothing
    else), as the book's `for X, y in train_iter: continue`, and time it."""
    device = batches.tensors[0].device
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    n_batches = n_examples = 0
    for batch in batches.epoch(generator):
        n_batches += 1
        n_examples += len(batch[0])
    sync()
    return EpochTiming(time.perf_counter() - start, n_batches, n_examples)
