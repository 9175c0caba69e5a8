"""The live-training panel every training page shares.

A page hands over how to build its trainer(s) and its current settings; the
panel owns the rest: Start / Pause / Step / Reset, the server-wide slot queue,
a fragment that ticks while training (spend a time budget in `advance()`, then
redraw the same chart specs with new data), readouts, and the finished runs
kept for overlaying ("compare with previous runs").

    live_panel("wd", build=lambda: make_trainer(...), config={...}, live={"weight_decay": lambd})

`config` holds the settings that need a new model (a change rebuilds it);
`live` holds the hyperparameters the engine changes mid-run (lr, weight_decay).
`build()` returns one Trainer or a dict name -> Trainer (trained side by side).
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from core.train.trainer import Trainer

from . import charts
from .state import page_state, request_overrides, session_id, slot_pool

TICK_SECONDS = 0.3  # the fragment's run_every: at most ~3 redraws a second
BUDGET_SECONDS = 0.2  # training time spent per tick, shared by the trainers
MAX_RUNS = 8  # finished runs kept for overlays


@dataclass(frozen=True)
class Chart:
    title: str
    curves: Sequence[tuple[str, str]]  # (record key, legend label)
    log_y: bool = False
    level: str = "epochs"  # or "steps": one point per minibatch
    y_title: str = ""
    transform: Callable[[float], float] | None = None  # e.g. exp for perplexity


LOSS = Chart("Loss", [("train_loss", "train"), ("test_loss", "test")], log_y=True)
ACCURACY = Chart("Accuracy", [("train_metric", "train"), ("test_metric", "test")])
MINIBATCH = Chart("Minibatch loss", [("loss", "train")], log_y=True, level="steps")


@dataclass(frozen=True)
class Readout:
    key: str  # a key of the epoch records
    label: str
    fmt: str = "{:.3g}"
    help: str | None = None


@dataclass
class PanelState:
    trainers: dict[str, Trainer] = field(default_factory=dict)
    config: dict | None = None
    running: bool = False
    stop_at_epoch: int | None = None  # set by Step
    autostart: bool = False
    awaiting: dict = field(default_factory=dict)  # a preset's widget values not yet confirmed, see _confirmed
    waited: int = 0  # ticks spent awaiting them
    live: dict = field(default_factory=dict)  # the live hyperparameters now on the page
    queue: list[dict] = field(default_factory=list)  # overrides for the runs still to come
    runs: list[dict] = field(default_factory=list)  # finished runs
    label: str = ""  # the current settings, as a legend label
    run_label: str = ""  # the settings the current run started with
    message: str = ""


def live_panel(
    key: str,
    build: Callable[[], Trainer | dict[str, Trainer]],
    *,
    config: dict,
    live: dict[str, float] | None = None,
    charts_: Sequence[Chart] = (LOSS, ACCURACY, MINIBATCH),
    readouts: Sequence[Readout] = (),
    label: Callable[[dict], str] | None = None,
    view: Callable[[dict[str, Trainer]], None] | None = None,
    presets: Sequence[tuple[str, list[dict]]] = (),
) -> PanelState:
    """Draw the panel; returns its state (trainers, runs) for the page's own views."""
    S: PanelState = page_state(f"live:{key}", PanelState)
    live = dict(live or {})
    full = {**config, **live}
    _sync(S, build, config, live, full, label)

    for text, runs in presets:
        st.button(text, key=f"{key}:preset:{text}", icon=":material/compare_arrows:",
                  on_click=_start_preset, args=(S, runs))

    ticking = S.running

    @st.fragment(run_every=TICK_SECONDS if ticking else None)
    def body():
        _buttons(S, key, live)
        if S.running != ticking:  # Start/Pause pressed: the tick must be (un)scheduled by a full run
            st.rerun()
        if S.running and _confirmed(S):
            _tick(S)
            if not S.running:  # finished (or stopped) during this tick
                st.rerun()
        _draw(S, key, charts_, readouts, view)

    body()
    return S


# ----------------------------------------------------------------------- state
def _sync(S: PanelState, build, config, live, full, label) -> None:
    """Rebuild on a config change; push live hyperparameters into the trainers."""
    if S.config != config or not S.trainers:
        _stop(S)
        if S.trainers:
            _archive(S)
        built = build()
        S.trainers = built if isinstance(built, dict) else {"": built}
        S.config = copy.deepcopy(config)
        S.message = ""
    S.live = {k: float(v) for k, v in live.items()}
    for t in S.trainers.values():
        hp = _hparams_for(t, S.live)
        if not t.started and any(t.initial_hparams[k] != v for k, v in hp.items()):
            t.initial_hparams.update(hp)  # not a mid-run change: start afresh with it
            t.reset()
        elif not t.done:
            t.set_hparams(**hp)  # mid-run: takes effect at the next minibatch
        if "num_epochs" in live:
            t.num_epochs = int(live["num_epochs"])
    S.label = label(full) if label else ", ".join(f"{k}={v}" for k, v in full.items())
    if not any(t.started for t in S.trainers.values()):
        S.run_label = S.label
    if S.autostart:
        S.autostart = False
        _restart(S)
        S.running = True


def _restart(S: PanelState) -> None:
    """A new run with the current settings; the old one is kept for overlays."""
    _archive(S)
    S.run_label = S.label
    for t in S.trainers.values():
        t.initial_hparams.update(_hparams_for(t, S.live))
        t.reset()
    S.message = ""


def _hparams_for(t: Trainer, live: dict) -> dict:
    return {k: v for k, v in live.items() if k in t.hparams}


def _stop(S: PanelState) -> None:
    S.running, S.stop_at_epoch = False, None
    slot_pool().release(session_id())


def _start(S: PanelState) -> None:
    if all(t.done for t in S.trainers.values()):
        _restart(S)
    S.running, S.stop_at_epoch = True, None


def _step(S: PanelState) -> None:
    if all(t.done for t in S.trainers.values()):
        _restart(S)
    S.running = True
    S.stop_at_epoch = max(t.epoch for t in S.trainers.values()) + 1


def _reset(S: PanelState) -> None:
    """Back to the initial weights; the unfinished run is dropped, not kept."""
    _stop(S)
    S.queue = []
    for t in S.trainers.values():
        t.initial_hparams.update(_hparams_for(t, S.live))
        t.reset()
    S.run_label, S.message = S.label, ""


def _start_preset(S: PanelState, runs: list[dict]) -> None:
    """Queue one run per override set, clear the overlays, start the first."""
    _stop(S)
    for t in S.trainers.values():
        t.reset()  # nothing of the current run is kept
    S.runs, S.queue = [], [dict(r) for r in runs]
    _next_in_queue(S)


def _next_in_queue(S: PanelState) -> None:
    if S.queue:
        S.awaiting = S.queue.pop(0)
        S.waited = 0
        request_overrides(S.awaiting)
        S.autostart = True


def _confirmed(S: PanelState, patience: int = 10) -> bool:
    """Whether a preset's run may train: once the browser reports the widget values
    the preset set (or after `patience` ticks, if the user moved them meanwhile).
    Training earlier could finish a short run inside a run that still carries the
    browser's old values, and the st.rerun() that follows would bring them back."""
    if S.awaiting and S.waited < patience and (S.waited == 0 or any(
            st.session_state.get(k) != v for k, v in S.awaiting.items())):
        S.waited += 1  # the first run is the one that set them: it proves nothing
        return False
    S.awaiting = {}
    return True


def _archive(S: PanelState) -> None:
    """Keep the current run for overlays, if it finished at least one epoch."""
    if not any(t.history.epochs for t in S.trainers.values()):
        return
    changed = any(t.history.hparams for t in S.trainers.values())
    unfinished = not all(t.done for t in S.trainers.values())
    S.runs.append({
        "label": S.run_label + (" (changed mid-run)" if changed else "") + (" (stopped)" if unfinished else ""),
        "epochs": {name: list(t.history.epochs) for name, t in S.trainers.items()},
    })
    del S.runs[:-MAX_RUNS]


# ------------------------------------------------------------------------ tick
def _tick(S: PanelState) -> None:
    place = slot_pool().poll(session_id())
    if place:
        S.message = (f"Queued: place {place} in line for the server's {slot_pool().capacity} training "
                     f"slot(s). Training starts by itself when a slot frees up.")
        return
    S.message = ""
    target = S.stop_at_epoch
    todo = [t for t in S.trainers.values() if not t.done and (target is None or t.epoch < target)]
    try:
        for t in todo:
            if target is None:
                t.advance(max_seconds=BUDGET_SECONDS / len(todo))
            else:  # Step: never run past the end of the epoch
                t.advance(max_seconds=BUDGET_SECONDS / len(todo), max_steps=t.steps_left_in_epoch)
    except (RuntimeError, ValueError) as err:  # e.g. out of memory, bad shapes from odd settings
        _stop(S)
        S.message = f"Training stopped: {err}"
        return
    trainers = list(S.trainers.values())
    if any(t.diverged for t in trainers):
        _stop(S)
        S.message = "The loss became NaN or infinite: training stopped. Try a smaller learning rate."
    if all(t.done for t in trainers):
        _stop(S)
        _next_in_queue(S)
    elif S.stop_at_epoch is not None and all(t.done or t.epoch >= S.stop_at_epoch for t in trainers):
        _stop(S)


# ------------------------------------------------------------------------ draw
def _buttons(S: PanelState, key: str, live: dict) -> None:
    cols = st.columns([1, 1, 1, 1, 3], vertical_alignment="center")
    if S.running:
        cols[0].button("Pause", key=f"{key}:pause", icon=":material/pause:", on_click=_stop, args=(S,),
                       width="stretch")
    else:
        cols[0].button("Start", key=f"{key}:start", icon=":material/play_arrow:", type="primary",
                       on_click=_start, args=(S,), width="stretch")
    cols[1].button("Step", key=f"{key}:step", icon=":material/skip_next:", on_click=_step, args=(S,),
                   help="Train one epoch, then pause.", width="stretch")
    cols[2].button("Reset", key=f"{key}:reset", icon=":material/restart_alt:", on_click=_reset, args=(S,),
                   help="Back to the same initial weights (same seed).", width="stretch")
    cols[3].button("Clear runs", key=f"{key}:clear", icon=":material/layers_clear:",
                   on_click=lambda: S.runs.clear(), disabled=not S.runs,
                   help="Forget the finished runs drawn for comparison.", width="stretch")


def _draw(S: PanelState, key: str, charts_: Sequence[Chart], readouts: Sequence[Readout], view) -> None:
    trainers = S.trainers
    first = next(iter(trainers.values()))
    done_epochs = min(t.epoch for t in trainers.values())
    st.progress(min(t.progress for t in trainers.values()),
                text=f"Epoch {done_epochs} of {first.num_epochs}" + (" (running)" if S.running else ""))
    if S.message:
        (st.info if S.message.startswith("Queued") else st.warning)(S.message, icon=":material/info:")
    _readouts(trainers, readouts)
    cols = st.columns(min(2, len(charts_)) or 1)
    for i, chart in enumerate(charts_):
        with cols[i % len(cols)]:
            st.plotly_chart(_figure(S, key, chart), key=f"{key}:chart:{chart.title}", width="stretch")
    if view is not None:
        view(trainers)


def _readouts(trainers: dict[str, Trainer], readouts: Sequence[Readout]) -> None:
    for name, t in trainers.items():
        last = t.history.epochs[-1] if t.history.epochs else {}
        items = [
            ("examples/sec", _fmt(last.get("examples_per_sec"), "{:,.0f}")),
            ("elapsed", _fmt(t.elapsed, "{:.1f} s")),
        ] + [(r.label, _fmt(last.get(r.key), r.fmt)) for r in readouts]
        cols = st.columns(len(items) + (1 if name else 0))
        if name:
            cols[0].markdown(f"**{name}**")
            cols = cols[1:]
        for col, (label, value) in zip(cols, items):
            col.metric(label, value)


def _fmt(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return fmt.format(value)


def _figure(S: PanelState, key: str, chart: Chart):
    fig = charts.figure(chart.title, x_title="epoch", y_title=chart.y_title, log_y=chart.log_y,
                        revision=f"{key}:{chart.title}")
    f = chart.transform or (lambda v: v)
    many = len(S.trainers) > 1
    dashes = ["solid", "dot", "dash", "dashdot"]
    if chart.level == "epochs":
        for r, run in enumerate(S.runs):
            for m, (name, epochs) in enumerate(run["epochs"].items()):
                for c, (k, label) in enumerate(chart.curves):
                    xs = [e["epoch"] for e in epochs if e.get(k) is not None]
                    ys = [f(e[k]) for e in epochs if e.get(k) is not None]
                    if xs:
                        charts.add_line(fig, xs, ys, " · ".join(p for p in (run["label"], name, label) if p),
                                        color=charts.FADED[r % len(charts.FADED)],
                                        dash=dashes[(c + m) % len(dashes)], width=1.5, opacity=0.8)
    for m, (name, t) in enumerate(S.trainers.items()):
        records = getattr(t.history, chart.level)
        for c, (k, label) in enumerate(chart.curves):
            xs = [rec["epoch"] for rec in records if rec.get(k) is not None]
            ys = [f(rec[k]) for rec in records if rec.get(k) is not None]
            color = charts.PALETTE[(m if many else c) % len(charts.PALETTE)]
            dash = dashes[c % len(dashes)] if many else "solid"
            current = S.run_label if S.runs else ""  # beside older runs, say which this is
            charts.add_line(fig, xs, ys, " · ".join(p for p in (current, name, label) if p), color=color, dash=dash,
                            mode="lines+markers" if len(xs) < 3 else "lines")
    return fig
