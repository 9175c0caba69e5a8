"""Recurrent neural networks from scratch and concise (book sections 9.4-9.6): the
book's character-level RNN language model trained live on The Time Machine."""
import streamlit as st

from core.experiments import rnn as ex
from playground import charts, controls
from playground.live import View, live_panel
from playground.lm_charts import generation_inputs, minibatch_perplexity_chart, perplexity_chart, time_machine
from playground.messages import literal

SHOWN = 32  # hidden units per heatmap
NUM_PREDS = 50
ONE_HOT_SHOWN = 12  # characters of the prefix drawn as one-hot rows
BOOK, PAGE = ex.BOOK, ex.PAGE

st.title("Recurrent neural networks from scratch and concise")
st.markdown(
    "A recurrent neural network keeps a **hidden state**: after each character it mixes the new input with "
    "what it carried from the characters before, with the *same* weights at every time step. Trained to predict "
    "the next character of H. G. Wells' *The Time Machine*, it becomes a character-level language model: "
    "perplexity (the effective number of characters it hesitates between) falls from about the vocabulary size "
    "towards 1, and greedy generation after a prefix turns from noise into words. The book writes the network "
    "from scratch, then with `nn.RNN`; here both train, and side by side they learn alike.")
st.latex(r"\mathbf{H}_t = \tanh(\mathbf{X}_t \mathbf{W}_{xh} + \mathbf{H}_{t-1} \mathbf{W}_{hh} + \mathbf{b}_h)"
         r"\qquad \mathbf{O}_t = \mathbf{H}_t \mathbf{W}_{hq} + \mathbf{b}_q")
st.latex(r"\mathbf{X}_t \in \{0, 1\}^{n \times |\mathcal{V}|}\ \text{(one-hot rows)},\qquad "
         r"\text{perplexity} = \exp\Big(-\frac{1}{n}\sum_{t=1}^{n} \log P(x_t \mid x_{t-1}, \ldots, x_1)\Big)")
st.latex(r"\mathbf{g} \leftarrow \min\Big(1, \frac{\theta}{\|\mathbf{g}\|}\Big)\mathbf{g}"
         rf"\qquad\text{{gradient clipping, }}\theta = {BOOK.grad_clip:g}")
st.markdown(
    f"The book's 0.x editions train {BOOK.num_epochs} epochs on the first {BOOK.max_tokens:,} characters with "
    f"batch {BOOK.batch_size}, {BOOK.num_steps} time steps, {BOOK.num_hiddens} hidden units, lr {BOOK.lr:g} and "
    f"gradients clipped at norm {BOOK.grad_clip:g}; the defaults here are smaller so that learning shows within "
    "a minute on a laptop.")

form = controls.Form(ex.Config, base=PAGE)
impl, partition = form.draw("impl", "partition", columns=2)
if impl == "concise":
    st.code("rnn = nn.RNN(len(vocab), num_hiddens)   # tanh; its two biases add up to the book's b_h",
            language="python")
if partition == "random":
    st.caption("Random sampling: each minibatch holds random subsequences, so the hidden state starts from zeros "
               "for each; sequential partitioning carries it over (detached: truncated backpropagation).")

data = time_machine()
if data is None:
    st.stop()
corpus, vocab = data

hidden, _, _, _ = form.draw("num_hiddens", "max_tokens", "num_epochs", "lr", columns=4)
cfg = form.config()
text = ex.text_of(corpus, cfg)
per_epoch = ((len(text) - cfg.num_steps - 1) // cfg.batch_size // cfg.num_steps if partition == "sequential"
             else (len(text) - cfg.num_steps) // cfg.num_steps // cfg.batch_size)
st.caption(f"{len(text):,} characters trained on, a vocabulary of {len(vocab)} tokens: about {per_epoch} "
           f"minibatches of {cfg.batch_size} x {cfg.num_steps} per epoch; the last {len(ex.valid_of(corpus)):,} "
           "characters are held out for validation. *examples/sec* below counts predicted characters.")

st.subheader("Generation and the hidden state")
prefix, state_text, c3 = generation_inputs("text to read the hidden state on", "state_text")
compare = controls.toggle("side by side with the untrained net", "untrained", True, container=c3,
                          help="The same seed's initial weights (epoch 0), for contrast.")
log_y = controls.toggle("log-scale perplexity", "log_y", True, container=c3)
blocks = list(range(0, hidden, SHOWN))
if st.session_state.get(controls.widget_key("block"), 0) not in blocks:  # after fewer hidden units
    controls.set_value("block", 0)
if len(blocks) > 1:
    block = controls.select_slider("hidden units shown", "block", blocks, 0,
                                   format_func=lambda b: f"{b}-{min(b + SHOWN, hidden) - 1}")
else:
    block = 0
    st.caption(f"All {hidden} hidden units are shown.")

if prefix:
    shown_text = prefix[:ONE_HOT_SHOWN]
    oh = ex.one_hot(shown_text, vocab)
    fig = charts.heatmap(oh["X"].T, title=f"The book's one-hot input: the first {len(shown_text)} characters of the "
                                          f"prefix, one column each, a 1 in the row of its index in the "
                                          f"{len(vocab)}-token vocabulary",
                         colorscale=charts.GRAYS_R, zmin=0, zmax=1, x_title="character", y_title="token",
                         y=[t if t != " " else "␣" for t in vocab.idx_to_token], height=420)
    fig.update_traces(showscale=False, xgap=1, ygap=1)
    fig.update_xaxes(tickvals=list(range(len(oh["tokens"]))),
                     ticktext=[f"{t if t != ' ' else '␣'} ({i})" for t, i in zip(oh["tokens"], oh["ids"])])
    fig.update_yaxes(type="category", dtick=1)
    with st.expander("The one-hot input", icon=":material/grid_on:"):
        st.plotly_chart(fig, key="rnn:onehot", width="stretch")


def _ppl(value) -> str:
    return f"{value:.2f}" if value is not None else "–"


def _token_axis(fig, tokens):
    fig.update_xaxes(tickvals=list(range(len(tokens))), ticktext=[t if t != " " else "␣" for t in tokens],
                     tickangle=0)
    return fig


def state_figure(trace, title: str):
    z = trace["H"][:, block:block + SHOWN].T  # (units, time steps)
    fig = charts.heatmap(z, title=title, colorscale=charts.DIVERGING, zmin=-1, zmax=1, x_title="character",
                         y_title="unit",
                         y=list(range(block, block + len(z))))
    return _token_axis(fig, trace["tokens"])


def show(seen: dict) -> None:
    for name, s in seen.items():
        c1, c2 = st.columns([1, 4])
        label = f" ({name})" if name else ""
        c1.metric("training perplexity" + label, _ppl(s["perplexity"]),
                  help="exp(mean cross-entropy per character) over the last epoch's minibatches; 1 is perfect, "
                       f"{len(vocab)} is uniform guessing.")
        c1.metric("validation perplexity" + label, _ppl(s["valid_perplexity"]),
                  help="The same on the held-out end of the text, which the run never trains on.")
        with c2:
            if prefix:
                st.caption(f"{literal(name) + ': ' if name else ''}greedy generation, {NUM_PREDS} characters after "
                           f"the prefix (epoch {s['epoch']}):")
                st.code(s["text"], language=None, wrap_lines=True)
                st.caption("The output layer's softmax for the next character: " + ", ".join(
                    f"'{t if t != ' ' else '␣'}' {p:.2f}" for t, p in s["next"]))
            else:
                st.info("Type a prefix with at least one letter to generate text.", icon=":material/edit:")
    if not state_text:
        st.info("Type a text with at least one letter to read the hidden state on.", icon=":material/edit:")
        return
    panels = []
    for name, s in seen.items():
        who = f"{name}, " if name else ""
        panels.append((f"{who}trained (epoch {s['epoch']}): hidden state H_t", s["states"]["trained"]))
    first = next(iter(seen.values()))
    if "untrained" in first["states"]:
        panels.append(("untrained (epoch 0): hidden state H_t", first["states"]["untrained"]))
    for i in range(0, len(panels), 2):
        for col, (title, trace) in zip(st.columns(2), panels[i:i + 2]):
            col.plotly_chart(state_figure(trace, title), key=f"rnn:state:{i}:{title[:12]}", width="stretch")


seed, device = controls.seed(), controls.device()
text_id = ex.fingerprint(corpus, vocab)  # names the data for the workers and for the run's identity
live_panel(
    "rnn", cfg, "rnn", data=(corpus, vocab), data_key=f"rnn:{text_id}",
    seed=seed, device=device, context={"data": text_id},
    charts_=[perplexity_chart(log_y, book_train=ex.BOOK_TRAIN_PERPLEXITY[(impl, partition)],
                              book_train_note=f"0.x editions, {impl}, {ex.PARTITIONS[partition]}, "
                                              "512 hidden units, 500 epochs",
                              book_valid=ex.BOOK_VALID_PERPLEXITY[impl],
                              book_valid_note="1.0 edition, 32 hidden units, lr 1, 100 epochs, batch 1024"),
             minibatch_perplexity_chart(log_y)],
    label=lambda c: f"RNN {c.impl}, {c.partition}, h={c.num_hiddens}, lr={c.lr:g}",
    views=[View("core.experiments.rnn:look", show, every=5.0,
                params={"prefix": prefix, "state_text": state_text, "compare": compare, "num_preds": NUM_PREDS})],
    presets=ex.PRESETS,
)

with st.expander("What to look for", icon=":material/visibility:", expanded=True):
    st.markdown(
        f"- **Perplexity.** It starts near the vocabulary size ({len(vocab)}) and falls. The 0.x editions print "
        "*training* perplexity near 1 after 500 epochs with 512 units (1.5 with random sampling, 1.3 concise): "
        "on 10,000 characters the net memorises. The 1.0 edition prints *validation* perplexity, 7.24 scratch "
        "and 7.19 concise with 32 units: what the net knows about text it has not seen. Watch the two curves part.\n"
        "- **Scratch and `nn.RNN`.** *Scratch and nn.RNN side by side* trains both from one seed. They compute "
        "the same function given the same weights (tested), but start from different initial weights "
        "(N(0, 0.01²) against torch's U(-1/√h, 1/√h)), so their curves differ a little early and agree in the end.\n"
        "- **Partitioning.** Sequential minibatches carry the hidden state over, so the net can use context "
        "beyond 35 characters; random sampling restarts it every minibatch.\n"
        "- **Generation.** Greedy decoding repeats itself (*the time traveller the time traveller*) long before "
        "it spells well; the softmax below it shows how sure the output layer is.\n"
        "- **Hidden state.** The untrained net's state is near 0 everywhere (weights of 0.01); trained, units "
        "saturate towards ±1 and switch at spaces and familiar letters.\n"
        "- **The learning rate.** Push it to 4 with clipping still on: training stays stable, clipping caps each "
        "step. See the backpropagation-through-time page for why the gradients explode.")
