"""Figures of the sequence-model page (9.1) and the text-minibatch page (9.3).
Only drawing: the values come from core.experiments.sequence_models and
core.ops.partitioning."""
from __future__ import annotations

import html

import plotly.graph_objects as go

from . import charts
from .i18n import t

DATA_COLOR, ONE_COLOR, MULTI_COLOR = charts.MUTED, charts.PALETTE[0], charts.PALETTE[1]
K_COLORS = {1: charts.PALETTE[0], 4: charts.PALETTE[1], 16: charts.PALETTE[2], 64: charts.PALETTE[3]}
K_DASHES = {1: "solid", 4: "dash", 16: "dot", 64: "dashdot"}  # told apart also without colour
PICKED_COLOR = charts.PALETTE[4]


def _t(name: str, **values) -> str:
    return t(f"sequence_figures.{name}", **values)


def one_step_figure(seen: dict) -> go.Figure:
    """The book's first figure: the data and the one-step-ahead predictions."""
    fig = charts.figure(_t("one_step_title"), x_title=_t("time"), y_title="x", height=300)
    charts.add_line(fig, seen["time"], seen["x"], _t("data"), color=DATA_COLOR, width=1, max_points=1000)
    charts.add_line(fig, seen["time"][seen["tau"]:], seen["one_step"], _t("one_step"), color=ONE_COLOR,
                    max_points=1000)
    _train_end(fig, seen)
    return fig


def multi_step_figure(seen: dict) -> go.Figure:
    """The book's second figure: data, one-step and multi-step predictions; the
    multi-step ones are the model's own from n_train + tau on."""
    fig = charts.figure(_t("multi_title"), x_title=_t("time"), y_title="x", height=300)
    charts.add_line(fig, seen["time"], seen["x"], _t("data"), color=DATA_COLOR, width=1, max_points=1000)
    charts.add_line(fig, seen["time"][seen["tau"]:], seen["one_step"], _t("one_step"), color=ONE_COLOR, width=1,
                    max_points=1000)
    start = seen["start"]
    charts.add_line(fig, seen["time"][start:], seen["multi_step"][start:], _t("multi_step"), color=MULTI_COLOR,
                    width=2.5, max_points=1000, dash="dash")
    _train_end(fig, seen)
    return fig


def k_step_figure(seen: dict, steps, picked: int) -> go.Figure:
    """The book's third figure: k-step-ahead predictions for k = 1, 4, 16, 64,
    and the k picked on the page (drawn thick)."""
    from core.experiments.sequence_models import k_series

    fig = charts.figure(_t("k_title"), x_title=_t("time"), y_title="x", height=320)
    charts.add_line(fig, seen["time"], seen["x"], _t("data"), color=DATA_COLOR, width=1, opacity=0.4, max_points=1000)
    for k in steps:
        times, preds = k_series(seen, k)
        is_book = k in K_COLORS
        charts.add_line(fig, times, preds, _t("k_step" if is_book else "k_step_yours", k=k),
                        color=K_COLORS.get(k, PICKED_COLOR), width=3 if k == picked else 1.2, max_points=1000,
                        dash=K_DASHES.get(k, "longdash"))
    return fig


def _train_end(fig: go.Figure, seen: dict) -> None:
    x = int(seen["n_train"] + seen["tau"])  # the last time the model was trained to predict
    fig.add_vline(x=x, line=dict(color=charts.INK, dash="dot", width=1))
    fig.add_annotation(x=x, y=1, yref="paper", text=_t("train_end"), showarrow=False, xanchor="left",
                       yanchor="top", font=dict(size=11, color=charts.INK))


# ------------------------------------------------------------ text minibatches
UNUSED = charts.PALE


def character_cells(text: str, owners: list, selected: int, width: int, title: str) -> go.Figure:
    """The text as a grid of character cells, `width` to a line. A cell read by
    an X of minibatch j, row i (owners[p] = (j, i)) has minibatch j's colour
    (full for the selected minibatch, faded for the others); a cell no X reads
    is grey. Each span of the selected minibatch is labelled by its row.

    Drawn as a plotly heatmap, not HTML: plotly reads a few HTML tags inside
    text, so every character is passed through html.escape (the book's
    preprocessing leaves only a-z and spaces; the escape keeps it safe
    whatever the text). Spaces are shown as a middle dot."""
    n = len(text)
    lines = (n + width - 1) // width
    palette = len(charts.PALETTE)
    z, chars, hover = [], [], []
    for r in range(lines):
        zr, cr, hr = [], [], []
        for c in range(width):
            p = r * width + c
            if p >= n:
                zr.append(None)
                cr.append("")
                hr.append("")
                continue
            ch = text[p]
            cr.append(html.escape("·" if ch == " " else ch))
            own = owners[p]
            if own is None:
                zr.append(2 * palette)
                hr.append(_t("hover_unused", p=p))
            else:
                j, i = own
                zr.append((j % palette) + (0 if j == selected else palette))
                hr.append(_t("hover_owned", p=p, j=j, i=i))
        z.append(zr)
        chars.append(cr)
        hover.append(hr)
    colors = list(charts.PALETTE) + list(charts.FADED) + [UNUSED]
    k = len(colors)
    scale = []
    for idx, col in enumerate(colors):  # one flat band per value 0..k-1
        scale += [[idx / k, col], [(idx + 1) / k, col]]
    fig = go.Figure(go.Heatmap(z=z, text=chars, customdata=hover, texttemplate="%{text}", zmin=-0.5,
                               zmax=k - 0.5, colorscale=scale, showscale=False, xgap=1, ygap=1,
                               hovertemplate="%{customdata}<extra></extra>", textfont=dict(size=12)))
    fig.update_layout(title=dict(text=title, x=0, xanchor="left", font=dict(size=14)),
                      height=60 + 26 * lines, margin=dict(l=10, r=10, t=40, b=10), uirevision="keep",
                      xaxis=dict(visible=False), yaxis=dict(visible=False, autorange="reversed"))
    return fig


def label_rows(fig: go.Figure, segments: list[tuple[int, int, int, int]]) -> go.Figure:
    """Outline segments (row label i, grid line, first column, last column) of
    the selected minibatch and label each span's first segment 'row i'."""
    seen = set()
    for row, line, c0, c1 in segments:
        fig.add_shape(type="rect", x0=c0 - 0.5, x1=c1 + 0.5, y0=line - 0.5, y1=line + 0.5,
                      line=dict(color=charts.INK, width=2))
        if row not in seen:
            seen.add(row)
            fig.add_annotation(x=c0 - 0.5, y=line - 0.5, text=_t("row", row=row), showarrow=False, xanchor="left",
                               yanchor="bottom", font=dict(size=10, color=charts.INK), bgcolor=charts.WHITE)
    return fig
