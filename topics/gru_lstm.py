"""GRU and LSTM gates (book sections 10.1-10.2): gated cells trained live as
character-level language models, with their gates read off for a typed text."""
import streamlit as st

from core.experiments import gru_lstm as gl
from playground import charts, controls
from playground.live import View, live_panel
from playground.lm_charts import generation_inputs, minibatch_perplexity_chart, perplexity_chart, time_machine

SHOWN = 32  # hidden units per heatmap
NUM_PREDS = 50
BOOK, PAGE = gl.BOOK, gl.PAGE
GATE_LABELS = {"R": "reset gate R", "Z": "update gate Z", "I": "input gate I", "F": "forget gate F",
               "O": "output gate O", "C": "memory cell C"}

_X = r"\mathbf{X}_t"
_H = r"\mathbf{H}_{t-1}"
EQUATIONS = {
    "gru": [
        rf"\mathbf{{R}}_t = \sigma({_X} \mathbf{{W}}_{{xr}} + {_H} \mathbf{{W}}_{{hr}} + \mathbf{{b}}_r)"
        r"\qquad\text{reset gate}",
        rf"\mathbf{{Z}}_t = \sigma({_X} \mathbf{{W}}_{{xz}} + {_H} \mathbf{{W}}_{{hz}} + \mathbf{{b}}_z)"
        r"\qquad\text{update gate}",
        rf"\tilde{{\mathbf{{H}}}}_t = \tanh({_X} \mathbf{{W}}_{{xh}} + (\mathbf{{R}}_t \odot {_H}) "
        r"\mathbf{W}_{hh} + \mathbf{b}_h)\qquad\text{candidate hidden state}",
        rf"\mathbf{{H}}_t = \mathbf{{Z}}_t \odot {_H} + (1 - \mathbf{{Z}}_t) \odot \tilde{{\mathbf{{H}}}}_t",
    ],
    "lstm": [
        rf"\mathbf{{I}}_t = \sigma({_X} \mathbf{{W}}_{{xi}} + {_H} \mathbf{{W}}_{{hi}} + \mathbf{{b}}_i)"
        r"\qquad\text{input gate}",
        rf"\mathbf{{F}}_t = \sigma({_X} \mathbf{{W}}_{{xf}} + {_H} \mathbf{{W}}_{{hf}} + \mathbf{{b}}_f)"
        r"\qquad\text{forget gate}",
        rf"\mathbf{{O}}_t = \sigma({_X} \mathbf{{W}}_{{xo}} + {_H} \mathbf{{W}}_{{ho}} + \mathbf{{b}}_o)"
        r"\qquad\text{output gate}",
        rf"\tilde{{\mathbf{{C}}}}_t = \tanh({_X} \mathbf{{W}}_{{xc}} + {_H} \mathbf{{W}}_{{hc}} + \mathbf{{b}}_c)"
        r"\qquad\text{input node}",
        r"\mathbf{C}_t = \mathbf{F}_t \odot \mathbf{C}_{t-1} + \mathbf{I}_t \odot \tilde{\mathbf{C}}_t,"
        r"\qquad \mathbf{H}_t = \mathbf{O}_t \odot \tanh(\mathbf{C}_t)",
    ],
}
# torch's nn.GRU (and cuDNN) applies the reset gate after the product with W_hh.
NN_GRU_CANDIDATE = (rf"\tilde{{\mathbf{{H}}}}_t = \tanh({_X} \mathbf{{W}}_{{xh}} + \mathbf{{b}}_h + \mathbf{{R}}_t"
                    rf" \odot ({_H} \mathbf{{W}}_{{hh}} + \mathbf{{b}}_{{hn}}))")


st.title("GRU and LSTM gates")
st.markdown(
    "Gated recurrent cells, written from scratch with the book's equations, trained as character-level "
    "language models on H. G. Wells' *The Time Machine*. The book trains for "
    f"{BOOK.num_epochs} epochs on the first {BOOK.max_tokens:,} characters with batch "
    f"{BOOK.batch_size}, {BOOK.num_steps} time steps, {BOOK.num_hiddens} hidden units, "
    f"lr {BOOK.lr:g} and gradients clipped at norm {BOOK.grad_clip:g}; the defaults here are "
    "smaller so that learning shows within a minute on a laptop."
)
form = controls.Form(gl.Config, base=PAGE)
kind, impl = form.draw("cell", "impl", columns=2)
for eq in EQUATIONS[kind]:
    st.latex(eq)
if impl == "concise":
    st.info("The concise model's gates are read by copying its weights into the scratch cell "
            "(`load_weights_into_scratch`), which computes the same function."
            + (" Note that torch's `nn.GRU` computes a slightly different candidate from the book's: "
               "the reset gate multiplies *after* the product with the hidden weights, with an extra bias:"
               if kind == "gru" else ""), icon=":material/info:")
    if kind == "gru":
        st.latex(NN_GRU_CANDIDATE)

data = time_machine()
if data is None:
    st.stop()
corpus, vocab = data

hidden, _, _, _ = form.draw("num_hiddens", "max_tokens", "num_epochs", "lr", columns=4)
cfg = form.config()
text = gl.text_of(corpus, cfg)
steps_per_epoch = (len(text) - cfg.num_steps - 1) // cfg.batch_size // cfg.num_steps
st.caption(f"{len(text):,} characters trained on, a vocabulary of {len(vocab)} tokens: about {steps_per_epoch} "
           "minibatches per epoch (sequential partitioning, the state carried between minibatches); the last "
           f"{len(gl.valid_of(corpus)):,} characters are held out for validation. "
           "*examples/sec* below counts predicted characters.")

st.subheader("Generation and gates")
prefix, gate_text, c3 = generation_inputs("text to read the gates on", "gate_text")
compare = controls.toggle("side by side with the untrained net", "untrained", True, container=c3,
                          help="The same seed's initial weights (epoch 0), for contrast.")
stretch = controls.toggle("stretch gate colours to their range", "stretch", False, container=c3,
                          help="Off: 0 to 1 for every gate. Gates start near 0.5 and spread as the net learns.")
log_y = controls.toggle("log-scale perplexity", "log_y", True, container=c3)
blocks = list(range(0, hidden, SHOWN))
for name, options in (("block", blocks), ("unit", list(range(hidden)))):
    if st.session_state.get(controls.widget_key(name), 0) not in options:  # after fewer hidden units
        controls.set_value(name, 0)
c1, c2 = st.columns(2)
if len(blocks) > 1:
    block = controls.select_slider("hidden units shown", "block", blocks, 0, container=c1,
                                   format_func=lambda b: f"{b}-{min(b + SHOWN, hidden) - 1}")
else:
    block = 0
    c1.caption(f"All {hidden} hidden units are shown.")
unit = controls.slider("unit drawn as lines", "unit", 0, hidden - 1, 0, container=c2)


def gate_figure(trace, key: str, title: str):
    z = trace[key][:, block:block + SHOWN].T  # (units, time steps)
    if key == "C":  # a state, not a gate: a symmetric scale around 0
        m = float(abs(z).max()) or 1.0
        lo, hi, scale, note = -m, m, charts.DIVERGING, f" (|C| ≤ {m:.2g})"
    elif stretch:
        lo, hi, scale = float(z.min()), float(z.max()), charts.SEQUENTIAL
        note = f" ({lo:.2f} to {hi:.2f})"
    else:
        lo, hi, scale, note = 0.0, 1.0, charts.SEQUENTIAL, ""
    fig = charts.heatmap(z, title=f"{title}: {GATE_LABELS[key]}{note}", colorscale=scale, zmin=lo, zmax=hi,
                         x_title="character", y_title="unit", y=list(range(block, block + len(z))))
    return _token_axis(fig, trace["tokens"])


def _token_axis(fig, tokens):
    fig.update_xaxes(tickvals=list(range(len(tokens))), ticktext=[t if t != " " else "␣" for t in tokens],
                     tickangle=0)
    return fig


def _ppl(value) -> str:
    return f"{value:.2f}" if value is not None else "–"


def show(seen: dict) -> None:
    c1, c2 = st.columns([1, 4])
    c1.metric("training perplexity" + (f" ({seen['name']})" if seen["name"] else ""), _ppl(seen["perplexity"]),
              help="exp(mean cross-entropy per character) over the last epoch's minibatches; 1 is perfect, "
                   f"{len(vocab)} is uniform guessing.")
    c1.metric("validation perplexity", _ppl(seen["valid_perplexity"]),
              help="The same on the held-out end of the text, which the run never trains on. "
                   "Training perplexity near 1 with a high validation perplexity is memorisation.")
    with c2:
        if prefix:
            st.caption(f"Greedy generation, {NUM_PREDS} characters after the prefix (epoch {seen['epoch']}):")
            st.code(seen["text"], language=None, wrap_lines=True)
        else:
            st.info("Type a prefix with at least one letter to generate text.", icon=":material/edit:")
    traces = seen["traces"]
    if not traces:
        st.info("Type a text with at least one letter to read the gates on.", icon=":material/edit:")
        return
    gates = gl.GATES[seen["kind"]]
    rows = ([[(g, name) for name in traces] for g in gates] if len(traces) > 1 else
            [[(g, next(iter(traces))) for g in gates[i:i + 2]] for i in range(0, len(gates), 2)])
    for row in rows:
        for col, (key, name) in zip(st.columns(2), row):
            col.plotly_chart(gate_figure(traces[name], key, name), key=f"gates:{key}:{name[:5]}", width="stretch")
    fig = charts.figure(f"Unit {unit} over the text", x_title="character", y_title="value")
    for i, key in enumerate(gates):
        for name, tr in traces.items():
            charts.add_line(fig, list(range(len(gate_text))), tr[key][:, unit],
                            f"{GATE_LABELS[key]} · {name.split()[0]}", color=charts.PALETTE[i],
                            dash="solid" if name.startswith("trained") else "dot")
    st.plotly_chart(_token_axis(fig, traces[next(iter(traces))]["tokens"]), key="gates:unit", width="stretch")


seed, device = controls.seed(), controls.device()
text_id = gl.fingerprint(corpus, vocab)  # names the data for the workers and for the run's identity
live_panel(
    "gru_lstm", cfg, "gru_lstm", data=(corpus, vocab), data_key=f"gru_lstm:{text_id}",
    seed=seed, device=device, context={"data": text_id},
    charts_=[perplexity_chart(log_y, book_train=gl.BOOK_TRAIN_PERPLEXITY[kind],
                              book_train_note="0.x editions, 256 hidden units, 500 epochs",
                              book_valid=gl.BOOK_VALID_PERPLEXITY[kind],
                              book_valid_note="1.0 edition, 32 hidden units, batch 1024, 50 epochs"),
             minibatch_perplexity_chart(log_y)],
    label=lambda c: f"{c.cell.upper()} {c.impl}, h={c.num_hiddens}, lr={c.lr:g}",
    views=[View("core.experiments.gru_lstm:look", show, every=5.0,
                params={"prefix": prefix, "gate_text": gate_text, "compare": compare, "num_preds": NUM_PREDS})],
    presets=gl.PRESETS,
)
