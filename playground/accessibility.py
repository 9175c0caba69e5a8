"""What every chart must say in words, checked on the specs a page sends:
a title, and a title on each axis that carries numbers (tests/test_pages.py
runs this over every page). Plain Python over the JSON specs, no Streamlit."""
from __future__ import annotations

from collections.abc import Mapping

# plotly trace types drawn on cartesian axes (xaxis / yaxis, x2 / y2, ...)
CARTESIAN = {"scatter", "scattergl", "bar", "histogram", "histogram2d", "histogram2dcontour", "heatmap",
             "contour", "box", "violin", "image", "candlestick", "ohlc", "waterfall", "funnel"}


def _text(title) -> str:
    if isinstance(title, Mapping):
        title = title.get("text")
    return str(title).strip() if title not in (None, False) else ""


def plotly_problems(fig: Mapping) -> list[str]:
    """What a plotly figure (as JSON: {"data", "layout"}) lacks: a title
    (layout.title.text), and a title for every cartesian axis a trace is
    drawn on, unless that axis shows no numbers (hidden, or no tick labels:
    the axes of a picture)."""
    layout = fig.get("layout") or {}
    problems = [] if _text(layout.get("title")) else ["no title (layout.title.text)"]
    used: set[str] = set()
    for trace in fig.get("data") or []:
        if trace.get("type", "scatter") in CARTESIAN:
            used.add("xaxis" + str(trace.get("xaxis", "x"))[1:])
            used.add("yaxis" + str(trace.get("yaxis", "y"))[1:])
    for name in sorted(used):
        axis = layout.get(name) or {}
        if axis.get("visible") is False or axis.get("showticklabels") is False:
            continue
        if not _text(axis.get("title")):
            problems.append(f"no title on {name}")
    return problems


def vega_problems(spec: Mapping) -> list[str]:
    """What a vega-lite spec lacks: a title, and x / y axis titles where the
    chart has x / y positions (a text-only placeholder needs only the title)."""
    problems = [] if _text(spec.get("title")) else ["no title"]
    for channel in ("x", "y"):
        encodings = [enc for enc in _encodings(spec) if channel in enc and "field" in enc[channel]]
        if encodings and not any(_text(enc[channel].get("title")) or _text((enc[channel].get("axis") or {})
                                                                         .get("title")) for enc in encodings):
            problems.append(f"no {channel} axis title")
    return problems


def _encodings(spec: Mapping) -> list[Mapping]:
    out = [spec["encoding"]] if isinstance(spec.get("encoding"), Mapping) else []
    for layer in spec.get("layer") or []:
        out += _encodings(layer)
    return out
