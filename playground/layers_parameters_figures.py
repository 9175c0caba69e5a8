"""Figures of the layers-and-parameters page (book 6.1-6.5): a weight
matrix's histogram, from what core.experiments.layers_parameters computed."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from core.experiments.layers_parameters import format_shape

from . import charts
from .i18n import t


def histogram_figure(hist: Mapping, scheme: str, *, color: str = charts.PALETTE[0], height: int = 260) -> go.Figure:
    """One weight matrix's values as bars (counts per bin); dotted lines at
    Xavier's ±bound for "xavier", at ±5 and ±10 for the book's my_init."""
    edges, counts = np.asarray(hist["edges"], dtype=float), np.asarray(hist["counts"])
    title = f"{hist['name']} ({format_shape(hist['shape'])})"
    fig = charts.figure(title, x_title=t("layers_parameters_figures.axis_value"),
                        y_title=t("layers_parameters_figures.axis_count"), height=height)
    fig.add_trace(go.Bar(x=((edges[:-1] + edges[1:]) / 2).tolist(), y=counts.tolist(),
                         width=np.diff(edges).tolist(), marker=dict(color=color), name=hist["name"],
                         hovertemplate="%{x:.4g}: %{y}<extra></extra>"))
    marks = {"xavier": [-hist["xavier_bound"], hist["xavier_bound"]], "my_init": [-10, -5, 5, 10]}.get(scheme, [])
    for x in marks:
        fig.add_vline(x=x, line=dict(color=charts.MUTED, dash="dot", width=1))
    fig.update_layout(showlegend=False, bargap=0, hovermode="closest")
    if hist["zeros"] > 0:
        fig.add_annotation(text=t("layers_parameters_figures.zeros", fraction=f"{hist['zeros']:.0%}"),
                           xref="paper", yref="paper", x=1, y=1,
                           xanchor="right", yanchor="top", showarrow=False, font=dict(size=11))
    return fig
