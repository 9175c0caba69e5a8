"""Pictures for the LeNet page, drawn from what core computed
(core.experiments.lenet): feature maps as small images, the learned kernels,
the dense layers' activations as bars, the input with the sliding window, and
one cell's computation (window, kernel, products) with its numbers."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from . import charts
from .i18n import t
from .softmax_figures import GRAY, image_grid

VIRIDIS = get_colorscale(charts.SEQUENTIAL)
DIVERGING = get_colorscale(charts.DIVERGING_R)
WINDOW_COLOR = charts.PALETTE[4]
CELL_COLOR = charts.PALETTE[1]


def _range(values: np.ndarray) -> tuple[float, float]:
    finite = np.asarray(values)[np.isfinite(values)]
    if not finite.size:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def _symmetric(values: np.ndarray) -> float:
    finite = np.abs(np.asarray(values)[np.isfinite(values)])
    vmax = float(finite.max()) if finite.size else 1.0
    return vmax if vmax > 0 else 1.0


def _axis_name(i: int) -> str:
    return "" if i == 0 else str(i + 1)


def _hover(before: str, fmt: str) -> str:
    """A heatmap cell's hover text: `before`, then its row, column and value."""
    return before + t("lenet_figures.hover", fmt=fmt) + "<extra></extra>"


def _rect(i: int, x0: float, y0: float, size: float, color: str, name: str) -> dict:
    """A square outline on the i-th panel of an image_grid (cells are 1 wide, centred on their index)."""
    n = _axis_name(i)
    return dict(type="rect", xref=f"x{n}", yref=f"y{n}", x0=x0 - 0.5, x1=x0 + size - 0.5, y0=y0 - 0.5,
                y1=y0 + size - 0.5, line=dict(color=color, width=3), name=name)


def maps_figure(maps: np.ndarray, title: str, cols: int, *, panel_px: int = 110, prefix: str | None = None,
                selected: tuple[int, int, int] | None = None) -> go.Figure:
    """Feature maps (channels, h, w) as small images on one shared colour
    scale (the layer's min to max, shown in the title); `selected` =
    (channel, row, col) outlines one cell."""
    prefix = t("lenet_figures.channel") if prefix is None else prefix
    lo, hi = _range(maps)
    panels = [dict(z=np.asarray(m).tolist(), zmin=lo, zmax=hi, colorscale=VIRIDIS, showscale=False,
                   hovertemplate=_hover(f"{prefix} {c}: ", ".4f"))
              for c, m in enumerate(maps)]
    fig = image_grid(panels, [f"{prefix} {c}" for c in range(len(maps))], cols, panel_px=panel_px, title_px=22,
                     title=f"{title}<br><sup>{t('lenet_figures.colour', lo=f'{lo:.3g}', hi=f'{hi:.3g}')}</sup>")
    if selected is not None:
        c, r, s = selected
        fig.layout.shapes = [_rect(c, s, r, 1, CELL_COLOR, "cell")]
    return fig


def kernels_figure(W: np.ndarray, title: str, *, panel_px: int = 110) -> go.Figure:
    """Kernels (out, 1, k, k) on one diverging scale (red positive, blue negative), each weight written in."""
    vmax = _symmetric(W)
    panels = [dict(z=np.asarray(w[0]).tolist(), zmin=-vmax, zmax=vmax, zmid=0, colorscale=DIVERGING,
                   showscale=False, text=[[f"{v:.1f}" for v in row] for row in w[0]], texttemplate="%{text}",
                   textfont=dict(size=9),
                   hovertemplate=_hover(t("lenet_figures.kernel", c=c) + ": ", ".4f"))
              for c, w in enumerate(W)]
    return image_grid(panels, [t("lenet_figures.kernel", c=c) for c in range(len(W))], 3, panel_px=panel_px,
                      title_px=22, title=f"{title}<br><sup>{t('lenet_figures.signs', vmax=f'{vmax:.2f}')}</sup>")


def image_figure(image: np.ndarray, title: str, *, height: int = 260, figure_title: str = "") -> go.Figure:
    """The input image, grayscale in [0, 1]; `title` above the picture,
    `figure_title` (what the picture is) above the figure."""
    return image_grid([dict(z=np.asarray(image).tolist(), zmin=0, zmax=1, colorscale=GRAY, showscale=False,
                            hovertemplate=_hover("", ".3f"))],
                      [title], 1, panel_px=height - 50, title_px=26, title=figure_title)


def bars_figure(values: Sequence[float], title: str, *, activation: str, height: int = 230) -> go.Figure:
    """A dense layer's activations, one bar per unit (sigmoid outputs lie in (0, 1))."""
    values = [float(v) for v in values]
    fig = charts.figure(title, x_title=t("lenet_figures.unit"), y_title=t("lenet_figures.activation"),
                        height=height)
    fig.add_trace(go.Bar(x=list(range(len(values))), y=values, marker=dict(color=values, colorscale=VIRIDIS),
                         name=title, hovertemplate=t("lenet_figures.unit") + " %{x}: %{y:.4f}<extra></extra>"))
    if activation == "sigmoid":
        fig.update_yaxes(range=[0, 1])
    fig.update_layout(hovermode="closest", showlegend=False, bargap=0.1)
    return fig


def input_figure(X: np.ndarray, *, padding: int, top_left: tuple[int, int], size: int, title: str,
                 prefix: str, cols: int, image: bool | None = None) -> go.Figure:
    """The convolution's input channels (padded with zeros, the padding
    included in the axes: -padding .. h + padding - 1) with the window the
    selected cell reads outlined. `image`: the input is the (grayscale) image
    (by default: when `prefix` is "image")."""
    image = prefix == "image" if image is None else image
    X = np.asarray(X, dtype=float)
    Xp = np.pad(X, ((0, 0), (padding, padding), (padding, padding)))
    coords = list(range(-padding, X.shape[-1] + padding))
    rows = list(range(-padding, X.shape[-2] + padding))
    lo, hi = _range(X)
    panels = [dict(z=m.tolist(), x=coords, y=rows, zmin=lo, zmax=hi, showscale=False,
                   colorscale=GRAY if image else VIRIDIS, hovertemplate=_hover(f"{prefix} {c}: ", ".4f"))
              for c, m in enumerate(Xp)]
    titles = [t("lenet_figures.the_image") + (t("lenet_figures.padded", padding=padding) if padding else "")] \
        if image else [f"{prefix} {c}" for c in range(len(Xp))]
    fig = image_grid(panels, titles, cols, title=title, panel_px=120 if len(Xp) > 1 else 240, title_px=22)
    r, c = top_left
    fig.layout.shapes = [_rect(i, c, r, size, WINDOW_COLOR, "window") for i in range(len(Xp))]
    return fig


def cell_figure(cell: dict, *, channel: int, title: str) -> go.Figure:
    """One output cell's computation, per input channel: the window, the
    kernel and their elementwise products, with every number written in;
    padding cells of the window are marked 'pad'."""
    C = len(cell["window"])
    wmax, kmax = _symmetric(cell["window"]), _symmetric(cell["kernel"])
    pmax = _symmetric(cell["products"])
    panels, titles = [], []
    for c in range(C):
        window, kernel, prod = cell["window"][c], cell["kernel"][c], cell["products"][c]
        pad = t("lenet_figures.pad")
        text_w = [[pad if cell["padding"][i][j] else f"{v:.2f}" for j, v in enumerate(row)]
                  for i, row in enumerate(window)]
        for z, text, scale, vmax in ((window, text_w, VIRIDIS, wmax), (kernel, None, DIVERGING, kmax),
                                     (prod, None, DIVERGING, pmax)):
            text = text or [[f"{v:.2f}" for v in row] for row in z]
            lo = 0.0 if scale is VIRIDIS and float(np.min(window)) >= 0 else -vmax
            panels.append(dict(z=np.asarray(z).tolist(), zmin=lo, zmax=vmax, colorscale=scale, showscale=False,
                               text=text, texttemplate="%{text}", textfont=dict(size=10),
                               hovertemplate=_hover("", ".4f")))
        where = t("lenet_figures.input", c=c) if C > 1 else ""
        titles += [where + t("lenet_figures.window"), t("lenet_figures.kernel_k", channel=channel, c=c),
                   t("lenet_figures.products", sum=f"{cell['per_channel'][c]:+.3f}")]
    return image_grid(panels, titles, 6 if C > 1 else 3, title=title, panel_px=150 if C > 1 else 200,
                      title_px=24, gap=0.025)
