"""The seq2seq page's pictures: the encoder-decoder drawn with its shapes,
a batch's tokens with the loss mask, and the loss of every target token."""
from __future__ import annotations

import numpy as np

from playground import charts
from playground.i18n import t

ENCODER_FILL, DECODER_FILL = charts.faded(charts.PALETTE[5], 0.7), charts.faded(charts.PALETTE[4], 0.7)
MASK_FILL = charts.faded(charts.PALETTE[5], 0.4)  # a token the loss counts


def _dot_label(text: str) -> str:
    """`text` as a quoted DOT label: backslashes and quotes escaped, a newline a line break."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def architecture_dot(shapes: list[tuple[str, tuple[int, ...]]], num_layers: int) -> str:
    """A DOT graph of the book's encoder-decoder (figure 10.7.2) labelled with
    the shapes `core.experiments.seq2seq.architecture` read off a forward pass."""
    s = [f"{' × '.join(map(str, shape))}" for _, shape in shapes]
    w = {name: t(f"seq2seq_figures.{name}")
         for name in ("src", "embedding", "state", "ctx", "dec_in", "cat", "dense", "loss")}
    nodes = {
        "src": f"{w['src']}\n{s[0]}", "enc_emb": f"{w['embedding']}\n{s[1]}",
        "enc_gru": t("seq2seq_figures.enc_gru", layers=num_layers) + "\n" + t("seq2seq_figures.outputs", shape=s[2]),
        "state": f"{w['state']}\n{s[3]}", "ctx": f"{w['ctx']}\n{s[4]}",
        "dec_in": f"{w['dec_in']}\n{s[5]}", "dec_emb": f"{w['embedding']}\n{s[6]}",
        "cat": f"{w['cat']}\n{s[7]}",
        "dec_gru": t("seq2seq_figures.dec_gru", layers=num_layers) + "\n" + t("seq2seq_figures.outputs", shape=s[8]),
        "dense": f"{w['dense']}\n" + t("seq2seq_figures.logits", shape=s[9]),
        "loss": w["loss"],
    }
    enc = {"src", "enc_emb", "enc_gru", "state", "ctx"}
    lines = ["digraph seq2seq {", "rankdir=TB; nodesep=0.35; ranksep=0.3;",
             'node [shape=box, style="rounded,filled", fontsize=11];']
    for key, label in nodes.items():
        colour = ENCODER_FILL if key in enc else DECODER_FILL if key != "loss" else charts.PALE
        lines.append(f'{key} [label="{_dot_label(label)}", fillcolor="{colour}"];')
    for a, b, label in [("src", "enc_emb", ""), ("enc_emb", "enc_gru", ""), ("enc_gru", "state", ""),
                        ("enc_gru", "ctx", ""), ("state", "dec_gru", t("seq2seq_figures.initial_state")),
                        ("ctx", "cat", ""),
                        ("dec_in", "dec_emb", ""), ("dec_emb", "cat", ""), ("cat", "dec_gru", ""),
                        ("dec_gru", "dense", ""), ("dense", "loss", "")]:
        lines.append(f'{a} -> {b}' + (f' [label="{label}", fontsize=10]' if label else "") + ";")
    lines.append("{rank=same; src; dec_in;}")
    lines.append("}")
    return "\n".join(lines)


def token_grid(tokens: list[list[str]], mask: np.ndarray, title: str, *, row_labels=None,
               y_title: str | None = None):
    """The tokens of a batch as cells, coloured by the mask (1: counted by the
    loss, 0: padding, ignored)."""
    fig = charts.heatmap(np.asarray(mask, dtype=float), title=title, colorscale=[[0, charts.PALE], [1, MASK_FILL]],
                         zmin=0, zmax=1, x_title=t("seq2seq_figures.axis_time_step"),
                         y_title=y_title or t("seq2seq_figures.axis_sequence"), text=np.asarray(tokens, dtype=object),
                         height=60 + 34 * len(tokens), y=row_labels)
    fig.update_traces(showscale=False, hovertemplate="%{text}: " + t("seq2seq_figures.hover_mask")
                      + " %{z:.0f}<extra></extra>")
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def loss_grid(losses: np.ndarray, tokens: list[list[str]], title: str, *, row_labels=None,
              y_title: str | None = None):
    """Cross-entropy of every target token (NaN, blank, where the mask is 0)."""
    text = np.where(np.isnan(losses), "", np.asarray(tokens, dtype=object))
    fig = charts.heatmap(losses, title=title, colorscale=charts.SEQUENTIAL, zmin=0,
                         x_title=t("seq2seq_figures.axis_time_step"),
                         y_title=y_title or t("seq2seq_figures.axis_sequence"),
                         text=text,
                         height=80 + 34 * len(tokens), y=row_labels)
    fig.update_traces(hovertemplate="%{text}: " + t("seq2seq_figures.hover_loss") + " %{z:.3f}<extra></extra>",
                      colorbar=dict(title=t("seq2seq_figures.colorbar_loss")))
    fig.update_yaxes(autorange="reversed", type="category")
    return fig
