"""Recurrent neural networks from scratch and concise (book sections 9.4-9.6): the
book's character-level RNN language model trained live on The Time Machine."""
import streamlit as st

from core.experiments import rnn as ex
from playground import charts, controls
from playground.i18n import t
from playground.live import View, live_panel
from playground.lm_charts import generation_inputs, minibatch_perplexity_chart, perplexity_chart, time_machine
from playground.messages import literal

SHOWN = 32  # hidden units per heatmap
NUM_PREDS = 50
ONE_HOT_SHOWN = 12  # characters of the prefix drawn as one-hot rows
BOOK, PAGE = ex.BOOK, ex.PAGE

st.title(t("page.rnn"))
st.markdown(t("rnn.intro"))
st.latex(r"\mathbf{H}_t = \tanh(\mathbf{X}_t \mathbf{W}_{xh} + \mathbf{H}_{t-1} \mathbf{W}_{hh} + \mathbf{b}_h)"
         r"\qquad \mathbf{O}_t = \mathbf{H}_t \mathbf{W}_{hq} + \mathbf{b}_q")
st.latex(r"\mathbf{X}_t \in \{0, 1\}^{n \times |\mathcal{V}|}\ \text{(one-hot rows)},\qquad "
         r"\text{perplexity} = \exp\Big(-\frac{1}{n}\sum_{t=1}^{n} \log P(x_t \mid x_{t-1}, \ldots, x_1)\Big)")
st.latex(r"\mathbf{g} \leftarrow \min\Big(1, \frac{\theta}{\|\mathbf{g}\|}\Big)\mathbf{g}"
         r"\qquad\text{" + t("rnn.clipping") + r", }\theta = " + f"{BOOK.grad_clip:g}")
st.markdown(t("rnn.book_settings", num_epochs=BOOK.num_epochs, max_tokens=f"{BOOK.max_tokens:,}",
              batch_size=BOOK.batch_size, num_steps=BOOK.num_steps, num_hiddens=BOOK.num_hiddens,
              lr=f"{BOOK.lr:g}", grad_clip=f"{BOOK.grad_clip:g}"))

form = controls.Form(ex.Config, base=PAGE)
impl, partition = form.draw("impl", "partition", columns=2)
if impl == "concise":
    st.code("rnn = nn.RNN(len(vocab), num_hiddens)   # tanh; its two biases add up to the book's b_h",
            language="python")
if partition == "random":
    st.caption(t("rnn.random_caption"))

data = time_machine()
if data is None:
    st.stop()
corpus, vocab = data

hidden, _, _, _ = form.draw("num_hiddens", "max_tokens", "num_epochs", "lr", columns=4)
cfg = form.config()
text = ex.text_of(corpus, cfg)
per_epoch = ((len(text) - cfg.num_steps - 1) // cfg.batch_size // cfg.num_steps if partition == "sequential"
             else (len(text) - cfg.num_steps) // cfg.num_steps // cfg.batch_size)
st.caption(t("rnn.data_caption", chars=f"{len(text):,}", vocab=len(vocab), per_epoch=per_epoch,
             batch_size=cfg.batch_size, num_steps=cfg.num_steps, held_out=f"{len(ex.valid_of(corpus)):,}"))

st.subheader(t("rnn.generation"))
prefix, state_text, c3 = generation_inputs(t("rnn.state_text"), "state_text")
compare = controls.toggle(t("rnn.untrained"), "untrained", True, container=c3, help=t("rnn.untrained_help"))
log_y = controls.toggle(t("rnn.log_y"), "log_y", True, container=c3)
blocks = list(range(0, hidden, SHOWN))
if st.session_state.get(controls.widget_key("block"), 0) not in blocks:  # after fewer hidden units
    controls.set_value("block", 0)
if len(blocks) > 1:
    block = controls.select_slider(t("rnn.block"), "block", blocks, 0,
                                   format_func=lambda b: f"{b}-{min(b + SHOWN, hidden) - 1}")
else:
    block = 0
    st.caption(t("rnn.all_units", hidden=hidden))

if prefix:
    shown_text = prefix[:ONE_HOT_SHOWN]
    oh = ex.one_hot(shown_text, vocab)
    fig = charts.heatmap(oh["X"].T, title=t("rnn.one_hot_title", n=len(shown_text), vocab=len(vocab)),
                         colorscale=charts.GRAYS_R, zmin=0, zmax=1, x_title=t("rnn.character"), y_title=t("rnn.token"),
                         y=[t if t != " " else "␣" for t in vocab.idx_to_token], height=420)
    fig.update_traces(showscale=False, xgap=1, ygap=1)
    fig.update_xaxes(tickvals=list(range(len(oh["tokens"]))),
                     ticktext=[f"{t if t != ' ' else '␣'} ({i})" for t, i in zip(oh["tokens"], oh["ids"])])
    fig.update_yaxes(type="category", dtick=1)
    with st.expander(t("rnn.one_hot"), icon=":material/grid_on:"):
        st.plotly_chart(fig, key="rnn:onehot", width="stretch")


def _ppl(value) -> str:
    return f"{value:.2f}" if value is not None else "–"


def _token_axis(fig, tokens):
    fig.update_xaxes(tickvals=list(range(len(tokens))), ticktext=[t if t != " " else "␣" for t in tokens],
                     tickangle=0)
    return fig


def state_figure(trace, title: str):
    z = trace["H"][:, block:block + SHOWN].T  # (units, time steps)
    fig = charts.heatmap(z, title=title, colorscale=charts.DIVERGING, zmin=-1, zmax=1, x_title=t("rnn.character"),
                         y_title=t("rnn.unit"),
                         y=list(range(block, block + len(z))))
    return _token_axis(fig, trace["tokens"])


def show(seen: dict) -> None:
    for name, s in seen.items():
        c1, c2 = st.columns([1, 4])
        label = t("rnn.named", name=name) if name else ""
        c1.metric(t("rnn.train_ppl") + label, _ppl(s["perplexity"]), help=t("rnn.train_ppl_help", vocab=len(vocab)))
        c1.metric(t("rnn.valid_ppl") + label, _ppl(s["valid_perplexity"]), help=t("rnn.valid_ppl_help"))
        with c2:
            if prefix:
                st.caption(t("rnn.greedy_named", name=literal(name), n=NUM_PREDS, epoch=s["epoch"]) if name
                           else t("rnn.greedy", n=NUM_PREDS, epoch=s["epoch"]))
                st.code(s["text"], language=None, wrap_lines=True)
                st.caption(t("rnn.softmax") + ", ".join(
                    f"'{t if t != ' ' else '␣'}' {p:.2f}" for t, p in s["next"]))
            else:
                st.info(t("rnn.type_prefix"), icon=":material/edit:")
    if not state_text:
        st.info(t("rnn.type_text"), icon=":material/edit:")
        return
    panels = []
    for name, s in seen.items():
        title = (t("rnn.state_trained_named", name=name, epoch=s["epoch"]) if name
                 else t("rnn.state_trained", epoch=s["epoch"]))
        panels.append((title, s["states"]["trained"]))
    first = next(iter(seen.values()))
    if "untrained" in first["states"]:
        panels.append((t("rnn.state_untrained"), first["states"]["untrained"]))
    for i in range(0, len(panels), 2):
        for col, (title, trace) in zip(st.columns(2), panels[i:i + 2]):
            col.plotly_chart(state_figure(trace, title), key=f"rnn:state:{i}:{title[:12]}", width="stretch")


seed, device = controls.seed(), controls.device()
text_id = ex.fingerprint(corpus, vocab)  # names the data for the workers and for the run's identity
live_panel(
    "rnn", cfg, "rnn", data=(corpus, vocab), data_key=f"rnn:{text_id}",
    seed=seed, device=device, context={"data": text_id},
    charts_=[perplexity_chart(log_y, book_train=ex.BOOK_TRAIN_PERPLEXITY[(impl, partition)],
                              book_train_note=t("rnn.book_train_note", impl=impl,
                                                partition=t(f"rnn.option.partition.{partition}")),
                              book_valid=ex.BOOK_VALID_PERPLEXITY[impl],
                              book_valid_note=t("rnn.book_valid_note")),
             minibatch_perplexity_chart(log_y)],
    label=lambda c: t("rnn.run_label", impl=c.impl, partition=c.partition, h=c.num_hiddens, lr=f"{c.lr:g}"),
    views=[View("core.experiments.rnn:look", show, every=5.0,
                params={"prefix": prefix, "state_text": state_text, "compare": compare, "num_preds": NUM_PREDS})],
    presets=ex.PRESETS,
)

with st.expander(t("common.what_to_look_for"), icon=":material/visibility:", expanded=True):
    st.markdown(t("rnn.look", vocab=len(vocab)))
