"""The bidirectional lesson, measured: the page's default language model
(core.experiments.bidirectional_rnn.PAGE) trained bidirectional and
one-directional from the same seed, each for `--epochs` or `--seconds`,
whichever comes first: training / validation perplexity, tokens per second and
the greedy generation. Measured, never asserted; writes a Markdown table."""
from __future__ import annotations

import argparse
import math
import os
import time
from dataclasses import replace
from pathlib import Path

import torch

from core.data.text import load_corpus_time_machine
from core.experiments import bidirectional_rnn as br
from core.models.rnn import predict

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=br.PAGE.num_epochs)
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "bidirectional_rnn_results.md"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    corpus, vocab = load_corpus_time_machine(allow_download=False)
    rows = ["| model | epochs | training perplexity | validation perplexity | tokens/sec | seconds | "
            "generated from 'time traveller ' |", "|---|---|---|---|---|---|---|"]
    for bidirectional in (True, False):
        cfg = replace(br.PAGE, bidirectional=bidirectional, num_epochs=args.epochs)
        t = br.build(cfg, (corpus, vocab), seed=0)
        start = time.perf_counter()
        while not t.done and time.perf_counter() - start < args.seconds:
            t.advance(max_seconds=1.0)
        seconds = time.perf_counter() - start
        last = t.history.epochs[-1]
        speeds = [r["examples_per_sec"] for r in t.history.epochs if r["examples_per_sec"]]
        speed = sum(speeds) / max(len(speeds), 1)  # predicted characters per second, mean over epochs
        text = predict("time traveller ", 50, t.net, vocab)
        rows.append(f"| {'bidirectional' if bidirectional else 'one-directional'} {cfg.num_layers}-layer "
                    f"{cfg.cell.upper()}, h={cfg.num_hiddens}, lr {cfg.lr:g} | {t.epoch} | "
                    f"{math.exp(last['train_loss']):.2f} | {math.exp(last['test_loss']):.2f} | {speed:,.0f} | "
                    f"{seconds:.0f} | `{text}` |")
        print(rows[-1], flush=True)
    Path(args.out).write_text(
        "# Bidirectional against one-directional language model, measured\n\n"
        f"Command: `python benchmarks/bidirectional_rnn.py --epochs {args.epochs} --seconds {args.seconds:g}`, seed 0, "
        "1 torch thread, CPU, The Time Machine (first 10,000 characters; the last 5,000 held out). "
        f"{os.cpu_count()} cores shared with other jobs (load average {os.getloadavg()[0]:.0f} at the end).\n\n"
        + "\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
