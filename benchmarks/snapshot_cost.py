"""What a snapshot of a run costs: milliseconds to take, milliseconds to restore, megabytes held.

The book's LeNet (section 7.6) and BN-LeNet (8.5, nn.BatchNorm) on Fashion-MNIST (the real
files when they can be found, else random data of the same shape), batch 256, with SGD and
with Adam (whose two moment estimates triple what a snapshot holds). Each run trains
--steps minibatches, so it stands mid-epoch with optimizer state, then takes --repeats
snapshots and restores one --repeats times; the table gives the median of each, the
tensor bytes a snapshot holds (`Snapshot.nbytes`), the size of `Snapshot.save`'s file and,
for scale, the median time of one training step. A mid-epoch restore re-draws the epoch's
permutation from the saved generator state and gathers the next minibatch, which is in
the restore time.

    .venv/bin/python benchmarks/snapshot_cost.py [--steps 20] [--repeats 30] [--out benchmarks/snapshot_cost_results.md]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.models.lenet import lenet  # noqa: E402
from core.train.device import device_label, pick_device, set_threads_once  # noqa: E402
from core.train.trainer import Batches, Supervised, Trainer  # noqa: E402

MODELS = [("LeNet", None), ("BN-LeNet", "builtin")]
OPTIMIZERS = [("sgd", 0.9), ("adam", 0.001)]


def load_data(device):
    try:
        from core.data.fashion_mnist import load_fashion_mnist

        d = load_fashion_mnist(device=device, allow_download=False)
        return d.X_train, d.y_train, "Fashion-MNIST"
    except Exception as err:  # noqa: BLE001 - any reason: fall back to random data
        print(f"(Fashion-MNIST not available: {err}; using random data of the same shape)")
        g = torch.Generator().manual_seed(0)
        X = torch.rand(60000, 1, 28, 28, generator=g)
        return X.to(device), torch.randint(0, 10, (60000,), generator=g).to(device), "random"


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _median_ms(fn, repeats: int, device) -> float:
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def measure(X, y, batch_norm, optimizer, lr, steps, repeats, device) -> dict:
    t = Trainer(lenet(batch_norm), Batches(X, y, batch_size=256), objective=Supervised("cross_entropy", accuracy=True),
                optimizer=optimizer, lr=lr, num_epochs=1, device=device)
    step_times = []
    for _ in range(steps):
        _sync(device)
        t0 = time.perf_counter()
        t.advance(max_steps=1)
        _sync(device)
        step_times.append(time.perf_counter() - t0)
    snap = t.snapshot()
    snapshot_ms = _median_ms(t.snapshot, repeats, device)
    restore_ms = _median_ms(lambda: t.restore(snap), repeats, device)
    # the check that makes the figures worth having: the restored run goes on as the snapshot's did
    t.restore(snap)
    t.advance(max_steps=3)
    after = [r["loss"] for r in t.history.steps[-3:]]
    t.restore(snap)
    t.advance(max_steps=3)
    assert [r["loss"] for r in t.history.steps[-3:]] == after, "a restored run diverged from itself"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "snap.pt"
        snap.save(path)
        file_bytes = path.stat().st_size
    return {"snapshot_ms": snapshot_ms, "restore_ms": restore_ms, "mb": snap.nbytes / 1e6,
            "file_mb": file_bytes / 1e6, "step_ms": 1000 * statistics.median(step_times[1:] or step_times),
            "params": sum(p.numel() for p in t.net.parameters())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=20, help="minibatches trained before the snapshot")
    p.add_argument("--repeats", type=int, default=30, help="snapshots taken and restores done (median reported)")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default=None, help="also write the table to this markdown file")
    args = p.parse_args()
    threads = set_threads_once()
    device = pick_device(args.device)
    X, y, name = load_data(device)
    header = ["model", "optimizer", "parameters", "ms / snapshot", "ms / restore", "MB / snapshot",
              "MB saved", "ms / training step"]
    rows = []
    for model, bn in MODELS:
        for optimizer, lr in OPTIMIZERS:
            r = measure(X, y, bn, optimizer, lr, args.steps, args.repeats, device)
            rows.append([model, optimizer, f"{r['params']:,}", f"{r['snapshot_ms']:.2f}", f"{r['restore_ms']:.2f}",
                         f"{r['mb']:.2f}", f"{r['file_mb']:.2f}", f"{r['step_ms']:.1f}"])
            print("  " + " | ".join(rows[-1]), flush=True)
    settings = (f"data: {name} {tuple(X.shape)}, batch 256, device: {device_label(device)}, torch threads: {threads}, "
                f"{args.steps} steps before the snapshot, median of {args.repeats}; torch {torch.__version__}, "
                f"{platform.machine()}, {os.cpu_count()} CPU cores")
    table = "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                      + ["| " + " | ".join(r) + " |" for r in rows])
    print(settings)
    print(table)
    if args.out:
        Path(args.out).write_text(f"# What a snapshot costs\n\nCommand: `{' '.join(sys.argv)}`\n\n{settings}\n\n"
                                  f"{table}\n")


if __name__ == "__main__":
    main()
