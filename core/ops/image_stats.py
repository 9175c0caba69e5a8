"""What an image classification data set looks like (book section 4.2): class
counts, mean images, pixel statistics, sample grids, the time one epoch of
minibatch iteration takes, and a small synthetic stand-in for Fashion-MNIST."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from core.data.fashion_mnist import FashionMNIST
from core.train.trainer import Batches

CHUNK = 8192  # images per chunk when summing, to bound temporary memory

SYNTHETIC_LABELS = ["wide bar", "tall bar", "square", "frame", "cross",
                    "diagonal", "dot", "top half", "bottom half", "ring"]


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


def _template(c: int, size: int = 28) -> torch.Tensor:
    img = torch.zeros(size, size)
    ii, jj = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    r = ((ii - 13.5) ** 2 + (jj - 13.5) ** 2).sqrt()
    if c == 0:
        img[11:17, 3:25] = 1
    elif c == 1:
        img[3:25, 11:17] = 1
    elif c == 2:
        img[7:21, 7:21] = 1
    elif c == 3:
        img[4:24, 4:24] = 1
        img[8:20, 8:20] = 0
    elif c == 4:
        img[12:16, 3:25] = 1
        img[3:25, 12:16] = 1
    elif c == 5:
        img[(ii - jj).abs() <= 2] = 1
    elif c == 6:
        img[r <= 4] = 1
    elif c == 7:
        img[2:13, 4:24] = 1
    elif c == 8:
        img[15:26, 4:24] = 1
    else:
        img[(r >= 7) & (r <= 10)] = 1
    return img


def synthetic_fashion_mnist(n_train: int = 2000, n_test: int = 500, seed: int = 0,
                            device="cpu") -> FashionMNIST:
    """A small stand-in with Fashion-MNIST's shapes: ten classes of simple
    geometric shapes with random brightness, shifts and noise (not clothing)."""
    gen = torch.Generator().manual_seed(seed)
    templates = torch.stack([_template(c) for c in range(10)])

    def make(n: int):
        y = torch.arange(n) % 10
        y = y[torch.randperm(n, generator=gen)]
        X = templates[y] * (0.5 + 0.5 * torch.rand(n, 1, 1, generator=gen))
        shifts = torch.randint(-2, 3, (n, 2), generator=gen)
        X = torch.stack([torch.roll(x, (int(a), int(b)), (0, 1)) for x, (a, b) in zip(X, shifts)])
        X = (X + 0.1 * torch.rand(X.shape, generator=gen)).clamp(0, 1)
        return X.unsqueeze(1).to(device), y.to(device)

    X_train, y_train = make(n_train)
    X_test, y_test = make(n_test)
    return FashionMNIST(X_train, y_train, X_test, y_test, text_labels=list(SYNTHETIC_LABELS))
