"""What stepping by phases costs: a step run as forward / backward / update with
core.train.phases' summaries against the same step run whole, and the size of
what each phase sends to the page.

For the three pages that step by phases (linear regression at the book's
settings, the book's MLP on Fashion-MNIST, the book's LeNet), each run first
trains --warmup whole steps, then alternates: one whole step (`Trainer.advance`)
and one step by phases (`run_phase` three times), --repeats of each. The table
gives the median milliseconds of each, their ratio, and the bytes each phase's
summary takes pickled (what crosses from the worker to the web process). At the
end the two runs are compared: a run stepped by phases only ends bit for bit as
the run advanced whole (its parameters, printed as "identical").

    .venv/bin/python benchmarks/phases.py [--repeats 20] [--warmup 3] [--out benchmarks/phases_results.md]
"""
from __future__ import annotations

import argparse
import os
import pickle
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.experiments import lenet, linear_regression, mlp  # noqa: E402
from core.train.phases import run_phase  # noqa: E402


def fashion():
    from core.data.fashion_mnist import load_fashion_mnist

    return load_fashion_mnist(allow_download=False)


def cases(data):
    return [
        ("linear regression (batch 10)", lambda: linear_regression.build(linear_regression.BOOK, seed=0)),
        ("MLP 784-256-10 (batch 256)", lambda: mlp.build(replace(mlp.BOOK, num_epochs=100), data, seed=0)),
        ("LeNet (batch 256)", lambda: lenet.build(replace(lenet.BOOK, num_epochs=100), data, seed=0)),
    ]


def measure(name, build, repeats: int, warmup: int) -> dict:
    whole, phased = build(), build()
    whole.advance(max_steps=warmup)
    for _ in range(warmup):
        for _ in range(3):
            run_phase(phased)
    t_whole, t_phases, sizes = [], [], {"forward": [], "backward": [], "update": []}
    for _ in range(repeats):
        t0 = time.perf_counter()
        whole.advance(max_steps=1)
        t_whole.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        outs = [run_phase(phased) for _ in range(3)]
        t_phases.append(time.perf_counter() - t0)
        for out in outs:
            sizes[out["phase"]].append(len(pickle.dumps(out)))
    same = all(torch.equal(a, b) for a, b in zip(whole.net.state_dict().values(), phased.net.state_dict().values()))
    w, p = statistics.median(t_whole) * 1000, statistics.median(t_phases) * 1000
    return {"case": name, "whole_ms": w, "phases_ms": p, "ratio": p / w,
            **{f"{k}_kb": statistics.median(v) / 1024 for k, v in sizes.items()}, "identical": same}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    data = fashion()
    rows = [measure(name, build, args.repeats, args.warmup) for name, build in cases(data)]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [f"torch {torch.__version__}, {platform.machine()}, 1 thread, load average {load:.1f} when done; "
             f"median of {args.repeats}", "",
             "| case | whole step (ms) | by phases (ms) | ratio | forward (KB) | backward (KB) | update (KB) | "
             "phased run = whole run |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['whole_ms']:.2f} | {r['phases_ms']:.2f} | {r['ratio']:.2f} | "
                     f"{r['forward_kb']:.1f} | {r['backward_kb']:.1f} | {r['update_kb']:.1f} | "
                     f"{'identical' if r['identical'] else 'DIFFERENT'} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
