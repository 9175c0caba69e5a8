"""A computational graph drawn as the book's figure 5.3.1 draws it: boxes for
variables and parameters, circles for operators, left to right in forward
order (core.ops.backprop.layout), with the step's nodes highlighted, the values
computed so far under their nodes and, in the backward pass, the gradients
found so far. Also the LaTeX of a step's products with their numbers."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.ops.backprop import Graph, Shown, Term, layout

from . import charts
from .i18n import t

VALUE_COLOR = charts.INK
GRAD_COLOR = charts.PALETTE[1]  # the gradients and the backward flow
CURRENT_COLOR = charts.PALETTE[4]
EDGE_COLOR = charts.LIGHT
STYLE = {  # kind -> (legend name (English; shown as compgraph.<name>), marker symbol, size, fill, border)
    "variable": ("variable", "square", 44, charts.faded(charts.PALETTE[0], 0.88), charts.PALETTE[0]),
    "parameter": ("parameter", "square", 44, charts.faded(charts.PALETTE[4], 0.88), charts.PALETTE[4]),
    "operation": ("operator", "circle", 36, charts.WHITE, charts.INK),
}
NODE_TRACES = tuple(name for name, *_ in STYLE.values())
CURRENT = "current step"  # the highlight's trace name in English (what tests look for); shown translated
ROW_PX = 140


def fmt(v: float, digits: int = 4) -> str:
    v = float(v)
    if v == 0:
        return "0"
    return f"{v:.{digits}g}" if 1e-3 <= abs(v) < 1e5 else f"{v:.2e}"


def array_lines(value, digits: int = 3) -> list[str]:
    """An array as short text lines for the picture (the formulas and the
    tooltips give 4 digits): a number, a vector as one row, a matrix row by row."""
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        return [fmt(a, digits)]
    if a.ndim == 1:
        return ["[" + ", ".join(fmt(v, digits) for v in a) + "]"]
    return ["[" + ", ".join(fmt(v, digits) for v in row) + "]" for row in a]


def _label(node, shown: Shown, grad_symbol: str) -> str:
    lines = []
    if node.kind != "operation" and node.name in shown.values:
        lines += array_lines(node.value)
    if node.name in shown.grads and node.grad is not None:
        g = array_lines(node.grad)
        head = [f"{grad_symbol}{node.symbol} = {g[0]}"] if np.ndim(node.grad) == 0 else \
            [f"{grad_symbol}{node.symbol} ="] + g
        lines += [f"<span style='color:{GRAD_COLOR}'>{line}</span>" for line in head]
    if node.kind == "operation" and node.note:
        lines.append(f"<span style='color:{charts.MUTED}'>{node.note}</span>")
    return "<br>".join(lines)


def _hover(node, shown: Shown, grad_symbol: str) -> str:
    shape = " × ".join(str(n) for n in node.shape) or t("compgraph.a_number")
    out = [t("compgraph.hover_head", symbol=node.symbol, kind=t(f"compgraph.kind.{node.kind}"), shape=shape)]
    if node.note:
        out.append(node.note)
    if node.kind != "operation":
        out.append(t("compgraph.value") + ("<br>".join(array_lines(node.value, 6)) if node.name in shown.values
                                           else t("compgraph.not_yet")))
        if node.grad is not None:
            out.append(f"{grad_symbol}{node.symbol}: " + ("<br>".join(array_lines(node.grad, 6))
                                                          if node.name in shown.grads
                                                          else t("compgraph.not_yet")))
    return "<br>".join(out)


def graph_figure(graph: Graph, shown: Shown, *, title: str = "", revision: str = "graph") -> go.Figure:
    """The graph as it stands at a step (`shown`, from core.ops.backprop.shown_at).
    Forward edges are grey arrows; the step's edges are drawn in its colour, the
    backward ones pointing back along the gradient's flow. Nodes not yet computed
    are faded."""
    pos = layout(graph)
    cols = [c for c, _ in pos.values()]
    rows = [r for _, r in pos.values()]
    out = graph.nodes[graph.output].symbol
    grad_symbol = f"∂{out}/∂"
    # where each node's values go: under a node on the spine, above an input (left-aligned on it), to the
    # right of the others; the figure makes room for them all revealed, so it keeps its size from step to step
    sources = {b for _, b in graph.edges} ^ set(graph.nodes)
    place = {n: ("bottom center", 0.0, -0.2) if r == 0 else ("top right", -0.22, 0.2) if n in sources
             else ("middle right", 0.3, 0.0) for n, (_, r) in pos.items()}
    full = Shown(frozenset(graph.nodes), frozenset(), frozenset(graph.nodes), (), (), "backward")
    line = 14 / ROW_PX  # one line of text, in rows
    below = max((_label(n, full, grad_symbol).count("<br>") + 1 for n in graph.nodes.values() if pos[n.name][1] == 0
                 and _label(n, full, grad_symbol)), default=0)
    above = max((pos[n.name][1] + 0.2 + line * (_label(n, full, grad_symbol).count("<br>") + 1)
                 for n in graph.nodes.values() if place[n.name][0] == "top right"), default=0)
    y_range = [min(min(rows) - 0.5, -0.25 - line * below), max(max(rows) + 0.45, above + 0.1)]
    fig = charts.figure(title, height=int(80 + ROW_PX * (y_range[1] - y_range[0])), revision=revision)
    fig.update_layout(hovermode="closest", showlegend=True, margin=dict(l=10, r=10, t=70 if title else 40, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0))
    flow = set(shown.edges)
    for a, b in graph.edges:
        forward_hl, back_hl = (a, b) in flow, (b, a) in flow
        src, dst = (b, a) if back_hl else (a, b)
        color = GRAD_COLOR if back_hl else CURRENT_COLOR if forward_hl else EDGE_COLOR
        known = a in shown.values or a in shown.ops
        fig.add_annotation(dict(
            x=pos[dst][0], y=pos[dst][1], ax=pos[src][0], ay=pos[src][1], xref="x", yref="y", axref="x",
            ayref="y", text="", showarrow=True, arrowhead=2, arrowsize=1.1, arrowwidth=3 if forward_hl or back_hl
            else 1.3, arrowcolor=color, standoff=24, startstandoff=24, opacity=1.0 if known or back_hl else 0.45,
            name=f"edge:{src}->{dst}"))
    for kind, (name, symbol, size, fill, border) in STYLE.items():
        group = [n for n in graph.nodes.values() if n.kind == kind]
        if not group:
            continue
        known = [n.name in shown.values or n.name in shown.ops for n in group]
        fig.add_trace(go.Scatter(
            x=[pos[n.name][0] for n in group], y=[pos[n.name][1] for n in group], mode="markers+text",
            name=t(f"compgraph.{name}"),
            marker=dict(symbol=symbol, size=size, color=fill, line=dict(color=border, width=2),
                        opacity=[1.0 if k else 0.35 for k in known]),
            text=[n.symbol for n in group], textposition="middle center",
            textfont=dict(size=15 if kind != "operation" else 14,
                          color=[VALUE_COLOR if k else charts.LIGHT for k in known]),
            hovertext=[_hover(n, shown, grad_symbol) for n in group], hoverinfo="text"))
    labelled = [n for n in graph.nodes.values() if _label(n, shown, grad_symbol)]
    fig.add_trace(go.Scatter(
        x=[pos[n.name][0] + place[n.name][1] for n in labelled],
        y=[pos[n.name][1] + place[n.name][2] for n in labelled],
        mode="text", name=t("compgraph.values"), showlegend=False, hoverinfo="skip", cliponaxis=False,
        text=[_label(n, shown, grad_symbol) for n in labelled], textposition=[place[n.name][0] for n in labelled],
        textfont=dict(size=11, color=VALUE_COLOR)))
    current = [n for n in shown.current if n in pos]
    fig.add_trace(go.Scatter(
        x=[pos[n][0] for n in current], y=[pos[n][1] for n in current], mode="markers", name=t("compgraph.current"),
        hoverinfo="skip", customdata=current,
        marker=dict(symbol=[STYLE[graph.nodes[n].kind][1] + "-open" for n in current],
                    size=[STYLE[graph.nodes[n].kind][2] + 12 for n in current],
                    color=GRAD_COLOR if shown.phase == "backward" else CURRENT_COLOR, line=dict(width=3))))
    fig.update_xaxes(range=[min(cols) - 0.5, max(cols) + 1.1], visible=False, showgrid=False)
    fig.update_yaxes(range=y_range, visible=False, showgrid=False)
    fig.update_layout(plot_bgcolor=charts.WHITE)
    return fig


# --------------------------------------------------------------- the maths
def latex_array(value, transpose: bool = False) -> str:
    """A number, or an array as a bmatrix (a vector as a column, or a row when transposed)."""
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        return fmt(a)
    if a.ndim == 1:
        a = a.reshape(1, -1) if transpose else a.reshape(-1, 1)
        transpose = False
    elif transpose:
        return latex_array(a) + r"^\top"
    return r"\begin{bmatrix}" + r" \\ ".join(" & ".join(fmt(v) for v in row) for row in a) + r"\end{bmatrix}"


def term_numbers(term: Term) -> str:
    """A product with numbers in place of its factors (a negative number in a
    product in parentheses)."""
    parts = [latex_array(f.value, f.transpose) for f in term.factors]
    if len(parts) > 1:
        parts = [rf"\left({p}\right)" if np.ndim(f.value) == 0 and float(f.value) < 0 else p
                 for p, f in zip(parts, term.factors)]
    if term.op == "hadamard":
        return r" \odot ".join(parts)
    scalars = [np.ndim(f.value) == 0 for f in term.factors]
    if term.op == "scale" and len(parts) > 1 and all(scalars[:-1]):
        return r" \cdot ".join(parts)
    return " ".join(parts)


def terms_numbers(terms) -> str:
    return " + ".join(term_numbers(t) for t in terms)
