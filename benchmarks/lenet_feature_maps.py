"""What the LeNet page's pictures cost its training run: examples/sec of the
book's LeNet (sigmoid, lr 0.9, batch 256) on Fashion-MNIST with and without
the feature-map refresh at the page's cadence (topics/lenet.py:
FEATURE_SECONDS), measured, never asserted.

A refresh is what the worker does for the page between two steps:
`core.experiments.lenet:feature_maps` on one test image (inside the probe)
and pickling its result (what is sent to the web process). The two runs train
from the same seed in alternating blocks of steps, so a machine whose load
changes slows both alike. Also: the cost of one refresh and of one
`misclassified` call (once per epoch) against an epoch's training time.

    .venv/bin/python benchmarks/lenet_feature_maps.py [--blocks 6] [--steps 25] [--threads 1]
        [--out benchmarks/lenet_feature_maps_results.md]
"""
from __future__ import annotations

import argparse
import os
import pickle
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PLAYGROUND_DATA_DIR", str(ROOT.parent / "shared" / "data"))

from core.data.fashion_mnist import load_fashion_mnist  # noqa: E402
from core.experiments import lenet as ln  # noqa: E402

FEATURE_SECONDS = 2.0  # as topics/lenet.py


def refresh(trainer, data) -> int:
    """One picture as the page gets it: computed in the worker, pickled for the web process; its size in bytes."""
    return len(pickle.dumps(ln.feature_maps({"": trainer}, data, index=0)))


def measure(data, *, blocks: int, steps: int, cadence: float) -> dict:
    plain = ln.build(ln.BOOK, data, seed=0)
    pictured = ln.build(ln.BOOK, data, seed=0)
    batch = ln.BOOK.batch_size
    t_plain = t_pictured = 0.0
    refreshes, last = 0, -1e9
    clock = 0.0  # the pictured run's own training time: the cadence runs on it, as on the page while training
    for _ in range(blocks):
        t0 = time.perf_counter()
        plain.advance(max_steps=steps)
        t_plain += time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(steps):
            s0 = time.perf_counter()
            pictured.advance(max_steps=1)
            if clock - last >= cadence:
                refresh(pictured, data)
                refreshes += 1
                last = clock
            clock += time.perf_counter() - s0
        t_pictured += time.perf_counter() - t0
    assert [r["loss"] for r in plain.history.steps] == [r["loss"] for r in pictured.history.steps]  # untouched
    n = blocks * steps * batch
    return {"plain": n / t_plain, "pictured": n / t_pictured, "refreshes": refreshes, "seconds": t_pictured,
            "steps": blocks * steps}


def single_costs(data, repeats: int = 15) -> dict:
    t = ln.build(ln.BOOK, data, seed=0)
    t.advance(max_steps=5)
    sizes, refresh_s, step_s, wrong_s = [], [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sizes.append(refresh(t, data))
        refresh_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        t.advance(max_steps=1)
        step_s.append(time.perf_counter() - t0)
    for _ in range(3):
        t0 = time.perf_counter()
        ln.misclassified({"": t}, data)
        wrong_s.append(time.perf_counter() - t0)
    return {"refresh": statistics.median(refresh_s), "bytes": sizes[-1], "step": statistics.median(step_s),
            "misclassified": statistics.median(wrong_s), "steps_per_epoch": len(t.train)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "lenet_feature_maps_results.md"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_fashion_mnist("cpu", allow_download=False)
    load = os.getloadavg()[0]
    costs = single_costs(data)
    rows = []
    for cadence in (FEATURE_SECONDS, 0.5):
        m = measure(data, blocks=args.blocks, steps=args.steps, cadence=cadence)
        rows.append((cadence, m))
        print(cadence, m, flush=True)
    epoch_s = costs["step"] * costs["steps_per_epoch"]
    lines = [
        "# LeNet page: the cost of the feature-map refresh",
        "",
        f"The book's LeNet (sigmoid, average pooling, lr 0.9, batch 256) on Fashion-MNIST, {args.threads} torch "
        f"thread(s), CPU ({platform.processor() or platform.machine()}), torch {torch.__version__}; load average "
        f"{load:.1f} when it started (the 2-core machine is shared). Two runs from the same seed train in "
        f"alternating blocks of {args.steps} steps ({args.blocks} blocks each); one calls "
        "`core.experiments.lenet:feature_maps` and pickles the result every *cadence* seconds of its training, "
        "as the page's worker does. Both runs' losses stay identical (checked).",
        "",
        "| cadence | steps | refreshes | examples/sec without | with refresh | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for cadence, m in rows:
        page = " (the page)" if cadence == FEATURE_SECONDS else ""
        lines.append(f"| every {cadence:g} s{page} | {m['steps']} | {m['refreshes']} | {m['plain']:,.0f} | "
                     f"{m['pictured']:,.0f} | {m['pictured'] / m['plain']:.3f} |")
    lines += [
        "",
        f"One refresh: {costs['refresh'] * 1000:.1f} ms (median of 15; {costs['bytes'] / 1024:.0f} KB pickled), "
        f"one training step {costs['step'] * 1000:.1f} ms, so at the page's cadence the refresh takes "
        f"{costs['refresh'] / FEATURE_SECONDS:.1%} of the training time ({costs['refresh'] / 0.5:.1%} at 0.5 s). "
        f"The misclassified images (once per epoch, reading the test set 500 at a time until 8 are found): "
        f"{costs['misclassified'] * 1000:.0f} ms against an epoch of about {epoch_s:.0f} s "
        f"({costs['misclassified'] / epoch_s:.2%}).",
        "",
        "Produced by `benchmarks/lenet_feature_maps.py`; measured, never asserted. On a loaded machine the block "
        "ratio is noisy (other processes take the core in bursts): the per-call costs are the steadier figure.",
    ]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
