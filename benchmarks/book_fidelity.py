"""Every training page's experiment at the book's settings, against the book's
printed figure: one table of page, the book's number (and its edition), this
project's number, and whether it is within the band (±0.02 for an accuracy,
±10% for a loss, a norm, a perplexity or a log RMSE).

Each case builds its runs exactly as the page does (`core.train.runs.build_trainers`
on the experiment's name and Config, seed 0) and trains them to the end with
the engine, on the real data (`PLAYGROUND_DATA_DIR`, default ../shared/data;
Fashion-MNIST from Debian's package). A case whose data is missing is listed as
skipped with the reason. Results are kept per case in a JSON file beside the
table, so `--only` re-measures some cases and the table still lists them all.

    .venv/bin/python benchmarks/book_fidelity.py [--only dropout,gru] [--list]
        [--threads 1] [--out benchmarks/book_fidelity_results.md]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.data import download as dl  # noqa: E402
from core.experiments import house_prices as hp  # noqa: E402
from core.experiments.schema import Preset  # noqa: E402
from core.train.device import device_label, pick_device  # noqa: E402
from core.train.runs import RunSpec, build_trainers, experiment_module  # noqa: E402

ACCURACY_BAND = 0.02
RELATIVE_BAND = 0.10


@dataclass(frozen=True)
class Case:
    name: str  # for --only
    page: str  # the page and what is measured
    experiment: str  # core.experiments.<experiment>
    settings: dict  # changes to the experiment's BOOK Config ({} = the book's settings)
    data: str  # a key of DATA ("" for experiments that make their own)
    measure: Callable[[dict], float]  # trainers -> the figure
    book: tuple[float, ...]  # the figure each edition printed, the first shown; within the band of any counts
    edition: str  # where the book's figures are printed
    kind: str = "relative"  # "accuracy": ±ACCURACY_BAND; "relative": ±RELATIVE_BAND
    fmt: str = "{:.3g}"
    run: str = ""  # the run of a several-run experiment to train ("" = all)
    preset: Callable[[], Preset] | None = None  # several runs side by side, as the page's button trains them
    seeds: int = 1  # a cheap experiment whose figure varies with the draw runs seeds 0..seeds-1: their median
    also: Callable[[dict], dict] | None = None  # trainers -> other figures shown beside it ({label: text}), seed 0


def last(key: str, run: str = "") -> Callable[[dict], float]:
    def measure(trainers: dict) -> float:
        t = trainers[run] if run else next(iter(trainers.values()))
        return float(t.history.epochs[-1][key])

    return measure


def perplexity(trainers: dict) -> float:
    import math

    t = next(iter(trainers.values()))
    return math.exp(float(t.history.epochs[-1]["train_loss"]))


def lm_also(trainers: dict) -> dict:
    """A language model's validation perplexity (the held-out end of the text) and tokens/sec, last epoch."""
    import math

    last = next(iter(trainers.values())).history.epochs[-1]
    out = {}
    if last.get("test_loss") is not None:
        out["validation perplexity"] = f"{math.exp(float(last['test_loss'])):.2f}"
    if last.get("examples_per_sec"):
        out["tokens/sec"] = f"{last['examples_per_sec']:,.0f}"
    return out


def seq2seq_also(trainers: dict) -> dict:
    """BLEU of the book's four sentences (greedy, k = 2) and target tokens/sec, last epoch."""
    last = next(iter(trainers.values())).history.epochs[-1]
    out = {f"BLEU '{key[5:]}'": f"{value:.3f}" for key, value in last.items() if key.startswith("bleu:")}
    if last.get("examples_per_sec"):
        out["tokens/sec"] = f"{last['examples_per_sec']:,.0f}"
    return out


def _fashion():
    from core.data.fashion_mnist import load_fashion_mnist

    return load_fashion_mnist("cpu", allow_download=False)


def _time_machine():
    from core.data.text import load_corpus_time_machine

    return load_corpus_time_machine(allow_download=False)


def _house():
    return hp.load_data(allow_download=False)


def house_valid(trainers: dict) -> float:
    return float(hp.summary(trainers)["avg_valid"])


def _fra():
    from core.experiments.seq2seq import load_corpus

    return load_corpus(allow_download=False).data


DATA = {"fashion": _fashion, "house": _house, "time_machine": _time_machine, "fra": _fra}

CASES = [
    Case("linreg", "Linear regression (3.4): train loss after 3 epochs", "linear_regression", {}, "",
         last("train_loss"), (0.00005,), "0.17.5 (scratch)", fmt="{:.3g}", seeds=10),
    Case("poly", "Model selection (3.6), 4 features: test loss after 400 epochs", "polynomial",
         {"num_features": 4}, "", last("test_loss"), (0.048, 0.010), "0.17.5 / its 0.17.4 build, read off the plots",
         seeds=10),
    Case("wd0", "Weight decay (3.7), λ = 0: ‖w‖ after 100 epochs", "weight_decay", {"weight_decay": 0.0}, "",
         last("w_norm"), (12.92, 13.41, 12.96), "0.17.5 scratch / concise / zh 2.0", seeds=10),
    Case("wd3", "Weight decay (3.7), λ = 3: ‖w‖ after 100 epochs", "weight_decay", {"weight_decay": 3.0}, "",
         last("w_norm"), (0.384, 0.366, 0.356), "0.17.5 scratch / concise / zh 2.0", seeds=10),
    Case("softmax", "Softmax regression (4.4): test accuracy after 10 epochs", "softmax_regression", {},
         "fashion", last("test_metric"), (0.83,), "0.17.5 (0.81-0.85 by edition)", kind="accuracy", fmt="{:.3f}"),
    Case("mlp", "MLP (5.2), 256 ReLU units: test accuracy after 10 epochs", "mlp", {}, "fashion",
         last("test_metric"), (0.84,), "0.17.5 / zh 2.0 print 0.83-0.85", kind="accuracy", fmt="{:.3f}"),
    Case("dropout", "Dropout (5.6): test accuracy after 10 epochs", "dropout", {}, "fashion",
         last("test_metric"), (0.84,), "0.17.5", kind="accuracy", fmt="{:.3f}"),
    Case("house", "House prices (5.7): average valid log RMSE of 5 folds, 100 epochs", "house_prices", {},
         "house", house_valid, (0.1705, 0.1703), "0.17.5 / zh 2.0", fmt="{:.4f}",
         preset=lambda: hp.folds_preset(5)),
    Case("conv_loss", "Convolutions (7.2): the 1x2 kernel learned from (X, Y), summed squared error after 10 updates",
         "conv_kernel", {}, "", last("train_loss"), (0.058, 0.026), "0.17.5 / 1.0.3 (one unseeded run each)",
         fmt="{:.3g}", seeds=10),
    Case("conv_kernel", "Convolutions (7.2): the learned kernel's K[0, 1] after 10 updates (target -1)", "conv_kernel",
         {}, "", last("k1"), (-0.9616, -0.9694), "0.17.5 / 1.0.3 (one unseeded run each)", fmt="{:+.4f}", seeds=10),
    Case("lenet76", "LeNet (7.6), sigmoid, average pooling: test accuracy after 10 epochs", "lenet", {}, "fashion",
         last("test_metric"), (0.800, 0.779), "0.17.5 / zh 2.0", kind="accuracy", fmt="{:.3f}"),
    Case("lenet", "Batch normalization (8.5), LeNet: test accuracy after 10 epochs", "batch_norm", {}, "fashion",
         last("test_metric", "LeNet"), (0.800, 0.779), "0.17.5 / zh 2.0", kind="accuracy", fmt="{:.3f}", run="LeNet"),
    Case("bn", "Batch normalization (8.5), BN-LeNet (scratch BN): test accuracy after 10 epochs", "batch_norm", {},
         "fashion", last("test_metric", "BN-LeNet"), (0.852, 0.807), "0.17.5 / zh 2.0", kind="accuracy",
         fmt="{:.3f}", run="BN-LeNet"),
    Case("resnet", "Modern CNNs (8.6), ResNet-18 at SCALED settings (width ÷8, 32 px, 10,000 images, batch 64, "
         "5 epochs; full size would take hours per epoch on this CPU): test accuracy", "modern_cnns",
         {"net": "resnet", "width": 8, "resize": 32, "num_train": 10000, "num_epochs": 5}, "fashion",
         last("test_metric"), (0.898, 0.893), "0.17.5 / zh 2.0, full size (96 px, width 1, 60,000 images, 10 epochs)",
         kind="accuracy", fmt="{:.3f}"),
    Case("seqmodel", "Sequence models (9.1), MLP on the noisy sine, tau = 4: training loss after 5 epochs",
         "sequence_models", {}, "", last("train_loss"), (0.0528,),
         "0.17.5 (unseeded; its builds print 0.045-0.059)", fmt="{:.4f}", seeds=10),
    Case("rnn", "RNN (9.5), scratch, 512 hidden: training perplexity after 500 epochs", "rnn", {},
         "time_machine", perplexity, (1.0,), "0.17.5 (training perplexity)", fmt="{:.2f}", also=lm_also),
    Case("gru", "GRU (10.1), scratch, 256 hidden: training perplexity after 500 epochs", "gru_lstm", {},
         "time_machine", perplexity, (1.1, 1.0), "0.17.5 / zh 2.0 (training perplexity)", fmt="{:.2f}",
         also=lm_also),
    Case("lstm", "LSTM (10.2), scratch, 256 hidden: training perplexity after 500 epochs", "gru_lstm",
         {"cell": "lstm"}, "time_machine", perplexity, (1.1, 1.3), "0.17.5 / zh 2.0 (training perplexity)",
         fmt="{:.2f}", also=lm_also),
    Case("deep_lstm", "Deep RNNs (10.3), 2-layer concise LSTM, 256 hidden, lr 2: training perplexity after 500 "
         "epochs", "deep_rnn", {}, "time_machine", perplexity, (1.0,), "0.17.5 (training perplexity)", fmt="{:.2f}",
         also=lm_also),
    Case("seq2seq", "Seq2seq (10.7): training loss per token after 300 epochs", "seq2seq", {}, "fra",
         last("train_loss"), (0.19,), "0.17.5 prints 0.019: its loss per token ÷ num_steps (10)", fmt="{:.3f}",
         also=seq2seq_also),
]


def within(case: Case, value: float) -> bool:
    if case.kind == "accuracy":
        return any(abs(value - b) <= ACCURACY_BAND for b in case.book)
    return any(abs(value - b) <= RELATIVE_BAND * abs(b) for b in case.book)


def book_text(case: Case) -> str:
    return " / ".join(case.fmt.format(b) for b in case.book)


def band(case: Case) -> str:
    return f"±{ACCURACY_BAND:g}" if case.kind == "accuracy" else f"±{RELATIVE_BAND:.0%}"


def measure(case: Case, data, device) -> dict:
    """The case's figure, the median over its seeds (0, 1, ...) with their range."""
    module = experiment_module(case.experiment)
    cfg = replace(module.BOOK, **case.settings)
    if case.preset is not None:
        cfg = case.preset().configs(cfg)
    values, wall, epochs, also = [], 0.0, 0, {}
    for seed in range(case.seeds):
        trainers = build_trainers(RunSpec(case.experiment, cfg, seed=seed, device=str(device)), data)
        if case.run:
            trainers = {case.run: trainers[case.run]}
        start = time.perf_counter()
        for t in trainers.values():
            t.advance()
        wall += time.perf_counter() - start
        values.append(case.measure(trainers))
        epochs = max(len(t.history.epochs) for t in trainers.values())
        if seed == 0 and case.also is not None:
            also = case.also(trainers)
    return {"value": statistics.median(values), "low": min(values), "high": max(values), "seeds": case.seeds,
            "epochs": epochs, "seconds": round(wall, 1), "also": also}


def shown(case: Case, r: dict) -> str:
    text = case.fmt.format(r["value"])
    if r.get("seeds", 1) > 1:
        text += f" (median of {r['seeds']} seeds; {case.fmt.format(r['low'])} to {case.fmt.format(r['high'])})"
    return text


def table(results: dict) -> str:
    rows = ["| page: what | book | edition | this project | band | within | epochs | seconds | also measured |",
            "|---|---|---|---|---|---|---|---|---|"]
    for case in CASES:
        r = results.get(case.name)
        if r is None:
            rows.append(f"| {case.page} | {book_text(case)} | {case.edition} | not measured | "
                        f"{band(case)} | | | | |")
        elif "skipped" in r:
            rows.append(f"| {case.page} | {book_text(case)} | {case.edition} | skipped: {r['skipped']} | "
                        f"{band(case)} | | | | |")
        else:
            ok = "yes" if within(case, r["value"]) else "NO"
            rows.append(f"| {case.page} | {book_text(case)} | {case.edition} | "
                        f"{shown(case, r)} | {band(case)} | {ok} | "
                        f"{r['epochs']} | {r['seconds']:.0f} | "
                        f"{'; '.join(f'{k} {v}' for k, v in r.get('also', {}).items())} |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated case names (see --list)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "book_fidelity_results.md"))
    args = parser.parse_args()
    if args.list:
        for case in CASES:
            print(f"{case.name:10} {case.page}")
        return 0
    chosen = [c for c in CASES if not args.only or c.name in args.only.split(",")]
    unknown = set(filter(None, args.only.split(","))) - {c.name for c in CASES}
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))} (see --list)")
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    store = Path(args.out).with_suffix(".json")
    results = json.loads(store.read_text()) if store.exists() else {}
    folder = os.environ.get("PLAYGROUND_DATA_DIR") or str(ROOT.parent / "shared" / "data")
    loaded: dict = {}
    with dl.using_data_dir(folder if Path(folder).is_dir() else None):
        for case in chosen:
            print(f"{case.name}: {case.page} ...", flush=True)
            try:
                if case.data and case.data not in loaded:
                    loaded[case.data] = DATA[case.data]()
            except Exception as err:  # noqa: BLE001 - a missing file skips its cases, says why
                results[case.name] = {"skipped": f"{type(err).__name__}: {str(err)[:80]}"}
                continue
            results[case.name] = measure(case, loaded.get(case.data), device)
            print(f"  {results[case.name]}", flush=True)
            store.write_text(json.dumps(results, indent=1, sort_keys=True))
    header = (f"Seed 0, device {device_label(device)}, {torch.get_num_threads()} torch thread(s), "
              f"{platform.processor() or 'cpu'} ({os.cpu_count()} cores), torch {torch.__version__}.")
    text = table(results)
    print("\n" + text)
    Path(args.out).write_text("# The book's printed figures against this project's runs\n\n"
                              f"Produced by `benchmarks/book_fidelity.py`. {header} The book's figures: "
                              f"`../shared/book-results.md` and each experiment's module.\n\n{text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
