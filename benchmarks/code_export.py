"""Show the PyTorch: what a page's script costs the web process (making the
text, per experiment, uncached) and, with --run, how long the exported script
takes for a few steps beside the engine (python -I in a temporary folder; the
time includes starting Python and importing torch). Measured, never asserted.

    python benchmarks/code_export.py [--run] [--steps 3]
"""
from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from core.export import script_for  # noqa: E402

EXPERIMENTS = ["linear_regression", "polynomial", "weight_decay", "softmax_regression", "mlp", "mlp_toy", "dropout",
               "initialization", "house_prices", "distribution_shift", "conv_kernel", "lenet", "batch_norm"]
FASHION = {"softmax_regression", "mlp", "dropout", "initialization", "lenet", "batch_norm"}


def data_for(experiment: str):
    if experiment in FASHION:
        from core.data.fashion_mnist import load_fashion_mnist
        return load_fashion_mnist("cpu", allow_download=False)
    if experiment == "house_prices":
        from core.experiments.house_prices import load_data
        return load_data(allow_download=False)
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", action="store_true", help="also run each script and the engine")
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data_dir = str(Path(__file__).resolve().parents[2] / "shared" / "data")
    print(f"{'experiment':20} {'make (ms)':>10} {'lines':>6} {'bytes':>7}" + (
        f" {'script (s)':>10} {'engine (s)':>10} equal" if args.run else ""))
    for experiment in EXPERIMENTS:
        cfg = importlib.import_module(f"core.experiments.{experiment}").Config()
        t0 = time.perf_counter()
        for _ in range(20):
            source = script_for(experiment, cfg, seed=0, data_dir=data_dir)
        make_ms = (time.perf_counter() - t0) / 20 * 1000
        row = f"{experiment:20} {make_ms:10.2f} {source.count(chr(10)):6d} {len(source.encode()):7d}"
        if args.run:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "run.py"
                path.write_text(source)
                t0 = time.perf_counter()
                out = subprocess.run([sys.executable, "-I", str(path), "--steps", str(args.steps)], cwd=folder,
                                     capture_output=True, text=True, check=True)
                script_s = time.perf_counter() - t0
            losses = [float.fromhex(line.split('"loss": "')[1].rstrip('"}')) for line in out.stdout.splitlines()
                      if line.startswith("{")]
            mod = importlib.import_module(f"core.experiments.{experiment}")
            t0 = time.perf_counter()
            trainer = mod.build(cfg, data_for(experiment), seed=0)
            trainer = trainer["BN-LeNet"] if isinstance(trainer, dict) else trainer
            trainer.advance(max_steps=args.steps)
            engine_s = time.perf_counter() - t0
            equal = losses == [r["loss"] for r in trainer.history.steps[:args.steps]]
            row += f" {script_s:10.2f} {engine_s:10.2f} {equal}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
