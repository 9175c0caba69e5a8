"""Chart builders: one look for every page (plotly; vega-lite for the live
line charts, which update in place while a model trains)."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.ops.colour_vision import hex_to_rgb, rgb_to_hex

from .presenter import font_scale

# Okabe and Ito's colour-blind-safe qualitative palette (blue, vermillion, bluish
# green, reddish purple, orange, sky blue, black, yellow): every pair stays at
# least 10 CIEDE2000 apart under simulated protanopia, deuteranopia and
# tritanopia (tests/test_accessibility.py). Overlays also differ without colour:
# by dash within a run, by marker between runs, dotted for archived runs.
PALETTE = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442"]


def faded(colour: str, amount: float = 0.5) -> str:
    """`colour` mixed with white (an archived run, a background series)."""
    return rgb_to_hex(hex_to_rgb(colour) * (1 - amount) + amount)


def rgba(colour: str, alpha: float) -> str:
    """`colour` with opacity `alpha`, for fills over a picture."""
    r, g, b = (int(round(v * 255)) for v in hex_to_rgb(colour))
    return f"rgba({r},{g},{b},{alpha:g})"


FADED = [faded(c) for c in PALETTE]
GOOD, BAD = PALETTE[2], PALETTE[1]  # bluish green, vermillion: apart under every deficiency
# neutrals (text, reference lines, what is left out) and the continuous scales
INK, MUTED, LIGHT, PALE, WHITE = "#212529", "#868e96", "#adb5bd", "#e9ecef", "#ffffff"
CLEAR = "rgba(0,0,0,0)"  # no fill
SEQUENTIAL = "Viridis"  # magnitudes (heatmaps of values)
SEQUENTIAL_ALT = "Cividis"  # a second magnitude beside the first, highlights on a grid
DIVERGING = "RdBu"  # signed values around zero (white): blue and red, never red against green
DIVERGING_R = "RdBu_r"
GRAYS = [[0.0, "#000000"], [1.0, "#ffffff"]]  # pictures (Fashion-MNIST images), black to white
GRAYS_R = [[0.0, "#ffffff"], [1.0, "#000000"]]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]  # plotly line dashes, one per line
MARKERS = ["circle", "square", "diamond", "triangle-up", "cross", "x", "star", "triangle-down"]  # plotly symbols
PATTERNS = ["", "/", "x", ".", "\\", "+", "-", "|"]  # bar fills: grouped bars told apart without colour

# What an empty figure says until a line with points is added (the live panel's
# charts before Start, and an epoch chart until its first epoch ends).
EMPTY_TEXT = "Nothing to draw yet: press Start, and the curves grow as the model trains"
PLACEHOLDER = "placeholder"  # the name of that annotation
# Font sizes (px) of the figures; presenter mode multiplies them by presenter.SCALE.
FONT_PX, TITLE_PX = 12, 14  # plotly's default text; a figure's title
AXIS_PX, AXIS_TITLE_PX, LEGEND_PX = 11, 12, 11  # the live vega-lite charts' tick labels, axis titles, legend
# A log axis labels its powers of ten only, as plain decimals (0.01, 0.1, 1, 10,
# 100) or in e-notation beyond (1e-4, 1e+3); plotly's defaults print the 2..9 in
# between as bare digits ("5 4 3 2 1 9 8 7 6") and 1e-4 as "100μ".
LOG_AXIS = dict(type="log", exponentformat="e", minorloglabels="none", hoverformat=".4~g")


def downsample(xs: Sequence, ys: Sequence, max_points: int = 400) -> tuple[list, list]:
    """Bucket means down to about `max_points`, keeping the last point exact."""
    n = len(xs)
    if n <= max_points:
        return list(xs), list(ys)
    edges = np.linspace(0, n, max_points + 1).astype(int)
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    xd = [float(x[a:b].mean()) for a, b in zip(edges[:-1], edges[1:]) if b > a]
    yd = [float(y[a:b].mean()) for a, b in zip(edges[:-1], edges[1:]) if b > a]
    xd[-1], yd[-1] = float(x[-1]), float(y[-1])
    return xd, yd


def figure(title: str = "", *, x_title: str = "", y_title: str = "", log_y: bool = False,
           height: int = 300, revision: str = "keep") -> go.Figure:
    """An empty figure in the playground's style. `revision` keeps the user's
    zoom and legend clicks across live redraws. Built without plotly's
    validation (our own specs; Streamlit validates once when it sends them),
    which makes a live redraw about four times cheaper."""
    axis = dict(showgrid=True, zeroline=False)
    scale = font_scale()  # presenter mode: every font of the figure larger
    layout = dict(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=round(TITLE_PX * scale))),
        height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
        uirevision=revision, hovermode="x unified",
        xaxis=dict(axis, title=dict(text=x_title)),
        yaxis=dict(axis, title=dict(text=y_title), **(LOG_AXIS if log_y else {"type": "linear"})),
    )
    if scale != 1:  # ticks, axis titles, legend, hover and annotations follow the layout's font
        layout["font"] = dict(size=round(FONT_PX * scale))
    fig = go.Figure(dict(data=[], layout=layout), _validate=False)  # one dict: no per-key updates
    return fig


def add_line(fig: go.Figure, x, y, name: str, *, color: str | None = None, dash: str = "solid",
             width: float = 2, opacity: float = 1.0, mode: str = "lines", showlegend: bool = True,
             max_points: int = 400, symbol: str | None = None) -> go.Figure:
    """A line (downsampled to about `max_points`). A figure whose lines have no
    points yet says EMPTY_TEXT over hidden axes (`placeholder`) until one has."""
    x, y = downsample(list(x), list(y), max_points)
    fig.add_trace(dict(type="scatter", x=x, y=y, name=name, mode=mode, opacity=opacity, showlegend=showlegend,
                       line=dict(color=color, dash=dash, width=width),
                       **({"marker": dict(symbol=symbol, size=8)} if symbol else {})))
    if x:
        _drop_placeholder(fig)
    elif not any(_has_points(tr) for tr in fig.data):
        placeholder(fig)
    return fig


def placeholder(fig: go.Figure, text: str = EMPTY_TEXT) -> go.Figure:
    """`text` in the middle of a figure that has nothing to show yet, its axes
    hidden: plotly would draw an empty linear axis from -1 to 4 and an empty
    log axis from 0.1 to 10k. `add_line` takes it away when points arrive."""
    if not any(a.name == PLACEHOLDER for a in fig.layout.annotations):
        fig.add_annotation(dict(name=PLACEHOLDER, text=text, xref="paper", yref="paper", x=0.5, y=0.5,
                                showarrow=False, font=dict(size=round(13 * font_scale()), color=MUTED)))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _has_points(trace) -> bool:
    return any(getattr(trace, axis, None) is not None and len(getattr(trace, axis)) for axis in ("x", "y", "z"))


def _drop_placeholder(fig: go.Figure) -> None:
    if any(a.name == PLACEHOLDER for a in fig.layout.annotations):
        fig.layout.annotations = [a for a in fig.layout.annotations if a.name != PLACEHOLDER]
        fig.update_xaxes(visible=None)
        fig.update_yaxes(visible=None)


def heatmap(z, *, x_title: str = "", y_title: str = "", title: str = "", colorscale: str | list = SEQUENTIAL,
            zmin=None, zmax=None, height: int = 300, x=None, y=None, text=None) -> go.Figure:
    fig = figure(title, x_title=x_title, y_title=y_title, height=height)
    fig.add_trace(go.Heatmap(z=z, x=x, y=y, colorscale=colorscale, zmin=zmin, zmax=zmax, text=text,
                             texttemplate="%{text}" if text is not None else None))
    fig.update_layout(hovermode="closest")
    return fig


def contour(z, x, y, *, title: str = "", x_title: str = "", y_title: str = "", colorscale: str | list = SEQUENTIAL,
            zmin=None, zmax=None, height: int = 400, colorbar_title: str = "", ncontours: int = 20,
            equal_aspect: bool = False) -> go.Figure:
    """Filled contours of z (rows along y, columns along x): `ncontours` equal
    steps from zmin to zmax (default: z's finite range), the axes fixed to the
    grid so that whatever is drawn on top beyond it leaves the picture, the
    legend below; with `equal_aspect` a unit on x is as long as one on y."""
    finite = np.asarray(z, dtype=float)
    finite = finite[np.isfinite(finite)]
    lo = float(finite.min()) if zmin is None and finite.size else zmin
    hi = float(finite.max()) if zmax is None and finite.size else zmax
    levels = dict(start=lo, end=hi, size=(hi - lo) / ncontours) if lo is not None and hi is not None and hi > lo else {}
    fig = figure(title, x_title=x_title, y_title=y_title, height=height)
    fig.add_trace(dict(type="contour", z=z, x=x, y=y, colorscale=colorscale, zmin=lo, zmax=hi,
                       autocontour=not levels, contours=levels, showlegend=False, line=dict(width=0.5),
                       colorbar=dict(title=dict(text=colorbar_title, side="right"), thickness=12)))
    fig.update_layout(hovermode="closest", margin=dict(b=50),
                      legend=dict(orientation="h", y=-0.22, yanchor="top", x=0, xanchor="left"))
    fig.update_xaxes(range=[float(x[0]), float(x[-1])], autorange=False)
    fig.update_yaxes(range=[float(y[0]), float(y[-1])], autorange=False)
    if equal_aspect:
        fig.update_xaxes(constrain="domain")
        fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain")
    return fig


# ------------------------------------------------------------ live line charts
DASH_ARRAYS = {"solid": [1, 0], "dot": [2, 3], "dash": [7, 4], "dashdot": [7, 3, 2, 3]}
# powers of ten only, in plain decimals (0.001, 1, 100) or 1e-5 style when long
POWER_OF_TEN = "abs(round(log(datum.value) / LN10) - log(datum.value) / LN10) < 1e-6"
LOG_LABELS = (f"{POWER_OF_TEN} ? (abs(log(datum.value) / LN10) > 4 ? format(datum.value, '.0e') : "
              "format(datum.value, '~g')) : ''")
# (an axis "format" of "~g" would take its precision from the tick step: 100 as
# "1e+2"; format() in a labelExpr keeps six digits: "100")
PLAIN_LABELS = "format(datum.value, '~g')"
# a linear axis: short labels also when a diverging run sends it to 1e+30
# (vega's default would print every digit, "1,000,000,000,000,000")
LINEAR_LABELS = ("datum.value != 0 && (abs(datum.value) >= 1e5 || abs(datum.value) < 1e-4) ? "
                 "format(datum.value, '.2~e') : format(datum.value, '~g')")


@dataclass(frozen=True)
class Series:
    name: str
    x: Sequence[float]
    y: Sequence[float]
    color: str
    dash: str = "solid"
    width: float = 2.0
    shape: str | None = None  # a marker (VEGA_SHAPES) on the line: which run it is, without colour


# vega-lite's point shapes, in the order runs take them
VEGA_SHAPES = ["circle", "square", "diamond", "triangle-up", "cross", "triangle-down", "triangle-right",
               "triangle-left"]
MARKERS_PER_LINE = 12  # markers on a line of many points (every point of a short one)


def live_lines(title: str, series: Sequence[Series], *, x_title: str = "epoch", y_title: str = "",
               log_y: bool = False, reference: Sequence[tuple] = (), height: int = 360,
               max_points: int = 400, points: float = 0, empty_text: str = EMPTY_TEXT) -> tuple[pd.DataFrame, dict]:
    """(data, vega-lite spec) of line charts that grow while a model trains.

    Streamlit gives a vega-lite chart with a key the same identity from run to
    run as long as its spec is unchanged, and then only swaps its data: the chart
    is updated in place, keeping the reader's zoom and hover, with no re-mount
    and no blink. So everything that changes each tick is in the data, and the
    spec changes only when a series comes or goes. Points that a log axis cannot
    show (zero, negative, not finite) are left out."""
    rows: list[dict] = []
    for s in series:
        xs, ys = downsample(list(s.x), list(s.y), max_points)
        every = max(1, math.ceil(len(xs) / MARKERS_PER_LINE))
        rows += [{"x": float(x), "y": float(y), "series": s.name, "marker": i % every == 0 or i == len(xs) - 1}
                 for i, (x, y) in enumerate(zip(xs, ys)) if math.isfinite(y) and (y > 0 or not log_y)]
    data = pd.DataFrame(rows, columns=["x", "y", "series", "marker"])
    scale = font_scale()
    head = {"height": height,
            "title": {"text": title, "anchor": "start", "fontSize": round(TITLE_PX * scale), "fontWeight": 600}}
    if scale != 1:  # presenter mode: tick labels, axis titles and the legend larger too
        axis, legend = round(AXIS_PX * scale), round(LEGEND_PX * scale)
        head["config"] = {"axis": {"labelFontSize": axis, "titleFontSize": round(AXIS_TITLE_PX * scale)},
                          "legend": {"labelFontSize": legend, "titleFontSize": legend},
                          "text": {"fontSize": axis}}  # the book's reference labels
    if data.empty:
        return data, {**head, "data": {"values": [{}]},
                      "mark": {"type": "text", "fontSize": round(13 * scale), "color": MUTED},
                      "encoding": {"text": {"value": empty_text}}}
    shown = [s for s in series if (data["series"] == s.name).any()]
    names = [s.name for s in shown]
    y_axis: dict = {"title": y_title or None, "labelExpr": LINEAR_LABELS}
    if log_y:  # labels and strong grid lines at powers of ten only
        y_axis.update(labelExpr=LOG_LABELS, gridOpacity={"condition": {"test": POWER_OF_TEN, "value": 1},
                                                         "value": 0.25})
    mark = {"type": "line", "tooltip": True, "clip": True}
    shaped = any(s.shape for s in shown)
    if points and not shaped:  # a mark of this size at every point (a lone first point shows), fixed for a run
        mark["point"] = {"size": points, "filled": True}
    x_enc = {"field": "x", "type": "quantitative", "title": x_title,
             "axis": {"tickMinStep": 1, "labelExpr": PLAIN_LABELS}}
    y_enc = {"field": "y", "type": "quantitative", "axis": y_axis,
             "scale": {"type": "log"} if log_y else {"zero": False}}
    color = {"field": "series", "type": "nominal", "title": None,
             "scale": {"domain": names, "range": [s.color for s in shown]},
             "legend": {"orient": "top", "labelLimit": 400, "symbolType": "stroke"}}
    lines = {
        "mark": mark,
        "encoding": {
            "x": x_enc,
            "y": y_enc,
            "color": color,
            "strokeDash": {"field": "series", "type": "nominal", "title": None,
                           "scale": {"domain": names, "range": [DASH_ARRAYS.get(s.dash, [1, 0]) for s in shown]}},
            "strokeWidth": {"field": "series", "type": "nominal", "legend": None,
                            "scale": {"domain": names, "range": [s.width for s in shown]}},
        },
        "params": [{"name": "zoom", "select": "interval", "bind": "scales"}],
    }
    layers = [lines]
    if shaped:  # runs told apart by marker (every point of an epoch chart, a dozen on a step chart)
        layers.append({
            "transform": [{"filter": "datum.marker"}] if not points else [],
            "mark": {"type": "point", "filled": True, "size": max(points, 40), "clip": True, "tooltip": True,
                     "opacity": 1},
            "encoding": {"x": x_enc, "y": y_enc, "color": {**color, "legend": None},
                         "shape": {"field": "series", "type": "nominal", "title": None,
                                   "scale": {"domain": names, "range": [s.shape or "circle" for s in shown]},
                                   "legend": {"orient": "top", "labelLimit": 400}}},
        })
    layers += [_reference(ref) for ref in reference]
    return data, {**head, "layer": layers}


def _reference(ref: tuple) -> dict:
    """The book's value as a dashed line (value, label), or the band its editions
    span (low, high, label), labelled inside at the top left."""
    grey = MUTED
    if len(ref) == 3:
        low, high, text = ref
        row = {"y": low, "y2": high, "label": text}
        band = {"mark": {"type": "rect", "color": grey, "opacity": 0.12},
                "encoding": {"y": {"field": "y", "type": "quantitative"}, "y2": {"field": "y2"}}}
    else:
        value, text = ref
        row = {"y": value, "y2": value, "label": text}
        band = {"mark": {"type": "rule", "strokeDash": [4, 4], "color": grey},
                "encoding": {"y": {"field": "y", "type": "quantitative"}}}
    label = {"mark": {"type": "text", "align": "left", "baseline": "top", "dx": 4, "dy": 2, "color": grey},
             "encoding": {"y": {"field": "y2", "type": "quantitative"}, "text": {"field": "label"},
                          "x": {"value": 0}}}
    return {"data": {"values": [row]}, "layer": [band, label]}
