"""Show the PyTorch, chapters 8-10, measured: for each exporter's page default
(core.export.<experiment>), the script's size, and the engine and the script
trained side by side for `--steps` minibatches (several epochs): how many
losses are equal bit for bit, the largest difference, and the seconds each
took (the script's in total, and its start-up alone, importing torch and
reading its data, as the time of a run of one step). Measured, never asserted; writes a Markdown table.

    PLAYGROUND_DATA_DIR=../shared/data python -m benchmarks.code_export_seq
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from export_support import engine_losses, script_losses  # noqa: E402

from core.data.text import load_corpus_time_machine, locate_time_machine  # noqa: E402
from core.experiments import (  # noqa: E402
    bidirectional_rnn,
    deep_rnn,
    gru_lstm,
    modern_cnns,
    rnn,
    seq2seq,
    sequence_models,
)
from core.export import script_for  # noqa: E402

EXPERIMENTS = {"sequence_models": sequence_models, "rnn": rnn, "gru_lstm": gru_lstm, "deep_rnn": deep_rnn,
               "bidirectional_rnn": bidirectional_rnn, "seq2seq": seq2seq, "modern_cnns": modern_cnns}


def trainer_and_folder(name: str, seed: int):
    ex = EXPERIMENTS[name]
    cfg = getattr(ex, "PAGE", ex.BOOK)
    if name == "sequence_models":
        return cfg, ex.build(cfg, seed=seed), ""
    if name == "seq2seq":
        corpus = ex.load_corpus(ex.BOOK.num_steps, ex.BOOK.num_examples, allow_download=False)
        folder = corpus.path.parent
        return cfg, ex.build(cfg, corpus.data, seed=seed), str(folder.parent if folder.name == "fra-eng" else folder)
    if name == "modern_cnns":
        from core.data.fashion_mnist import load_fashion_mnist

        data = load_fashion_mnist(allow_download=False)
        return cfg, ex.build(cfg, data, seed=seed), str(data.paths["train_images"].parent)
    path = locate_time_machine(allow_download=False)
    return cfg, ex.build(cfg, load_corpus_time_machine(path=path), seed=seed), str(path.parent)


def timed_script(source: str, steps: int, folder: Path) -> tuple[list[float], float]:
    start = time.perf_counter()
    losses = script_losses(source, steps, folder, timeout=3600)
    return losses, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", default=list(EXPERIMENTS))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "code_export_seq_results.md"))
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    rows = ["| page (default Config) | script lines | steps (epochs) | equal bit for bit | largest difference | "
            "engine s | script s (its start-up) |", "|---|---|---|---|---|---|---|"]
    for name in args.only:
        cfg, trainer, folder = trainer_and_folder(name, args.seed)
        steps = args.steps * (4 if name == "sequence_models" else 1)  # its minibatches are tiny
        source = script_for(name, cfg, seed=args.seed, data_dir=folder)
        start = time.perf_counter()
        engine = engine_losses(trainer, steps)
        engine_s = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as tmp:
            _, startup = timed_script(source, 1, Path(tmp))
            script, total = timed_script(source, steps, Path(tmp))
        equal = sum(a == b for a, b in zip(engine, script))
        diff = max(abs(a - b) for a, b in zip(engine, script))
        rows.append(f"| {name} | {len(source.splitlines())} | {steps} ({trainer.progress * trainer.num_epochs:.1f}) "
                    f"| {equal}/{steps} | {diff:.1e} | {engine_s:.1f} | {total:.1f} ({startup:.1f}) |")
        print(rows[-1], flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    text = ("# Show the PyTorch (chapters 8-10): the exported scripts against the engine\n\n"
            f"`python -m benchmarks.code_export_seq --steps {args.steps}` (seed {args.seed}), one thread each, "
            f"torch {torch.__version__}, {os.cpu_count()} cores, load average {load:.1f} at the end.\n\n"
            + "\n".join(rows) + "\n")
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
