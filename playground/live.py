"""The live-training panel every training page shares: a thin Streamlit shell
around a run that trains in a worker (core.train.page_run.PageRun on the
server's executor: a pool of worker processes, or a Ray cluster).

    live_panel("weight_decay", cfg, "weight_decay", seed=seed, device=device)

`cfg` is the page's Config (core.experiments.schema) of the experiment
core.experiments.<experiment>; `data` is what its build takes (sent to the
worker once per data set, see playground.data.shared). A change to a live
setting reaches the running trainers at their next minibatch; any other
change, or a change of the seed, device or `context`, builds a new run and
keeps the old one for overlays. A preset trains its Configs side by side
without touching the widgets. The web process only polls and draws: the run
trains on between the page's redraws. Views are pictures of the model,
computed in the worker between two steps by a named core function (`View`).
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.experiments import schema
from core.experiments.schema import Preset
from core.train import checkpoints
from core.train.live_run import State
from core.train.page_run import PageRun
from core.train.runs import LOST, RunGone, RunSpec

from . import charts, code_export, health, presenter, timeline
from .data import shared
from .i18n import t
from .messages import literal
from .state import browser_id, executor, page_state

TICK_SECONDS = 0.5  # the fragment's run_every while training: two redraws a second
QUEUED_TICK_SECONDS = 1.0  # a queued tab only asks for its turn: cheap for the server
VIEW_TICK_SECONDS = 2.0  # how often the pictures drawn once an epoch look for a new epoch while training
MAX_RUNS = 8  # finished runs kept for overlays
BUILD_WAIT_SECONDS = 2.0  # a new run usually builds in well under this: the page then never ticks for it
KEEP_SECONDS = 1.0  # how often the runs of connected tabs are polled, whatever their redraws


@dataclass(frozen=True)
class Chart:
    title: str
    curves: Sequence[tuple[str, str]]  # (record key, legend label)
    log_y: bool = False
    level: str = "epochs"  # or "steps": one point per minibatch
    y_title: str = ""
    transform: Callable[[float], float] | None = None  # e.g. exp for perplexity
    reference: Sequence[tuple] = ()  # the book's value (value, label) or its editions' band (low, high, label)


LOSS = Chart("Loss", [("train_loss", "train"), ("test_loss", "test")], log_y=True)
ACCURACY = Chart("Accuracy", [("train_metric", "train"), ("test_metric", "test")])
MINIBATCH = Chart("Minibatch loss", [("loss", "train")], log_y=True, level="steps")


@dataclass(frozen=True)
class Readout:
    key: str  # a key of the epoch records
    label: str
    fmt: str = "{:.3g}"
    help: str | None = None


@dataclass(frozen=True)
class View:
    """A picture of the model. `compute` names a core function
    ("core.experiments.dropout:picture") called in the worker between two
    steps as compute(trainers, **params) (with the run's data as `data` when
    it takes a parameter of that name); `draw(result)` shows what it returned.
    `every`: "epoch" (recompute when an epoch ends), "pause" (only while not
    training) or a number of seconds; a change of `params` (the view's own
    settings) recomputes at once."""

    compute: str
    draw: Callable[[Any], None]
    every: str | float = "epoch"
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def live_panel(
    key: str,
    cfg,
    experiment: str,
    *,
    data: Any = None,
    data_key: str | None = None,
    seed: int = 0,
    device: Any = "cpu",
    context: Mapping[str, Any] | None = None,
    charts_: Sequence[Chart] = (LOSS, ACCURACY, MINIBATCH),
    readouts: Sequence[Readout] = (),
    label: Callable[[Any], str] | None = None,
    views: Sequence[View] = (),
    presets: Sequence[Preset] = (),
    init: Mapping[str, Any] | None = None,
) -> PageRun:
    """Draw the panel; returns the PageRun (records, archived runs, probes) for
    the page's own use. `data_key` names `data` by its content when the page
    knows it (else it is computed once per data object). `init`: a state_dict
    the runs start from instead of the seed's weights (RunSpec.init); name it
    in `context` too, so another one builds a new run (and is saved apart)."""
    context = {**(context or {}), "seed": seed, "device": str(device)}
    label = label or _default_label
    blob = shared(data, data_key) if data is not None else None

    def spec(c) -> RunSpec:
        return RunSpec(experiment, c, seed=seed, device=str(device), data=blob, init=init)

    try:
        R: PageRun = page_state(f"live:{key}", lambda: PageRun(executor(), group=browser_id(), max_runs=MAX_RUNS))
        _sync(R, cfg, spec, context, label)
        _keep(R)
    except Exception as err:  # noqa: BLE001 - no worker, a cluster that does not answer: say so, keep the page
        st.error(t("live.unavailable", error=f"{literal(type(err).__name__)}: {literal(str(err)[:200])}"),
                 icon=":material/cloud_off:")
        st.stop()

    for i, preset in enumerate(presets):
        shown = dataclasses.replace(preset, label=_preset_label(experiment, i, preset))
        st.button(shown.label, key=f"{key}:preset:{preset.label}", icon=":material/compare_arrows:",
                  on_click=_start_preset, args=(R, shown, cfg, spec, context))

    ticking = _cadence(R)
    cache: dict = page_state(f"views:{key}", dict)
    saved = checkpoints.path_for(key, _identity(cfg, context))
    if R.follows_page and not R.started and saved.exists():
        _offer_saved(R, key, saved)

    @st.fragment(run_every=ticking)
    def body():
        R.refresh()
        _save_finished(R, cfg, saved)
        if _cadence(R) != ticking:  # started, paused, queued or ended: reschedule the tick with a full run
            st.rerun()
        _buttons(R, key)
        _draw(R, key, charts_, readouts)

    body()
    timeline.scrubber(R, key)  # outside the fragment: moving it redraws the pictures too
    health.panel(R, key)
    code_export.show(experiment, cfg, seed=seed, data=data, key=key, preset=None if R.follows_page else R.label,
                     init=init is not None)
    if views:
        @st.fragment(run_every=_view_cadence(R, views))
        def pictures():  # their own, slower tick: a picture is redrawn when it may have changed, not twice a second
            at = timeline.position(R, key)
            for i, view in enumerate(views):
                _view(R, view, cache, i, at[0] if at else None)

        pictures()
    return R


# ----------------------------------------------------------------------- state
class _Keeper:
    """Every KEEP_SECONDS, a poll for each training or queued run whose tab is
    still connected (Streamlit's runtime knows which sessions have an open
    websocket), so a run keeps its slot while its tab is open however long the
    page takes to redraw (a busy server, a hidden tab whose timers the browser
    slows). A closed tab's session is no longer active: its polls stop, and
    the executor's lease (4 s) hands its slot on."""

    def __init__(self):
        self._runs: dict[int, tuple[weakref.ref, str]] = {}
        self._lock = threading.Lock()
        threading.Thread(target=self._loop, name="playground-keeper", daemon=True).start()

    def add(self, R: PageRun, session: str) -> None:
        with self._lock:
            self._runs[id(R)] = (weakref.ref(R), session)

    def _loop(self) -> None:
        from streamlit.runtime import Runtime

        while True:
            time.sleep(KEEP_SECONDS)
            with self._lock:
                items = list(self._runs.items())
            if not Runtime.exists():
                continue
            runtime = Runtime.instance()
            for key, (ref, session) in items:
                R = ref()
                if R is None:
                    with self._lock:
                        self._runs.pop(key, None)
                elif R.active and runtime.is_active_session(session) and R.lock.acquire(blocking=False):
                    try:  # (a run busy with a command is alive by that command: never wait for it here)
                        R.refresh()
                    except Exception:  # noqa: BLE001, S110 - a lost worker: the page says so at its next redraw
                        pass
                    finally:
                        R.lock.release()


@st.cache_resource
def _keeper() -> _Keeper:
    return _Keeper()


def _keep(R: PageRun) -> None:
    ctx = get_script_run_ctx()
    if ctx is not None:
        _keeper().add(R, ctx.session_id)


def _cadence(R: PageRun) -> float | None:
    if R.building:
        return TICK_SECONDS
    if not R.active:
        return None
    return QUEUED_TICK_SECONDS if R.state == State.QUEUED else TICK_SECONDS


def _view_cadence(R: PageRun, views: Sequence[View]) -> float | None:
    """How often the pictures' fragment looks again: while training, at the
    quickest view's own pace (VIEW_TICK_SECONDS for those drawn each epoch);
    otherwise never by itself (a pause, a step or the end reruns the page)."""
    if R.state not in (State.RUNNING, State.STEPPING):
        return None
    return max(TICK_SECONDS, min(float(v.every) if not isinstance(v.every, str) else VIEW_TICK_SECONDS
                                 for v in views))


def _preset_label(experiment: str, i: int, preset: Preset) -> str:
    """A preset's button in this session's language (`<experiment>.preset.<i>`, else its own label:
    a preset no English file names was built by its page, in the page's language, e.g. "5 折交叉验证")."""
    from .i18n import DEFAULT, t_or, text

    if text(f"{experiment}.preset.{i}", DEFAULT) is None:
        return preset.label
    return t_or(f"{experiment}.preset.{i}", preset.label)


def _default_label(cfg) -> str:
    return ", ".join(f"{c.label}={schema.encode(getattr(cfg, n))}" for n, c in schema.controls(cfg).items()) or "run"


def _identity(cfg, context: dict) -> dict:
    """Everything a run is built from: every setting and the context (seed, device, data)."""
    return {"cfg": dataclasses.asdict(cfg), "context": context}


def _sync(R: PageRun, cfg, spec: Callable[[Any], RunSpec], context: dict, label) -> None:
    """Build a run for the page's settings when they need one; else push the live ones."""
    page_key = (tuple(sorted(schema.rebuild_part(cfg).items())), tuple(sorted(context.items())))
    # a preset's runs stay until any of the page's settings change
    stale = (R.handle is None or R.key != page_key) if R.follows_page else R.key[1] != _identity(cfg, context)
    if stale:
        R.load(spec(cfg), label=label(cfg), key=page_key)
        R.wait_built(BUILD_WAIT_SECONDS)
    if R.follows_page:
        R.set_live(schema.live_part(cfg))
        if not R.started:
            R.label = label(cfg)


def _save_finished(R: PageRun, cfg, path) -> None:
    """Keep a run that finished at exactly the page's settings, once per settings."""
    if (R.state != State.FINISHED or not R.follows_page or R.changed_mid_run or path.exists()
            or R.epoch != getattr(cfg, "num_epochs", R.epoch)):
        return
    with contextlib.suppress(OSError, RunGone, TimeoutError):  # a full disk, a lost worker: the run is unaffected
        checkpoints.save(path, R.snapshot())


def _offer_saved(R: PageRun, key: str, path) -> None:
    def load():
        try:
            R.restore({name: snap.to_dict() for name, snap in checkpoints.load(path).items()})
        except (checkpoints.CheckpointError, RunGone, TimeoutError, RuntimeError, ValueError):
            st.session_state[f"saved-failed:{key}"] = True

    if st.session_state.pop(f"saved-failed:{key}", False):
        st.warning(t("live.saved_failed"), icon=":material/warning:")
        return
    st.button(t("live.saved_start"), key=f"{key}:saved", icon=":material/download:", on_click=load,
              help=t("live.saved_help"))


def _start_preset(R: PageRun, preset: Preset, cfg, spec: Callable[[Any], RunSpec], context: dict) -> None:
    """The preset's runs side by side, from the same seed; older overlays are cleared."""
    R.load(spec(preset.configs(cfg)), label=preset.label, key=(preset.label, _identity(cfg, context)),
           follows_page=False)
    R.clear_runs()
    R.start()


# ------------------------------------------------------------------------ draw
def _buttons(R: PageRun, key: str) -> None:
    widths = [1, 1, 1, 1, 1] if presenter.presenting() else [1, 1, 1, 1, 3]  # larger type: wider buttons
    cols = st.columns(widths, vertical_alignment="center")
    if R.state == LOST:
        cols[0].button(t("live.restart"), key=f"{key}:restart", icon=":material/restart_alt:", type="primary",
                       on_click=R.restart, width="stretch", help=t("live.restart_help"))
    elif R.active:
        cols[0].button(t("live.pause"), key=f"{key}:pause", icon=":material/pause:", on_click=R.pause, width="stretch")
    elif R.state == State.FINISHED:  # a trained model: one more click before it is replaced
        with cols[0].popover(t("live.new_run"), icon=":material/replay:", type="primary", width="stretch"):
            st.markdown(t("live.new_run_explained"))
            st.button(t("live.start_new_run"), key=f"{key}:start", icon=":material/replay:", type="primary",
                      on_click=R.start, width="stretch")
    elif R.state in (State.DIVERGED, State.FAILED):
        cols[0].button(t("live.new_run"), key=f"{key}:start", icon=":material/replay:", type="primary",
                       on_click=R.start, width="stretch", help=t("live.new_run_help"))
    else:
        cols[0].button(t("live.start"), key=f"{key}:start", icon=":material/play_arrow:", type="primary",
                       on_click=R.start, width="stretch")
    if R.state == State.FINISHED:
        more = max(1, round(R.num_epochs / 5))
        cols[1].button(t("live.more_epochs", n=more), key=f"{key}:more", icon=":material/fast_forward:",
                       width="stretch", on_click=_continue, args=(R, more), help=t("live.more_epochs_help"))
    else:
        cols[1].button(t("live.step"), key=f"{key}:step", icon=":material/skip_next:", on_click=R.step,
                       width="stretch", help=t("live.step_help"))
    cols[2].button(t("live.reset"), key=f"{key}:reset", icon=":material/restart_alt:", on_click=R.reset,
                   width="stretch", help=t("live.reset_help"))
    cols[3].button(t("live.clear_runs"), key=f"{key}:clear", icon=":material/layers_clear:", on_click=R.clear_runs,
                   disabled=not R.runs, help=t("live.clear_runs_help"), width="stretch")
    st.caption(presenter.keys_help())  # the keys press these buttons (playground.presenter)


def _continue(R: PageRun, epochs: int) -> None:
    R.continue_for(epochs)
    R.start()


def message(R: PageRun) -> tuple[str, str] | None:
    """(kind, text) of what the page says about the run's state, if anything."""
    if R.state == State.QUEUED:
        try:
            slots = executor().stats()
        except Exception:  # noqa: BLE001 - a cluster that does not answer: say less
            slots = {"running": 0, "capacity": 0}
        capacity = slots.get("capacity") or t("live.few")
        why = " " + t("live.queued_other_tab") if slots["running"] < slots.get("capacity", 0) else ""
        return ("info", t("live.queued", place=R.place, capacity=capacity) + why)
    if R.state == LOST:
        saved = (t("live.lost_from_epoch", epoch=R.lost_epoch) if R.lost_snapshot is not None
                 else t("live.lost_from_start"))
        return ("warning", t("live.lost", saved=saved))
    if R.state == State.DIVERGED:
        return ("warning", health.divergence_text(R) or t("live.diverged"))
    if R.state == State.FAILED:
        return ("warning", t("live.failed", error=R.error))
    if R.state == State.IDLE and R.note == "slot_lost":
        return ("info", t("live.slot_lost"))
    return None


def _draw(R: PageRun, key: str, charts_: Sequence[Chart], readouts: Sequence[Readout]) -> None:
    doing = {State.RUNNING: "live.running", State.STEPPING: "live.running", State.QUEUED: "live.waiting"}
    text = (t("live.preparing") if R.building else
            t("live.progress", epoch=R.epoch, num_epochs=R.num_epochs) + (t(doing[R.state]) if R.state in doing
                                                                          else ""))
    st.progress(min(1.0, max(0.0, R.progress)), text=text)
    if not R.follows_page:
        st.caption(":material/compare_arrows: " + t("live.side_by_side", label=literal(R.label), n=len(R.names)))
    said = message(R)
    if said:
        (st.info if said[0] == "info" else st.warning)(said[1], icon=":material/info:")
    if R.state == State.DIVERGED:
        health.rewind_button(R, key)
    health.rewound_note(key)
    _readouts(R, readouts)
    cols = st.columns(min(2, len(charts_)) or 1)
    at = timeline.position(R, key)
    for i, chart in enumerate(charts_):
        with cols[i % len(cols)]:
            data, spec = _figure(R, key, chart)
            spec = timeline.rule(spec, at[1] if at else None)
            st.vega_lite_chart(data, spec, key=f"{key}:chart:{chart.title}", width="stretch")
    if R.runs:
        _final_table(R, readouts)


def _readouts(R: PageRun, readouts: Sequence[Readout]) -> None:
    for name in R.names or [""]:
        epochs = R.history(name)["epochs"]
        last = epochs[-1] if epochs else {}
        items = [
            (t("live.examples_per_sec"), _fmt(last.get("examples_per_sec"), "{:,.0f}")),
            (t("live.elapsed"), _fmt(last.get("elapsed"), "{:.1f} s")),
        ] + [(r.label, _fmt(last.get(r.key), r.fmt)) for r in readouts]
        cols = st.columns(len(items) + (1 if name else 0))
        if name:
            cols[0].markdown(f"**{literal(name)}**")
            cols = cols[1:]
        for col, (label, value) in zip(cols, items):
            col.metric(label, value)


def _final_table(R: PageRun, readouts: Sequence[Readout]) -> None:
    rows = []
    for run in R.runs:
        for name, last in run.final.items():
            rows.append({t("live.column_run"): " · ".join(p for p in (run.label, name) if p) + _flags(run),
                         t("live.column_epochs"): last["epoch"],
                         **{r.label: _fmt(last.get(r.key), r.fmt) for r in readouts}})
    for name in R.names:
        if R.history(name)["epochs"]:
            last = R.history(name)["epochs"][-1]
            rows.append({t("live.column_run"): " · ".join(p for p in (R.label, name) if p) + t("live.current"),
                         t("live.column_epochs"): last["epoch"],
                         **{r.label: _fmt(last.get(r.key), r.fmt) for r in readouts}})
    with st.expander(t("live.final_figures"), icon=":material/table:"):
        st.dataframe(rows, hide_index=True)


def _flags(run) -> str:
    return (t("live.changed_mid_run") if run.changed_mid_run else "") + (t("live.stopped") if run.stopped else "")


def _fmt(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return fmt.format(value)


DASHES = ["solid", "dash", "dot", "dashdot"]
# The shared charts' words (LOSS, ACCURACY, MINIBATCH and their curves), by their English: a page's own
# chart comes already in the session's language.
WORDS = {"Loss": "live.chart_loss", "Accuracy": "live.chart_accuracy", "Minibatch loss": "live.chart_minibatch",
         "train": "live.curve_train", "test": "live.curve_test"}


def _words(chart: Chart) -> Chart:
    def say(text: str) -> str:
        return t(WORDS[text]) if text in WORDS else text

    return dataclasses.replace(chart, title=say(chart.title), curves=[(k, say(c)) for k, c in chart.curves])


def _figure(R: PageRun, key: str, chart: Chart):
    """(data, spec) of one live chart: one colour per run (old runs first, faded,
    thinner, then the current trainers); within a run the curves differ by dash,
    test solid (the lesson is usually in the test curve); with several runs on the
    chart each run also has its own marker, so that none is told by colour alone."""
    f = chart.transform or (lambda v: v)
    chart = _words(chart)
    order = sorted(range(len(chart.curves)), key=lambda c: chart.curves[c][0].startswith("train"))
    dash = {c: DASHES[rank % len(DASHES)] for rank, c in enumerate(order)}
    series: list[charts.Series] = []
    colour = 0
    many = len(R.names) > 1 or bool(R.runs)  # colour and marker by run, dash by curve
    for run in R.runs:
        records = run.epochs if chart.level == "epochs" else run.steps
        for name, recs in records.items():
            for c, (k, curve) in enumerate(chart.curves):
                xs = [e["epoch"] for e in recs if e.get(k) is not None]
                if xs:
                    series.append(charts.Series(
                        " · ".join(p for p in (run.label, name, curve) if p) + _flags(run), xs,
                        [f(e[k]) for e in recs if e.get(k) is not None],
                        charts.FADED[colour % len(charts.FADED)], dash[c], 1.5,
                        charts.VEGA_SHAPES[colour % len(charts.VEGA_SHAPES)]))
            colour += 1
    current = R.label if R.runs else ""  # beside older runs, say which this is
    for name in R.names:
        recs = R.history(name)[chart.level]
        for c, (k, curve) in enumerate(chart.curves):
            series.append(charts.Series(
                " · ".join(p for p in (current, name, curve) if p),
                [rec["epoch"] for rec in recs if rec.get(k) is not None],
                [f(rec[k]) for rec in recs if rec.get(k) is not None],
                charts.PALETTE[(colour if many else c) % len(charts.PALETTE)], dash[c],
                shape=charts.VEGA_SHAPES[colour % len(charts.VEGA_SHAPES)] if many else None))
        colour += 1
    return charts.live_lines(chart.title, series, x_title=t("live.axis_epoch"), y_title=chart.y_title or chart.title,
                             log_y=chart.log_y, reference=chart.reference, empty_text=t("live.nothing_yet"),
                             points=0 if chart.level != "epochs" else 30 if R.num_epochs <= 30 else 8)


# ------------------------------------------------------------------------ views
def _view(R: PageRun, view: View, cache: dict, i: int, at: str | None = None) -> None:
    """Recompute the view's data when due (in the worker, between two steps),
    then draw it. A queued run's views are never recomputed: waiting costs the
    server nothing; a run being built or lost shows what was last computed.
    `at`: the timeline point chosen (playground.timeline), None for now."""
    steps = R.steps
    run = R.generation
    entry, now = cache.get(i), time.monotonic()
    if R.handle is None or R.building or R.state == LOST:
        due = False
    elif entry is None or entry["params"] != view.params or entry["run"] != run or entry.get("point") != at:
        due = True
    elif not R.active:
        due = entry["steps"] != steps  # once after a pause, a step, a reset
    elif R.state == State.QUEUED or view.every == "pause":
        due = False
    elif view.every == "epoch":
        due = entry["epoch"] != R.epoch
    else:
        due = now - entry["at"] >= float(view.every) and entry["steps"] != steps
    if due:
        try:
            data = timeline.probe(R, at, view.compute, view.params)
        except (RunGone, TimeoutError):
            data = None
        if data is not None:
            entry = cache[i] = {"params": view.params, "run": run, "steps": steps, "epoch": R.epoch, "at": now,
                                "data": data, "point": at}
    if entry is not None and entry["run"] == run:
        view.draw(entry["data"])
