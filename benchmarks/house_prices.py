"""k-fold log RMSE on Kaggle's house prices at the book's settings (section 5.7:
5 folds, 100 epochs, Adam lr 5, weight decay 0, batch 64, MSE loss), trained
with the playground's Trainer (core.experiments.house_prices.build), against
the book's printed average (0.17.5: train 0.1656, valid 0.1705; zh 0.1703).
Also the MLP the page offers, and the final model on all the training data.
Prints a markdown table and writes it to --out. Measured, never asserted.

    .venv/bin/python benchmarks/house_prices.py [--seeds 0 1 2] [--out benchmarks/house_prices_results.md]
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.experiments import house_prices as hp  # noqa: E402


def cross_validate(cfg, data, seed: int) -> dict:
    t0 = time.perf_counter()
    train, valid = [], []
    for i in range(cfg.k):
        t = hp.build(replace(cfg, fold=i), data, seed=seed)
        t.advance()
        last = t.history.epochs[-1]
        train.append(last["train_metric"])
        valid.append(last["test_metric"])
    final = hp.build(replace(cfg, fold=hp.ALL), data, seed=seed)
    final.advance()
    return {"train": statistics.fmean(train), "valid": statistics.fmean(valid), "folds": valid,
            "final": final.history.epochs[-1]["train_metric"], "seconds": time.perf_counter() - t0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = hp.load_data(allow_download=False)
    cases = [("linear, the book's settings", hp.BOOK), ("MLP (64 hidden), lr 5", replace(hp.BOOK, model="mlp"))]
    lines = [f"House prices, {hp.BOOK.k}-fold, {hp.BOOK.num_epochs} epochs, batch {hp.BOOK.batch_size}, CPU "
             f"({platform.processor() or platform.machine()}, {args.threads} thread), torch {torch.__version__}",
             "",
             "| model | seed | avg train log RMSE | avg valid log RMSE | folds' valid | final model train | seconds |",
             "|---|---|---|---|---|---|---|"]
    for label, cfg in cases:
        for seed in args.seeds:
            r = cross_validate(cfg, data, seed)
            lines.append(f"| {label} | {seed} | {r['train']:.4f} | {r['valid']:.4f} | "
                         f"{', '.join(f'{v:.3f}' for v in r['folds'])} | {r['final']:.4f} | {r['seconds']:.1f} |")
            print(lines[-1], flush=True)
    lines += ["", f"The book (0.17.5): avg train {hp.BOOK_TRAIN}, avg valid {hp.BOOK_VALID['0.17.5']} "
                  f"(zh {hp.BOOK_VALID['zh']})."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
