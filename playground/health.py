"""The live panel's *Health* expander and its divergence diagnosis.

The numbers are computed in the run's worker (core.train.health: a Health
callback on every hosted trainer merges them into the recorded steps' records)
and travel with the run's other records; this module only reads the page's
copy of them and draws. `playground.live` calls:

- `panel(R, key)`: the collapsed "Health" expander, in a fragment of its own
  that redraws every HEALTH_TICK_SECONDS while the run trains;
- `divergence_text(R)`: the words for the diverged run's warning (the step, the
  layer whose values first went non-finite, the lr), or None;
- `rewind_button(R, key)`: *Rewind to the last good snapshot* under that warning.
"""
from __future__ import annotations

import zlib

import streamlit as st

from core.train import health
from core.train.live_run import State
from core.train.page_run import PageRun
from core.train.runs import RunGone

from . import charts
from .i18n import t
from .messages import code, literal

HEALTH_TICK_SECONDS = 2.0  # the charts are summaries: slower than the loss curves' 0.5 s
MAX_LAYERS = 12
UPDATE_GUIDE = 1e-3  # the usual rule of thumb for ‖Δw‖/‖w‖ per step

KINDS = ("input", "gradient", "parameter", "output", "loss")  # the diagnoses' words: health.kind.<kind>


def _name(R: PageRun) -> str:
    """The trainer whose records the panel reads: the first one that diverged, else the first."""
    for name in R.names:
        if health.divergence(R.history(name)["steps"]) is not None:
            return name
    return (R.names or [""])[0]


def divergence_text(R: PageRun) -> str | None:
    """The diverged run's warning with the step, the layer and the lr (None
    without a diagnosis: the panel then says its generic sentence)."""
    for name in R.names:
        found = health.divergence(R.history(name)["steps"])
        if found is None:
            continue
        what = "NaN" if found.get("loss") == "nan" else t("health.infinite")
        lr = found.get("lr")
        max_abs = found.get("max_abs")
        kind = found.get("kind")
        words = t(f"health.kind.{kind if kind in KINDS else 'other'}",
                  layer=code(found.get("layer") or "net"), tensor=code(found.get("tensor") or ""),
                  max_abs=f"{max_abs:.3g}" if isinstance(max_abs, (int, float)) else t("health.very_large"))
        run = t("health.in_run", name=literal(name)) if name else ""
        lr_text = f"lr = {lr:g}" if isinstance(lr, (int, float)) else t("health.this_lr")
        return t("health.diverged", what=what, step=found["step"], run=run, lr=lr_text, words=words)
    return None


def _rewind(R: PageRun, key: str) -> None:
    """Every trainer back to its last good snapshot (a probe reads it in the
    worker; restore puts it back there); without one, back to the start."""
    try:
        snaps = R.probe("core.train.health:last_good")
        if snaps is None:
            R.reset()
            st.session_state[f"{key}:health:rewound"] = 0
        else:
            R.restore(snaps)
            st.session_state[f"{key}:health:rewound"] = min(int(s["step"]) for s in snaps.values())
    except (RunGone, TimeoutError, RuntimeError, ValueError):
        st.session_state[f"{key}:health:rewound"] = -1
    st.session_state[f"{key}:health:redraw"] = True  # the whole page: the Health charts are another fragment


def rewind_button(R: PageRun, key: str) -> None:
    st.button(t("health.rewind"), key=f"{key}:health:rewind", icon=":material/history:",
              on_click=_rewind, args=(R, key), help=t("health.rewind_help"))


def rewound_note(key: str) -> None:
    """One line after a rewind: where the run went back to (shown once). The
    click reran only the panel's fragment: first the whole page, so the Health
    charts (another fragment) and the pictures show the rewound run too."""
    if st.session_state.pop(f"{key}:health:redraw", False):
        st.rerun()
    step = st.session_state.pop(f"{key}:health:rewound", None)
    if step is None:
        return
    if step < 0:
        st.warning(t("health.rewind_failed"), icon=":material/warning:")
    else:
        st.info(t("health.rewound", step=step, start=t("health.the_start") if step == 0 else ""),
                icon=":material/history:")


def _lines(title: str, per_layer: dict, shown: list[str], *, log_y: bool, y_title: str, reference=()):
    n = len(charts.PALETTE)  # past eight layers the colours come round again, dashed
    series = [charts.Series(layer, *per_layer[layer], charts.PALETTE[i % n], ("solid", "dash")[(i // n) % 2])
              for i, layer in enumerate(shown) if layer in per_layer]
    return charts.live_lines(title, series, x_title=t("live.axis_epoch"), y_title=y_title, log_y=log_y,
                             reference=reference, height=300, empty_text=t("live.nothing_yet"))


def _body(R: PageRun, key: str) -> None:
    names = R.names
    name = _name(R)
    if len(names) > 1:
        name = st.selectbox(t("health.run"), names, index=names.index(name) if name in names else 0,
                            key=f"{key}:health:run:{zlib.crc32(chr(10).join(names).encode())}")
    steps = R.history(name)["steps"]
    layers = health.layer_names(steps)
    if not layers:
        st.caption(t("health.empty", per_epoch=health.RECORDS_PER_EPOCH))
        return
    shown = layers
    if len(layers) > MAX_LAYERS:
        tag = zlib.crc32("\n".join(layers).encode())
        shown = st.multiselect(t("health.layers_shown", most=MAX_LAYERS, n=len(layers)), layers,
                               default=health.default_layers(layers, MAX_LAYERS), max_selections=MAX_LAYERS,
                               key=f"{key}:health:layers:{tag}")
    recorded = sum(1 for r in steps if r.get(health.KEY))
    st.caption(t("health.explained", recorded=recorded))
    cols = st.columns(2)
    figures = [  # (stat: the chart's key, title, values, log y, y title, reference lines)
        ("act", t("health.chart_act"), health.series(steps, "act"), True, t("health.axis_act"), ()),
        ("grad", t("health.chart_grad"), health.series(steps, "grad"), True, "‖∇w‖", ()),
        ("update", t("health.chart_update"), health.series(steps, "update"), True, "‖Δw‖ / ‖w‖",
         ((UPDATE_GUIDE, "1e-3"),)),
    ]
    dead = health.series(steps, "dead")
    if dead:
        figures.append(("dead", t("health.chart_dead"), dead, False, t("health.axis_dead"), ()))
    for i, (stat, title, per_layer, log_y, y_title, reference) in enumerate(figures):
        with cols[i % 2]:
            data, spec = _lines(title, per_layer, shown, log_y=log_y, y_title=y_title, reference=reference)
            st.vega_lite_chart(data, spec, key=f"{key}:health:{stat}", width="stretch")
    if not dead:
        st.caption(t("health.no_dead"))


def panel(R: PageRun, key: str) -> None:
    """The collapsed Health expander under the live panel (its own, slower fragment)."""
    every = HEALTH_TICK_SECONDS if R.state in (State.RUNNING, State.STEPPING) else None

    @st.fragment(run_every=every)
    def draw():
        with st.expander(t("health.title"), icon=":material/monitor_heart:", expanded=False):
            _body(R, key)

    draw()
