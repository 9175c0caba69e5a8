"""Pictures for the softmax-regression page, drawn from what core computed
(core.experiments.softmax_regression): the ten weight vectors as images, the
softmax of one image as bars, the confusion matrix, the misclassified test
images, and the softmax at a temperature."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from . import charts
from .i18n import t

GREY = charts.LIGHT
# colour scales spelled out: the grids below skip plotly's validation, which is what resolves names like RdBu_r
DIVERGING = get_colorscale(charts.DIVERGING_R)
GRAY = charts.GRAYS


def image_grid(panels: Sequence[dict], titles: Sequence[str], cols: int, *, title: str = "",
               panel_px: int = 190, gap: float = 0.02, title_px: int = 34) -> go.Figure:
    """Small images in a grid: one heatmap trace (a dict of plotly's heatmap
    keys, z included) per panel on its own square-pixel axes, a title above
    each. Built as one plain dict, without make_subplots and plotly's
    validation: a page redraws it while a run trains."""
    n = len(panels)
    rows = max(1, math.ceil(n / cols))
    top = 40 if title else 10
    height = rows * (panel_px + title_px) + top + 10
    w = (1 - gap * (cols - 1)) / cols
    cell = (panel_px + title_px) / (height - top - 10)  # one row's share of the plotting height
    layout: dict = {"title": dict(text=title, x=0, xanchor="left", font=dict(size=14)), "height": height,
                    "margin": dict(l=10, r=10, t=top, b=10), "hovermode": "closest", "annotations": []}
    data = []
    for i, trace in enumerate(panels):
        r, c = divmod(i, cols)
        name = "" if i == 0 else str(i + 1)
        x0 = c * (w + gap)
        y1 = 1 - r * cell - title_px / (height - top - 10)
        y0 = max(0.0, 1 - (r + 1) * cell)
        layout[f"xaxis{name}"] = dict(domain=[x0, x0 + w], visible=False, constrain="domain", anchor=f"y{name}")
        layout[f"yaxis{name}"] = dict(domain=[y0, y1], visible=False, autorange="reversed", constrain="domain",
                                      constraintoward="top", scaleanchor=f"x{name}", anchor=f"x{name}")
        data.append({"type": "heatmap", "xaxis": f"x{name}", "yaxis": f"y{name}", **trace})
        layout["annotations"].append(dict(text=str(titles[i]), x=x0 + w / 2, y=y1, xref="paper", yref="paper",
                                          xanchor="center", yanchor="bottom", showarrow=False,
                                          font=dict(size=11, color=charts.INK)))
    return go.Figure(dict(data=data, layout=layout), _validate=False)


def weights_figure(W: np.ndarray, labels: Sequence[str], title: str = "") -> go.Figure:
    """The ten columns of W, each as a 28x28 image on one shared diverging scale
    (red: the pixel pushes that class's logit up, blue: down, white: 0)."""
    finite = W[np.isfinite(W)]
    vmax = float(np.abs(finite).max()) if finite.size else 1.0
    vmax = vmax if vmax > 0 else 1.0
    panels = [dict(z=W[c].tolist(), zmin=-vmax, zmax=vmax, zmid=0, colorscale=DIVERGING, showscale=c == 0,
                   colorbar=dict(thickness=10, title=dict(text=t("softmax_figures.weight"), side="right")),
                   hovertemplate=f"{labels[c]}: " + t("grid.hover", z="%{z:.3g}") + "<extra></extra>")
              for c in range(len(W))]
    return image_grid(panels, [str(labels[c]) for c in range(len(W))], 5, title=title, panel_px=170)


def probs_figure(probs: Sequence[float], labels: Sequence[str], true: int, predicted: int,
                 title: str = "") -> go.Figure:
    """The softmax of one image as bars: the true class green, a wrong
    prediction red and hatched (told apart also without colour)."""
    colours = [charts.GOOD if c == true else charts.BAD if c == predicted else GREY for c in range(len(probs))]
    hatch = ["x" if c == predicted and c != true else "" for c in range(len(probs))]
    fig = charts.figure(title, x_title=t("softmax_figures.class"), y_title=t("softmax_figures.probability_hat"),
                        height=320)
    fig.add_trace(go.Bar(x=[str(labels[c]) for c in range(len(probs))], y=list(probs), marker_color=colours,
                         marker_pattern_shape=hatch,
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
    fig = charts.heatmap(share.tolist(), x=names, y=names, colorscale=charts.SEQUENTIAL, zmin=0, zmax=1, title=title,
                         x_title=t("softmax_figures.predicted"), y_title=t("softmax_figures.true"), height=460,
                         text=[[str(v) for v in row] for row in C.tolist()])
    fig.update_traces(hovertemplate=t("softmax_figures.confusion_hover") + "<extra></extra>",
                      colorbar=dict(thickness=10, title=dict(text=t("softmax_figures.share_of_row"), side="right")))
    fig.update_yaxes(type="category", autorange="reversed")  # (the playground's figures default to a linear y)
    fig.update_xaxes(type="category", tickangle=-40)
    return fig


def images_figure(images: np.ndarray, titles: Sequence[str], cols: int = 6, title: str = "") -> go.Figure:
    """Grayscale 28x28 images in [0, 1] in a grid, one title each."""
    panels = [dict(z=np.asarray(img).tolist(), zmin=0, zmax=1, colorscale=GRAY, showscale=False,
                   hovertemplate="%{z:.2f}<extra></extra>") for img in images]
    return image_grid(panels, titles, cols, title=title, panel_px=150, title_px=40, gap=0.03)


def temperature_figure(labels: Sequence[str], naive: Sequence[float], stable: Sequence[float],
                       title: str = "") -> go.Figure:
    """softmax(o / T) as bars: the book's formula beside the stable one; a NaN
    of the naive formula is drawn as a red 'NaN' mark."""
    fig = charts.figure(title, x_title=t("softmax_figures.class"), y_title=t("softmax_figures.probability"),
                        height=320)
    naive_shown = [0.0 if not math.isfinite(v) else v for v in naive]
    fig.add_trace(go.Bar(x=list(labels), y=list(stable), name=t("softmax_figures.stable"),
                         marker_color=charts.PALETTE[0], text=[f"{v:.3f}" for v in stable], textposition="outside"))
    fig.add_trace(go.Bar(x=list(labels), y=naive_shown, name=t("softmax_figures.naive"),
                         marker_color=charts.PALETTE[1], marker_pattern_shape=charts.PATTERNS[1],
                         text=["NaN" if not math.isfinite(v) else f"{v:.3f}" for v in naive], textposition="outside",
                         textfont=dict(color=[charts.BAD if not math.isfinite(v) else charts.INK for v in naive])))
    fig.update_yaxes(range=[0, 1.15])
    fig.update_layout(barmode="group", hovermode="closest")
    return fig
