"""What the timeline (core.train.timeline) costs: snapshot bytes per run, and a scrub probe's time.

For the default Config of every training page's experiment (the book's settings, the real
data sets when they are here), build the run, train one step (so the optimizer has its
state and the snapshot stands mid-epoch), take one snapshot of every trainer (`Snapshot.nbytes`),
and replay the timeline's policy over the whole run (the real `Timeline`, fed the epoch and
minibatch counts of the run, the snapshot of that size at every point) to get the points
it takes, the bytes they would take unthinned, and what it holds at the end under the budget
(PLAYGROUND_TIMELINE_MB, default 64 MB). Then the sum for a session that has one run on each
training page. Last, on the book's LeNet (Fashion-MNIST, batch 256): the page's feature-map
view computed now and at an earlier point of the timeline (median of --repeats).

    .venv/bin/python benchmarks/timeline_memory.py [--repeats 20] [--out benchmarks/timeline_memory_results.md]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.train import timeline as tl  # noqa: E402
from core.train.runs import RunSpec, build_trainers, experiment_module  # noqa: E402

# page -> the experiments its live panels train (topics/*.py, live_panel's third argument)
PAGES = {
    "Linear regression": ["linear_regression"], "Model selection": ["polynomial"], "Weight decay": ["weight_decay"],
    "Softmax regression": ["softmax_regression"], "Distribution shift": ["distribution_shift"],
    "MLP (Fashion-MNIST and the 2-D toy)": ["mlp", "mlp_toy"], "Numerical stability": ["initialization"],
    "Dropout": ["dropout"], "House prices": ["house_prices"], "File I/O": ["mlp"],
    "Convolutions (1x2 kernel)": ["conv_kernel"], "LeNet": ["lenet"], "Modern CNNs": ["modern_cnns"],
    "Batch normalization": ["batch_norm"], "Sequence models": ["sequence_models"], "RNN": ["rnn"],
    "GRU / LSTM": ["gru_lstm"], "Deep RNNs": ["deep_rnn"], "Bidirectional RNNs": ["bidirectional_rnn"],
    "Seq2seq (and beam search, the same run)": ["seq2seq"],
}
DATA_OF = {"softmax_regression": "fashion", "mlp": "fashion", "dropout": "fashion", "lenet": "fashion",
           "batch_norm": "fashion", "modern_cnns": "fashion", "initialization": "fashion",
           "rnn": "time_machine", "gru_lstm": "time_machine", "deep_rnn": "time_machine",
           "bidirectional_rnn": "time_machine", "house_prices": "house", "seq2seq": "fra"}


def _fashion():
    from core.data.fashion_mnist import load_fashion_mnist

    return load_fashion_mnist("cpu", allow_download=False)


def _time_machine():
    from core.data.text import load_corpus_time_machine

    return load_corpus_time_machine(allow_download=False)


def _house():
    from core.experiments import house_prices

    return house_prices.load_data(allow_download=False)


def _fra():
    from core.experiments.seq2seq import load_corpus

    return load_corpus(allow_download=False).data


LOADERS = {"fashion": _fashion, "time_machine": _time_machine, "house": _house, "fra": _fra}


class Replay:
    """A stand-in trainer for the policy: only the counters the Timeline reads, and a snapshot of a given size."""

    def __init__(self, snapshot, n: int):
        self.snap, self.train, self.epoch, self.batch_in_epoch, self.diverged = snapshot, range(n), 0, 0, False
        self.on_boundary = None

    def snapshot(self):
        return self.snap

    def run(self, num_epochs: int) -> None:
        n = len(self.train)
        for _ in range(num_epochs):
            for b in range(1, n + 1):
                self.batch_in_epoch = b % n
                self.epoch += b == n
                self.on_boundary(self, "step")


def policy(snapshots: dict, lengths: dict, num_epochs: int, budget: int) -> dict:
    """Points taken over the run (unthinned) and what the real Timeline holds at its end."""
    unlimited = {name: Replay(s, lengths[name]) for name, s in snapshots.items()}
    kept = {name: Replay(s, lengths[name]) for name, s in snapshots.items()}
    a = tl.Timeline(unlimited, budget=1 << 62)
    b = tl.Timeline(kept, budget=budget)
    for r in (*unlimited.values(), *kept.values()):
        r.run(num_epochs)
    return {"points": len(a.complete()), "bytes": a.nbytes, "kept": len(b.complete()), "held": b.nbytes,
            "thinned": b.thinned, "over": b.over_budget}


def measure(experiment: str, data, budget: int) -> dict:
    module = experiment_module(experiment)
    cfg = module.Config()
    trainers = build_trainers(RunSpec(experiment, cfg), data)
    for t in trainers.values():
        t.advance(max_steps=1)
    snaps = {name: t.snapshot() for name, t in trainers.items()}
    lengths = {name: len(t.train) for name, t in trainers.items()}
    num_epochs = max(t.num_epochs for t in trainers.values())
    out = policy(snaps, lengths, num_epochs, budget)
    out.update(experiment=experiment, snapshot=sum(s.nbytes for s in snaps.values()), epochs=num_epochs,
               per_epoch=min(tl.per_epoch(n) for n in lengths.values()), batches=min(lengths.values()))
    return out


def scrub_time(repeats: int) -> dict:
    from core.experiments import lenet

    data = _fashion()
    t = lenet.build(replace(lenet.BOOK), data)
    timeline = tl.Timeline({"": t})
    t.advance(max_steps=60)  # points at steps 0, 29, 59
    trainers = {"": t}

    def now():
        lenet.feature_maps(trainers, data, index=7)

    def earlier():
        tl.probe_at(trainers, timeline, data, at="1/8", view="core.experiments.lenet:feature_maps",
                    params={"index": 7})

    out = {}
    for name, fn in (("now", now), ("at a point", earlier)):
        fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = statistics.median(times)
    t0 = time.perf_counter()
    t.advance(max_steps=5)
    out["step"] = (time.perf_counter() - t0) * 1000 / 5
    return out


def mb(n: float) -> str:
    return f"{n / 2**20:,.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    budget = tl.budget_bytes()
    data: dict = {}
    rows: dict = {}
    for experiment in sorted({e for es in PAGES.values() for e in es}):
        kind = DATA_OF.get(experiment)
        if kind and kind not in data:
            data[kind] = LOADERS[kind]()
        t0 = time.perf_counter()
        rows[experiment] = measure(experiment, data.get(kind), budget)
        print(f"{experiment}: {mb(rows[experiment]['snapshot'])} MB a point, {time.perf_counter() - t0:.1f} s",
              flush=True)
    lines = [
        "# Timeline memory and scrub time", "",
        f"Measured by `benchmarks/timeline_memory.py` on {platform.node() or 'this machine'} "
        f"({os.cpu_count()} cores, torch {torch.__version__}, one torch thread, load average "
        f"{os.getloadavg()[0]:.1f}), budget {mb(budget)} MB a run.", "",
        "Per experiment at its default Config: one point (every trainer's snapshot, mid-epoch, with optimizer "
        "state), the points the policy takes over the whole run (start, every epoch's end, up to 8 a long epoch) "
        "and their bytes unthinned, then what the timeline holds at the run's end under the budget.", "",
        "| experiment | epochs × batches (points/epoch) | one point MB | points taken | MB unthinned | points held "
        "| MB held | thinned |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e, r in rows.items():
        lines.append(f"| {e} | {r['epochs']} × {r['batches']} ({r['per_epoch']}) | {mb(r['snapshot'])} | "
                     f"{r['points']} | {mb(r['bytes'])} | {'none (over budget)' if r['over'] else r['kept']} | "
                     f"{mb(r['held'])} | {r['thinned']} |")
    session_unthinned = sum(rows[e]["bytes"] for es in PAGES.values() for e in es)
    session_held = sum(rows[e]["held"] for es in PAGES.values() for e in es)
    runs = sum(len(es) for es in PAGES.values())
    lines += ["", "Per page (a page with two panels counts both runs):", "", "| page | MB held at the end |",
              "|---|---|"]
    for page, es in PAGES.items():
        lines.append(f"| {page} | {mb(sum(rows[e]['held'] for e in es))} |")
    lines += ["", f"A session with one run on each of the {len(PAGES)} training pages ({runs} runs, each to its "
                  f"last epoch): {mb(session_held)} MB held by the workers (it would be {mb(session_unthinned)} MB "
                  "unthinned).", ""]
    scrub = scrub_time(args.repeats)
    lines += ["Scrub probe on the book's LeNet (Fashion-MNIST, batch 256; the page's feature-map view of test "
              f"image 7, median of {args.repeats}):", "",
              "| view computed | ms |", "|---|---|",
              f"| now (the plain probe) | {scrub['now']:.2f} |",
              f"| at an earlier point (weights put in, computed, put back) | {scrub['at a point']:.2f} |",
              f"| for scale: one training step | {scrub['step']:.1f} |", ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
