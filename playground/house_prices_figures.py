"""Figures of the house-prices page: predicted test prices beside the training prices."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from . import charts
from .i18n import t


def prices_figure(train_prices: Sequence[float], predicted: Sequence[float], title: str) -> go.Figure:
    """Histograms (on a log axis of price, the scale the metric judges) of the
    training houses' prices and of the predicted test prices."""
    fig = charts.figure(title, x_title=t("house_prices_figures.x_title"),
                         y_title=t("house_prices_figures.y_title"), height=340)
    lo = float(np.log10(max(1.0, min(min(train_prices), min(predicted)))))
    hi = float(np.log10(max(max(train_prices), max(predicted))))
    size = max((hi - lo) / 40, 1e-3)
    for i, (values, name, colour) in enumerate(((train_prices, t("house_prices_figures.train"), charts.FADED[0]),
                                                (predicted, t("house_prices_figures.predicted"), charts.PALETTE[1]))):
        fig.add_trace(go.Histogram(x=np.log10(np.maximum(np.asarray(values, dtype=float), 1.0)), name=name,
                                   xbins=dict(start=lo, end=hi + size, size=size), marker_color=colour,
                                   opacity=0.75,
                                   marker_pattern_shape=charts.PATTERNS[i]))
    ticks = [v for v in (1e3, 3e3, 1e4, 3e4, 1e5, 3e5, 1e6, 3e6) if lo - size <= np.log10(v) <= hi + size]
    fig.update_xaxes(tickvals=[float(np.log10(v)) for v in ticks], ticktext=[f"{v:,.0f}" for v in ticks])
    fig.update_layout(barmode="overlay", hovermode="closest",
                      legend=dict(orientation="h", yanchor="top", y=-0.25, x=0, xanchor="left"))
    return fig
