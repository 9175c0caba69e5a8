"""Grids of numbers for the convolution and pooling pages: an input with its
padding, the cells an output reads, the winning cell of a max, and the book's
output-shape formula with the current numbers."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from . import charts, controls
from .i18n import t

PAD_COLOR = charts.PALE
READ_COLOR = charts.PALETTE[4]
WINNER_COLOR = charts.PALETTE[1]
CHANGED_COLOR = charts.PALETTE[3]
READ_FILL = charts.rgba(READ_COLOR, 0.35)


def fmt(v: float) -> str:
    if not np.isfinite(v):
        return "−∞" if v < 0 else "∞"
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}"


def grid_figure(values, *, title: str = "", pad: tuple[int, int] = (0, 0), read: Iterable = (),
                winner: Iterable = (), selected: Iterable = (), changed: Iterable = (),
                colorscale: str | list = charts.SEQUENTIAL_ALT,
                pad_text: str = "0", cell_px: int = 34, numbers: bool = True) -> go.Figure:
    """A (rows, cols) grid drawn cell by cell. The outer `pad` = (rows, cols)
    ring is padding (grey, `pad_text`); `read` cells are shaded, `winner`,
    `selected` and `changed` cells outlined. Cell coordinates are the grid's own (padded)
    ones; the axis labels count from the first unpadded cell. Shapes carry
    names ('read', 'winner', 'selected', 'changed') so tests can find them."""
    z = np.asarray(values, dtype=float)
    rows, cols = z.shape
    ph, pw = pad
    is_pad = np.zeros_like(z, dtype=bool)
    is_pad[:ph, :], is_pad[rows - ph:, :], is_pad[:, :pw], is_pad[:, cols - pw:] = True, True, True, True
    inner = np.where(is_pad | ~np.isfinite(z), np.nan, z)
    finite = inner[np.isfinite(inner)]
    zmin, zmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if colorscale == charts.DIVERGING:  # diverging: zero in the middle (white)
        zmax = max(abs(zmin), abs(zmax), 1e-9)
        zmin = -zmax
    text = [[("" if p else fmt(v)) for v, p in zip(row, prow)] for row, prow in zip(z, is_pad)] if numbers else None
    fig = charts.heatmap(inner.tolist(), title=title, colorscale=colorscale, zmin=zmin, x_title=t("grid.column"),
                         y_title=t("grid.row"),
                         zmax=zmax if zmax > zmin else zmin + 1, text=text,
                         height=min(700, 50 + (40 if title else 0) + cell_px * rows))
    fig.update_traces(showscale=False, xgap=2, ygap=2, hovertemplate=t("grid.hover", z="%{z}") + "<extra></extra>")
    if is_pad.any():
        fig.add_trace(go.Heatmap(z=np.where(is_pad, 0.0, np.nan).tolist(), showscale=False, xgap=2, ygap=2,
                                 colorscale=[[0, PAD_COLOR], [1, PAD_COLOR]], hoverinfo="skip",
                                 text=[[pad_text if p else "" for p in prow] for prow in is_pad] if numbers else None,
                                 texttemplate="%{text}" if numbers else None))
    for name, cells, line, fill in (("read", read, READ_COLOR, READ_FILL),
                                    ("selected", selected, READ_COLOR, None),
                                    ("winner", winner, WINNER_COLOR, None),
                                    ("changed", changed, CHANGED_COLOR, None)):
        for r, c in cells:
            fig.add_shape(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5, name=name,
                          line=dict(color=line, width=2 if fill else 4), fillcolor=fill or charts.CLEAR)
    labels = dict(tickmode="array", showgrid=False)
    fig.update_xaxes(**labels, tickvals=list(range(cols)),
                     ticktext=[str(c - pw) if pw <= c < cols - pw else "" for c in range(cols)],
                     range=[-0.5, cols - 0.5], constrain="domain")
    fig.update_yaxes(**labels, tickvals=list(range(rows)),
                     ticktext=[str(r - ph) if ph <= r < rows - ph else "" for r in range(rows)],
                     range=[rows - 0.5, -0.5], scaleanchor="x", scaleratio=1, constrain="domain")
    return fig


def image_figure(values, title: str = "", *, height: int = 260, colorscale: str | list = charts.GRAYS) -> go.Figure:
    """A feature map or image as a heatmap with square pixels, row 0 on top."""
    z = np.asarray(values, dtype=float)
    fig = charts.heatmap(z.tolist(), title=title, colorscale=colorscale, height=height, x_title=t("grid.column"),
                         y_title=t("grid.row"))
    if colorscale == charts.DIVERGING:  # diverging: zero in the middle (white)
        fig.update_traces(zmid=0)
    fig.update_traces(showscale=True, hovertemplate=t("grid.hover", z="%{z:.3g}") + "<extra></extra>",
                      colorbar=dict(thickness=10))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", scaleratio=1, constrain="domain", showgrid=False)
    fig.update_xaxes(constrain="domain", showgrid=False)
    return fig


def cell_picker(out_h: int, out_w: int, key: str) -> tuple[int, int]:
    """Two URL-bound sliders choosing an output cell (fixed at 0 along an axis of size 1)."""
    c1, c2 = st.columns(2)
    i = controls.slider(t("grid.output_row"), f"{key}_i", 0, out_h - 1, 0, container=c1) if out_h > 1 else 0
    j = controls.slider(t("grid.output_column"), f"{key}_j", 0, out_w - 1, 0, container=c2) if out_w > 1 else 0
    return min(int(i), out_h - 1), min(int(j), out_w - 1)


def shape_latex(n: tuple[int, int], k: tuple[int, int], p: tuple[int, int], s: tuple[int, int],
                out: tuple[int, int], d: int = 1) -> str:
    """The book's output shape with the current numbers; p is the TOTAL padding."""
    sym = (r"\left\lfloor \frac{n_h - k_h + p_h + s_h}{s_h} \right\rfloor \times "
           r"\left\lfloor \frac{n_w - k_w + p_w + s_w}{s_w} \right\rfloor")
    k_eff = tuple(d * (v - 1) + 1 for v in k)
    nums = " \\times ".join(
        rf"\left\lfloor \frac{{{n[a]} - {k_eff[a]} + {p[a]} + {s[a]}}}{{{s[a]}}} \right\rfloor" for a in (0, 1))
    return rf"\begin{{aligned}} & {sym} \\ = \; & {nums} = {out[0]} \times {out[1]} \end{{aligned}}"


def latex_matrix(t) -> str:
    """A 2-D tensor or array as a LaTeX bmatrix (integers without decimals)."""
    rows = np.atleast_2d(np.asarray(t, dtype=float))
    return r"\begin{bmatrix}" + r" \\ ".join(" & ".join(fmt(v) for v in row) for row in rows) + r"\end{bmatrix}"
