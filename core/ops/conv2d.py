"""From fully connected layers to convolutions (book sections 7.1-7.2): the
book's cross-correlation on its edge-detection example, and the maths of the
page's kernel editor (3x3 presets, your own nine numbers, an image of yours
made ready for a convolution).

The book's `corr2d` and its multi-channel forms live in
core.ops.conv_arithmetic (the padding-and-stride page uses them too); they are
re-exported here so this page's maths reads from one module.

Uploaded images are decoded by the page (Pillow is Streamlit's, not core's);
core checks the bytes first (`check_image_bytes`: not empty, not too large, a
PNG or JPEG by its signature) and turns the decoded pixels into a grayscale
tensor of at most `MAX_SIDE` pixels a side (`image_from_array`). A problem
raises `ImageError` with a code and its numbers; the page words it.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from core.ops.conv_arithmetic import corr2d, corr2d_multi_in, corr2d_multi_in_out, corr2d_multi_in_out_1x1

__all__ = ["BOOK_K", "IMAGE_CODES", "KERNELS", "KERNEL_MAX", "MAX_BYTES", "MAX_SIDE", "ImageError", "apply_kernel",
           "book_X", "check_image_bytes", "corr2d", "corr2d_multi_in", "corr2d_multi_in_out",
           "corr2d_multi_in_out_1x1", "edge_example", "image_from_array", "kernel", "kernel_from_numbers",
           "sniff_image"]


# ------------------------------------------------------ the book's example
def book_X() -> torch.Tensor:
    """The book's 6x8 "image": ones, with the middle four columns (2..5) zero."""
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    return X


BOOK_K = ((1.0, -1.0),)  # the book's edge detector, a 1x2 kernel


def edge_example() -> dict[str, torch.Tensor]:
    """X, K, Y = corr2d(X, K) (+1 where white turns black, -1 where black
    turns white) and corr2d(X.T, K), which is all zeros: K finds vertical
    edges only."""
    X, K = book_X(), torch.tensor(BOOK_K)
    return {"X": X, "K": K, "Y": corr2d(X, K), "XT": X.t(), "YT": corr2d(X.t(), K)}


# -------------------------------------------------------- the kernel editor
_K = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "edge_vertical": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],  # a vertical edge: left minus right (Prewitt)
    "edge_horizontal": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],  # a horizontal edge: top minus bottom
    "laplacian": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],  # outline: the centre minus its 8 neighbours
    "box_blur": [[1 / 9] * 3] * 3,
    "gaussian_blur": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}
KERNELS = tuple(_K)  # the presets, in the page's order
KERNEL_MAX = 10.0  # the editor's numbers lie in [-KERNEL_MAX, KERNEL_MAX]


def kernel(name: str) -> torch.Tensor:
    """A named 3x3 preset (float32)."""
    if name not in _K:
        raise ValueError(f"unknown kernel {name!r}: choose from {KERNELS}")
    return torch.tensor(_K[name], dtype=torch.float32)


def kernel_from_numbers(numbers) -> torch.Tensor:
    """Nine numbers, row by row, as a 3x3 kernel. ValueError unless there are
    nine finite numbers within [-KERNEL_MAX, KERNEL_MAX] (the page's boxes
    never give others; a caller may)."""
    values = [float(v) for v in numbers]
    if len(values) != 9:
        raise ValueError(f"a 3x3 kernel takes 9 numbers, got {len(values)}")
    bad = [v for v in values if not math.isfinite(v) or abs(v) > KERNEL_MAX]
    if bad:
        raise ValueError(f"kernel numbers must be finite and within ±{KERNEL_MAX:g}: {bad}")
    return torch.tensor(values, dtype=torch.float32).reshape(3, 3)


def apply_kernel(image: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The (H, W) image cross-correlated with a (k, k) kernel, k odd, padded with
    k // 2 zeros on each side, so the output has the image's shape (what
    nn.Conv2d(1, 1, k, padding=k // 2, bias=False) computes)."""
    if K.dim() != 2 or K.shape[0] != K.shape[1] or K.shape[0] % 2 == 0:
        raise ValueError(f"the kernel must be square with an odd side, got {tuple(K.shape)}")
    X = image.float()
    return F.conv2d(X[None, None], K.to(X)[None, None], padding=K.shape[0] // 2)[0, 0]


# -------------------------------------------------------- an uploaded image
MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 128
# What each ImageError code carries in `details`.
IMAGE_CODES = {
    "empty": (),
    "too_large": ("size", "limit"),  # bytes
    "not_an_image": (),  # neither a PNG nor a JPEG signature
    "undecodable": ("kind",),  # the signature says `kind`, but the pixels cannot be read
    "too_many_pixels": ("width", "height", "limit"),  # a decompression bomb, refused before decoding
}
MAX_PIXELS = 40_000_000


class ImageError(ValueError):
    """An uploaded image that cannot be used: `code` (a key of IMAGE_CODES)
    says why, `details` holds the numbers."""

    def __init__(self, code: str, **details):
        if code not in IMAGE_CODES or set(details) != set(IMAGE_CODES[code]):
            raise TypeError(f"ImageError({code!r}) takes {IMAGE_CODES.get(code)}, got {sorted(details)}")
        self.code, self.details = code, details
        super().__init__(code + "".join(f" {k}={v}" for k, v in details.items()))


def sniff_image(data: bytes) -> str | None:
    """'png' or 'jpeg' by the file's first bytes (its signature), else None:
    the file's name or claimed type is not trusted."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return None


def check_image_bytes(data: bytes, max_bytes: int = MAX_BYTES) -> str:
    """The checks before decoding: not empty, at most `max_bytes`, a PNG or
    JPEG signature. Returns the kind; raises ImageError."""
    if not data:
        raise ImageError("empty")
    if len(data) > max_bytes:
        raise ImageError("too_large", size=len(data), limit=max_bytes)
    kind = sniff_image(data)
    if kind is None:
        raise ImageError("not_an_image")
    return kind


def check_pixels(width: int, height: int, limit: int = MAX_PIXELS) -> None:
    """Refuse an image whose header claims more than `limit` pixels (a small
    file that would decode to gigabytes)."""
    if width * height > limit:
        raise ImageError("too_many_pixels", width=width, height=height, limit=limit)


def image_from_array(pixels, max_side: int = MAX_SIDE) -> torch.Tensor:
    """Decoded pixels (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA, integers
    0-255 or floats 0-1, as a float32 (H', W') grayscale image in [0, 1] whose
    longer side is at most `max_side` (shrunk with F.interpolate, mode
    'area', keeping the aspect ratio; a smaller image keeps its size).
    Grayscale is ITU-R 601 luma, 0.299 R + 0.587 G + 0.114 B; transparency is
    dropped."""
    a = np.asarray(pixels)
    if a.ndim == 3 and a.shape[2] in (3, 4):
        a = a[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    elif a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim != 2 or min(a.shape) < 1:
        raise ValueError(f"expected (H, W), (H, W, 3) or (H, W, 4) pixels, got shape {a.shape}")
    x = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))
    if np.issubdtype(np.asarray(pixels).dtype, np.integer):
        x = x / 255.0
    h, w = x.shape
    scale = max_side / max(h, w)
    if scale < 1:
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        x = F.interpolate(x[None, None], size=size, mode="area")[0, 0]
    return x.float().clamp(0.0, 1.0)
