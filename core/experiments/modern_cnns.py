"""The book's modern CNNs (sections 8.1-8.7) on Fashion-MNIST: one net at a
chosen width factor and input size, or two or three of them raced side by side
from the same seed (so the same initial generator states and data order).

The images are resized per minibatch with F.interpolate (core.train.trainer.Resize)
to the book's sizes (224 for AlexNet, VGG and NiN; 96 for GoogLeNet, ResNet and
DenseNet) or a smaller one; LeNet takes the 28x28 images as they are. Each net
trains with the book's learning rate and batch size unless another lr is
chosen: minibatch SGD, cross-entropy, test accuracy each epoch (the book's
train_ch6). At full size these nets need about 0.3 to 15 GFLOPs per example
for a forward pass; on a CPU the defaults are a small width and input so that a
run shows learning within a minute; `cost` says what full size would take.
"""
from __future__ import annotations

import dataclasses

import torch

from core.data.fashion_mnist import FashionMNIST
from core.experiments.schema import Preset, config, setting
from core.models.cnn_zoo import BOOK_BATCH, BOOK_LR, BOOK_SIZE, NETS, make, min_size, zoo
from core.ops.layer_table import TRAIN_FLOPS_PER_FORWARD, Row, layer_table, totals
from core.train.trainer import Batches, Resize, Supervised, Trainer

SIZES = (0, 28, 32, 48, 64, 80, 96, 128, 160, 224)  # 0: the book's size for the net
SIZE_LABELS = {0: "book's", 28: "28 (as is)"}
WIDTHS = (1, 2, 4, 8, 16)
LRS = (0.01, 0.03, 0.05, 0.1, 0.3, 0.9)
EXAMPLES = (1000, 2000, 5000, 10000, 30000, 60000)
FULL_TRAIN = 60000  # the book trains on all of Fashion-MNIST's training images

# The book's printed test accuracies after 10 epochs at full size (shared/book-results.md):
# (0.17.5 English, zh 2.0, 1.0.3 read off its plot ±0.01, the 1.0.3 note)
BOOK_ACC = {
    "lenet": (0.800, 0.779, 0.728),
    "alexnet": (0.882, 0.883, 0.830),
    "vgg": (0.921, 0.920, 0.896),
    "nin": (0.867, 0.790, 0.865),
    "googlenet": (0.887, 0.886, 0.802),
    "resnet": (0.898, 0.893, 0.903),
    "densenet": (0.890, 0.885, 0.893),
}


@config
class Config:
    net: str = setting("resnet", "net", options=tuple(NETS), labels=NETS,
                       help="A change starts a new run; the finished one stays drawn for comparison.")
    width: int = setting(8, "width factor (channels ÷)", options=WIDTHS,
                         help="Every channel count and hidden width divided by this factor; 1 is the book's full "
                              "size. Not applied to LeNet.")
    resize: int = setting(32, "input size (px)", options=SIZES, labels=SIZE_LABELS,
                          help="Images are resized per minibatch to this size. The book's: 224 for AlexNet, VGG and "
                               "NiN, 96 for GoogLeNet, ResNet and DenseNet. LeNet always takes 28.")
    num_train: int = setting(10000, "training images per epoch", options=EXAMPLES,
                             help="The first N of Fashion-MNIST's 60,000 training images (the book uses all).")
    num_test: int = setting(10000, "test images evaluated per epoch", options=(1000, 2000, 5000, 10000),
                            help="The first N of the 10,000 test images (the book uses all). Fewer: a faster "
                                 "epoch on a CPU, a noisier accuracy.")
    num_epochs: int = setting(5, "epochs", min=1, max=20, live=True)
    book_lr: bool = setting(True, "the book's learning rate for each net",
                            help="AlexNet 0.01, VGG 0.05, NiN 0.1, GoogLeNet 0.1, ResNet 0.05, DenseNet 0.1, "
                                 "LeNet 0.9. Off: the lr below for every net.")
    lr: float = setting(0.05, "learning rate η (when not the book's)", options=LRS)
    batch_size: int = setting(64, "batch size", options=(0, 32, 64, 128, 256), labels={0: "the book's (128 or 256)"},
                              help="The book's is 128 or 256 per net. On a CPU run of a few thousand images, 64 "
                                   "gives more steps per epoch: the batch-norm nets' test accuracy settles sooner.")


BOOK = Config()
FULL = dataclasses.replace(BOOK, width=1, resize=0, num_train=FULL_TRAIN, num_epochs=10,
                           batch_size=0)  # the book's runs

PRESETS = [
    Preset("Race: LeNet, ResNet-18, DenseNet", {"LeNet": {"net": "lenet"}, "ResNet-18": {"net": "resnet"},
                                                 "DenseNet": {"net": "densenet"}}),
    Preset("Race: GoogLeNet, ResNet-18", {"GoogLeNet": {"net": "googlenet"}, "ResNet-18": {"net": "resnet"}}),
    Preset("Race: AlexNet, VGG-11, NiN", {"AlexNet": {"net": "alexnet"}, "VGG-11": {"net": "vgg"},
                                          "NiN": {"net": "nin"}}),
]


def input_size(cfg) -> int:
    """The size the net is trained at: 28 for LeNet; the book's for resize 0;
    else the chosen size raised to the net's smallest (see `size_raised`)."""
    if cfg.net == "lenet":
        return 28
    if cfg.resize == 0:
        return BOOK_SIZE[cfg.net]
    return max(cfg.resize, min_size(cfg.net))


def size_raised(cfg) -> bool:
    """True when the chosen size is below what the net accepts (AlexNet 65, NiN 67)."""
    return cfg.net != "lenet" and cfg.resize != 0 and cfg.resize < min_size(cfg.net)


def learning_rate(cfg) -> float:
    return BOOK_LR[cfg.net] if cfg.book_lr else cfg.lr


def batch_size(cfg) -> int:
    return cfg.batch_size or BOOK_BATCH[cfg.net]


def width(cfg) -> int:
    return 1 if cfg.net == "lenet" else cfg.width


def build(cfg: Config, data: FashionMNIST, *, seed: int = 0, device="cpu") -> Trainer:
    size = input_size(cfg)
    resize = Resize(size) if size != data.X_train.shape[-1] else None
    bs = batch_size(cfg)
    n, m = min(cfg.num_train, len(data.X_train)), min(cfg.num_test, len(data.X_test))
    return Trainer(zoo(cfg.net, width(cfg), size),
                   Batches(data.X_train[:n], data.y_train[:n], batch_size=bs, transform=resize),
                   test=Batches(data.X_test[:m], data.y_test[:m], batch_size=bs, shuffle=False, transform=resize),
                   objective=Supervised("cross_entropy", accuracy=True), lr=learning_rate(cfg),
                   num_epochs=cfg.num_epochs, seed=seed, device=device)


# ------------------------------------------------------------ what the page shows
def table(net: str, width: int = 1, size: int | None = None, depth: int = 1) -> list[Row]:
    """The layer table of `net` at `width` for `size` x `size` inputs (the
    book's size when None), on the meta device: shapes, parameters and FLOPs
    without allocating a single weight, so a full-size VGG costs nothing."""
    size = 28 if net == "lenet" else size or BOOK_SIZE[net]
    with torch.device("meta"):
        model = make(net, 1 if net == "lenet" else width, size, gen=None)
    return layer_table(model, (1, 1, size, size), depth=depth)


def cost(cfg, examples_per_sec: float | None = None) -> dict:
    """What the chosen run and the book's full-size run of the same net cost:
    forward FLOPs per example (2 x multiply-adds), parameters, training FLOPs
    per epoch (3 x forward, on the chosen and on all 60,000 images) and, given
    the run's measured examples per second, the FLOP/s it reached and the
    seconds one full-size epoch would take at that rate."""
    size, full = input_size(cfg), BOOK_SIZE[cfg.net]
    now = totals(table(cfg.net, width(cfg), size))
    book = totals(table(cfg.net, 1, full))
    out = {"size": size, "width": width(cfg), "flops": now["flops"], "params": now["params"],
           "full_size": full, "full_flops": book["flops"], "full_params": book["params"],
           "epoch_flops": TRAIN_FLOPS_PER_FORWARD * now["flops"] * cfg.num_train,
           "full_epoch_flops": TRAIN_FLOPS_PER_FORWARD * book["flops"] * FULL_TRAIN,
           "flops_per_sec": None, "full_epoch_seconds": None}
    if examples_per_sec:
        rate = examples_per_sec * TRAIN_FLOPS_PER_FORWARD * now["flops"]
        out["flops_per_sec"] = rate
        out["full_epoch_seconds"] = out["full_epoch_flops"] / rate
    return out


def epoch_seconds(records: list[dict]) -> list[float]:
    """Seconds each epoch took (its training steps and its evaluation), from
    the trainer's cumulative `elapsed` of each epoch record."""
    out, before = [], 0.0
    for r in records:
        out.append(r["elapsed"] - before)
        before = r["elapsed"]
    return out


def timeline(trainers) -> dict:
    """The page's race view (called in the run's worker between two steps; it
    only reads the records): per trainer, epoch, cumulative seconds, seconds
    per epoch, test accuracy and training examples per second."""
    out = {}
    for name, t in trainers.items():
        recs = t.history.epochs
        out[name] = {"epoch": [r["epoch"] for r in recs], "elapsed": [r["elapsed"] for r in recs],
                     "epoch_seconds": epoch_seconds(recs), "test_metric": [r["test_metric"] for r in recs],
                     "examples_per_sec": [r["examples_per_sec"] for r in recs]}
    return out
