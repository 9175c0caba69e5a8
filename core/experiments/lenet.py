"""LeNet (book section 7.6) on Fashion-MNIST, and what the page draws of it
while it learns: every layer's output for one image, the learned C1 kernels,
how one cell of a feature map is computed, and the misclassified test images.

The book's net: C1 conv 5x5 (6 channels, padding 2) -> sigmoid -> S2 2x2
average pooling -> C3 conv 5x5 (16 channels) -> sigmoid -> S4 2x2 average
pooling -> F5 dense 120 -> sigmoid -> F6 dense 84 -> sigmoid -> 10 outputs,
Xavier-uniform weights (the book's init_cnn), minibatch SGD with lr 0.9 and
batch 256 for 10 epochs. The model is core.models.lenet.lenet; the "modern
LeNet" keeps it and swaps in ReLU and max pooling.

The pictures are computed here, in the run's worker between two steps, inside
`Trainer.probe` (eval mode, no gradients, every generator and buffer put back),
so drawing them never changes what the run does.
"""
from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.data.fashion_mnist import FashionMNIST
from core.experiments.classifier import classifier
from core.experiments.schema import Preset, config, setting
from core.models.lenet import lenet
from core.train.trainer import Trainer

LRS = (0.01, 0.03, 0.1, 0.3, 0.5, 0.9, 1.0, 2.0, 3.0, 5.0, 10.0)
MODERN_LR = 0.1  # what the page suggests for ReLU and max pooling


@config
class Config:
    """The book's settings (section 7.6): sigmoid, average pooling, lr 0.9, batch 256, 10 epochs."""

    lr: float = setting(0.9, "lr (learning rate η)", options=LRS, live=True,
                        help="Takes effect at the next minibatch. The book's sigmoid LeNet uses 0.9; for the "
                             f"modern LeNet (ReLU, max pooling) try {MODERN_LR:g}: at 0.9 it often diverges.")
    modern: bool = setting(False, "modern LeNet (ReLU and max pooling)",
                           help="Off: the book's 1998-style LeNet (sigmoid, average pooling). On: ReLU after each "
                                "layer and 2x2 max pooling; same shapes, same number of parameters. "
                                f"Use a smaller lr, e.g. {MODERN_LR:g}. A change starts a new run.")
    num_epochs: int = setting(10, "num_epochs", min=1, max=30, live=True)
    batch_size: int = 256


BOOK = Config()
# The book's test accuracy after 10 epochs (section 7.6, lr 0.9, batch 256): 0.800 in
# the 0.17.5 edition, 0.779 in zh 2.0 (/work/shared/book-results.md).
BOOK_ACCURACY = (0.779, 0.800)
PRESETS = [Preset(f"Compare the book's LeNet (lr {BOOK.lr:g}) with the modern one (lr {MODERN_LR:g})",
                  {"book": {"modern": False, "lr": BOOK.lr}, "modern": {"modern": True, "lr": MODERN_LR}})]

# The book's layer names and the modules whose outputs they are.
FEATURE_LAYERS = {"C1": "act1", "S2": "pool1", "C3": "act2", "S4": "pool2", "F5": "act3", "F6": "act4",
                  "output": "fc3"}
SHAPES = {"C1": (6, 28, 28), "S2": (6, 14, 14), "C3": (16, 10, 10), "S4": (16, 5, 5), "F5": (120,),
          "F6": (84,), "output": (10,)}
# A convolution layer's input (its module's input) for the sliding-kernel view.
CONVS = {"C1": {"conv": "conv1", "input": "image", "padding": 2},
         "C3": {"conv": "conv2", "input": "S2", "padding": 0}}
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_PIXELS = 40_000_000  # a small file that decodes to more is a decompression bomb


def lenet_net(modern: bool = False):
    """net_fn(gen) of the book's LeNet, or with ReLU and 2x2 max pooling
    (same layer names and shapes, same initial weights from one seed)."""
    base = lenet(None, activation="relu" if modern else "sigmoid")
    if not modern:
        return base

    def net_fn(gen: torch.Generator) -> nn.Sequential:
        net = base(gen)
        net.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)  # replaced in place: the order stays
        net.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        return net

    return net_fn


def build(cfg: Config, data: FashionMNIST, *, seed: int = 0, device="cpu") -> Trainer:
    return classifier(lenet_net(cfg.modern), data, lr=cfg.lr, num_epochs=cfg.num_epochs,
                      batch_size=cfg.batch_size, seed=seed, device=device)


def parameter_counts(net: nn.Module) -> dict[str, int]:
    """Learned numbers per layer that has any (weights and biases), by module name."""
    return {name: sum(p.numel() for p in m.parameters()) for name, m in net.named_children()
            if any(True for _ in m.parameters())}


# ------------------------------------------------------------------ pictures
def activation_of(net: nn.Module) -> str:
    """'sigmoid' or 'relu': the activation after the convolutions."""
    return "relu" if isinstance(net.act1, nn.ReLU) else "sigmoid"


def forward_maps(net: nn.Module, x: torch.Tensor, *, generators: Sequence[torch.Generator] = ()) -> dict:
    """One image x (1, 28, 28) or (1, 1, 28, 28) through `net` in eval mode
    (core.train.probe: nothing about the net changes): every book layer's
    output (C1 ... F6 as float32 arrays without the batch axis, the output's
    logits and softmax), the convolutions' pre-activations (z1, z2), and the
    C1 and C3 weights and biases."""
    from core.train.probe import probe

    x = x.reshape(1, 1, 28, 28).to(next(net.parameters()).device, torch.float32)
    names = [*FEATURE_LAYERS.values(), "conv1", "conv2"]
    with probe(net, train=False, capture=names, generators=generators) as p:
        logits = net(x)
    maps = {book: p.outputs[module][0].float().cpu().numpy() for book, module in FEATURE_LAYERS.items()}
    o = logits[0].double().cpu()
    return {
        "image": x[0, 0].float().cpu().numpy(), "maps": maps, "logits": o.tolist(),
        "probs": torch.softmax(o, 0).tolist(), "predicted": int(o.argmax()),
        "z": {"C1": p.outputs["conv1"][0].float().cpu().numpy(), "C3": p.outputs["conv2"][0].float().cpu().numpy()},
        "weights": {"C1": net.conv1.weight.detach().float().cpu().numpy(),
                    "C3": net.conv2.weight.detach().float().cpu().numpy()},
        "bias": {"C1": net.conv1.bias.detach().float().cpu().numpy(),
                 "C3": net.conv2.bias.detach().float().cpu().numpy()},
        "activation": activation_of(net), "pooling": "max" if isinstance(net.pool1, nn.MaxPool2d) else "avg",
    }


def feature_maps(trainers: Mapping[str, Trainer], data: FashionMNIST, *, index: int = 0,
                 image: Sequence[float] | None = None) -> dict:
    """The page's view (in the run's worker, between two steps): test image
    `index`, or `image` (784 values in [0, 1], an upload), through the first
    run's net; see `forward_maps`. `label` is the test image's class (None for
    an upload)."""
    name, t = next(iter(trainers.items()))
    if image is not None:
        x, label = torch.tensor(image, dtype=torch.float32), None
    else:
        index = int(min(max(index, 0), len(data.X_test) - 1))
        x, label = data.X_test[index], int(data.y_test[index])
    out = forward_maps(t.net, x, generators=(t.gen_init, t.gen_data, t.gen_noise))
    return {**out, "name": name, "step": t.step, "epoch": t.epoch, "index": index, "label": label}


def conv_input(seen: Mapping, layer: str) -> np.ndarray:
    """The input (channels, h, w) of convolution layer `layer` ('C1' or 'C3') in `seen` (forward_maps)."""
    source = CONVS[layer]["input"]
    return seen["image"][None] if source == "image" else seen["maps"][source]


def conv_cell(X: torch.Tensor | np.ndarray, weight, bias, *, channel: int, row: int, col: int, padding: int = 0,
              activation: str = "sigmoid") -> dict:
    """How output cell (row, col) of feature map `channel` is computed, as the
    book's corr2d summed over the input channels: X (C_in, h, w) is padded with
    zeros, the k x k window at (row, col) of every input channel is multiplied
    elementwise by that channel's kernel weight[channel, c], the products are
    summed (per input channel, then over channels), the bias added (z), and
    the activation applied. Returns the window (C_in, k, k) with the cells of
    the padding marked, the kernels, the products, the sums, z and the value."""
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    W = torch.as_tensor(np.asarray(weight), dtype=torch.float32)[channel]
    b = float(np.asarray(bias)[channel])
    k = W.shape[-1]
    h, w = X.shape[-2:]
    rows, cols = h + 2 * padding - k + 1, w + 2 * padding - k + 1
    if not (0 <= row < rows and 0 <= col < cols):
        raise ValueError(f"cell ({row}, {col}) is outside the {rows}x{cols} feature map")
    Xp = F.pad(X, (padding,) * 4)
    window = Xp[:, row:row + k, col:col + k]
    is_pad = torch.ones(h + 2 * padding, w + 2 * padding, dtype=torch.bool)
    is_pad[padding:padding + h, padding:padding + w] = False
    products = window * W
    per_channel = products.sum(dim=(1, 2))
    z = float(per_channel.sum()) + b
    value = float(torch.sigmoid(torch.tensor(z))) if activation == "sigmoid" else max(z, 0.0)
    return {"window": window.numpy(), "padding": is_pad[row:row + k, col:col + k].numpy(), "kernel": W.numpy(),
            "products": products.numpy(), "per_channel": per_channel.tolist(), "sum": float(per_channel.sum()),
            "bias": b, "z": z, "value": value, "activation": activation, "shape": (rows, cols),
            "top_left": (row - padding, col - padding), "size": k}


def step_cell(row: int, col: int, shape: tuple[int, int], direction: int = 1) -> tuple[int, int]:
    """The next (direction 1) or previous (-1) output cell along the row,
    wrapping to the next or previous row, and from the last cell to the first."""
    rows, cols = shape
    i = (row * cols + col + direction) % (rows * cols)
    return divmod(i, cols)


@torch.no_grad()
def misclassified(trainers: Mapping[str, Trainer], data: FashionMNIST, *, n: int = 8, batch: int = 500) -> dict:
    """The page's per-epoch view: the first `n` misclassified test images of
    the first run's net as it is now (eval mode, through the probe), in the
    test set's order, with their true and predicted classes and the
    probability given to the prediction. The test set is read `batch` images
    at a time until `n` are found (about 40 images at 80% accuracy), so this
    costs a fraction of the epoch's own test pass; `checked` says how many
    were read, `num_wrong` and `accuracy` are over those."""
    name, t = next(iter(trainers.items()))
    X, y = data.X_test, data.y_test.cpu()
    parts: list[torch.Tensor] = []
    with t.probe(train=False):
        for i in range(0, len(X), batch):
            parts.append(t.net(X[i:i + batch].to(t.device)).cpu())
            if int((torch.cat(parts).argmax(1) != y[:i + len(parts[-1])]).sum()) >= n:
                break
    logits = torch.cat(parts) if parts else torch.zeros(0, 10)
    checked = len(logits)
    pred = logits.argmax(1)
    is_wrong = pred != y[:checked]
    wrong = torch.nonzero(is_wrong).reshape(-1)[:n]
    p = torch.softmax(logits[wrong].double(), 1)
    return {"name": name, "step": t.step, "epoch": t.epoch, "checked": checked,
            "accuracy": float((~is_wrong).double().mean()) if checked else float("nan"),
            "num_wrong": int(is_wrong.sum()), "wrong": wrong.tolist(),
            "images": X[wrong].reshape(len(wrong), 28, 28).cpu().numpy(), "true": y[wrong].tolist(),
            "predicted": pred[wrong].tolist(), "prob": p[torch.arange(len(wrong)), pred[wrong]].tolist()}


# ------------------------------------------------------------------ uploads
class ImageUploadError(ValueError):
    """An uploaded picture that cannot be used: `code` is one of empty,
    too_large (size, limit), not_an_image, too_many_pixels (pixels, limit);
    `details` holds the numbers (the page words them)."""

    def __init__(self, code: str, **details):
        self.code, self.details = code, details
        super().__init__(code + "".join(f" {k}={v}" for k, v in details.items()))


def image_from_upload(raw: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES) -> dict:
    """A PNG or JPEG as the net's input: decoded with Pillow, made grayscale,
    resized to 28x28 with F.interpolate (bilinear, antialiased), values in
    [0, 1]. Fashion-MNIST shows a light item on black: a picture whose border
    is mostly light (a photo on white) is inverted, and `inverted` says so.
    Returns {"image": (28, 28) float32 array, "inverted", "size": (w, h)}."""
    from PIL import Image, UnidentifiedImageError

    if not raw:
        raise ImageUploadError("empty")
    if len(raw) > max_bytes:
        raise ImageUploadError("too_large", size=len(raw), limit=max_bytes)
    try:
        with Image.open(io.BytesIO(raw)) as img:
            if img.format not in ("PNG", "JPEG"):
                raise ImageUploadError("not_an_image")
            pixels = img.width * img.height
            if pixels > MAX_UPLOAD_PIXELS:
                raise ImageUploadError("too_many_pixels", pixels=pixels, limit=MAX_UPLOAD_PIXELS)
            size = img.size
            gray = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    except ImageUploadError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise ImageUploadError("not_an_image") from err
    x = torch.from_numpy(gray)[None, None]
    x = F.interpolate(x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)[0, 0].clamp(0, 1)
    border = torch.cat([x[0], x[-1], x[1:-1, 0], x[1:-1, -1]])
    inverted = bool(border.mean() > 0.5)
    if inverted:
        x = 1.0 - x
    return {"image": x.numpy(), "inverted": inverted, "size": size}
