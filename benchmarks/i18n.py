"""What English and 中文 cost: reading both language files, one t() call, and
the server-side re-run of each page (move its main control, AppTest,
no browser) in English and in Chinese. Also how much of the catalog is done.

    .venv/bin/python benchmarks/i18n.py [--repeats 10]
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
from test_i18n import PAGES  # noqa: E402

from playground import i18n  # noqa: E402
from playground.catalog import TOPICS  # noqa: E402


def per_call(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def rerun_seconds(topic, lang: str, repeats: int) -> float:
    at = open_page(topic.path, {"lang": lang})
    key, value = topic.main_control
    default = find_widget(at, key, topic.url_path).value
    times = []
    for i in range(repeats):
        w = find_widget(at, key, topic.url_path)
        start = time.perf_counter()
        w.set_value(value if i % 2 == 0 else default).run()
        times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=10)
    args = p.parse_args()

    start = time.perf_counter()
    i18n.table.cache_clear()
    sizes = {code: len(i18n.table(code)) for code in i18n.LANGS}
    load = time.perf_counter() - start
    print(f"keys per language: {sizes}; both files read and flattened in {load * 1000:.1f} ms")
    tables = sorted({k.split(".")[0] for k in i18n.table("en")})
    print(f"tables: {len(tables)} ({', '.join(tables)})")
    print(f"pages in both languages: {len(PAGES)} of {len(TOPICS)}")

    n = 100_000
    plain = per_call(lambda: i18n.t("live.start"), n)
    valued = per_call(lambda: i18n.t("live.progress", epoch=3, num_epochs=10), n)
    print(f"t() outside a session: {plain * 1e6:.2f} µs plain, {valued * 1e6:.2f} µs with two values")

    print(f"{'page':18s} {'en median s':>12s} {'zh median s':>12s}")
    for topic in TOPICS:
        if topic.main_control:
            seen: dict[str, list[float]] = {"en": [], "zh": []}
            for lang in ("zh", "en", "en", "zh"):  # alternated: the first session of a page pays its warm-up
                seen[lang].append(rerun_seconds(topic, lang, args.repeats))
            print(f"{topic.url_path:18s} {statistics.median(seen['en']):12.3f} {statistics.median(seen['zh']):12.3f}")


if __name__ == "__main__":
    main()
