"""Pictures of a network's insides for the training pages: the dropout MLP's
units on one example, and batch norm's pre-activation histograms and
statistics, drawn from what the runs' probes computed in their workers
(core.models.mlp.dropout_probe, core.experiments.batch_norm.inside)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch

from . import charts
from .i18n import t

DARK = charts.INK
EDGE = charts.rgba(charts.MUTED, 0.18)


def dropout_figure(probe: dict, units: int, labels, title: str = "") -> go.Figure:
    """Two hidden layers (the first `units` of each) and the output: dropped
    units dark (crossed), survivors coloured by the value they pass on (scaled by
    1/(1-p) in train mode), lines between units that both pass something on."""
    fig = charts.figure(title, x_title=t("netview.axis_layer"), height=max(420, 22 * units + 80))
    ys = [np.linspace(1, 0, units), np.linspace(1, 0, units), np.linspace(0.9, 0.1, 10)]
    kept = [np.ones(units, bool) if m is None else m[:units].numpy() for m in probe["mask"]] + [np.ones(10, bool)]
    ex, ey = [], []
    for layer in (0, 1):
        for a in np.flatnonzero(kept[layer]):
            for b in np.flatnonzero(kept[layer + 1]):
                ex += [layer, layer + 1, None]
                ey += [ys[layer][a], ys[layer + 1][b], None]
    fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", line=dict(color=EDGE, width=1),
                             hoverinfo="skip", showlegend=False))
    shown = torch.cat([o[:units] for o in probe["out"]])
    vmax = max(float(shown[torch.isfinite(shown)].max()) if torch.isfinite(shown).any() else 1.0, 1e-6)
    for layer in (0, 1):
        h, out = probe["h"][layer][:units], probe["out"][layer][:units]
        k = kept[layer]
        on, off = np.flatnonzero(k), np.flatnonzero(~k)
        fig.add_trace(go.Scatter(
            x=[layer] * len(on), y=ys[layer][on].tolist(), mode="markers+text", showlegend=False,
            text=[f"{float(out[u]):.2f}" for u in on], textposition="middle right", textfont=dict(size=9),
            hoverinfo="text", hovertext=[t("netview.unit_kept", u=u, h=f"{float(h[u]):.3g}",
                                           out=f"{float(out[u]):.3g}") for u in on],
            marker=dict(size=14, line=dict(color=DARK, width=1), cmin=0, cmax=vmax, colorscale=charts.SEQUENTIAL,
                        color=[float(out[u]) for u in on])))
        fig.add_trace(go.Scatter(
            x=[layer] * len(off), y=ys[layer][off].tolist(), mode="markers", showlegend=False, hoverinfo="text",
            hovertext=[t("netview.unit_dropped", u=u, h=f"{float(h[u]):.3g}") for u in off],
            marker=dict(size=14, color=DARK, symbol="circle-x", line=dict(color=charts.WHITE, width=1.5))))
    probs = probe["probs"].numpy()
    fig.add_trace(go.Scatter(
        x=[2] * 10, y=ys[2].tolist(), mode="markers+text", textposition="middle right", showlegend=False,
        text=[f"{labels[c]} {probs[c]:.2f}" for c in range(10)], hoverinfo="text",
        hovertext=[t("netview.probability", label=labels[c], p=f"{probs[c]:.3f}") for c in range(10)],
        marker=dict(size=16, color=probs.tolist(), cmin=0, cmax=1, colorscale=charts.SEQUENTIAL_ALT,
                    line=dict(color=DARK, width=1))))
    fig.update_xaxes(tickvals=[0, 1, 2], ticktext=[t("netview.hidden", n=1), t("netview.hidden", n=2),
                                                   t("netview.output")], range=[-0.3, 2.75],
                     showgrid=False)
    fig.update_yaxes(visible=False, range=[-0.05, 1.05])
    fig.update_layout(hovermode="closest")
    return fig


# ------------------------------------------------------------- batch norm
def histogram_figure(title: str, series: dict[str, torch.Tensor], *, bins: int = 40, height: int = 240) -> go.Figure:
    """Overlaid histograms (fraction of values per bin) on shared bins."""
    arrays = {k: v.reshape(-1).float().numpy() for k, v in series.items()}
    arrays = {k: a[np.isfinite(a)] for k, a in arrays.items()}
    allv = np.concatenate([a for a in arrays.values() if a.size] or [np.zeros(1)])
    lo, hi = float(allv.min()), float(allv.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    fig = charts.figure(title, x_title=t("netview.axis_value"), y_title=t("netview.axis_fraction"),
                        height=height)
    for m, (name, a) in enumerate(arrays.items()):
        counts, _ = np.histogram(a, edges)
        fig.add_bar(x=((edges[:-1] + edges[1:]) / 2).tolist(), y=(counts / max(a.size, 1)).tolist(), name=name,
                    opacity=0.6, marker_color=charts.PALETTE[m % len(charts.PALETTE)],
                    marker_pattern_shape=charts.PATTERNS[m % len(charts.PATTERNS)],
                    width=float(edges[1] - edges[0]))
    fig.update_layout(barmode="overlay", bargap=0, hovermode="closest")
    return fig


def bn_figures(stat: dict, height: int = 260) -> list[go.Figure]:
    """For one batch-norm layer (an item of core.models.lenet.bn_stats): running
    versus last-batch mean, running versus last-batch variance, and gamma, beta."""
    idx = list(range(len(stat["gamma"])))
    figs = []
    for what in ("mean", "var"):
        fig = charts.figure(t(f"netview.{what}_per_channel"), x_title=t("netview.axis_channel"),
                            y_title=t(f"netview.axis_{what}"), height=height)
        charts.add_line(fig, idx, stat[f"running_{what}"].tolist(), t("netview.running"),
                        color=charts.PALETTE[0], mode="lines+markers")
        if stat[f"batch_{what}"] is not None:
            fig.add_scatter(x=idx, y=stat[f"batch_{what}"].tolist(), name=t("netview.last_batch"), mode="markers",
                            marker=dict(color=charts.PALETTE[1], symbol="diamond-open", size=8))
        figs.append(fig)
    fig = charts.figure(t("netview.gamma_beta"), x_title=t("netview.axis_channel"), y_title=t("netview.axis_value"),
                        height=height)
    charts.add_line(fig, idx, stat["gamma"].tolist(), "γ", color=charts.PALETTE[2], mode="lines+markers",
                    symbol=charts.MARKERS[0])
    charts.add_line(fig, idx, stat["beta"].tolist(), "β", color=charts.PALETTE[3], mode="lines+markers", dash="dot",
                    symbol=charts.MARKERS[1])
    figs.append(fig)
    for f in figs:
        f.update_layout(hovermode="x unified")
    return figs
