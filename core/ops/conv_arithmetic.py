"""Grid arithmetic for the convolution and pooling pages.

Two padding conventions appear here, as in the book and in PyTorch:

- the book's formulas use `p_h`, `p_w`: the TOTAL padding (top + bottom,
  left + right);
- `nn.Conv2d(padding=p)` / `F.max_pool2d(padding=p)` pad p on EACH side, a total
  of 2p. Functions that mirror torch take `pad_h`, `pad_w` (per side).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F


# ------------------------------------------------------------ output shapes
def effective_kernel(k: int, d: int = 1) -> int:
    """A kernel of size k with dilation d spans d*(k-1)+1 cells."""
    return d * (k - 1) + 1


def conv_output_shape(n_h: int, n_w: int, k_h: int, k_w: int, p_h: int = 0, p_w: int = 0,
                      s_h: int = 1, s_w: int = 1, d_h: int = 1, d_w: int = 1) -> tuple[int, int]:
    """The book's output shape floor((n - k + p + s) / s) per axis.

    p is the TOTAL padding (book's convention): `nn.Conv2d(padding=1)` means
    p = 2. With dilation d the kernel counts as k_eff = d*(k-1)+1. A size of 0
    means the output is empty (the kernel does not fit)."""
    def one(n, k, p, s, d):
        return max(0, (n - effective_kernel(k, d) + p + s) // s)

    return one(n_h, k_h, p_h, s_h, d_h), one(n_w, k_w, p_w, s_w, d_w)


@dataclass
class ConvNote:
    """Something about one axis of a convolution or pooling setting: `code`
    says what, `values` holds its numbers; playground.messages words it.

    Problems (check_conv): input_below_one, kernel_below_one, stride_below_one,
    dilation_below_one, negative_padding (each with `got`); kernel_too_large
    (k, k_eff, n, pad, padded = n + 2 pad); pool_padding_too_large (k, pad,
    limit = k // 2). Surprises (conv_warnings): reads_only_padding and
    output_grows (pad, k_eff); skips_input (s, k_eff); drops_cells (count)."""

    code: str
    axis: str  # 'height' or 'width'
    values: dict[str, int] = field(default_factory=dict)


def _axes(n_h, n_w, k_h, k_w, pad_h, pad_w, s_h, s_w, d_h, d_w):
    return (("height", n_h, k_h, pad_h, s_h, d_h), ("width", n_w, k_w, pad_w, s_w, d_w))


def check_conv(n_h: int, n_w: int, k_h: int, k_w: int, pad_h: int = 0, pad_w: int = 0,
               s_h: int = 1, s_w: int = 1, d_h: int = 1, d_w: int = 1, pool: bool = False) -> list[ConvNote]:
    """Problems torch would raise for (or that give an empty output) with
    per-side padding pad_h, pad_w, as nn.Conv2d takes it; `pool=True` checks
    max_pool2d's extra rule (padding at most half the kernel). Never raises;
    an empty list means the combination is fine."""
    problems = []
    for axis, n, k, pad, s, d in _axes(n_h, n_w, k_h, k_w, pad_h, pad_w, s_h, s_w, d_h, d_w):
        for code, got in (("input_below_one", n), ("kernel_below_one", k), ("stride_below_one", s),
                          ("dilation_below_one", d)):
            if got < 1:
                problems.append(ConvNote(code, axis, {"got": got}))
        if pad < 0:
            problems.append(ConvNote("negative_padding", axis, {"got": pad}))
        if n < 1 or k < 1 or d < 1 or pad < 0:
            continue
        k_eff = effective_kernel(k, d)
        if k_eff > n + 2 * pad:
            problems.append(ConvNote("kernel_too_large", axis,
                                     {"k": k, "k_eff": k_eff, "n": n, "pad": pad, "padded": n + 2 * pad}))
        if pool and pad > k // 2:
            problems.append(ConvNote("pool_padding_too_large", axis, {"k": k, "pad": pad, "limit": k // 2}))
    return problems


def conv_warnings(n_h: int, n_w: int, k_h: int, k_w: int, pad_h: int = 0, pad_w: int = 0,
                  s_h: int = 1, s_w: int = 1, d_h: int = 1, d_w: int = 1) -> list[ConvNote]:
    """Legal but surprising settings (per-side padding, as nn.Conv2d): border
    outputs that only see padding, an output larger than the input, input
    cells never read, padded cells dropped by the floor in the formula."""
    notes = []
    if check_conv(n_h, n_w, k_h, k_w, pad_h, pad_w, s_h, s_w, d_h, d_w):
        return notes
    for axis, n, k, pad, s, d in _axes(n_h, n_w, k_h, k_w, pad_h, pad_w, s_h, s_w, d_h, d_w):
        k_eff = effective_kernel(k, d)
        if pad >= k_eff:
            notes.append(ConvNote("reads_only_padding", axis, {"pad": pad, "k_eff": k_eff}))
        elif 2 * pad > k_eff - 1:
            notes.append(ConvNote("output_grows", axis, {"pad": pad, "k_eff": k_eff}))
        if s > k_eff:
            notes.append(ConvNote("skips_input", axis, {"s": s, "k_eff": k_eff}))
        if (n + 2 * pad - k_eff) % s:
            notes.append(ConvNote("drops_cells", axis, {"count": (n + 2 * pad - k_eff) % s}))
    return notes


# ----------------------------------------------------------- receptive field
def receptive_cells(i: int, j: int, k_h: int, k_w: int, pad_h: int = 0, pad_w: int = 0,
                    s_h: int = 1, s_w: int = 1, d_h: int = 1, d_w: int = 1) -> list[tuple[int, int]]:
    """(row, col) cells of the PADDED input read by output cell (i, j), in the
    kernel's row-major order. Padding does not move padded coordinates; it is
    accepted so a page can pass the same settings as to `input_of_output`."""
    return [(i * s_h + a * d_h, j * s_w + b * d_w) for a in range(k_h) for b in range(k_w)]


def input_of_output(i: int, j: int, n_h: int, n_w: int, k_h: int, k_w: int, pad_h: int = 0, pad_w: int = 0,
                    s_h: int = 1, s_w: int = 1, d_h: int = 1, d_w: int = 1) -> list[tuple[int, int, bool]]:
    """The same cells in UNPADDED input coordinates: (row, col, is_padding),
    where padding cells have a row or col outside [0, n)."""
    out = []
    for r, c in receptive_cells(i, j, k_h, k_w, pad_h, pad_w, s_h, s_w, d_h, d_w):
        r, c = r - pad_h, c - pad_w
        out.append((r, c, not (0 <= r < n_h and 0 <= c < n_w)))
    return out


# ----------------------------------------------------------- convolutions
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The book's two-dimensional cross-correlation."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


KERNELS = ("edge_h", "edge_v", "sobel_x", "blur", "identity", "random")


def make_kernel(name: str, k: int = 3, generator: torch.Generator | None = None) -> torch.Tensor:
    """A named 2-D kernel: 'edge_h' the book's [[1, -1]], 'edge_v' [[1], [-1]],
    'sobel_x' (3x3), 'blur' (k x k box), 'identity' (k x k, 1 in the centre; k
    odd), 'random' (k x k standard normal from `generator`)."""
    if name == "edge_h":
        return torch.tensor([[1.0, -1.0]])
    if name == "edge_v":
        return torch.tensor([[1.0], [-1.0]])
    if name == "sobel_x":
        return torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    if name == "blur":
        return torch.full((k, k), 1.0 / (k * k))
    if name == "identity":
        K = torch.zeros((k, k))
        K[k // 2, k // 2] = 1.0
        return K
    if name == "random":
        return torch.randn((k, k), generator=generator)
    raise ValueError(f"unknown kernel {name!r}: choose from {KERNELS}")


def apply_conv(image: torch.Tensor, kernel: str | torch.Tensor = "edge_h", padding=0, stride=1, dilation=1,
               k: int = 3, generator: torch.Generator | None = None) -> torch.Tensor:
    """Run a real F.conv2d of a (H, W) image with a named or given (k_h, k_w)
    kernel; padding is per side, as in nn.Conv2d. Returns the (H', W') output."""
    K = make_kernel(kernel, k, generator) if isinstance(kernel, str) else kernel
    X = image.float()
    Y = F.conv2d(X[None, None], K.to(X)[None, None], padding=padding, stride=stride, dilation=dilation)
    return Y[0, 0]


def test_pattern(n_h: int = 6, n_w: int | None = None, kind: str = "band") -> torch.Tensor:
    """A synthetic (n_h, n_w) image. 'band': ones with a zero band over the
    middle half of the columns (6 x 8 is the book's edge-detection X);
    'square': a centred square of ones on zeros; 'checker': a checkerboard."""
    n_w = n_h if n_w is None else n_w
    if kind == "band":
        X = torch.ones((n_h, n_w))
        X[:, n_w // 4: n_w - n_w // 4] = 0
        return X
    if kind == "square":
        X = torch.zeros((n_h, n_w))
        X[n_h // 4: n_h - n_h // 4, n_w // 4: n_w - n_w // 4] = 1
        return X
    if kind == "checker":
        rows, cols = torch.arange(n_h)[:, None], torch.arange(n_w)[None, :]
        return ((rows + cols) % 2 == 0).float()
    raise ValueError(f"unknown pattern {kind!r}: use 'band', 'square' or 'checker'")


test_pattern.__test__ = False  # not a pytest test


# ----------------------------------------------------------- multiple channels
def corr2d_multi_in(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The book's: cross-correlate each input channel with its kernel, then sum."""
    return sum(corr2d(x, k) for x, k in zip(X, K))


def corr2d_multi_in_out(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The book's: one multi-input correlation per output channel, stacked."""
    return torch.stack([corr2d_multi_in(X, k) for k in K], 0)


def corr2d_multi_in_out_1x1(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """The book's 1x1 convolution as a matrix product."""
    c_i, h, w = X.shape
    c_o = K.shape[0]
    X = X.reshape((c_i, h * w))
    K = K.reshape((c_o, c_i))
    Y = torch.matmul(K, X)
    return Y.reshape((c_o, h, w))


# ----------------------------------------------------------------- pooling
def pool2d(X: torch.Tensor, pool_size: tuple[int, int], mode: str = "max") -> torch.Tensor:
    """The book's pooling: stride 1, no padding."""
    p_h, p_w = pool_size
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            if mode == "max":
                Y[i, j] = X[i: i + p_h, j: j + p_w].max()
            elif mode == "avg":
                Y[i, j] = X[i: i + p_h, j: j + p_w].mean()
    return Y


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def pool_grid(X: torch.Tensor, pool_size, padding=0, stride=None, mode: str = "max"):
    """Pooling of a (H, W) tensor with per-side padding and stride (default:
    the window, as torch's). Returns (output, winners): for 'max', winners[i][j]
    is the (row, col) of the PADDED input holding the maximum (padding is
    -inf, the first maximum in row-major order wins, as in nn.MaxPool2d); for
    'avg', winners is None and padding counts as zeros in the mean
    (count_include_pad=True, torch's default)."""
    if mode not in ("max", "avg"):
        raise ValueError(f"unknown pooling mode {mode!r}: use 'max' or 'avg'")
    (k_h, k_w), (pad_h, pad_w) = _pair(pool_size), _pair(padding)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    fill = float("-inf") if mode == "max" else 0.0
    P = F.pad(X.float(), (pad_w, pad_w, pad_h, pad_h), value=fill)
    o_h, o_w = conv_output_shape(X.shape[0], X.shape[1], k_h, k_w, 2 * pad_h, 2 * pad_w, s_h, s_w)
    Y = torch.zeros((o_h, o_w))
    winners = [[None] * o_w for _ in range(o_h)] if mode == "max" else None
    for i in range(o_h):
        for j in range(o_w):
            window = P[i * s_h: i * s_h + k_h, j * s_w: j * s_w + k_w]
            if mode == "avg":
                Y[i, j] = window.sum() / (k_h * k_w)
                continue
            flat = window.reshape(-1)
            best = int(torch.argmax(flat))  # first maximum
            Y[i, j] = flat[best]
            winners[i][j] = (i * s_h + best // k_w, j * s_w + best % k_w)
    return Y, winners


def _shift_cols(X: torch.Tensor, shift: int) -> torch.Tensor:
    """Move the image `shift` columns to the right (left if negative), repeating the edge column."""
    if shift == 0:
        return X.clone()
    if shift > 0:
        return torch.cat([X[:, :1].expand(-1, shift), X[:, :-shift]], dim=1)
    return torch.cat([X[:, -shift:], X[:, -1:].expand(-1, -shift)], dim=1)


def shift_comparison(X: torch.Tensor | None = None, pool_size=(2, 2), stride=1, shift: int = 1,
                     kernel: str | torch.Tensor = "edge_h", mode: str = "max") -> dict:
    """Pooling's tolerance of small translations.

    Convolves X (default: the book's 6x8 edge image) and X shifted `shift`
    columns with `kernel` (default: the book's [1, -1]), then pools both.
    Returns a dict with the tensors X, X_shifted, conv, conv_shifted, pool,
    pool_shifted and the fractions of cells unchanged, conv_unchanged and
    pool_unchanged."""
    X = test_pattern(6, 8) if X is None else X.float()
    X_shifted = _shift_cols(X, shift)
    conv, conv_shifted = apply_conv(X, kernel), apply_conv(X_shifted, kernel)
    pool, _ = pool_grid(conv, pool_size, 0, stride, mode)
    pool_shifted, _ = pool_grid(conv_shifted, pool_size, 0, stride, mode)
    return {
        "X": X, "X_shifted": X_shifted,
        "conv": conv, "conv_shifted": conv_shifted,
        "pool": pool, "pool_shifted": pool_shifted,
        "conv_unchanged": float((conv == conv_shifted).float().mean()),
        "pool_unchanged": float((pool == pool_shifted).float().mean()),
    }
