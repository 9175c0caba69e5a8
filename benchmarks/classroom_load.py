"""A class on one server: N students (each a separate Playwright browser
context, i.e. a separate browser, in one headless Chromium) open the same
training page at once and press Start. Measured, never asserted.

    .venv/bin/python benchmarks/classroom_load.py [--tabs 5 10 20 30] [--slots 2]
        [--page gru_lstm|dropout] [--epochs 10] [--deadline 300] [--shots /tmp/classroom]

For each N a fresh `streamlit run` on a free 127.0.0.1 port (PLAYGROUND_SLOTS=--slots,
the shared data folder, a temporary models folder), stopped afterwards with its whole
process group. Per tab: seconds from navigation to the page rendered (Start visible and
enabled), from pressing Start to the first point of the live minibatch chart, the first
"Queued: place K" it was shown, whether it lost its slot or place, and the order tabs
began training ("(running)") against the order they pressed Start (first come, first
served: an "inversion" is a pair that pressed >= 0.5 s apart but began training the other
way round; the server queues a tab when it handles the press, "ack s" after the click, so
a slow server can reorder close presses). Every 0.5 s: tabs training at once ("(running)"), queued, and the server's RSS
(the streamlit process and all its descendants, from /proc). At the end: each tab's
"examples/sec". A tab that never rendered or never trained by the per-N deadline is
reported as such. The table goes to stdout and is appended to classroom_load_results.md.

The browsers run on the same machine as the server: with many tabs on few cores the
Chromium renderers compete with training for CPU, so figures are for the whole setup.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from browser_support import (  # noqa: E402
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    LIVE_JS,
    METRIC_JS,
    STAND_IN_TOGGLE,
    app_env,
    free_port,
)

RESULTS = ROOT / "benchmarks" / "classroom_load_results.md"
HEADER = """# Classroom load (benchmarks/classroom_load.py)

N students' browsers open one training page at once and press Start. Per tab: render s (navigation
to Start enabled, in the browser), server s (the server's share of it: the tab's websocket opening to
the server's first script_finished message, as the browser receives it), press# (order of pressing
Start), ack s (press to the page saying running or queued), the first queue place shown, start#
(order of beginning to train), Start->point s (press to the first point of the live minibatch chart),
done at s (since the tabs opened), the page's last examples/sec and elapsed; and the CPU seconds the
server, its workers and the browsers used. Measured, not asserted; the browsers share the machine
with the server."""
# page -> (url path, title of its per-minibatch live chart, settings that keep a run short, default epochs)
PAGES = {"gru_lstm": ("/gru_lstm", "Minibatch perplexity", "num_hiddens=32&num_epochs={epochs}", 10),
         "dropout": ("/dropout", "Minibatch loss", "num_epochs={epochs}", 1)}
NOTHING = (None, "–", "—", "-")  # a metric with no value yet (the page shows an en dash)
POLL, SAMPLE = 0.25, 0.5  # seconds between a tab's reads of its page; between samples
# One read of a tab: the progress bar's text, the queue message, the live chart's points, examples/sec.
PROBE_JS = f"""(chart) => {{
    const live = ({LIVE_JS}), metric = ({METRIC_JS});
    const bar = document.querySelector('[data-testid="stProgress"]');
    const alerts = Array.from(document.querySelectorAll('[data-testid="stAlert"]')).map(a => a.innerText);
    const queued = alerts.map(t => /Queued: place (\\d+) in line/.exec(t)).find(m => m);
    return {{progress: bar ? bar.innerText : '', place: queued ? Number(queued[1]) : null,
             lost: alerts.some(t => t.includes('its training slot to go to the next in line')),
             stopped: alerts.find(t => t.startsWith('Training stopped') || t.includes('became NaN')) || null,
             points: Math.max(0, ...Object.values(live(chart)[chart] || {{}})),
             eps: metric('examples/sec'), elapsed: metric('elapsed')}};
}}"""


@dataclass
class Tab:
    n: int
    rendered: float | None = None  # seconds from navigation to Start visible and enabled
    server_render: float | None = None  # seconds from the websocket opening to the first script_finished
    pressed: float | None = None  # when Start was pressed (seconds since the class began)
    ack: float | None = None  # seconds from pressing Start to the page first saying running or queued
    place: int | None = None  # first "Queued: place K" seen
    running_at: float | None = None  # first "(running)"
    first_point: float | None = None  # seconds from pressing Start to the chart's first point
    finished_at: float | None = None
    lost: bool = False  # was told its slot or place went to the next in line
    stand_in: bool = False  # the page had no data and the tab took the stand-in it offers
    running: bool = False
    waiting: bool = False
    eps: str | None = None  # the page's "examples/sec" and "elapsed" (training time), last shown
    elapsed: str | None = None
    error: str = ""
    started: float | None = None  # when it began training: the first "(running)", else the first point


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    models_dir: str
    run_log: Path  # the app's PLAYGROUND_RUN_LOG: each full script run's seconds, in the server
    samples: list = field(default_factory=list)  # (t, running, queued, rss MB, processes)
    cpu: dict = field(default_factory=dict)  # pid -> (what, CPU seconds when last seen): server, workers, browsers
    cpu_before: dict = field(default_factory=dict)  # the same at the start of the class
    class_began: float = 0.0  # wall clock


def script_runs(server: Server) -> list[float]:
    """Seconds of every full script run the server logged during the class (fragment ticks are not logged)."""
    with contextlib.suppress(OSError):
        lines = server.run_log.read_text().split("\n")
        rows = [line.split() for line in lines]
        return [float(r[3]) for r in rows if len(r) == 4 and float(r[0]) >= server.class_began]
    return []


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def account(server: Server, into: dict) -> None:
    """CPU seconds so far of the server, its workers and every Chromium process (a closed tab's
    renderer keeps the last figure it was seen with)."""
    whats = {pid: "server" if pid == server.proc.pid else "workers" for pid in descendants(server.proc.pid)}
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) not in whats:
            with contextlib.suppress(OSError):
                if (d / "comm").read_text().strip().startswith("chromium"):
                    whats[int(d.name)] = "browsers"
    for pid, what in whats.items():
        if (cpu := cpu_seconds(pid)) is not None:
            into[pid] = (what, cpu)


def cpu_used(server: Server) -> dict[str, float]:
    out = {"server": 0.0, "workers": 0.0, "browsers": 0.0}
    for pid, (what, cpu) in server.cpu.items():
        out[what] += cpu - server.cpu_before.get(pid, (what, 0.0))[1]
    return out


def descendants(pid: int) -> list[int]:
    """pid and every process below it, from /proc (no psutil here)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def rss_mb(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            m = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{p}/status").read_text())
            total += int(m.group(1)) if m else 0
        except OSError:
            pass
    return total / 1024


def start_server(slots: int, timeout: float = 60) -> Server:
    port = free_port()
    env = {**os.environ, **app_env(), "PLAYGROUND_SLOTS": str(slots),
           "PLAYGROUND_RUN_LOG": str(Path(tempfile.mkdtemp(prefix="runs-")) / "runs.log")}
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / f"classroom-load-{port}.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
                             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless",
                             "true", "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)  # its own process group
    server = Server(proc, f"http://127.0.0.1:{port}", env["PLAYGROUND_MODELS_DIR"], Path(env["PLAYGROUND_RUN_LOG"]))
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        try:
            with urllib.request.urlopen(server.url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise RuntimeError(f"streamlit did not become healthy (exit code {proc.poll()}); see {log.name}")


def stop_server(server: Server) -> None:
    """SIGTERM the process group, then SIGKILL it and any descendant that left the group."""
    pids = descendants(server.proc.pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.proc.pid, sig)
        try:
            server.proc.wait(10)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGTERM:
            time.sleep(1)  # let children exit with their parent
    for p in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(p, signal.SIGKILL)
    shutil.rmtree(server.models_dir, ignore_errors=True)


def chromium(nice: int) -> str:
    """Chromium, or a wrapper that starts it at this niceness: the students' browsers run on their own
    machines in a class, so here they get the CPU the server and its workers leave."""
    if not nice:
        return CHROMIUM
    wrapper = Path(tempfile.gettempdir()) / f"chromium-nice{nice}"
    wrapper.write_text(f'#!/bin/sh\nexec nice -n {nice} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def watch_server(ws, tab: Tab) -> None:
    """The server's share of the first render: from the tab's websocket opening
    (its script run requested) to the server's first script_finished message,
    the browser's own loading and drawing left out."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    opened = time.monotonic()

    def frame(payload) -> None:
        if tab.server_render is not None or not isinstance(payload, bytes):
            return
        msg = ForwardMsg()
        with contextlib.suppress(Exception):
            msg.ParseFromString(payload)
            if msg.WhichOneof("type") == "script_finished":
                tab.server_render = time.monotonic() - opened

    ws.on("framereceived", frame)


async def student(browser, tab: Tab, url: str, chart: str, t0: float, deadline: float, shots: Path | None):
    from playwright.async_api import Error

    ctx = await browser.new_context(viewport={"width": 1400, "height": 1400})
    page = await ctx.new_page()
    page.on("websocket", lambda ws: watch_server(ws, tab))
    left = lambda: max(1.0, deadline - time.monotonic()) * 1000  # noqa: E731  ms, for Playwright
    try:
        nav = time.monotonic()
        await page.goto(url, timeout=left())
        start = page.get_by_role("button", name="Start", exact=True)
        stand_in = page.locator(STAND_IN_TOGGLE)
        await start.or_(stand_in).first.wait_for(timeout=left())
        if await stand_in.count():  # no real data on this server: take the stand-in the page offers
            await stand_in.first.click(timeout=left())
            tab.stand_in = True
        await start.wait_for(timeout=left())
        while not await start.is_enabled() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        tab.rendered = time.monotonic() - nav
        tab.pressed = time.monotonic() - t0
        await start.click(timeout=left())
        while time.monotonic() < deadline:
            s = await page.evaluate(PROBE_JS, chart if tab.first_point is None else "")  # less to read
            now = time.monotonic() - t0
            tab.running, tab.waiting = "(running)" in s["progress"], s["place"] is not None
            tab.lost |= s["lost"]
            tab.eps = s["eps"] if s["eps"] not in NOTHING else tab.eps  # kept from the last epoch that showed one
            tab.elapsed = s["elapsed"] if s["elapsed"] not in NOTHING else tab.elapsed
            if (tab.waiting or tab.running) and tab.ack is None:
                tab.ack = now - tab.pressed
            if tab.waiting and tab.place is None:
                tab.place = s["place"]
                if shots:
                    await page.screenshot(path=str(shots / f"tab{tab.n:02d}-queued.png"))
            if tab.running and tab.running_at is None:
                tab.running_at = now
            if s["points"] > 0 and tab.first_point is None:
                tab.first_point = now - tab.pressed
            m = re.search(r"Epoch (\d+) of (\d+)", s["progress"])
            if m and m[1] == m[2] and not tab.running and not tab.waiting:
                tab.finished_at = now
                break
            if s["stopped"] or (tab.lost and not tab.running and not tab.waiting):  # failed, or paused: this
                tab.error = (s["stopped"] or "paused: its slot went to the next in line").splitlines()[0][:70]
                break  # student does not press Start again
            await asyncio.sleep(POLL)
    except Error as e:
        tab.error = str(e).splitlines()[0][:70]
    finally:
        tab.running = tab.waiting = False
        tab.started = tab.running_at
        if tab.started is None and tab.first_point is not None:  # ran and stopped between two reads
            tab.started = tab.pressed + tab.first_point
        if shots:
            try:  # the live panel, not the top of the page
                await page.locator("[data-testid='stVegaLiteChart']").last.scroll_into_view_if_needed(timeout=5_000)
                await page.screenshot(path=str(shots / f"tab{tab.n:02d}.png"), timeout=10_000)
            except Error:
                pass
        with contextlib.suppress(Error):
            await ctx.close()


async def sample(server: Server, tabs: list[Tab], t0: float, done: asyncio.Event) -> None:
    while not done.is_set():
        pids = descendants(server.proc.pid)
        server.samples.append((time.monotonic() - t0, sum(t.running for t in tabs), sum(t.waiting for t in tabs),
                               rss_mb(pids), len(pids)))
        account(server, server.cpu)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), SAMPLE)


async def one_class(n: int, args) -> tuple[list[Tab], Server, float, float]:
    from playwright.async_api import async_playwright

    path, chart, settings, _ = PAGES[args.page]
    server = start_server(args.slots)
    tabs = [Tab(i + 1) for i in range(n)]
    try:
        idle_rss = rss_mb(descendants(server.proc.pid))
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=chromium(args.nice), args=CHROMIUM_ARGS, headless=True)
            shots = Path(args.shots) / f"n{n}" if args.shots else None
            if shots:
                shots.mkdir(parents=True, exist_ok=True)
            if args.warm:  # the teacher opens the page before the class: the server's first-visit costs
                teacher = await browser.new_context()  # (imports, the data set, starting the workers) are paid
                page = await teacher.new_page()
                await page.goto(f"{server.url}{path}?{settings.format(epochs=args.epochs)}&seed=0")
                await page.get_by_role("button", name="Start", exact=True).wait_for(timeout=120_000)
                await teacher.close()
            account(server, server.cpu_before)
            server.class_began = time.time()
            t0 = time.monotonic()
            deadline, done = t0 + args.deadline, asyncio.Event()
            sampler = asyncio.create_task(sample(server, tabs, t0, done))
            # each student's own seed: every run distinct, none offered a model saved by another
            urls = [f"{server.url}{path}?{settings.format(epochs=args.epochs)}&seed={t.n}" for t in tabs]
            await asyncio.gather(*(student(browser, t, u, chart, t0, deadline, shots) for t, u in zip(tabs, urls)))
            took = time.monotonic() - t0
            done.set()
            await sampler
            account(server, server.cpu)
            await browser.close()
    finally:
        stop_server(server)
    return tabs, server, idle_rss, took


def inversions(tabs: list[Tab], gap: float = 0.5) -> tuple[int, int]:
    """(pairs that began training in the other order than they pressed Start, pairs compared)."""
    both = [t for t in tabs if t.pressed is not None and t.started is not None]
    pairs = [(a, b) for a in both for b in both if b.pressed - a.pressed >= gap]
    return sum(b.started < a.started for a, b in pairs), len(pairs)


def fmt(x, f="{:.1f}") -> str:
    return "-" if x is None else f.format(x)


def median(xs: list[float]) -> float | None:
    xs = sorted(xs)
    return (xs[(len(xs) - 1) // 2] + xs[len(xs) // 2]) / 2 if xs else None


def rank(tabs: list[Tab], when) -> dict[int, int]:
    return {t.n: r for r, t in enumerate(sorted((t for t in tabs if when(t) is not None), key=when), 1)}


def report(n: int, tabs: list[Tab], server: Server, idle_rss: float, took: float) -> list[str]:
    pressed, started = rank(tabs, lambda t: t.pressed), rank(tabs, lambda t: t.started)
    lines = [f"N={n}  tab  render s  server s  press#  ack s  queued at place  start#  Start->point s  done at s  "
             "examples/sec  elapsed  note"]
    for t in tabs:
        note = t.error or ("never rendered" if t.rendered is None else
                           "never trained by the deadline" if t.started is None else
                           "not finished by the deadline" if t.finished_at is None else "")
        note += " (lost its slot/place)" if t.lost else ""
        note += " (stand-in data)" if t.stand_in else ""
        lines.append(f"{'':5s}{t.n:4d} {fmt(t.rendered):>9s} {fmt(t.server_render, '{:.2f}'):>9s} "
                     f"{fmt(pressed.get(t.n), '{}'):>7s} {fmt(t.ack):>6s} "
                     f"{fmt(t.place, '{}'):>16s} {fmt(started.get(t.n), '{}'):>7s} {fmt(t.first_point):>15s} "
                     f"{fmt(t.finished_at):>10s} {t.eps or '-':>13s} {t.elapsed or '-':>8s}  {note}".rstrip())
    s = server.samples
    rendered = [t.rendered for t in tabs if t.rendered is not None]
    served = [t.server_render for t in tabs if t.server_render is not None]
    runs = sorted(script_runs(server))
    waits = [t.first_point for t in tabs if t.first_point is not None]
    busy = [x[1] for x in s if x[1]]
    inv, pairs = inversions(tabs)
    lines += [
        f"N={n} tabs: rendered {len(rendered)}/{n} (median {fmt(median(rendered))} s, "
        f"max {fmt(max(rendered, default=None))} s; the server's share: median {fmt(median(served), '{:.2f}')} s, "
        f"max {fmt(max(served, default=None), '{:.2f}')} s); trained {len(waits)}/{n} (Start->first point median "
        f"{fmt(median(waits))} s, max {fmt(max(waits, default=None))} s); finished "
        f"{sum(t.finished_at is not None for t in tabs)}/{n}; ever queued {sum(t.place is not None for t in tabs)}; "
        f"lost slot/place {sum(t.lost for t in tabs)}; FCFS inversions {inv} of {pairs} pairs",
        f"N={n} server: training at once max {max((x[1] for x in s), default=0)} (mean "
        f"{fmt(sum(busy) / len(busy) if busy else None, '{:.2f}')} while any trained), queued max "
        f"{max((x[2] for x in s), default=0)}; RSS idle {idle_rss:.0f} MB, peak {max((x[3] for x in s), default=0):.0f}"
        f" MB; processes max {max((x[4] for x in s), default=0)}; the class took {took:.1f} s",
        f"N={n} the server's own script runs (whole page, in the server, browsers apart): {len(runs)} runs, "
        f"median {fmt(median(runs), '{:.2f}')} s, 90th percentile "
        f"{fmt(runs[int(0.9 * (len(runs) - 1))] if runs else None, '{:.2f}')} s, "
        f"max {fmt(max(runs, default=None), '{:.2f}')} s",
        f"N={n} CPU seconds during the class (of {took * (os.cpu_count() or 1):.0f} the machine had): "
        + ", ".join(f"{what} {sec:.0f}" for what, sec in cpu_used(server).items()),
    ]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tabs", type=int, nargs="+", default=[5, 10, 20, 30])
    ap.add_argument("--slots", type=int, default=2)
    ap.add_argument("--page", choices=sorted(PAGES), default="gru_lstm")
    ap.add_argument("--epochs", type=int, help="num_epochs in each tab's URL (default: gru_lstm 10, its least; "
                                                "dropout 1)")
    ap.add_argument("--deadline", type=float, default=300, help="seconds per N, from the tabs opening")
    ap.add_argument("--shots", default="", help="save each tab's last screenshot under this folder")
    ap.add_argument("--nice", type=int, default=19, help="the browsers' niceness (0: compete with the server as "
                                                           "equals; default 19: they get what it leaves)")
    ap.add_argument("--cold", dest="warm", action="store_false",
                    help="no teacher's visit first: the class pays the server's first-visit costs too")
    args = ap.parse_args()
    args.epochs = args.epochs or PAGES[args.page][3]
    head = (f"## {datetime.datetime.now():%Y-%m-%d %H:%M} page={args.page} epochs={args.epochs} slots={args.slots} "
            f"deadline={args.deadline:g}s, {'warm (the page visited once first)' if args.warm else 'cold'} server, "
            f"browsers at nice {args.nice}, "
            f"{os.cpu_count()} cores, browsers on the same machine")
    out = [head, ""]
    print(head)
    for n in args.tabs:
        lines = report(n, *asyncio.run(one_class(n, args)))
        print("\n".join(lines), flush=True)
        out += ["```", *lines, "```", ""]
    if not RESULTS.exists():
        out = [HEADER, ""] + out
    with RESULTS.open("a") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
