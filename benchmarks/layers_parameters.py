"""Layers, modules and parameters (book 6.1-6.5): measured, never asserted.

1. The inspector on each of the book's nets (core.experiments.layers_parameters.NETS):
   parameters, the time to build the net from a generator and to inspect it on
   its sample input (median of 5).
2. The initializers on the book's MLP's first layer (256 × 20), over 10 seeds:
   the measured std and fraction of exact zeros against the theory (normal 0.01;
   PyTorch's default 1/sqrt(3 fan_in); Xavier sqrt(2/(fan_in + fan_out));
   my_init: half zeros, std sqrt((10³ − 5³) / 30) = 5.40).

    python benchmarks/layers_parameters.py [--out benchmarks/layers_parameters_results.md]
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.experiments import layers_parameters as lp  # noqa: E402

THEORY = {
    "default": (1 / math.sqrt(3 * 20), 0.0),
    "normal": (0.01, 0.0),
    "constant": (0.0, 0.0),
    "xavier": (math.sqrt(2 / (20 + 256)), 0.0),
    "my_init": (math.sqrt((10**3 - 5**3) / 30), 0.5),
    "zeros": (0.0, 1.0),
}


def median_time(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def nets_table() -> list[str]:
    rows = ["| net | parameters | output | build (ms) | inspect (ms) |", "|---|---:|---|---:|---:|"]
    for key, entry in lp.NETS.items():
        net, X = lp.build_net(key, seed=0)
        info = lp.inspect(net, X)
        build = median_time(lambda k=key: lp.build_net(k, seed=0))
        look = median_time(lambda n=net, x=X: lp.inspect(n, x))
        rows.append(f"| {entry.label} | {info['total']:,} | {lp.format_shape(info['output'])} | "
                    f"{build * 1e3:.1f} | {look * 1e3:.1f} |")
    return rows


def inits_table(seeds: int = 10) -> list[str]:
    rows = ["| initializer | std (theory) | std measured, median (range) | zeros (theory) | zeros measured, median |",
            "|---|---:|---|---:|---:|"]
    for scheme, (std, zeros) in THEORY.items():
        stds, zs = [], []
        for seed in range(seeds):
            net, _ = lp.build_net("mlp", scheme, seed=seed)
            w = net.hidden.weight.detach().double()
            stds.append(float(w.std(correction=0)))
            zs.append(float((w == 0).double().mean()))
        rows.append(f"| {lp.INITS[scheme].replace('|', chr(92) + '|')} | {std:.4f} | {statistics.median(stds):.4f} "
                    f"({min(stds):.4f}-{max(stds):.4f}) | {zeros:.2f} | {statistics.median(zs):.3f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the tables as markdown here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    text = "\n".join([
        "# Layers, modules and parameters: measured",
        "", f"torch {torch.__version__}, CPU, one thread; load average when measured: "
        f"{os.getloadavg()[0]:.1f} (the times are noisy on a shared machine).", "",
        "## The inspector on the book's nets", "", *nets_table(), "",
        "## Initializers on the MLP's first layer (256 × 20), seeds 0-9", "", *inits_table(), ""])
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
