"""What presenter mode and hidden settings cost the server: the weight-decay
page's script re-run after its λ slider moves (AppTest, no browser), plain,
with ?present=1, and with ?present=1&hide=num_epochs (the students' link), in
alternating blocks; and the size of what each adds to the page (the CSS, the
keyboard script). Measured, never asserted.

    .venv/bin/python benchmarks/presenter.py [--repeats 20]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from apptest_support import find_widget, open_page  # noqa: E402

from playground import presenter  # noqa: E402

PAGE = "weight_decay"
LINKS = {"plain": {}, "present=1": {"present": "1"}, "present=1&hide=num_epochs": {"present": "1",
                                                                                   "hide": "num_epochs"}}


def rerun_times(at, repeats: int) -> list[float]:
    times = []
    for i in range(repeats):
        find_widget(at, "weight_decay", PAGE).set_value(3.0 if i % 2 == 0 else 0.0)
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--blocks", type=int, default=3)
    args = p.parse_args()
    pages = {name: open_page(f"topics/{PAGE}.py", query) for name, query in LINKS.items()}
    times: dict[str, list[float]] = {name: [] for name in LINKS}
    for _ in range(args.blocks):  # alternating blocks: a loaded machine's drift hits all three alike
        for name, at in pages.items():
            times[name] += rerun_times(at, args.repeats)
    print(f"{'link':28s} {'median s':>9s} {'p90 s':>7s} {'runs':>5s}")
    for name, ts in times.items():
        ts = sorted(ts)
        print(f"{name:28s} {statistics.median(ts):9.3f} {ts[int(0.9 * (len(ts) - 1))]:7.3f} {len(ts):5d}")
    print(f"\nCSS {len(presenter.PRESENTER_CSS)} bytes (presenter mode only), keyboard script "
          f"{len(presenter.KEYS_JS)} bytes (every page run; installed once per tab)")


if __name__ == "__main__":
    main()
