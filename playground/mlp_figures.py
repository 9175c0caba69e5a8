"""Figures of the MLP page (topics/mlp.py): activation functions and their
derivatives, the toy network's decision boundary and its hidden units over
the plane (in TensorFlow Playground's colours: orange for class 0, blue for
class 1), and the first layer's weights on Fashion-MNIST."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.ops.activations import NAMES

from . import charts
from .i18n import t

ORANGE, BLUE, PALE = charts.PALETTE[4], charts.PALETTE[0], charts.PALE
CLASS_SYMBOLS = ("circle", "square")  # class 0, class 1: told apart also without colour
TWO_CLASSES = [[0.0, ORANGE], [0.5, PALE], [1.0, BLUE]]


def activation_figures(curves: dict) -> tuple[go.Figure, go.Figure]:
    """(functions, derivatives): one colour per activation; each derivative
    twice, by autograd (line) and in closed form (dots on it)."""
    f = charts.figure(t("mlp_figures.functions_title"), x_title="x", y_title="f(x)", height=340)
    d = charts.figure(t("mlp_figures.derivatives_title"), x_title="x", y_title="f'(x)",
                      height=340)
    for i, (name, c) in enumerate(curves.items()):
        color = charts.PALETTE[i % len(charts.PALETTE)]
        f.add_trace(go.Scatter(x=c["x"], y=c["y"], name=NAMES[name], mode="lines", line=dict(color=color, width=2.5)))
        d.add_trace(go.Scatter(x=c["x"], y=c["grad_autograd"], mode="lines",
                               name=t("mlp_figures.autograd", name=NAMES[name]),
                               line=dict(color=color, width=2.5)))
        d.add_trace(go.Scatter(x=c["x"][::8], y=c["grad_closed"][::8],
                               name=t("mlp_figures.closed_form", name=NAMES[name]),
                               mode="markers",
                               marker=dict(color=charts.WHITE, size=6, line=dict(color=color, width=1.5))))
    for fig in (f, d):
        fig.update_layout(legend=dict(orientation="h", y=-0.25, yanchor="top", x=0, xanchor="left"),
                          margin=dict(b=40), hovermode="closest")
    return f, d


def _points(fig: go.Figure, X, y, *, test: bool, row=None, col=None, showlegend: bool = True) -> None:
    for cls, color in ((0, ORANGE), (1, BLUE)):
        pts = X[y == cls]
        marker = (dict(color=PALE, size=6, symbol=CLASS_SYMBOLS[cls], line=dict(color=color, width=2)) if test else
                  dict(color=color, size=7, symbol=CLASS_SYMBOLS[cls], line=dict(color=charts.WHITE, width=1)))
        fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", marker=marker,
                                 name=t("mlp_figures.points", cls=cls, n=len(pts),
                                        which=t(f"mlp_figures.{'test' if test else 'train'}")),
                                 showlegend=showlegend, hoverinfo="skip"), row=row, col=col)


def boundary_figure(seen: dict, *, show_test: bool = True, height: int = 520) -> go.Figure:
    """P(class 1) over the plane as a heatmap, the boundary P = 1/2 as a line,
    the training points (filled) and test points (rings)."""
    xs = seen["xs"]
    title = t("mlp_figures.boundary_title", epoch=seen["epoch"], step=seen["step"],
              train_acc=f"{seen['train_acc']:.3f}", test_acc=f"{seen['test_acc']:.3f}")
    p_class_1 = t("mlp_figures.p_class_1")
    fig = charts.figure(title, x_title="x1", y_title="x2", height=height)
    fig.add_trace(go.Heatmap(z=seen["prob"], x=xs, y=xs, colorscale=TWO_CLASSES, zmin=0, zmax=1, opacity=0.85,
                             colorbar=dict(title=dict(text=p_class_1, side="right"), thickness=12),
                             hovertemplate=f"x1 %{{x:.2f}}, x2 %{{y:.2f}}: {p_class_1} = %{{z:.3f}}<extra></extra>"))
    prob = np.asarray(seen["prob"])
    if np.nanmin(prob) < 0.5 < np.nanmax(prob):
        fig.add_trace(go.Contour(z=prob, x=xs, y=xs, showscale=False, contours=dict(start=0.5, end=0.5, size=1,
                                 coloring="lines"), line=dict(color=charts.INK, width=2), name="P = 1/2",
                                 hoverinfo="skip", showlegend=True))
    _points(fig, seen["X_train"], seen["y_train"], test=False)
    if show_test:
        _points(fig, seen["X_test"], seen["y_test"], test=True)
    lim = [float(xs[0]), float(xs[-1])]
    fig.update_xaxes(range=lim, autorange=False, constrain="domain")
    fig.update_yaxes(range=lim, autorange=False, scaleanchor="x", scaleratio=1, constrain="domain")
    fig.update_layout(legend=dict(orientation="h", y=-0.15, yanchor="top", x=0, xanchor="left"),
                      hovermode="closest", margin=dict(t=60))
    return fig


def units_figure(seen: dict) -> go.Figure:
    """Every shown hidden unit's output over the plane, one row per hidden
    layer (TensorFlow Playground's neurons): blue where the unit's output is
    positive, orange where it is negative, pale near 0; each unit on its own
    scale, saturated beyond the 75th percentile of its |output| (a ReLU grows
    without bound towards the corners: on a scale set by its largest value,
    where it switches on would hardly show)."""
    layers = seen["units"]
    cols = max(u.shape[0] for u in layers)
    xs = seen["unit_xs"]
    fig = make_subplots(rows=len(layers), cols=cols, horizontal_spacing=0.012, vertical_spacing=0.06,
                        row_titles=[t("mlp_figures.layer", n=i + 1) for i in range(len(layers))])
    for li, units in enumerate(layers):
        for ui, z in enumerate(units):
            finite = np.abs(z[np.isfinite(z)])
            top = float(np.percentile(finite, 75)) if finite.size else 1.0
            top = top if top > 0 else float(finite.max()) if finite.size and finite.max() > 0 else 1.0
            fig.add_trace(go.Heatmap(z=z, x=xs, y=xs, colorscale=TWO_CLASSES, zmin=-top, zmax=top, showscale=False,
                                     hovertemplate=t("mlp_figures.layer_unit", layer=li + 1, unit=ui + 1)
                                     + ": %{z:.3g}<extra></extra>"),
                          row=li + 1, col=ui + 1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    for i in range(1, len(layers) * cols + 1):
        fig.update_yaxes(scaleanchor=f"x{i if i > 1 else ''}", row=(i - 1) // cols + 1, col=(i - 1) % cols + 1)
    fig.update_layout(height=50 + len(layers) * (min(160, 600 // cols) + 15), margin=dict(l=10, r=40, t=30, b=10),
                      title=dict(text=t("mlp_figures.units_title"), font=dict(size=14)),
                      template="plotly_white")
    return fig


def weights_figure(weights: np.ndarray, cols: int = 8, title: str = "") -> go.Figure:
    """The incoming weights of hidden units as 28 x 28 images (red positive,
    blue negative, each on its own symmetric scale)."""
    n = len(weights)
    rows = (n + cols - 1) // cols
    fig = make_subplots(rows=rows, cols=cols, horizontal_spacing=0.01, vertical_spacing=0.03)
    for i, w in enumerate(weights):
        top = float(np.abs(w).max()) or 1.0
        fig.add_trace(go.Heatmap(z=w[::-1], colorscale=charts.DIVERGING, reversescale=True, zmin=-top, zmax=top,
                                 showscale=False,
                                 hovertemplate=t("mlp_figures.unit", n=i + 1) + ": %{z:.3g}<extra></extra>"),
                      row=i // cols + 1, col=i % cols + 1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_layout(height=(50 if title else 30) + 120 * rows, margin=dict(l=10, r=10, t=40 if title else 20, b=10),
                      template="plotly_white", title=dict(text=title, x=0, xanchor="left", font=dict(size=14)))
    return fig
