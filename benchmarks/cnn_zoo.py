"""The modern CNNs on this machine: LeNet and scaled modern nets trained on
Fashion-MNIST at stated settings (test accuracy, training examples per
second), and each full-size net's time per training example measured on a few
small batches, extrapolated to one epoch of 60,000 images.

Measured, never asserted. Real Fashion-MNIST (PLAYGROUND_DATA_DIR, default
../shared/data, or Debian's package); seed 0; one torch thread unless --threads.

    .venv/bin/python benchmarks/cnn_zoo.py [--epochs 5] [--num-train 10000] [--threads 1]
        [--out benchmarks/cnn_zoo_results.md]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PLAYGROUND_DATA_DIR", str(ROOT.parent / "shared" / "data"))

from core.data.fashion_mnist import load_fashion_mnist  # noqa: E402
from core.experiments import modern_cnns as mc  # noqa: E402
from core.models.cnn_zoo import BOOK_SIZE, NETS, make  # noqa: E402
from core.ops.layer_table import TRAIN_FLOPS_PER_FORWARD, totals  # noqa: E402

SCALED = [("lenet", 1, 28), ("resnet", 8, 32), ("densenet", 8, 32), ("alexnet", 8, 80)]
FULL_BATCH = 8  # examples per timed full-size step (a whole book batch of VGG would take minutes here)


def train_scaled(data, net: str, width: int, size: int, epochs: int, num_train: int) -> dict:
    cfg = dataclasses.replace(mc.BOOK, net=net, width=width, resize=size, num_train=num_train, num_epochs=epochs)
    t = mc.build(cfg, data, seed=0)
    start = time.perf_counter()
    t.advance()
    wall = time.perf_counter() - start
    last = t.history.epochs[-1]
    return {"net": NETS[net].split(" (")[0], "width": mc.width(cfg), "size": mc.input_size(cfg),
            "lr": mc.learning_rate(cfg), "batch": mc.batch_size(cfg), "acc": last["test_metric"],
            "ex_per_sec": sum(r["examples_per_sec"] for r in t.history.epochs) / len(t.history.epochs),
            "wall": wall, "flops": totals(mc.table(net, mc.width(cfg), mc.input_size(cfg)))["flops"]}


def time_full_size(net: str, steps: int = 2) -> dict:
    """Seconds per training example of the full-size net (forward, backward,
    SGD step on FULL_BATCH random 1-channel images at the book's size), the
    median of `steps` timed steps after one warm-up step."""
    size = BOOK_SIZE[net]
    model = make(net, 1, size, torch.Generator().manual_seed(0))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    g = torch.Generator().manual_seed(1)
    X = torch.rand(FULL_BATCH, 1, size, size, generator=g)
    y = torch.randint(0, 10, (FULL_BATCH,), generator=g)
    times = []
    for i in range(steps + 1):
        start = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - start)
    per_example = sorted(times)[len(times) // 2] / FULL_BATCH
    flops = totals(mc.table(net, 1, size))["flops"]
    return {"net": NETS[net].split(" (")[0], "size": size, "flops": flops, "per_example": per_example,
            "epoch": per_example * mc.FULL_TRAIN, "rate": TRAIN_FLOPS_PER_FORWARD * flops / per_example}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--num-train", type=int, default=10000, choices=mc.EXAMPLES)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--full", default="lenet,alexnet,vgg,nin,googlenet,resnet,densenet")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "cnn_zoo_results.md"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_fashion_mnist("cpu", allow_download=False)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "# Modern CNNs on this machine",
        "",
        f"`benchmarks/cnn_zoo.py`, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {args.threads} thread(s), seed 0; load average {load:.1f} at the start "
        "(the machine was shared: the times are upper bounds).",
        "",
        f"## Scaled nets: {args.num_train:,} training images, all 10,000 test images, {args.epochs} epochs",
        "",
        "The page's CPU settings. The book's learning rate and batch size for each net; width divides every "
        "channel count and hidden width. The book's figures are for full size, all 60,000 images, 10 epochs.",
        "",
        "| net | width | input | lr | batch | forward FLOPs / image | test acc | book (full size) | "
        "train images/s | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for net, width, size in SCALED:
        r = train_scaled(data, net, width, size, args.epochs, args.num_train)
        book = mc.BOOK_ACC[net][0]
        lines.append(f"| {r['net']} | {r['width']} | {r['size']} | {r['lr']:g} | {r['batch']} | "
                     f"{r['flops'] / 1e6:.2f} M | {r['acc']:.3f} | {book:.3f} | {r['ex_per_sec']:,.0f} | "
                     f"{r['wall']:.0f} |")
        print(lines[-1], flush=True)
    lines += [
        "",
        f"## Full size: seconds per training example, measured on batches of {FULL_BATCH}",
        "",
        "Forward, backward and an SGD step on random 1-channel images at the book's size and width 1, the "
        "median of two steps after a warm-up; one epoch extrapolated to 60,000 images (evaluation not counted). "
        "The book's batches (128 or 256) would run at a somewhat higher rate.",
        "",
        "| net | input | forward FLOPs / image | s / image (train) | one epoch, extrapolated | "
        "training FLOP/s reached |",
        "|---|---|---|---|---|---|",
    ]
    for net in args.full.split(","):
        r = time_full_size(net)
        lines.append(f"| {r['net']} | {r['size']} | {r['flops'] / 1e9:.3f} G | {r['per_example']:.4f} | "
                     f"{r['epoch'] / 3600:.1f} h | {r['rate'] / 1e9:.1f} G |")
        print(lines[-1], flush=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
