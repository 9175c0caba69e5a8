"""How long a page's script takes to re-run after a control moves (AppTest, no
browser: the server-side share of a re-render). The convexity page's target is
well under 0.2 s.

    .venv/bin/python benchmarks/page_render.py [--repeats 20]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from apptest_support import find_widget as widget  # noqa: E402
from apptest_support import open_page  # noqa: E402

from playground.catalog import TOPICS  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=20)
    args = p.parse_args()
    print(f"{'page':28s} {'median s':>9s} {'max s':>7s}")
    for topic in TOPICS:
        at = open_page(topic.path)
        if not topic.main_control:
            continue
        key, value = topic.main_control
        w = widget(at, key, topic.url_path)
        if w is None:
            continue
        default = w.value
        times = []
        for i in range(args.repeats):
            w = widget(at, key, topic.url_path)
            w.set_value(value if i % 2 == 0 else default)
            t0 = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t0)
        print(f"{topic.url_path:28s} {statistics.median(times):9.3f} {max(times):7.3f}")


if __name__ == "__main__":
    main()
