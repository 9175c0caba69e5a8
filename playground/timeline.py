"""The live panel's timeline: scrub a paused or finished run back to an earlier
point, and branch a new run from there (core.train.timeline keeps the
snapshots in the run's worker).

Under the charts, when the run is paused or finished and its worker kept at
least two points, a slider goes over them ("epoch 3.5 (step 820)", ..., "now").
An earlier point makes every View of the page show that moment (its probe runs
in the worker with the point's weights put in, the run's own put back
afterwards) and draws a vertical rule on the charts; "now" is the normal
behaviour. The position is the session's, never in the URL. *Resume from here*
starts a new run restored from the point; the original stays drawn, faded.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

import streamlit as st

from core.train.page_run import PageRun
from core.train.runs import LOST, RunGone

from . import charts, i18n
from .i18n import t
from .state import page_state

NOW = "now"


def _key(key: str) -> str:
    return f"{key}:timeline"


def _shown(R: PageRun) -> bool:
    return R.handle is not None and not R.building and not R.active and R.state != LOST and R.started


def _points(R: PageRun, key: str) -> dict[str, Any] | None:
    """The worker's points (core.train.timeline:points), asked once per run, step count and state."""
    cache: dict = page_state(f"timeline-points:{key}", dict)
    stamp = (R.generation, R.steps, R.state)
    if cache.get("stamp") != stamp:
        try:
            cache["info"] = R.probe("core.train.timeline:points")
        except (RunGone, TimeoutError, ValueError, LookupError):
            cache["info"] = None
        cache["stamp"] = stamp
    return cache["info"]


def position(R: PageRun, key: str) -> tuple[str, float] | None:
    """The point the session chose ("7/2", 3.5 epochs), or None for now (also while the run trains)."""
    chosen = st.session_state.get(_key(key))
    if not _shown(R) or not chosen or chosen == NOW:
        return None
    try:
        return chosen, float(Fraction(chosen))
    except (ValueError, ZeroDivisionError):
        return None


def probe(R: PageRun, at: str | None, fn: str, params: dict) -> Any:
    """A view's probe, at the point `at` (None: now). A point thinned away meanwhile falls back to now."""
    if at is not None:
        try:
            return R.probe("core.train.timeline:probe_at", at=at, view=fn, params=dict(params))
        except LookupError:
            pass
    return R.probe(fn, **params)


def rule(spec: dict, x: float | None) -> dict:
    """The live chart's vega-lite spec with a vertical rule at epoch `x` (the chosen point)."""
    if x is None or "layer" not in spec:
        return spec
    mark = {"data": {"values": [{"x": x}]}, "mark": {"type": "rule", "color": charts.PALETTE[1], "strokeWidth": 2},
            "encoding": {"x": {"field": "x", "type": "quantitative"}}}
    return {**spec, "layer": [*spec["layer"], mark]}


def _epoch(point: dict) -> str:
    """'epoch 3.5' (core.train.timeline.label's number) in this session's language."""
    return t("timeline.epoch", epoch=f"{float(Fraction(point['at'])):.3f}".rstrip("0").rstrip("."))


def _label(point: dict) -> str:
    return t("timeline.point", epoch=_epoch(point), step=f"{point['step']:,}")


def scrubber(R: PageRun, key: str) -> None:
    """The slider and *Resume from here* (see the module docstring); nothing while the run trains."""
    skey = _key(key)
    if st.session_state.pop(f"{skey}:failed", False):
        st.warning(t("timeline.point_gone"), icon=":material/warning:")
    info = _points(R, key) if _shown(R) else None
    if not info:
        st.session_state.pop(skey, None)
        return
    budget_mb = info["budget"] / 2**20
    if info["over_budget"]:
        st.caption(":material/history: " + t("timeline.over_budget", point_mb=f"{info['point_bytes'] / 2**20:.1f}",
                                                 budget_mb=f"{budget_mb:g}"))
        st.session_state.pop(skey, None)
        return
    now = info.get("now", {})
    points = [p for p in info["points"] if p["steps"] != now]  # the point the run is at is "now"
    if not points:
        st.session_state.pop(skey, None)
        return
    labels = {p["at"]: _label(p) for p in points}
    labels[NOW] = t("timeline.now", step=f"{next(iter(now.values()), 0):,}")
    epochs = {p["at"]: _epoch(p) for p in points}
    options = [p["at"] for p in points] + [NOW]
    if st.session_state.get(skey) not in options:
        st.session_state[skey] = NOW
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    chosen = left.select_slider(
        t("timeline.title"), options=options, format_func=labels.get, key=skey, help=t("timeline.help"))
    right.button(t("timeline.resume"), key=f"{key}:branch", icon=":material/call_split:", width="stretch",
                 disabled=chosen == NOW, on_click=_branch, args=(R, key, chosen, epochs.get(chosen, "")),
                 help=t("timeline.resume_help"))
    st.caption(":material/history: " + t("timeline.kept", n=len(info["points"]), mb=f"{info['nbytes'] / 2**20:.1f}",
                                         budget_mb=f"{budget_mb:g}",
                                         thinned=t("timeline.thinned") if info["thinned"] else ""))


def _branch(R: PageRun, key: str, at: str, point: str) -> None:
    """Resume from here: a new run from the point (`point`: its epoch, in words), started at once; the slider
    goes back to now."""
    st.session_state[_key(key)] = NOW
    base = R.label
    for code in i18n.LANGS:  # a branch of a branch: one suffix (whichever language added the last)
        joint = i18n.text("timeline.resumed_after", code).split("{base}")[1].split("{point}")[0]
        base = base.split(joint)[0]
    label = t("timeline.resumed_after", base=base, point=point) if base else t("timeline.resumed", point=point)
    try:
        R.branch(at, label=label)
    except (LookupError, RunGone, TimeoutError, ValueError):
        st.session_state[f"{_key(key)}:failed"] = True
        return
    R.start()
