"""The MLP of book sections 5.1-5.2 on the real Fashion-MNIST at the book's settings
(784-256-10, ReLU, SGD lr 0.1, batch 256, 10 epochs, weights N(0, 0.01^2)), and
the same with sigmoid, tanh and GELU; then the 2-D toy (core.experiments.mlp_toy)
at the page's defaults on both data sets. Prints test accuracy and seconds; the book's
MLP reaches about 0.83-0.85. Measured, never asserted.

    .venv/bin/python benchmarks/mlp_accuracy.py [--epochs 10] [--threads 1] [--activations relu,sigmoid]
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.fashion_mnist import load_fashion_mnist  # noqa: E402
from core.experiments import mlp, mlp_toy  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--activations", default="relu")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), seed {args.seed}")
    for ds in ("moons", "spiral"):
        cfg = mlp_toy.Config(dataset=ds)
        t = mlp_toy.build(cfg, seed=args.seed)
        t0 = time.perf_counter()
        t.advance()
        last = t.history.epochs[-1]
        print(f"toy {ds}: {cfg.num_layers} x {cfg.num_hiddens} {cfg.activation}, lr {cfg.lr}, {cfg.num_epochs} epochs: "
              f"train acc {last['train_metric']:.3f}, test acc {last['test_metric']:.3f}, "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
    data = load_fashion_mnist("cpu")
    print("| activation | epoch | train loss | train acc | test acc | seconds |\n|---|---|---|---|---|---|")
    for act in args.activations.split(","):
        cfg = dataclasses.replace(mlp.BOOK, activation=act, num_epochs=args.epochs)
        t = mlp.build(cfg, data, seed=args.seed)
        t0 = time.perf_counter()
        while not t.done:
            t.advance_epoch()
            e = t.history.epochs[-1]
            print(f"| {act} | {e['epoch']} | {e['train_loss']:.4f} | {e['train_metric']:.4f} | {e['test_metric']:.4f} "
                  f"| {time.perf_counter() - t0:.1f} |", flush=True)


if __name__ == "__main__":
    main()
