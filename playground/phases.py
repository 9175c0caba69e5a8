"""Step one minibatch a phase at a time, under a page's live panel.

    R = live_panel(...)
    phases.phase_panel(R, key)

Three buttons, Forward, Backward and Update, of which only the next phase's is
enabled, run that phase of the run's current step in its worker
(`PageRun.phase`, computed by core.train.phases) and draw what it computed:
after Forward the minibatch's loss and every layer's output for its first
example (a heatmap per layer, LeNet's feature maps as a grid of channels),
after Backward every parameter tensor's gradient, after Update every
parameter's change Δ = w_after − w_before (small tensors as heatmaps, big
ones as histograms, each with its norm in the title). While the run trains the
buttons are disabled; Start finishes a step begun here first (the Trainer does).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import streamlit as st

from core.train.live_run import State
from core.train.page_run import PageRun
from core.train.runs import LOST

from . import charts
from .i18n import t
from .messages import literal

PHASES = ("forward", "backward", "update")
ICONS = {"forward": ":material/east:", "backward": ":material/west:", "update": ":material/published_with_changes:"}
# The buttons' words: phases.<phase> and phases.help.<phase> (locales/).
PER_ROW = 3


def _state_key(key: str) -> str:
    return f"phases:{key}"


def _press(R: PageRun, key: str) -> None:
    """A phase button: run the next phase in the worker and keep what it returned."""
    out = R.phase()
    store: dict[str, Any] = st.session_state.setdefault(_state_key(key), {})
    if out is None:
        store.update(message=("warning", t("phases.no_answer")))
        return
    if out.get("code") != "ok":
        store["message"] = _code_message(out)
        return
    name, result = next(iter(out["trainers"].items()))
    results = {} if result["phase"] == "forward" else dict(store.get("results") or {})
    results[result["phase"]] = result
    store.clear()
    store.update(results=results, name=name, generation=R.generation, steps=R.steps, next=R.next_phase,
                 several=len(out["trainers"]) > 1, whole_page=result["phase"] == "update")


def _code_message(out: dict) -> tuple[str, str]:
    code = out.get("code")
    if code == "running":
        return ("info", t("phases.running"))
    if code == "done":
        return ("info", t("phases.done"))
    if code == "ended":
        return ("warning", t("phases.ended"))
    return ("warning", t("phases.failed", error=literal(str(out.get("error", code)))[:300]))


def phase_panel(R: PageRun, key: str, *, title: str | None = None) -> None:
    """The buttons and the pictures of the current step (see the module
    docstring). A fragment: Forward and Backward redraw only this part; the
    step an Update completes redraws the whole page (its curves, its views)."""

    @st.fragment
    def body() -> None:
        if st.session_state.get(_state_key(key), {}).pop("whole_page", False):
            st.rerun()
        _panel(R, key, title or t("phases.title"))

    body()


def _panel(R: PageRun, key: str, title: str) -> None:
    st.subheader(title)
    st.markdown(t("phases.intro"))
    store: dict[str, Any] = st.session_state.get(_state_key(key), {})
    nxt = R.next_phase
    ended = R.state in (LOST, State.DIVERGED, State.FAILED)
    busy = R.active or R.building
    done = R.state == State.FINISHED and nxt == "forward"
    cols = st.columns([1, 1, 1, 3], vertical_alignment="center")
    for col, phase in zip(cols, PHASES):
        col.button(t(f"phases.{phase}"), key=f"{key}:phase:{phase}", icon=ICONS[phase], width="stretch",
                   disabled=busy or ended or done or phase != nxt, on_click=_press, args=(R, key),
                   type="primary" if phase == nxt and not (busy or ended or done) else "secondary",
                   help=t(f"phases.help.{phase}"))
    if busy:
        status = t("phases.status_busy")
    elif ended or done:
        status = t("phases.status_ended")
    else:
        status = t("phases.status_next", phase=t(f"phases.next.{nxt}"))
    cols[3].caption(t("phases.status", status=status, steps=R.steps))
    message = store.get("message")
    if message:
        (st.info if message[0] == "info" else st.warning)(message[1], icon=":material/info:")
        store.pop("message", None)
    current = store.get("generation") == R.generation and store.get("steps") == R.steps and store.get("next") == nxt
    results = (store.get("results") or {}) if current else {}
    if not results:
        if nxt != "forward" and not busy:
            st.caption(t("phases.begun_elsewhere", button=t(f"phases.{nxt}")))
        return
    if store.get("several"):
        st.caption(t("phases.several", name=literal(store["name"])))
    if "forward" in results:
        _forward(results["forward"], key)
    if "backward" in results:
        _backward(results["backward"], key)
    if "update" in results:
        _update(results["update"], key)


# -------------------------------------------------------------------- pictures
def _grid(pictures: list, key: str) -> None:
    for start in range(0, len(pictures), PER_ROW):
        cols = st.columns(PER_ROW)
        for col, (i, fig) in zip(cols, enumerate(pictures[start:start + PER_ROW], start)):
            col.plotly_chart(fig, key=f"{key}:{i}", width="stretch")


def _fmt(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.3g}"


def tile(maps: np.ndarray, columns: int | None = None) -> np.ndarray:
    """Channels (C, H, W) laid out as a grid, `columns` per row (default: a
    near-square grid, ⌈√C⌉ per row), one NaN line between them (plotly leaves
    NaN cells blank)."""
    c, h, w = maps.shape
    cols = min(columns or math.ceil(math.sqrt(c)), c)
    rows = math.ceil(c / cols)
    out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan, dtype=np.float32)
    for k in range(c):
        r, q = divmod(k, cols)
        out[r * (h + 1):r * (h + 1) + h, q * (w + 1):q * (w + 1) + w] = maps[k]
    return out


def as_square(vector: np.ndarray) -> np.ndarray:
    """A vector of n > 32 numbers as a near-square grid (row after row, NaN padded); a short one as one row."""
    v = np.asarray(vector, dtype=np.float32).reshape(-1)
    if v.size <= 32:
        return v.reshape(1, -1)
    cols = math.ceil(math.sqrt(v.size))
    out = np.full(math.ceil(v.size / cols) * cols, np.nan, dtype=np.float32)
    out[:v.size] = v
    return out.reshape(-1, cols)


def _activation_picture(name: str, layer: dict, *, title_prefix: str = ""):
    shape = "×".join(str(s) for s in layer["shape"])
    title = f"{title_prefix}{name} ({shape}), ‖·‖ = {_fmt(layer['norms'][0])}"
    if layer.get("values") is None:
        return _hist_figure(layer["hist"], title)
    ex = np.asarray(layer["values"][0], dtype=np.float32)
    if ex.ndim == 3:
        z = ex[0] if ex.shape[0] == 1 else tile(ex)
    elif ex.ndim == 2:
        z = ex
    else:
        z = as_square(ex)
    fig = charts.heatmap(z, title=title, height=260, colorscale=charts.SEQUENTIAL)
    fig.update_xaxes(showticklabels=False, showgrid=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, showgrid=False, autorange="reversed", constrain="domain",
                     **({"scaleanchor": "x"} if z.shape[0] > 1 else {}))  # images keep their shape, row 0 on top
    return fig


def _tensor_picture(entry: dict, what: str):
    """A gradient or a Δ: its values as a heatmap (blue negative, red positive), or its histogram."""
    shape = "×".join(str(s) for s in entry["shape"] or [])
    title = f"{what} {entry['name']} ({shape}), ‖·‖ = {_fmt(entry['norm'])}"
    if entry.get("values") is None:
        return _hist_figure(entry["hist"], title)
    z = np.asarray(entry["values"], dtype=np.float32)
    vector = z.shape[0] == 1 and z.shape[1] > 32
    if vector:  # a long vector (a bias) as a square, row after row
        z = as_square(z)
        title += t("phases.as_square")
    finite = z[np.isfinite(z)]
    top = float(np.abs(finite).max()) if finite.size else 1.0
    top = top or 1.0
    text = np.vectorize(lambda v: f"{v:.3g}")(z) if z.size <= 4 else None  # more would not fit the cells
    fig = charts.heatmap(z, title=title, height=260, colorscale=charts.DIVERGING_R, zmin=-top, zmax=top, text=text,
                         x_title=t("phases.axis_column") if z.shape[1] > 1 and not vector else "",
                         y_title=t("phases.axis_row") if z.shape[0] > 1 and not vector else "")
    fig.update_yaxes(autorange="reversed", showticklabels=z.shape[0] > 1 and not vector)
    fig.update_xaxes(showticklabels=not vector)
    return fig


def _hist_figure(hist: dict, title: str):
    edges = np.asarray(hist["edges"], dtype=float)
    centers = (edges[:-1] + edges[1:]) / 2
    count = t("phases.axis_count")
    fig = charts.figure(title, x_title=t("phases.axis_value"), y_title=count, height=260)
    fig.add_trace(dict(type="bar", x=centers.tolist(), y=list(hist["counts"]), width=float(edges[1] - edges[0]),
                       marker=dict(color=charts.PALETTE[0]), showlegend=False, name=count))
    fig.update_layout(hovermode="closest", bargap=0)
    return fig


def _examples_table(result: dict) -> None:
    """The first examples' input (when it is a few numbers), label and prediction."""
    rows = []
    inp = result.get("input") or {}
    values = inp.get("values")
    small = values is not None and int(np.prod(inp["shape"])) <= 8
    y, y_hat = result.get("y"), result.get("y_hat")
    count = len(values) if values is not None else (len(y) if y is not None else 0)
    for i in range(count):
        row: dict[str, Any] = {t("phases.column_example"): i + 1}
        if small:
            row.update({f"x{j + 1}": f"{v:.4g}" for j, v in enumerate(np.asarray(values[i]).reshape(-1))})
        if y is not None:
            yi = np.asarray(y[i]).reshape(-1)
            row["y"] = f"{yi[0]:.4g}" if yi.dtype.kind == "f" else int(yi[0])
        if y_hat is not None:
            yh = np.asarray(y_hat[i]).reshape(-1)
            row["ŷ"] = f"{yh[0]:.4g}" if yh.size == 1 else t("phases.class", k=int(yh.argmax()))
        rows.append(row)
    if rows:
        st.dataframe(rows, hide_index=True)


def _forward(result: dict, key: str) -> None:
    st.markdown(t("phases.forward_done", step=result["step"] + 1, loss=_fmt(result["loss"]),
                  batch_size=result["batch_size"], ms=f"{result['seconds'] * 1000:.1f}"))
    _examples_table(result)
    pictures = []
    inp = result.get("input")
    if inp is not None and inp.get("values") is not None and len(inp["shape"]) == 3:
        pictures.append(_activation_picture(t("phases.input_x"), inp))
    layers = [layer for layer in result["layers"] if layer["module"] != "Flatten"]
    pictures += [_activation_picture(layer["name"], layer) for layer in layers]
    _grid(pictures, f"{key}:phase:fwd")
    columns = [t(f"phases.column_{c}") for c in ("layer", "module", "shape", "norm")]
    rows = [dict(zip(columns, (layer["name"], layer["module"], " × ".join(map(str, layer["shape"])),
                               _fmt(layer["norms"][0])))) for layer in result["layers"]]
    with st.expander(t("phases.layers_table"), icon=":material/table:"):
        st.dataframe(rows, hide_index=True)
    st.caption(t("phases.forward_caption"))


def _backward(result: dict, key: str) -> None:
    st.markdown(t("phases.backward_done", norm=_fmt(result["norm"]), ms=f"{result['seconds'] * 1000:.1f}"))
    _grid([_tensor_picture(g, "∇") for g in result["grads"] if g["shape"] is not None], f"{key}:phase:grad")
    st.caption(t("phases.backward_caption"))


def _update(result: dict, key: str) -> None:
    sgd = ""
    checks = [d["sgd"] for d in result["deltas"] if "sgd" in d]
    if result["plain_sgd"] and checks:
        diff = max(c["max_diff"] for c in checks)
        ulp = max(c["max_ulp"] for c in checks)
        exact = sum(1 for c in checks if c["exact"])
        sgd = t("phases.plain_sgd", diff=f"{diff:.2g}", ulp=f"{ulp:.2g}", exact=exact, n=len(checks))
    elif not result["plain_sgd"]:
        sgd = t("phases.not_plain_sgd")
    st.markdown(t("phases.update_done", lr=_fmt(result["lr"]), norm=_fmt(result["norm"]), loss=_fmt(result["loss"]),
                  sgd=sgd, epoch_ended=t("phases.epoch_ended") if result["epoch_ended"] else ""))
    _grid([_tensor_picture(d, "Δ") for d in result["deltas"] if d["shape"] is not None], f"{key}:phase:delta")
    st.caption(t("phases.update_caption"))


__all__ = ["as_square", "phase_panel", "tile"]
