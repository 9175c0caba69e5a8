"""GRU and LSTM gates (book sections 10.1-10.2): gated cells trained live as
character-level language models, with their gates read off for a typed text."""
import streamlit as st

from core.data.text import load_corpus_time_machine
from core.experiments import gru_lstm as gl
from core.experiments.gru_lstm import BOOK, GATES, PAGE_DEFAULTS, clean_text, untrained_net
from core.models.rnn import gate_trace, predict
from core.train.lm import perplexity
from playground import charts, controls
from playground.data import dataset
from playground.live import Chart, live_panel

SHOWN = 32  # hidden units per heatmap
NUM_PREDS = 50
TEXTS = {"10k": 10_000, "50k": 50_000, "all": 0}  # characters trained on, from the start of the text

st.title("GRU and LSTM gates")
st.markdown(
    "Gated recurrent cells, written from scratch with the book's equations, trained as character-level "
    "language models on H. G. Wells' *The Time Machine*. The book trains for "
    f"{BOOK['num_epochs']} epochs on the first {BOOK['max_tokens']:,} characters with batch "
    f"{BOOK['batch_size']}, {BOOK['num_steps']} time steps, {BOOK['num_hiddens']} hidden units, "
    f"lr {BOOK['lr']:g} and gradients clipped at norm {BOOK['grad_clip']:g}; the defaults here are "
    "smaller so that learning shows within a minute on a laptop."
)
c1, c2 = st.columns(2)
kind = controls.selectbox("Cell", "cell", ["gru", "lstm"], "gru", format_func=str.upper, container=c1)
impl = controls.selectbox("Implementation", "impl", ["scratch", "concise"], "scratch", container=c2,
                          help=f"scratch: the book's equations in PyTorch; concise: torch's nn.{kind.upper()}.")
for eq in gl.EQUATIONS[kind]:
    st.latex(eq)
if impl == "concise":
    st.info("The concise model's gates are read by copying its weights into the scratch cell "
            "(`load_weights_into_scratch`), which computes the same function."
            + (" Note that torch's `nn.GRU` computes a slightly different candidate from the book's: "
               "the reset gate multiplies *after* the product with the hidden weights, with an extra bias:"
               if kind == "gru" else ""), icon=":material/info:")
    if kind == "gru":
        st.latex(gl.NN_GRU_CANDIDATE)

data = dataset("The Time Machine", load_corpus_time_machine, cache_key="timemachine:char",
               stand_in=(f"a few sentences written for this page, repeated {gl.STAND_IN_REPEATS} times",
                         gl.stand_in_corpus),
               upload=("Or train on your own plain-text file (UTF-8)", ["txt"], gl.corpus_from_upload))
if data is None:
    st.stop()
corpus, vocab = data

c1, c2, c3, c4 = st.columns(4)
hidden = controls.select_slider("hidden units", "hidden", [16, 32, 64, 128, 256], PAGE_DEFAULTS["num_hiddens"],
                                container=c1, help=f"The book uses {BOOK['num_hiddens']}.")
default_text = next(k for k, v in TEXTS.items() if v == PAGE_DEFAULTS["max_tokens"])
max_tokens = TEXTS[controls.selectbox("characters trained on", "text", list(TEXTS), default_text, container=c2,
                                       help="The first 10k (the book's choice), 50k, or all of the text.")]
num_epochs = controls.slider("epochs", "epochs", 10, 1000, PAGE_DEFAULTS["num_epochs"], 10, container=c3,
                             help=f"The book trains {BOOK['num_epochs']} epochs.")
lr = controls.slider("learning rate", "lr", 0.1, 4.0, PAGE_DEFAULTS["lr"], 0.1, container=c4,
                     help="Changes take effect at the next minibatch, even mid-run.")
text = corpus[:max_tokens] if max_tokens else corpus
steps_per_epoch = (len(text) - BOOK["num_steps"] - 1) // BOOK["batch_size"] // BOOK["num_steps"]
st.caption(f"{len(text):,} characters, a vocabulary of {len(vocab)} tokens: about {steps_per_epoch} minibatches "
           "per epoch (sequential partitioning, the state carried between minibatches). "
           "*examples/sec* below counts predicted characters.")

st.subheader("Generation and gates")
c1, c2, c3 = st.columns(3)
prefix = clean_text(controls.text_input("prefix for generation", "prefix", "time traveller ", max_chars=80,
                                        container=c1))
gate_text = clean_text(controls.text_input("text to read the gates on", "gate_text", "time traveller",
                                           max_chars=60, container=c2))
compare = controls.toggle("side by side with the untrained net", "untrained", True, container=c3,
                          help="The same seed's initial weights (epoch 0), for contrast.")
stretch = controls.toggle("stretch gate colours to their range", "stretch", False, container=c3,
                          help="Off: 0 to 1 for every gate. Gates start near 0.5 and spread as the net learns.")
log_y = controls.toggle("log-scale perplexity", "log_y", True, container=c3)
blocks = list(range(0, hidden, SHOWN))
for key, options in (("block", blocks), ("unit", list(range(hidden)))):
    if st.session_state.get(key, 0) not in options:  # after fewer hidden units
        st.session_state[key] = 0
c1, c2 = st.columns(2)
if len(blocks) > 1:
    block = controls.select_slider("hidden units shown", "block", blocks, 0, container=c1,
                                   format_func=lambda b: f"{b}-{min(b + SHOWN, hidden) - 1}")
else:
    block = 0
    c1.caption(f"All {hidden} hidden units are shown.")
unit = controls.slider("unit drawn as lines", "unit", 0, hidden - 1, 0, container=c2)


def gate_figure(trace, key: str, label: str, title: str):
    z = trace[key][:, block:block + SHOWN].T  # (units, time steps)
    if key == "C":  # a state, not a gate: a symmetric scale around 0
        m = float(abs(z).max()) or 1.0
        lo, hi, scale, note = -m, m, "RdBu", f" (|C| ≤ {m:.2g})"
    elif stretch:
        lo, hi, scale = float(z.min()), float(z.max()), "Viridis"
        note = f" ({lo:.2f} to {hi:.2f})"
    else:
        lo, hi, scale, note = 0.0, 1.0, "Viridis", ""
    fig = charts.heatmap(z, title=f"{title}: {label}{note}", colorscale=scale, zmin=lo, zmax=hi,
                         x_title="character", y_title="unit", y=list(range(block, block + len(z))))
    return _token_axis(fig, trace["tokens"])


def _token_axis(fig, tokens):
    fig.update_xaxes(tickvals=list(range(len(tokens))), ticktext=[t if t != " " else "␣" for t in tokens],
                     tickangle=0)
    return fig


def view(trainers) -> None:
    t = trainers[""]
    last = t.history.epochs[-1]["train_loss"] if t.history.epochs else None
    c1, c2 = st.columns([1, 4])
    c1.metric("perplexity", f"{perplexity(last):.2f}" if last is not None else "–",
              help="exp(mean cross-entropy per character) over the last epoch; 1 is perfect, "
                   f"{len(vocab)} is uniform guessing.")
    with c2:
        if prefix:
            st.caption(f"Greedy generation, {NUM_PREDS} characters after the prefix (epoch {t.epoch}):")
            st.code(predict(prefix, NUM_PREDS, t.net, vocab, t.device), language=None, wrap_lines=True)
        else:
            st.info("Type a prefix with at least one letter to generate text.", icon=":material/edit:")
    if not gate_text:
        st.info("Type a text with at least one letter to read the gates on.", icon=":material/edit:")
        return
    traces = {f"trained (epoch {t.epoch})": gate_trace(t.net, gate_text, vocab, t.device)}
    if compare:
        traces["untrained (epoch 0)"] = gate_trace(untrained_net(t), gate_text, vocab, t.device)
    gates = GATES[kind]
    for row in ([[(g, name) for name in traces] for g in gates] if compare else
                [[(g, next(iter(traces))) for g in gates[i:i + 2]] for i in range(0, len(gates), 2)]):
        cols = st.columns(2)
        for col, ((key, label), name) in zip(cols, row):
            col.plotly_chart(gate_figure(traces[name], key, label, name), key=f"gates:{key}:{name[:5]}",
                             width="stretch")
    fig = charts.figure(f"Unit {unit} over the text", x_title="character", y_title="value")
    for i, (key, label) in enumerate(gates):
        for name, tr in traces.items():
            charts.add_line(fig, list(range(len(gate_text))), tr[key][:, unit], f"{label} · {name.split()[0]}",
                            color=charts.PALETTE[i], dash="solid" if name.startswith("trained") else "dot")
    st.plotly_chart(_token_axis(fig, traces[next(iter(traces))]["tokens"]), key="gates:unit", width="stretch")


seed, device = controls.seed(), controls.device()
live_panel(
    "gru_lstm",
    build=lambda: gl.make_trainer(text, len(vocab), kind=kind, impl=impl, num_hiddens=hidden, num_epochs=num_epochs,
                               lr=lr, seed=seed, device=device),
    config={"seed": seed, "device": str(device), "cell": kind, "impl": impl, "hidden": hidden,
            "text": max_tokens, "data": gl.fingerprint(corpus, vocab)},
    live={"lr": lr, "num_epochs": num_epochs},
    charts_=[Chart("Perplexity", [("train_loss", "train")], log_y=log_y, y_title="perplexity", transform=perplexity),
             Chart("Minibatch perplexity", [("loss", "train")], log_y=log_y, level="steps", y_title="perplexity",
                   transform=perplexity)],
    label=lambda c: f"{c['cell'].upper()} {c['impl']}, h={c['hidden']}, lr={c['lr']:g}",
    view=view,
    presets=[("Compare GRU and LSTM", [{"cell": "gru"}, {"cell": "lstm"}])],
)
