"""A run trained by a LocalExecutor's worker, seen through polls, versus the bare Trainer.

The book's dropout MLP (784-256-256-10, p1 = 0.2, p2 = 0.5, SGD lr 0.5, batch
256) on Fashion-MNIST (the real files when they can be found, else the stand-in),
the same epochs both ways, same thread count:

- bare: `dropout.build(...)` in this process and one `Trainer.advance()`;
- executor: the same RunSpec in a worker (the data named by a DataRef, so the
  worker reads it itself), built first, then timed from `start()` until a poll
  says finished; the page side polls every `--poll` seconds (default 0.02, so
  the end is seen within 20 ms: at a page's 0.3 s the wait for the last poll
  alone costs ~4 % of a 3.5 s run) and keeps every record, as a page would.

Examples/sec = epochs * training examples / wall seconds (evaluation on the
test set after every epoch is inside both). The two alternate, and the ratio
is given best to best and as the median of the pairs' ratios: on a shared
machine one slow run says more about the neighbours than about the executor. Then: how long a queued run waits
after the run holding the only slot is closed (a one-worker executor).
Measured, never asserted; both runs give the same losses bit for bit.

    python benchmarks/executor_vs_trainer.py [--epochs 2] [--repeats 5] [--threads 1] [--poll 0.02]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.experiments import dropout, weight_decay  # noqa: E402
from core.train.local_executor import LocalExecutor  # noqa: E402
from core.train.runs import DataRef, RunSpec  # noqa: E402

REAL = DataRef("core.data.fashion_mnist:load_fashion_mnist", (("allow_download", False),))
STAND_IN = DataRef("core.data.fashion_mnist:stand_in_fashion_mnist")


def data_ref() -> tuple[DataRef, str]:
    try:
        REAL.load()
        return REAL, "Fashion-MNIST"
    except Exception as err:  # noqa: BLE001 - any reason: the stand-in
        print(f"(Fashion-MNIST not available: {err}; using the stand-in)")
        return STAND_IN, "stand-in (6,000 images)"


def bare(spec: RunSpec) -> tuple[float, list[float]]:
    t = dropout.build(spec.cfg, spec.data.load(), seed=spec.seed)
    start = time.perf_counter()
    t.advance()
    return time.perf_counter() - start, [r["loss"] for r in t.history.steps]


def through_executor(ex: LocalExecutor, spec: RunSpec, poll_every: float) -> tuple[float, list[float], int]:
    h = ex.open(spec)
    while h.poll(0).state == "building":
        time.sleep(0.05)
    cursor, losses, polls = 0, [], 0
    start = time.perf_counter()
    h.start()
    while True:
        p = h.poll(cursor)
        polls += 1
        cursor = p.cursor
        losses += p.losses()
        if p.state == "finished":
            break
        time.sleep(poll_every)
    took = time.perf_counter() - start
    h.close()
    return took, losses, polls


def slot_handover(ex: LocalExecutor, repeats: int) -> list[float]:
    """Seconds from closing the run that holds the only slot to a poll of the
    next one in line saying running (polled every millisecond)."""
    spec = RunSpec("weight_decay", weight_decay.BOOK, seed=0)
    out = []
    for i in range(repeats):
        a, b = ex.open(spec, group=f"a{i}"), ex.open(spec, group=f"b{i}")
        a.set_live({"num_epochs": 10**6})
        b.set_live({"num_epochs": 10**6})
        a.start()
        b.start()
        while b.poll(0).state != "queued" or a.poll(0).state != "running":
            time.sleep(0.01)
        start = time.perf_counter()
        a.close()
        while b.poll(0).state != "running":
            time.sleep(0.001)
        out.append(time.perf_counter() - start)
        b.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--poll", type=float, default=0.02, help="seconds between the page side's polls")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    ref, label = data_ref()
    n = ref.load().X_train.shape[0]
    spec = RunSpec("dropout", dropout.Config(num_epochs=args.epochs), data=ref)
    print(f"{label}: {n:,} training examples, {args.epochs} epochs, {args.threads} torch thread(s)")
    ex = LocalExecutor(1, threads=args.threads)
    rates = {"bare": [], "executor": []}
    try:
        for _ in range(args.repeats):  # alternating, so a busy machine slows both alike
            took, plain = bare(spec)
            rates["bare"].append(args.epochs * n / took)
            took, seen, polls = through_executor(ex, spec, args.poll)
            rates["executor"].append(args.epochs * n / took)
            assert seen == plain, "the executor's run differs from the bare trainer's"
        print("| | examples/sec (best) | runs, in order |\n|---|---|---|")
        for name, values in rates.items():
            print(f"| {name} | {max(values):,.0f} | {', '.join(f'{v:,.0f}' for v in values)} |")
        best = max(rates["executor"]) / max(rates["bare"])
        paired = statistics.median(e / b for e, b in zip(rates["executor"], rates["bare"]))
        print(f"| **ratio executor / bare** | **{best:.3f}** best to best, {paired:.3f} median of the pairs "
              f"| target ≥ 0.95 |")
        handover = slot_handover(ex, 5)
        print(f"\nslot handed on after close: median {statistics.median(handover) * 1000:.0f} ms "
              f"({', '.join(f'{s * 1000:.0f}' for s in handover)} ms)")
    finally:
        ex.close()


if __name__ == "__main__":
    main()
