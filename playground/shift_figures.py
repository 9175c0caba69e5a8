"""Figures of the distribution-shift page (book 4.7): the covariate-shift
scatter with importance weights as point sizes and each run's decision
boundary, accuracy against the amount of shift, and the label distributions."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from . import charts
from .i18n import t

SOURCE_COLORS = (charts.PALETTE[0], charts.PALETTE[1])  # class 0, class 1
TARGET_COLORS = tuple(charts.faded(c) for c in SOURCE_COLORS)
SOURCE_SYMBOLS = ("circle", "square")  # the classes told apart also without colour
TARGET_SYMBOLS = ("x-thin", "cross-thin")
BOUNDARY_DASHES = ("solid", "dashdot", "dot", "longdash")  # one per run
MIN_SIZE, MAX_SIZE = 4.0, 22.0


def sizes(beta: np.ndarray) -> np.ndarray:
    """Marker sizes for the weights: area proportional to beta (its square root
    as the diameter), scaled so the largest shown weight is MAX_SIZE across."""
    beta = np.asarray(beta, dtype=float)
    top = float(np.max(beta)) if beta.size and np.isfinite(beta).all() and np.max(beta) > 0 else 1.0
    return np.clip(MAX_SIZE * np.sqrt(beta / top), MIN_SIZE, MAX_SIZE)


def scatter(seen: Mapping, *, weights: bool = True, height: int = 520) -> go.Figure:
    """Source and target examples, the true boundary, and every run's boundary p(y = 1 | x) = 0.5."""
    fig = charts.figure(t("shift_figures.scatter_title"), x_title="x₁", y_title="x₂", height=height)
    src, tgt = seen["source"], seen["target"]
    for c in (0, 1):
        m = src["y"] == c
        marker = dict(color=SOURCE_COLORS[c], size=sizes(src["beta"])[m] if weights else 6, opacity=0.75,
                      symbol=SOURCE_SYMBOLS[c], line=dict(width=0.5, color=charts.WHITE))
        fig.add_trace(dict(type="scatter", mode="markers", x=src["X"][m, 0], y=src["X"][m, 1], marker=marker,
                           name=t("shift_figures.train_y", c=c) + (t("shift_figures.size_beta") if weights else "")))
    for c in (0, 1):
        m = tgt["y"] == c
        fig.add_trace(dict(type="scatter", mode="markers", x=tgt["X"][m, 0], y=tgt["X"][m, 1],
                           marker=dict(color=TARGET_COLORS[c], size=6, symbol=TARGET_SYMBOLS[c], line=dict(width=1.5,
                                                                                                  color=TARGET_COLORS[c])),
                           name=t("shift_figures.test_y", c=c)))
    fig.add_trace(dict(type="scatter", mode="lines", x=seen["boundary"]["x1"], y=seen["boundary"]["x2"],
                       name=t("shift_figures.true_boundary"), line=dict(color=charts.INK, dash="dash", width=2)))
    for i, (name, run) in enumerate(seen["runs"].items()):
        if run["p"] is None:
            continue
        color = charts.PALETTE[(i + 2) % len(charts.PALETTE)]
        fig.add_trace(dict(type="contour", x=seen["x1"], y=seen["x2"], z=run["p"], showscale=False,
                           contours=dict(start=0.5, end=0.5, size=1, coloring="none"), ncontours=1,
                           line=dict(color=color, width=3, dash=BOUNDARY_DASHES[i % len(BOUNDARY_DASHES)]),
                           name=t("shift_figures.learned_boundary", name=name or t("shift_figures.this_run")),
                           showlegend=True, hoverinfo="skip"))
    fig.update_xaxes(range=[float(seen["x1"][0]), float(seen["x1"][-1])], autorange=False)
    fig.update_yaxes(range=[float(seen["x2"][0]), float(seen["x2"][-1])], autorange=False)
    fig.update_layout(hovermode="closest", legend=dict(orientation="h", yanchor="top", y=-0.16, xanchor="left", x=0),
                      margin=dict(b=10))
    return fig


def sweep(out: Mapping, model: str, current: float | None = None, height: int = 380) -> go.Figure:
    fig = charts.figure(t("shift_figures.sweep_title", model=model), x_title=t("shift_figures.amount"),
                        y_title=t("shift_figures.sweep_y"), height=height)
    charts.add_line(fig, out["shift"], out["bayes"], t("shift_figures.bayes"), color=charts.MUTED, dash="dash")
    charts.add_line(fig, out["shift"], out["uncorrected"], t("shift_figures.uncorrected"), color=charts.PALETTE[0],
                    mode="lines+markers", symbol=charts.MARKERS[0])
    charts.add_line(fig, out["shift"], out["corrected"], t("shift_figures.corrected"), color=charts.PALETTE[1],
                    mode="lines+markers", dash="dot", symbol=charts.MARKERS[1])
    if current is not None:
        fig.add_vline(x=current, line_dash="dot", line_color=charts.MUTED,
                      annotation_text=t("shift_figures.your_setting"))
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0), margin=dict(b=10))
    return fig


def priors(classes: Sequence[str], bars: Mapping[str, Sequence[float]], height: int = 360) -> go.Figure:
    """Grouped bars: each label distribution over the classes."""
    fig = charts.figure(t("shift_figures.priors_title"), x_title=t("shift_figures.class"),
                        y_title=t("shift_figures.probability"), height=height)
    colors = [charts.MUTED, charts.LIGHT, charts.PALETTE[1], charts.PALETTE[0]]
    for i, (name, values) in enumerate(bars.items()):
        fig.add_trace(go.Bar(x=list(classes), y=[float(v) for v in values], name=name,
                             marker_color=colors[i % len(colors)],
                             marker_pattern_shape=charts.PATTERNS[i % len(charts.PATTERNS)],
                             text=[f"{v:.3f}" for v in values],
                             textposition="outside"))
    fig.update_layout(barmode="group", hovermode="closest", legend=dict(orientation="h", yanchor="top", y=-0.2,
                                                                        xanchor="left", x=0), margin=dict(b=10))
    fig.update_yaxes(range=[0, 1])
    return fig
