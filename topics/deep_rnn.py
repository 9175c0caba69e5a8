"""Deep recurrent neural networks (book section 10.3): GRU or LSTM layers
stacked 1 to 4 deep, trained live on The Time Machine; perplexity against
depth; every layer's hidden states on a typed text."""
import streamlit as st

from core.experiments import deep_rnn as dr
from core.experiments import gru_lstm as gl
from playground import charts, controls
from playground.live import View, live_panel
from playground.lm_charts import generation_inputs, minibatch_perplexity_chart, perplexity_chart, time_machine

SHOWN = 32  # hidden units per heatmap
NUM_PREDS = 50
BOOK, PAGE = dr.BOOK, dr.PAGE

st.title("Deep recurrent neural networks")
st.markdown(
    "One recurrent layer has to do everything at once: remember, and turn what it remembers into a "
    "prediction. A *deep* RNN stacks layers: the first reads the characters, each layer above reads the "
    "hidden states of the layer below at the same time step, and only the top layer feeds the output. "
    "Every layer keeps its own state across time. The book stacks two LSTM layers "
    f"({BOOK.num_hiddens} hidden units each, lr {BOOK.lr:g}, {BOOK.num_epochs} epochs on the first "
    f"{BOOK.max_tokens:,} characters of *The Time Machine*); the defaults here are smaller so that "
    "learning shows within a minute on a laptop."
)
st.latex(r"\mathbf{H}_t^{(0)} = \mathbf{X}_t,\qquad "
         r"\mathbf{H}_t^{(l)} = \phi_l\!\left(\mathbf{H}_t^{(l-1)} \mathbf{W}_{xh}^{(l)} + "
         r"\mathbf{H}_{t-1}^{(l)} \mathbf{W}_{hh}^{(l)} + \mathbf{b}_h^{(l)}\right),\quad l = 1, \ldots, L")
st.latex(r"\mathbf{O}_t = \mathbf{H}_t^{(L)} \mathbf{W}_{hq} + \mathbf{b}_q")
st.caption("φ is the whole GRU or LSTM cell of section 10.1-10.2 (its gates read the same two inputs); "
           "with a plain tanh it is the book's deep vanilla RNN.")

form = controls.Form(dr.Config, base=PAGE)
kind, impl, num_layers = form.draw("cell", "impl", "num_layers", columns=3)

data = time_machine()
if data is None:
    st.stop()
corpus, vocab = data

hidden, _, _, _ = form.draw("num_hiddens", "max_tokens", "num_epochs", "lr", columns=4)
cfg = form.config()
text = gl.text_of(corpus, cfg)
st.caption(f"{len(text):,} characters trained on, a vocabulary of {len(vocab)} tokens; the last "
           f"{len(gl.valid_of(corpus)):,} characters are held out for validation. Batch {cfg.batch_size}, "
           f"{cfg.num_steps} time steps, gradients clipped at norm {cfg.grad_clip:g}. "
           "*examples/sec* below counts predicted characters.")

st.subheader("Generation and hidden states, layer by layer")
prefix, state_text, c3 = generation_inputs("text to read the hidden states on", "state_text")
log_y = controls.toggle("log-scale perplexity", "log_y", True, container=c3)


def _ppl(value) -> str:
    return f"{value:.2f}" if value is not None else "–"


def _token_axis(fig, tokens):
    fig.update_xaxes(tickvals=list(range(len(tokens))), ticktext=[t if t != " " else "␣" for t in tokens],
                     tickangle=0)
    return fig


def depth_figure(runs: list[dict]):
    """Final training and validation perplexity against the number of layers."""
    rows = sorted((r for r in runs if r["perplexity"] is not None), key=lambda r: r["num_layers"])
    fig = charts.figure("Perplexity against depth (last epoch)", x_title="layers", y_title="perplexity")
    depths = [r["num_layers"] for r in rows]
    charts.add_line(fig, depths, [r["perplexity"] for r in rows], "training", color=charts.PALETTE[0],
                    mode="lines+markers")
    valid = [r for r in rows if r["valid_perplexity"] is not None]
    charts.add_line(fig, [r["num_layers"] for r in valid], [r["valid_perplexity"] for r in valid],
                    "validation (held out)", color=charts.PALETTE[1], mode="lines+markers", dash="dash",
                    symbol=charts.MARKERS[1])
    fig.update_xaxes(tickvals=list(dr.DEPTHS))
    return fig


def show(seen: dict) -> None:
    runs = seen["runs"]
    st.markdown("**Each run's last epoch**")
    for r in runs:
        c1, c2, c3 = st.columns([1, 1, 4])
        label = f" ({r['name']})" if r["name"] else ""
        c1.metric(f"training perplexity{label}", _ppl(r["perplexity"]),
                  help=f"{r['num_layers']} layer(s), epoch {r['epoch']}: exp(mean cross-entropy per character) "
                       f"over the last epoch; 1 is perfect, {len(vocab)} is uniform guessing.")
        c2.metric("validation perplexity", _ppl(r["valid_perplexity"]),
                  help="The same on the held-out end of the text, never trained on.")
        if prefix:
            c3.caption(f"{r['num_layers']} layer(s), greedy generation after the prefix (epoch {r['epoch']}):")
            c3.code(r["text"], language=None, wrap_lines=True)
        else:
            c3.info("Type a prefix with at least one letter to generate text.", icon=":material/edit:")
    if len({r["num_layers"] for r in runs if r["perplexity"] is not None}) > 1:
        st.plotly_chart(depth_figure(runs), key="deep_rnn:depth", width="stretch")
    else:
        st.caption("Press *Perplexity against depth* above to train 1, 2, 3 and 4 layers side by side from the "
                   "same seed: their final perplexities are then drawn against depth here.")
    deepest = max(runs, key=lambda r: r["num_layers"])
    if deepest["states"] is None:
        st.info("Type a text with at least one letter to read the hidden states on.", icon=":material/edit:")
        return
    states = deepest["states"]  # (layers, characters, units)
    st.caption(f"Hidden states of every layer of the {deepest['num_layers']}-layer run"
               + (f" ({deepest['name']})" if deepest["name"] else "")
               + f" reading the text from a zero state (epoch {deepest['epoch']}); the first {min(SHOWN, hidden)} "
               "units of each layer. Layer 1 reads the characters; the top layer is what the output layer reads.")
    cols = st.columns(2)
    for layer in range(len(states)):
        z = states[layer][:, :SHOWN].T  # (units, characters)
        fig = charts.heatmap(z, title=f"layer {layer + 1} of {len(states)}: hidden state H(l={layer + 1})",
                             colorscale=charts.DIVERGING, zmin=-1.0, zmax=1.0, x_title="character", y_title="unit")
        cols[layer % 2].plotly_chart(_token_axis(fig, deepest["tokens"]), key=f"deep_rnn:layer:{layer}",
                                     width="stretch")


seed, device = controls.seed(), controls.device()
text_id = gl.fingerprint(corpus, vocab)
if kind == "lstm":
    reference = {"book_train": dr.BOOK_LSTM_TRAIN_PERPLEXITY,
                 "book_train_note": "0.x editions, 2-layer LSTM, 256 hidden units, lr 2, 500 epochs"}
else:
    reference = {"book_train": dr.BOOK_GRU_TRAIN_PERPLEXITY, "book_valid": dr.BOOK_GRU_VALID_PERPLEXITY,
                 "book_train_note": "1.0 edition, 2-layer concise GRU, 32 hidden units, batch 1024, lr 2",
                 "book_valid_note": "1.0 edition, same run"}
live_panel(
    "deep_rnn", cfg, "deep_rnn", data=(corpus, vocab), data_key=f"deep_rnn:{text_id}",
    seed=seed, device=device, context={"data": text_id},
    charts_=[perplexity_chart(log_y, **reference), minibatch_perplexity_chart(log_y)],
    label=lambda c: f"{c.num_layers}-layer {c.cell.upper()} {c.impl}, h={c.num_hiddens}, lr={c.lr:g}",
    views=[View("core.experiments.deep_rnn:look", show, every=5.0,
                params={"prefix": prefix, "text": state_text, "num_preds": NUM_PREDS})],
    presets=dr.PRESETS,
)

st.subheader("What to look for")
st.markdown(
    "- **Depth is not free.** Each layer adds its own weights and its own path for gradients through time; "
    "with the same epochs, a 3- or 4-layer net often starts slower (its perplexity sits near the unigram "
    "level, about 17, for longer) before it catches up.\n"
    "- **Training against validation.** On the first 10,000 characters the deeper nets drive training "
    "perplexity down towards 1 (the 0.x editions print 1.0 for two LSTM layers) while the held-out "
    "perplexity stops falling and rises: memorisation, not language.\n"
    "- **The layers differ.** Layer 1's states follow the characters closely (spaces and vowels light up "
    "similar units); the upper layers change more slowly and more smoothly along the text.\n"
    "- Press *Perplexity against depth* for 1 to 4 layers side by side from the same seed, then read the "
    "depth chart: where does adding a layer stop paying off?"
)
