"""Final test accuracy of the dropout MLP, LeNet and BN-LeNet at the book's settings, trained
with the playground's engine on the real Fashion-MNIST, against the book's.

- dropout MLP (section 5.6): 784-256-256-10, p1 0.2, p2 0.5, SGD lr 0.5;
- LeNet (section 7.6): sigmoid, SGD lr 0.9 (the book's lr for LeNet);
- BN-LeNet (section 8.5): the scratch BatchNorm, SGD lr 1.0;

all with batch 256 for 10 epochs, seed 0. Prints a markdown table (test
accuracy, the book's, the difference, examples/sec) and writes it to --out.
Target: within 0.02 of the book.

    .venv/bin/python benchmarks/fashion_accuracy.py [--epochs 10] [--out benchmarks/fashion_accuracy_results.md]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.fashion_mnist import load_fashion_mnist  # noqa: E402
from core.models.lenet import lenet  # noqa: E402
from core.models.mlp import dropout_mlp  # noqa: E402
from core.train.device import device_label, pick_device  # noqa: E402
from core.train.trainer import Batches, Supervised, Trainer  # noqa: E402

# name, net_fn, lr, the book's test accuracy
MODELS = [
    ("dropout MLP (5.6)", lambda: dropout_mlp(dropout1=0.2, dropout2=0.5), 0.5, 0.84),
    ("LeNet (7.6)", lambda: lenet(None), 0.9, 0.79),
    ("BN-LeNet, scratch BN (8.5)", lambda: lenet("scratch"), 1.0, 0.84),
]
TOLERANCE = 0.02


def train(net_fn, data, lr: float, epochs: int, device) -> Trainer:
    t = Trainer(net_fn, Batches(data.X_train, data.y_train, batch_size=256),
                test=Batches(data.X_test, data.y_test, batch_size=256, shuffle=False),
                objective=Supervised("cross_entropy", accuracy=True), lr=lr, num_epochs=epochs, seed=0,
                device=device)
    t.advance()
    return t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default=None, help="also write the table to this markdown file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    try:
        data = load_fashion_mnist(device, allow_download=False)
    except Exception as err:  # noqa: BLE001 - the comparison needs the real data
        print(f"Fashion-MNIST is not available ({err}); this benchmark needs the real data.")
        return 1
    header = (f"Engine runs at the book's settings on Fashion-MNIST ({len(data.X_train):,} train, "
              f"{len(data.X_test):,} test), {args.epochs} epochs, batch 256, seed 0, device "
              f"{device_label(device)}, {torch.get_num_threads()} torch threads, {platform.processor() or 'cpu'} "
              f"({os.cpu_count()} cores), torch {torch.__version__}.")
    print(header, flush=True)
    rows = ["| model | lr | test acc | book | difference | within 0.02 | train loss | examples/sec | "
            "wall time |", "|---|---|---|---|---|---|---|---|---|"]
    ok_all = True
    for name, make, lr, book in MODELS:
        start = time.perf_counter()
        t = train(make(), data, lr, args.epochs, device)
        wall = time.perf_counter() - start
        last = t.history.epochs[-1]
        acc = last["test_metric"]
        rate = statistics.fmean(e["examples_per_sec"] for e in t.history.epochs if e["examples_per_sec"])
        ok = abs(acc - book) <= TOLERANCE
        ok_all &= ok
        rows.append(f"| {name} | {lr:g} | {acc:.3f} | {book:.2f} | {acc - book:+.3f} | {'yes' if ok else 'NO'} | "
                    f"{last['train_loss']:.3f} | {rate:,.0f} | {wall:.0f} s |")
        print(rows[-1], flush=True)
    table = "\n".join(rows)
    print("\n" + table)
    if args.out:
        Path(args.out).write_text(f"# Fashion-MNIST classifiers: accuracy at the book's settings\n\n"
                                  f"{header}\n\n{table}\n\n"
                                  f"Produced by `benchmarks/fashion_accuracy.py`. The book's numbers: dropout "
                                  f"section 5.6, LeNet section 7.6 (lr 0.9), BN-LeNet section 8.5 (lr 1.0). "
                                  f"Examples/sec counts training steps only (the engine's per-epoch rate), "
                                  f"averaged over the epochs.\n")
    return 0 if ok_all else 2


if __name__ == "__main__":
    sys.exit(main())
