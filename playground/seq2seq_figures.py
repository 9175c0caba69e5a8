"""The seq2seq page's pictures: the encoder-decoder drawn with its shapes,
a batch's tokens with the loss mask, and the loss of every target token."""
from __future__ import annotations

import numpy as np

from playground import charts

ENCODER_FILL, DECODER_FILL = charts.faded(charts.PALETTE[5], 0.7), charts.faded(charts.PALETTE[4], 0.7)
MASK_FILL = charts.faded(charts.PALETTE[5], 0.4)  # a token the loss counts


def _dot_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def architecture_dot(shapes: list[tuple[str, tuple[int, ...]]], num_layers: int) -> str:
    """A DOT graph of the book's encoder-decoder (figure 10.7.2) labelled with
    the shapes `core.experiments.seq2seq.architecture` read off a forward pass."""
    s = [f"{' × '.join(map(str, shape))}" for _, shape in shapes]
    nodes = {
        "src": f"source tokens X\\n{s[0]}", "enc_emb": f"Embedding\\n{s[1]}",
        "enc_gru": f"encoder GRU, {num_layers} layer(s)\\noutputs {s[2]}",
        "state": f"final state\\n{s[3]}", "ctx": f"context c (top layer, last step)\\n{s[4]}",
        "dec_in": f"decoder input: <bos> + target shifted\\n{s[5]}", "dec_emb": f"Embedding\\n{s[6]}",
        "cat": f"concatenate [embedding, c]\\nat every step\\n{s[7]}",
        "dec_gru": f"decoder GRU, {num_layers} layer(s)\\noutputs {s[8]}", "dense": f"Dense\\nlogits {s[9]}",
        "loss": "masked softmax cross-entropy\\nagainst the target (padding ignored)",
    }
    enc = {"src", "enc_emb", "enc_gru", "state", "ctx"}
    lines = ["digraph seq2seq {", "rankdir=TB; nodesep=0.35; ranksep=0.3;",
             'node [shape=box, style="rounded,filled", fontsize=11];']
    for key, label in nodes.items():
        colour = ENCODER_FILL if key in enc else DECODER_FILL if key != "loss" else charts.PALE
        lines.append(f'{key} [label="{_dot_label(label)}", fillcolor="{colour}"];')
    for a, b, label in [("src", "enc_emb", ""), ("enc_emb", "enc_gru", ""), ("enc_gru", "state", ""),
                        ("enc_gru", "ctx", ""), ("state", "dec_gru", "initial state"), ("ctx", "cat", ""),
                        ("dec_in", "dec_emb", ""), ("dec_emb", "cat", ""), ("cat", "dec_gru", ""),
                        ("dec_gru", "dense", ""), ("dense", "loss", "")]:
        lines.append(f'{a} -> {b}' + (f' [label="{label}", fontsize=10]' if label else "") + ";")
    lines.append("{rank=same; src; dec_in;}")
    lines.append("}")
    return "\n".join(lines)


def token_grid(tokens: list[list[str]], mask: np.ndarray, title: str, *, row_labels=None,
               y_title: str = "sequence in the batch"):
    """The tokens of a batch as cells, coloured by the mask (1: counted by the
    loss, 0: padding, ignored)."""
    fig = charts.heatmap(np.asarray(mask, dtype=float), title=title, colorscale=[[0, charts.PALE], [1, MASK_FILL]],
                         zmin=0, zmax=1, x_title="time step", y_title=y_title, text=np.asarray(tokens, dtype=object),
                         height=60 + 34 * len(tokens), y=row_labels)
    fig.update_traces(showscale=False, hovertemplate="%{text}: mask %{z:.0f}<extra></extra>")
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def loss_grid(losses: np.ndarray, tokens: list[list[str]], title: str, *, row_labels=None,
              y_title: str = "sequence in the batch"):
    """Cross-entropy of every target token (NaN, blank, where the mask is 0)."""
    text = np.where(np.isnan(losses), "", np.asarray(tokens, dtype=object))
    fig = charts.heatmap(losses, title=title, colorscale=charts.SEQUENTIAL, zmin=0, x_title="time step",
                         y_title=y_title,
                         text=text,
                         height=80 + 34 * len(tokens), y=row_labels)
    fig.update_traces(hovertemplate="%{text}: loss %{z:.3f}<extra></extra>", colorbar=dict(title="loss"))
    fig.update_yaxes(autorange="reversed", type="category")
    return fig
