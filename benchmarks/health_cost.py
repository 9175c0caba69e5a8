"""What the Health panel's recording costs a run: examples/sec with and without
`core.train.health.Health` at its default cadence (about 20 recorded steps an
epoch), on two pages' nets:

- the book's dropout MLP (784-256-256-10, SGD lr 0.5, batch 256) on
  Fashion-MNIST, `--mlp-steps` minibatches (default 118, half an epoch: no
  evaluation inside the timing);
- the RNN page's character RNN (scratch RNNScratch, 128 hidden units, the
  page's settings) on The Time Machine (10,000 characters), `--rnn-epochs`
  epochs (default 20; 9 minibatches an epoch, so the cadence is every step
  until the cap thins it, the worst case of the default).

Each case alternates plain and watched runs from the same seed `--repeats`
times (default 3) and reports the best of each and the median of the pairs'
ratios (a shared machine makes single runs noisy). It also checks that the
losses are the same bit for bit. Measured, never asserted.

    python benchmarks/health_cost.py [--repeats 3] [--mlp-steps 118] [--rnn-epochs 20] [--threads 1]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.experiments import dropout, rnn  # noqa: E402
from core.train import health  # noqa: E402


def _shared_data() -> Path:
    here = Path(__file__).resolve().parents[1]
    for candidate in (os.environ.get("PLAYGROUND_DATA_DIR"), here.parent / "shared" / "data", "/work/shared/data"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return here


def timed(make, steps: int | None, watched: bool) -> tuple[float, int, list[float], int]:
    t = make()
    if watched:
        health.attach(t)
    start = time.perf_counter()
    if steps is None:
        t.advance()
    else:
        t.advance(max_steps=steps)
    seconds = time.perf_counter() - start
    examples = sum(1 for _ in t.history.steps)
    recorded = sum(1 for r in t.history.steps if health.KEY in r)
    return seconds, examples, [r["loss"] for r in t.history.steps], recorded


def case(name: str, make, steps: int | None, batch: int, repeats: int) -> dict:
    rows = {"plain": [], "watched": []}
    losses, recorded = {}, 0
    for _ in range(repeats):
        for kind in ("plain", "watched"):
            seconds, n_steps, ls, rec = timed(make, steps, kind == "watched")
            rows[kind].append(n_steps * batch / seconds)
            losses[kind] = ls
            recorded = max(recorded, rec)
    best = {k: max(v) for k, v in rows.items()}
    ratios = [w / p for p, w in zip(rows["plain"], rows["watched"])]
    out = {"case": name, "steps": len(losses["plain"]), "recorded": recorded, "plain": best["plain"],
           "watched": best["watched"], "ratio_best": best["watched"] / best["plain"],
           "ratio_median": statistics.median(ratios), "identical": losses["plain"] == losses["watched"]}
    print(f"{name}: {out['steps']} steps, {recorded} recorded; examples/sec plain {best['plain']:,.0f}, "
          f"with health {best['watched']:,.0f}; ratio best/best {out['ratio_best']:.3f}, median of pairs "
          f"{out['ratio_median']:.3f}; losses bit-identical: {out['identical']}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--mlp-steps", type=int, default=118)
    ap.add_argument("--rnn-epochs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("PLAYGROUND_DATA_DIR", str(_shared_data()))

    from core.data.fashion_mnist import load_fashion_mnist
    from core.data.text import load_corpus_time_machine

    fm = load_fashion_mnist(allow_download=False)
    cfg = dropout.Config()
    case("dropout MLP, Fashion-MNIST", lambda: dropout.build(cfg, fm, seed=0), args.mlp_steps, cfg.batch_size,
         args.repeats)

    corpus, vocab = load_corpus_time_machine(max_tokens=10_000, allow_download=False)
    rcfg = dataclasses.replace(rnn.PAGE, num_epochs=args.rnn_epochs)
    case(f"RNN (scratch, {rcfg.num_hiddens} hidden), The Time Machine", lambda: rnn.build(rcfg, (corpus, vocab)),
         None, rcfg.batch_size * rcfg.num_steps, args.repeats)


if __name__ == "__main__":
    main()
