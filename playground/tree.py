"""Plotly drawing of a search tree laid out by core.ops.beam_layout (nodes as
labelled markers, edges as lines; the beam highlighted, pruned branches
faded), and the Back / Next controls that reveal it one step at a time."""
from __future__ import annotations

import html
import math
from collections.abc import Callable, Hashable, Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.ops.beam_layout import Placed, beam_at, edges, endings, layout

from . import charts, controls
from .i18n import t

# status -> (legend name, colour, marker symbol, size, opacity); the legend shows tree.<status> in the
# session's language, the English names are what tests look for (NODE_TRACES)
STYLE = {
    "root": ("start", charts.INK, "square", 11, 1.0),
    "kept": ("in the beam", charts.PALETTE[0], "circle", 12, 1.0),
    "finished": ("finished (<eos>)", charts.GOOD, "diamond", 13, 1.0),
    "pruned": ("pruned", charts.LIGHT, "circle-open", 8, 0.55),
}
NODE_TRACES = tuple(name for name, *_ in STYLE.values())
ROW_PX = 24


def tree_figure(placed: Sequence[Placed], label: Callable[[Placed], str], hover: Callable[[Placed], str], *,
                title: str = "", num_steps: int | None = None, label_width: float = 0.8,
                revision: str = "tree") -> go.Figure:
    """`label` is the text beside each node, `hover` its tooltip (HTML-escaped
    by the caller when it holds user text). `num_steps` fixes the x range, so
    the tree grows into a still frame as steps are revealed."""
    rows = 1 - min((p.y for p in placed), default=0)
    last = num_steps if num_steps is not None else max((p.step for p in placed), default=0)
    fig = charts.figure(title, x_title=t("tree.axis_time_step"), height=int(min(1600, max(260, 90 + ROW_PX * rows))),
                        revision=revision)
    fig.update_layout(hovermode="closest", showlegend=True, margin=dict(l=10, r=10, t=70 if title else 40, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0))
    pairs = edges(placed)
    parents = {a.id for a, _ in pairs} | {p.id for p in placed if p.status == "root"}
    for name, faded in ((t("tree.edges_pruned"), True), (t("tree.edges_beam"), False)):
        xs, ys = [], []
        for a, b in pairs:
            if (b.status == "pruned") == faded:
                xs += [a.x, b.x, None]
                ys += [a.y, b.y, None]
        if xs:
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, showlegend=False, hoverinfo="skip",
                                     line=dict(color=charts.LIGHT if faded else charts.PALETTE[0],
                                               width=1 if faded else 2.5)))
    for status, (_, color, symbol, size, opacity) in STYLE.items():
        group = [p for p in placed if p.status == status]
        if not group:
            continue
        fig.add_trace(go.Scatter(
            x=[p.x for p in group], y=[p.y for p in group], mode="markers+text", name=t(f"tree.{status}"),
            opacity=opacity,
            marker=dict(color=color, symbol=symbol, size=size, line=dict(color=charts.WHITE, width=1)),
            text=[label(p) for p in group],  # above a node with children, else to the right (clear of edges)
            textposition=["top center" if p.id in parents else "middle right" for p in group],
            textfont=dict(size=12, color=charts.INK if status != "pruned" else charts.MUTED),
            hovertext=[hover(p) for p in group], hoverinfo="text"))
    fig.update_xaxes(range=[-0.3, last + label_width], tickmode="linear", tick0=0, dtick=1, showgrid=False)
    fig.update_yaxes(range=[-rows + 0.4, 0.6], visible=False, showgrid=False)
    return fig


def node_count(fig: go.Figure) -> int:
    """Nodes drawn (what the page tests count)."""
    names = {t(f"tree.{status}") for status in STYLE}  # the legend's names in this session's language
    return sum(len(tr.x) for tr in fig.data if tr.name in names)


def step_controls(key: str, last: int, *, default: int = 1, end: int | None = None,
                  label: str | None = None, reset_on: Hashable = None) -> int:
    """Back / Next buttons and a URL-bound slider 0..last for the step shown.
    Next stops at `end` (where the search finished), when given. When
    `reset_on` (what the steps are of, e.g. the sentence searched) differs from
    the previous run's, the step goes back to `default`; on a page's first run
    the link's step stays. `label` defaults to "time step shown"."""
    end = last if end is None else min(end, last)
    seen = f"_steps_of:{controls.widget_key(key)}"
    if seen in st.session_state and st.session_state[seen] != reset_on:
        controls.set_value(key, default)
    st.session_state[seen] = reset_on

    def move(delta: int) -> None:
        now = int(st.session_state.get(controls.widget_key(key), default))
        controls.set_value(key, max(0, min(end, now + delta)))

    c_back, c_next, c_slider = st.columns([1, 1, 5], vertical_alignment="bottom")
    step = controls.slider(label or t("tree.step_label"), key, 0, last, default, 1, container=c_slider,
                           help=t("tree.step_help"))
    c_back.button(t("tree.back"), key=f"{key}:back", icon=":material/arrow_back:", on_click=move, args=(-1,),
                  disabled=step <= 0, width="stretch")
    c_next.button(t("tree.next"), key=f"{key}:next", icon=":material/arrow_forward:", on_click=move, args=(1,),
                  disabled=step >= end, width="stretch", type="primary")
    return step


def draw_search(tree, step: int, decode: Callable[[Sequence[int]], str], *, key: str, title: str,
                num_steps: int, order: str = "prob", label_pruned: bool = True,
                label_width: float = 0.8) -> list[Placed]:
    """Lay out and draw core.ops.beam's tree as it stands after `step`, with a caption
    of the beam kept at that step. `decode(tokens)` spells a token sequence.
    label_pruned=False: pruned nodes show their token only (large vocabularies)."""
    placed = layout(tree, upto=step, order=order)

    def label(p: Placed) -> str:
        if p.step == 0:
            return t("tree.start")
        word = html.escape(decode(p.prefix[-1:]))
        if p.status == "pruned" and not label_pruned:
            return f"\u2002{word}"
        return f"\u2002<b>{word}</b> {math.exp(p.cond_log_prob):.2f}"

    def hover(p: Placed) -> str:
        return (f"{html.escape(decode(p.prefix)) or t('tree.start')}<br>{t('tree.hover_p')} = "
                f"{math.exp(p.cond_log_prob):.3f}<br>P = {math.exp(p.log_prob):.3g}, log P = {p.log_prob:.3f}"
                f"<br>{t(f'tree.{p.status}')}")

    fig = tree_figure(placed, label, hover, title=title, num_steps=num_steps, label_width=label_width,
                      revision=key)
    st.plotly_chart(fig, key=key, width="stretch")
    kept = beam_at(placed, step)
    st.caption(t("tree.nodes_drawn", n=node_count(fig)) + (
        t("tree.kept_at_step", kept=", ".join(f"{_code(decode(p.prefix))} (P = {math.exp(p.log_prob):.3g})"
                                              for p in kept)) if step and kept else ""))
    return placed


def candidates_table(placed: Sequence[Placed], max_len: int, alpha: float, decode: Callable[[Sequence[int]], str],
                     *, key: str, bleu: Callable[[Placed], float] | None = None) -> None:
    """The candidates finished so far (and those alive at max_len), best score first."""
    score = t("tree.column_score")
    rows = [{t("tree.column_candidate"): decode(p.prefix), "L": len(p.prefix), "P": math.exp(p.log_prob),
             "log P": p.log_prob, score: s, **({"BLEU": bleu(p)} if bleu else {})}
            for p, s in endings(placed, max_len, alpha)]
    if not rows:
        st.caption(t("tree.none_finished"))
        return
    fmt = {c: st.column_config.NumberColumn(format="%.3f") for c in ("log P", score, "BLEU")}
    fmt["P"] = st.column_config.NumberColumn(format="%.3g")
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config=fmt, key=key)


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"
