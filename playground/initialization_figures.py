"""Figures of the initialization page (book 5.4): the sigmoid and its gradient,
the running product's norm, per-layer statistics, histograms, symmetry."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from . import charts
from .i18n import t

W = "initialization_figures."  # this module's keys


def sigmoid_figure(curve: Mapping, height: int = 300) -> go.Figure:
    fig = charts.figure(t(W + "sigmoid_title"), x_title="x", y_title=t(W + "sigmoid_axis"), height=height)
    charts.add_line(fig, curve["x"].tolist(), curve["y"].tolist(), t(W + "sigmoid"), color=charts.PALETTE[0])
    charts.add_line(fig, curve["x"].tolist(), curve["grad"].tolist(), t(W + "gradient"), color=charts.PALETTE[1],
                    dash="dash")
    fig.update_layout(hovermode="x unified")
    return fig


def product_figure(norms: Sequence[float], std: float, height: int = 320) -> go.Figure:
    """‖M₀ M₁ ⋯ M_k‖_F against k on a log axis; overflowed norms are left out."""
    norms = np.asarray(norms, dtype=float)
    k = np.arange(len(norms))
    ok = np.isfinite(norms) & (norms > 0)
    fig = charts.figure(t(W + "product_title", std=f"{std:g}"), x_title=t(W + "factors"),
                        y_title=t(W + "frobenius"), log_y=True, height=height)
    charts.add_line(fig, k[ok].tolist(), norms[ok].tolist(), "‖M₀ ⋯ M_k‖", color=charts.PALETTE[0],
                    mode="lines+markers", max_points=1000)
    fig.add_hline(y=1, line=dict(color=charts.LIGHT, dash="dot"))
    fig.update_layout(showlegend=False)
    return fig


def per_layer_figure(stats: Mapping[str, Mapping], key: str, title: str, *, y_title: str = "",
                     log_y: bool = True, height: int = 320, highlight: str | None = None) -> go.Figure:
    """One line per init (or run): stats[name][key] against the layer number
    (1..L; a gradient list has the output layer as L + 1). Zeros and
    non-finite values cannot sit on a log axis and are left out; a name
    with none left says so in its legend entry."""
    fig = charts.figure(title, x_title=t(W + "layer"), y_title=y_title, log_y=log_y, height=height)
    missing = []
    for i, (name, s) in enumerate(stats.items()):
        ys = np.asarray(s[key], dtype=float)
        xs = np.arange(1, len(ys) + 1)
        ok = np.isfinite(ys) & ((ys > 0) if log_y else True)
        if not ok.any():  # a line with no point gets no legend entry: say it in the figure
            missing.append(t(W + ("all_zero" if np.all(ys[np.isfinite(ys)] == 0) else "all_inf"), name=name))
            continue
        label = name if ok.all() else t(W + "left_out", name=name, n=int((~ok).sum()))
        width = 3.5 if name == highlight else 2
        charts.add_line(fig, xs[ok].tolist(), ys[ok].tolist(), label, color=charts.PALETTE[i % len(charts.PALETTE)],
                        mode="lines+markers", width=width, max_points=1000,
                        symbol=charts.MARKERS[i % len(charts.MARKERS)])
    if missing and len(missing) == len(stats):
        charts.placeholder(fig, t(W + "nothing_to_draw", missing="; ".join(missing)))
    elif missing:
        fig.add_annotation(dict(text=t(W + "not_on_log", missing="; ".join(missing)), xref="paper", yref="paper",
                                x=0, y=0, xanchor="left", yanchor="bottom", showarrow=False,
                                font=dict(size=11, color=charts.MUTED)))
    fig.update_layout(hovermode="x unified", legend=dict(orientation="h", yanchor="top", y=-0.2, x=0,
                                                         xanchor="left"), margin=dict(b=60))
    return fig


def histogram_figure(hists: Mapping[str, Mapping], title: str, *, x_title: str | None = None,
                     height: int = 280) -> go.Figure:
    """Bars of each named histogram ({"edges", "fraction"}), overlaid."""
    fig = charts.figure(title, x_title=t(W + "value") if x_title is None else x_title, y_title=t(W + "fraction"),
                        height=height)
    drawn = False
    for i, (name, h) in enumerate(hists.items()):
        edges, frac = np.asarray(h["edges"], dtype=float), np.asarray(h["fraction"], dtype=float)
        if frac.sum() <= 0:
            continue
        drawn = True
        fig.add_bar(x=((edges[:-1] + edges[1:]) / 2).tolist(), y=frac.tolist(), name=name, opacity=0.6,
                    marker_color=charts.PALETTE[i % len(charts.PALETTE)], width=float(edges[1] - edges[0]))
    if not drawn:
        charts.placeholder(fig, t(W + "no_values"))
    fig.update_layout(barmode="overlay", bargap=0, hovermode="closest")
    return fig


def symmetry_figure(runs: Mapping[str, Mapping], height: int = 320) -> go.Figure:
    fig = charts.figure(t(W + "symmetry_title"), x_title=t(W + "sgd_step"), y_title=t(W + "distance"),
                        height=height)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.25, x=0, xanchor="left"), margin=dict(b=70))
    for i, (label, r) in enumerate(runs.items()):
        d = np.asarray(r["diff"], dtype=float)
        charts.add_line(fig, list(range(len(d))), d.tolist(), label, color=charts.PALETTE[i % len(charts.PALETTE)],
                        width=3 if i == 0 else 2, dash=charts.DASHES[i % len(charts.DASHES)])
    return fig


def unit_weights_figure(w: np.ndarray, title: str, height: int = 260) -> go.Figure:
    """The two hidden units' incoming weights as 28 × 28 images side by side
    (one colour scale, zero white)."""
    w = np.asarray(w, dtype=float)
    side = int(math.isqrt(w.shape[1]))
    gap = np.full((side, 2), np.nan)
    z = np.concatenate([w[0].reshape(side, side), gap, w[1].reshape(side, side)], axis=1)
    m = float(np.nanmax(np.abs(z))) or 1.0
    fig = charts.heatmap(np.where(np.isnan(z), None, z).tolist(), title=title, colorscale=charts.DIVERGING,
                         zmin=-m, zmax=m,
                         height=height)
    fig.update_traces(zmid=0, hovertemplate=t(W + "unit_hover"),
                      colorbar=dict(thickness=10))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", scaleratio=1, constrain="domain", showgrid=False,
                     showticklabels=False)
    fig.update_xaxes(constrain="domain", showgrid=False, title=dict(text=t(W + "hidden_unit")),
                     tickvals=[side / 2 - 0.5, side * 1.5 + 1.5],
                     ticktext=[t(W + "unit", i=1), t(W + "unit", i=2)])
    return fig
