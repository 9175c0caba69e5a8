"""Pictures for the softmax-regression page, drawn from what core computed
(core.experiments.softmax_regression): the ten weight vectors as images, the
softmax of one image as bars, the confusion matrix, the misclassified test
images, and the softmax at a temperature."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import charts

GREY = "#adb5bd"


def weights_figure(W: np.ndarray, labels: Sequence[str], title: str = "") -> go.Figure:
    """The ten columns of W, each as a 28x28 image on one shared diverging scale
    (red: the pixel pushes that class's logit up, blue: down, white: 0)."""
    n = len(W)
    cols = 5
    rows = math.ceil(n / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[str(labels[c]) for c in range(n)],
                        horizontal_spacing=0.02, vertical_spacing=0.08)
    finite = W[np.isfinite(W)]
    vmax = float(np.abs(finite).max()) if finite.size else 1.0
    vmax = vmax if vmax > 0 else 1.0
    for c in range(n):
        fig.add_trace(go.Heatmap(z=W[c], zmin=-vmax, zmax=vmax, zmid=0, colorscale="RdBu_r", showscale=c == 0,
                                 colorbar=dict(thickness=10, title=dict(text="weight", side="right")),
                                 hovertemplate=f"{labels[c]}: row %{{y}}, col %{{x}}: %{{z:.3g}}<extra></extra>"),
                      row=c // cols + 1, col=c % cols + 1)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", constrain="domain")
    for i in range(1, n + 1):  # square pixels in every panel
        fig.update_yaxes(scaleanchor=f"x{i if i > 1 else ''}", row=(i - 1) // cols + 1, col=(i - 1) % cols + 1)
    fig.update_layout(title=dict(text=title, x=0, xanchor="left", font=dict(size=14)), height=190 * rows + 60,
                      margin=dict(l=10, r=10, t=70 if title else 30, b=10))
    fig.update_annotations(font_size=12)
    return fig


def probs_figure(probs: Sequence[float], labels: Sequence[str], true: int, predicted: int,
                 title: str = "") -> go.Figure:
    """The softmax of one image as bars: the true class green, a wrong prediction red."""
    colours = [charts.GOOD if c == true else charts.BAD if c == predicted else GREY for c in range(len(probs))]
    fig = charts.figure(title, y_title="probability ŷ", height=320)
    fig.add_trace(go.Bar(x=[str(labels[c]) for c in range(len(probs))], y=list(probs), marker_color=colours,
                         text=[f"{p:.2f}" for p in probs], textposition="outside", name="softmax",
                         hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    fig.update_yaxes(range=[0, 1.12])
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig


def confusion_figure(C: np.ndarray, labels: Sequence[str], title: str = "") -> go.Figure:
    """Counts of (true class, predicted class): rows true, columns predicted;
    the colour is the row's share, so each class reads on the same scale."""
    C = np.asarray(C)
    share = C / np.maximum(C.sum(1, keepdims=True), 1)
    names = [str(label) for label in labels[:len(C)]]
    fig = charts.heatmap(share.tolist(), x=names, y=names, colorscale="Blues", zmin=0, zmax=1, title=title,
                         x_title="predicted", y_title="true", height=460,
                         text=[[str(v) for v in row] for row in C.tolist()])
    fig.update_traces(hovertemplate="true %{y}, predicted %{x}: %{text} (%{z:.1%} of the row)<extra></extra>",
                      colorbar=dict(thickness=10, title=dict(text="share of row", side="right")))
    fig.update_yaxes(type="category", autorange="reversed")  # (the playground's figures default to a linear y)
    fig.update_xaxes(type="category", tickangle=-40)
    return fig


def images_figure(images: np.ndarray, titles: Sequence[str], cols: int = 6, title: str = "") -> go.Figure:
    """Grayscale 28x28 images in a grid, one title each."""
    n = len(images)
    rows = max(1, math.ceil(n / cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles) + [""] * (rows * cols - n),
                        horizontal_spacing=0.03, vertical_spacing=0.14)
    for i in range(n):
        fig.add_trace(go.Heatmap(z=images[i], zmin=0, zmax=1, colorscale="gray", showscale=False,
                                 hovertemplate="%{z:.2f}<extra></extra>"), row=i // cols + 1, col=i % cols + 1)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", constrain="domain")
    fig.update_layout(title=dict(text=title, x=0, xanchor="left", font=dict(size=14)), height=215 * rows + 60,
                      margin=dict(l=10, r=10, t=75 if title else 45, b=10))
    fig.update_annotations(font_size=11)
    return fig


def temperature_figure(labels: Sequence[str], naive: Sequence[float], stable: Sequence[float],
                       title: str = "") -> go.Figure:
    """softmax(o / T) as bars: the book's formula beside the stable one; a NaN
    of the naive formula is drawn as a red 'NaN' mark."""
    fig = charts.figure(title, y_title="probability", height=320)
    naive_shown = [0.0 if not math.isfinite(v) else v for v in naive]
    fig.add_trace(go.Bar(x=list(labels), y=list(stable), name="stable: exp(o − max o) / Σ",
                         marker_color=charts.PALETTE[0], text=[f"{v:.3f}" for v in stable], textposition="outside"))
    fig.add_trace(go.Bar(x=list(labels), y=naive_shown, name="the book's softmax: exp(o) / Σ exp(o)",
                         marker_color=charts.PALETTE[1],
                         text=["NaN" if not math.isfinite(v) else f"{v:.3f}" for v in naive], textposition="outside",
                         textfont=dict(color=[charts.BAD if not math.isfinite(v) else "#212529" for v in naive])))
    fig.update_yaxes(range=[0, 1.15])
    fig.update_layout(barmode="group", hovermode="closest")
    return fig
