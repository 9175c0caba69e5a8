"""GRU and LSTM character language models (book 10.1-10.2) with the engine.

Two parts, each for scratch GRU, scratch LSTM, concise GRU (nn.GRU) and concise
LSTM (nn.LSTM) on The Time Machine (the real file when it can be found, else the
page's stand-in text, said so in the output):

1. the page's defaults (core.experiments.gru_lstm.PAGE): perplexity reached and
   tokens/sec after the default number of epochs;
2. the book's settings (256 hidden units, batch 32, num_steps 35, lr 1, clip 1,
   first 10,000 characters, 500 epochs) for as many epochs as fit in
   --seconds per model: perplexity against epochs. The book reports a
   perplexity of about 1.1 after 500 epochs for the scratch GRU.

Tokens/sec is predicted characters per second of training (minibatches and the
per-epoch bookkeeping; no page redraws). Threads as the app sets them
(set_threads_once: cores / training slots, PLAYGROUND_THREADS overrides).

    .venv/bin/python benchmarks/lm_perplexity.py [--seconds 120] [--epochs 300] [--device auto]
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.data import download as dl  # noqa: E402
from core.data.text import load_corpus_time_machine  # noqa: E402
from core.experiments.gru_lstm import BOOK, PAGE, make_trainer, stand_in_corpus  # noqa: E402
from core.models.rnn import predict  # noqa: E402
from core.train.device import pick_device, set_threads_once  # noqa: E402

MODELS = [("gru", "scratch"), ("lstm", "scratch"), ("gru", "concise"), ("lstm", "concise")]
MARKS = (1, 10, 50, 100, 200, 300, 400, 500)


def load():
    folder = os.environ.get("PLAYGROUND_DATA_DIR") or str(ROOT.parent / "shared" / "data")
    try:
        with dl.using_data_dir(folder if Path(folder).is_dir() else None):
            corpus, vocab = load_corpus_time_machine(allow_download=False)
        return corpus, vocab, "The Time Machine"
    except (dl.DataUnavailable, OSError, ValueError) as err:
        print(f"(The Time Machine is not available: {err.__class__.__name__}; using the page's stand-in text)")
        corpus, vocab = stand_in_corpus()
        return corpus, vocab, "stand-in text"


def train(corpus, vocab, kind, impl, *, num_hiddens, num_epochs, max_seconds, device, seed=0):
    t = make_trainer(corpus, len(vocab), kind=kind, impl=impl, num_hiddens=num_hiddens, num_epochs=num_epochs,
                     lr=BOOK.lr, seed=seed, device=device)
    start = time.perf_counter()
    while not t.done and time.perf_counter() - start < max_seconds:
        t.advance(max_seconds=0.5)
    if device.type == "cuda":
        torch.cuda.synchronize()
    tokens = t.step * BOOK.batch_size * BOOK.num_steps
    ppl = {e["epoch"]: math.exp(e["train_loss"]) for e in t.history.epochs}
    return t, ppl, tokens / max(t.elapsed, 1e-9)


def row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=120.0, help="time budget per model at the book's settings")
    p.add_argument("--epochs", type=int, default=PAGE.num_epochs, help="epochs at the page defaults")
    p.add_argument("--device", default="auto")
    p.add_argument("--skip-defaults", action="store_true")
    args = p.parse_args()
    threads = set_threads_once()
    device = pick_device(args.device)
    corpus, vocab, name = load()
    print(f"data: {name}, {len(corpus):,} characters, vocabulary {len(vocab)}; device: {device}, "
          f"torch threads: {threads}, torch {torch.__version__}")

    if not args.skip_defaults:
        h, n = PAGE.num_hiddens, PAGE.max_tokens
        print(f"\n## Page defaults: {h} hidden units, first {n:,} characters, batch {BOOK.batch_size}, "
              f"num_steps {BOOK.num_steps}, lr {PAGE.lr:g}, clip {BOOK.grad_clip:g}, "
              f"{args.epochs} epochs\n")
        print(row(["model", "epochs", "perplexity", "tokens/sec", "train seconds", "generated from 'time traveller '"]))
        print(row(["---"] * 6))
        for kind, impl in MODELS:
            t, ppl, tps = train(corpus[:n], vocab, kind, impl, num_hiddens=h, num_epochs=args.epochs,
                                max_seconds=math.inf, device=device)
            text = predict("time traveller ", 50, t.net, vocab).replace("|", "/")
            print(row([f"{impl} {kind.upper()}", t.epoch, f"{ppl[t.epoch]:.2f}", f"{tps:,.0f}",
                       f"{t.elapsed:.1f}", f"`{text}`"]), flush=True)

    print(f"\n## The book's settings: {BOOK.num_hiddens} hidden units, first {BOOK.max_tokens:,} characters, "
          f"batch {BOOK.batch_size}, num_steps {BOOK.num_steps}, lr {BOOK.lr:g}, clip {BOOK.grad_clip:g}; "
          f"{BOOK.num_epochs} epochs or {args.seconds:g} s per model, whichever comes first\n")
    marks = [m for m in MARKS if m <= BOOK.num_epochs]
    print(row(["model", "epochs reached", "tokens/sec"] + [f"ppl @ {m}" for m in marks] + ["final ppl"]))
    print(row(["---"] * (4 + len(marks))))
    for kind, impl in MODELS:
        t, ppl, tps = train(corpus[:BOOK.max_tokens], vocab, kind, impl, num_hiddens=BOOK.num_hiddens,
                            num_epochs=BOOK.num_epochs, max_seconds=args.seconds, device=device)
        at = [f"{ppl[m]:.2f}" if m in ppl else "–" for m in marks]
        final = f"{ppl[t.epoch]:.2f}" if t.epoch else "–"
        print(row([f"{impl} {kind.upper()}", t.epoch, f"{tps:,.0f}"] + at + [final]), flush=True)


if __name__ == "__main__":
    main()
