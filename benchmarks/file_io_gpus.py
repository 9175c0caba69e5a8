"""File I/O (6.6) and GPUs (6.7), measured.

1. The book's MLP on Fashion-MNIST at its settings (784-256-10 ReLU, lr 0.1, batch 256) trained
   --epochs epochs; its parameters saved as the page saves them (`file_io.save_params`: the bytes
   of mlp.params), loaded back (`load_params`, weights_only) and evaluated by a fresh net
   (`evaluate`): file size, milliseconds to make / read / evaluate, the saved and the reloaded
   test accuracy and how many of the 10,000 predictions agree; then --more epochs from the file
   (`RunSpec.init`), the test accuracy after them.
2. The GPUs page's timings (`core.ops.devices`) on every device torch sees: the n x n product for
   n = 256 ... 4096 (GFLOP/s, fastest of the repeats within --budget seconds) and the MLP's
   examples/sec over --batches minibatches, at the torch thread counts given.

    .venv/bin/python benchmarks/file_io_gpus.py [--epochs 10] [--more 2] [--threads 1 2] [--out FILE]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.fashion_mnist import load_fashion_mnist  # noqa: E402
from core.experiments import file_io as fio  # noqa: E402
from core.experiments import mlp  # noqa: E402
from core.ops import devices  # noqa: E402
from core.train.runs import RunSpec, build_trainers  # noqa: E402


def file_io_part(data, epochs: int, more: int) -> list[str]:
    cfg = mlp.Config(num_epochs=epochs)
    t = mlp.build(cfg, data, seed=0)
    start = time.perf_counter()
    while not t.done:
        t.advance_epoch()
    train_s = time.perf_counter() - start
    record = t.history.epochs[-1]["test_metric"]
    start = time.perf_counter()
    made = fio.save_params({"": t}, data, config=vars(cfg))
    save_ms = (time.perf_counter() - start) * 1e3
    start = time.perf_counter()
    obj = fio.load_params(made["bytes"])
    load_ms = (time.perf_counter() - start) * 1e3
    start = time.perf_counter()
    clone = fio.evaluate(obj["state_dict"], cfg, data)
    eval_ms = (time.perf_counter() - start) * 1e3
    same = int((clone["predictions"] == obj["predictions"]).sum())
    (u,) = build_trainers(RunSpec("mlp", mlp.Config(num_epochs=more), seed=0, data=data,
                                  init=obj["state_dict"])).values()
    while not u.done:
        u.advance_epoch()
    after = u.history.epochs[-1]["test_metric"]
    return [
        f"The book's MLP at its settings, seed 0, {epochs} epochs in {train_s:.0f} s: test accuracy {record:.4f} "
        f"(the book: 0.83-0.85 by edition).",
        "",
        "| mlp.params bytes | ms to make (in the worker: evaluate + torch.save) "
        "| ms to read (checks + weights_only load) | ms to evaluate the clone "
        "| saved test acc | reloaded test acc | Y_clone == Y |",
        "|---|---|---|---|---|---|---|",
        f"| {len(made['bytes']):,} | {save_ms:.0f} | {load_ms:.0f} | {eval_ms:.0f} | {obj['test_accuracy']:.4f} "
        f"| {clone['accuracy']:.4f} | {same:,} of {len(clone['predictions']):,} |",
        "",
        f"{more} more epochs from the file (`RunSpec.init`, the seed's data order from its start): test accuracy "
        f"{after:.4f}.",
    ]


def devices_part(data, threads: list[int], budget: float, batches: int) -> list[str]:
    lines = ["| device | torch threads | n | repeats | s / product | GFLOP/s |", "|---|---|---|---|---|---|"]
    mlp_lines = ["| device | torch threads | minibatches | examples/sec | epoch (s, est.) |", "|---|---|---|---|---|"]
    targets = [torch.device("cpu")] + [d for d in devices.try_all_gpus() if d.type == "cuda"]
    for th in threads:
        torch.set_num_threads(th)
        for d in targets:
            for n in (256, 512, 1024, 2048, 4096):
                r = devices.time_matmul(n, d, budget=budget, max_repeats=10)
                lines.append(f"| {d} | {th} | {n} | {r['repeats']} | {r['seconds']:.4f} | {r['gflops']:.1f} |")
            m = devices.time_mlp_epoch(data.X_train, data.y_train, d, max_batches=batches)
            mlp_lines.append(f"| {d} | {th} | {m['batches']} | {m['examples_per_sec']:,.0f} | "
                             f"{m['epoch_seconds']:.2f} |")
    return lines + [""] + mlp_lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--more", type=int, default=2)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--budget", type=float, default=0.5)
    p.add_argument("--batches", type=int, default=50)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    torch.set_num_threads(args.threads[0])
    data = load_fashion_mnist("cpu")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    out = ["# File I/O and GPUs, measured", "",
           f"`benchmarks/file_io_gpus.py --epochs {args.epochs} --more {args.more} --threads "
           f"{' '.join(map(str, args.threads))}`: {os.cpu_count()} CPU cores, "
           f"{'CUDA ' + torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'}, torch "
           f"{torch.__version__}, {platform.python_version()}; load average {load:.1f} when it started.", "",
           "## Save, load, compare (6.6)", ""]
    out += file_io_part(data, args.epochs, args.more)
    out += ["", "## The same work on each device (6.7)", ""]
    out += devices_part(data, args.threads, args.budget, args.batches)
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
