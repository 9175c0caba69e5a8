"""Fashion-MNIST, read from the original idx files (no torchvision)."""
from __future__ import annotations

import gzip
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core.data import download as dl

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian package dataset-fashion-mnist
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
# MD5 of the uncompressed idx data (as published next to the .gz sums). The
# Debian package recompresses the .gz files, so their own MD5 differs; found
# files are accepted when either the .gz or the uncompressed data matches.
CONTENT_MD5 = {
    "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
}
TEXT_LABELS = ["t-shirt", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle boot"]
# The stand-in's classes are shapes, and named so: nobody should mistake it for clothing.
STAND_IN_LABELS = ["wide bar", "tall bar", "square", "frame", "cross",
                   "diagonal", "dot", "top half", "bottom half", "ring"]
HINT = dl.Hint("fashion_mnist", "Install the Debian package dataset-fashion-mnist (apt-get install "
               "dataset-fashion-mnist), or set PLAYGROUND_DATA_DIR to a folder that holds "
               "the four Fashion-MNIST idx files (directly or in a fashion-mnist/ subfolder).")

# idx type code -> numpy dtype (big-endian)
IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


class IdxFormatError(ValueError):
    """An idx file is malformed."""


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise IdxFormatError(f"{path.name}: damaged gzip data ({e})") from e
    return raw


def read_idx(path) -> np.ndarray:
    """Parse an idx file (gzip-compressed or plain) into a numpy array.
    Header: two zero bytes, a type code, the number of dimensions, then each
    dimension as a big-endian uint32 (labels: magic 2049, images: 2051)."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[:2] != b"\0\0":
        raise IdxFormatError(f"{path.name}: not an idx file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in IDX_TYPES:
        raise IdxFormatError(f"{path.name}: unknown idx data type 0x{code:02x}")
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise IdxFormatError(f"{path.name}: truncated idx header ({ndim} dimensions)")
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    dtype = IDX_TYPES[code]
    expected = int(np.prod(shape)) * dtype.itemsize
    body = raw[4 + 4 * ndim:]
    if len(body) != expected:
        raise IdxFormatError(f"{path.name}: header says {shape} ({expected} bytes of data) "
                             f"but the file holds {len(body)} bytes")
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array) -> Path:
    """Write `array` as an idx file; gzip-compressed when the name ends in .gz."""
    path, array = Path(path), np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in IDX_TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"idx cannot store dtype {array.dtype}")
    data = (struct.pack(">BBBB", 0, 0, code, array.ndim)
            + struct.pack(f">{array.ndim}I", *array.shape)
            + array.astype(IDX_TYPES[code]).tobytes())
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


@dataclass
class FashionMNIST:
    X_train: torch.Tensor  # float32 in [0, 1], (60000, 1, 28, 28)
    y_train: torch.Tensor  # int64, (60000,)
    X_test: torch.Tensor
    y_test: torch.Tensor
    text_labels: list[str] = field(default_factory=lambda: list(TEXT_LABELS))
    paths: dict[str, Path] = field(default_factory=dict)  # where each file was found


def candidates() -> list[Path]:
    """Data dir (directly and fashion-mnist/), cache dir, then the Debian folder."""
    user = dl.data_dir()
    return [d for d in (user, user and user / "fashion-mnist", dl.cache_dir(), DEBIAN_DIR) if d]


def locate_fashion_mnist(*, progress=None, allow_download=True) -> dict[str, Path]:
    folders = candidates()
    return {key: dl.locate(name, candidates=folders, allow_download=allow_download,
                           progress=progress, alt_names=(name[:-3],),
                           content=CONTENT_MD5.get(name), hint=HINT)
            for key, name in FILES.items()}


def _images(path: Path) -> torch.Tensor:
    X = read_idx(path)
    if X.ndim != 3 or X.shape[1:] != (28, 28) or X.dtype != np.uint8:
        raise IdxFormatError(f"{path.name}: expected uint8 images of shape (N, 28, 28), "
                             f"got {X.dtype} {X.shape}")
    return torch.from_numpy(X).unsqueeze(1).float().div_(255)


def _labels(path: Path, n: int) -> torch.Tensor:
    y = read_idx(path)
    if y.ndim != 1 or len(y) != n or (len(y) and y.max() > 9):
        raise IdxFormatError(f"{path.name}: expected {n} labels in 0..9, got {y.dtype} {y.shape}")
    return torch.from_numpy(y.astype(np.int64))


def load_fashion_mnist(device="cpu", *, progress=None, allow_download=True) -> FashionMNIST:
    """The whole data set as tensors on `device` (images float32 in [0, 1])."""
    paths = locate_fashion_mnist(progress=progress, allow_download=allow_download)
    X_train, X_test = _images(paths["train_images"]), _images(paths["test_images"])
    y_train = _labels(paths["train_labels"], len(X_train))
    y_test = _labels(paths["test_labels"], len(X_test))
    return FashionMNIST(X_train.to(device), y_train.to(device), X_test.to(device),
                        y_test.to(device), paths=paths)


def _template(c: int, size: int = 28) -> torch.Tensor:
    """The stand-in's class c drawn once, centred: ones on zeros."""
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


def stand_in_fashion_mnist(n_train: int = 6000, n_test: int = 1000, seed: int = 0,
                           device="cpu") -> FashionMNIST:
    """The one stand-in for Fashion-MNIST, for when the files cannot be had:
    the same shapes and types (float32 images in [0, 1], (N, 1, 28, 28);
    int64 labels 0-9, every class equally often), but ten classes of simple
    shapes (STAND_IN_LABELS) with random brightness, shifts of up to two
    pixels and noise, drawn from a generator seeded with `seed`. Easy enough
    for the book's MLP and LeNet to learn in an epoch or two, and 6,000
    training images give the training pages about 24 minibatches of 256 per
    epoch. `paths` stays empty: that is how a page tells it from the real set."""
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
    return FashionMNIST(X_train, y_train, X_test, y_test, text_labels=list(STAND_IN_LABELS))


def get_fashion_mnist_labels(labels) -> list[str]:
    """Return the text labels for numeric labels, as in the book."""
    if hasattr(labels, "tolist"):
        labels = labels.tolist()
    return [TEXT_LABELS[int(i)] for i in labels]


def resize_batch(X: torch.Tensor, size) -> torch.Tensor:
    """Bilinear resize of one batch (N, C, H, W) on its device, e.g. to 224 for
    AlexNet; resize per batch, never the whole data set."""
    size = (size, size) if isinstance(size, int) else tuple(size)
    if tuple(X.shape[-2:]) == size:
        return X
    if not X.is_floating_point():
        X = X.float()
    return F.interpolate(X, size=size, mode="bilinear", align_corners=False)
