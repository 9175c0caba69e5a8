"""GRU and LSTM gates (book sections 10.1-10.2): gated cells trained live as
character-level language models, with their gates read off for a typed text."""
import re

import streamlit as st

from core.experiments import gru_lstm as gl
from playground import charts, controls
from playground.i18n import t
from playground.live import View, live_panel
from playground.lm_charts import generation_inputs, minibatch_perplexity_chart, perplexity_chart, time_machine

SHOWN = 32  # hidden units per heatmap
NUM_PREDS = 50
BOOK, PAGE = gl.BOOK, gl.PAGE

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


st.title(t("page.gru_lstm"))
st.markdown(t("gru_lstm.intro", num_epochs=BOOK.num_epochs, max_tokens=f"{BOOK.max_tokens:,}",
              batch_size=BOOK.batch_size, num_steps=BOOK.num_steps, num_hiddens=BOOK.num_hiddens,
              lr=f"{BOOK.lr:g}", grad_clip=f"{BOOK.grad_clip:g}"))
form = controls.Form(gl.Config, base=PAGE)
kind, impl = form.draw("cell", "impl", columns=2)
for eq in EQUATIONS[kind]:
    st.latex(eq)
if impl == "concise":
    st.info(t("gru_lstm.concise_info") + (t("gru_lstm.concise_gru_note") if kind == "gru" else ""),
            icon=":material/info:")
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
st.caption(t("gru_lstm.data_caption", chars=f"{len(text):,}", vocab=len(vocab), steps=steps_per_epoch,
             valid=f"{len(gl.valid_of(corpus)):,}"))

st.subheader(t("gru_lstm.generation"))
prefix, gate_text, c3 = generation_inputs(t("gru_lstm.gate_text"), "gate_text")
compare = controls.toggle(t("gru_lstm.untrained"), "untrained", True, container=c3,
                          help=t("gru_lstm.untrained_help"))
stretch = controls.toggle(t("gru_lstm.stretch"), "stretch", False, container=c3, help=t("gru_lstm.stretch_help"))
log_y = controls.toggle(t("gru_lstm.log_y"), "log_y", True, container=c3)
blocks = list(range(0, hidden, SHOWN))
for name, options in (("block", blocks), ("unit", list(range(hidden)))):
    if st.session_state.get(controls.widget_key(name), 0) not in options:  # after fewer hidden units
        controls.set_value(name, 0)
c1, c2 = st.columns(2)
if len(blocks) > 1:
    block = controls.select_slider(t("gru_lstm.units_shown"), "block", blocks, 0, container=c1,
                                   format_func=lambda b: f"{b}-{min(b + SHOWN, hidden) - 1}")
else:
    block = 0
    c1.caption(t("gru_lstm.all_units", hidden=hidden))
unit = controls.slider(t("gru_lstm.unit"), "unit", 0, hidden - 1, 0, container=c2)


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
    fig = charts.heatmap(z, title=t("gru_lstm.gate_title", name=_trace_name(title), gate=_gate(key), note=note),
                         colorscale=scale, zmin=lo, zmax=hi, x_title=t("gru_lstm.axis_character"),
                         y_title=t("gru_lstm.axis_unit"), y=list(range(block, block + len(z))))
    return _token_axis(fig, trace["tokens"])


def _gate(key: str) -> str:
    return t(f"gru_lstm.gate.{key}")


def _trace_name(name: str) -> str:
    """The worker's "trained (epoch 12)" / "untrained (epoch 0)" in this session's language."""
    found = re.fullmatch(r"(un)?trained \(epoch (\d+)\)", name)
    if found is None:
        return name
    return t("gru_lstm.untrained_net") if found[1] else t("gru_lstm.trained", epoch=found[2])


def _token_axis(fig, tokens):
    fig.update_xaxes(tickvals=list(range(len(tokens))), ticktext=[c if c != " " else "␣" for c in tokens],
                     tickangle=0)
    return fig


def _ppl(value) -> str:
    return f"{value:.2f}" if value is not None else "–"


def show(seen: dict) -> None:
    c1, c2 = st.columns([1, 4])
    c1.metric(t("gru_lstm.train_ppl") + (f" ({seen['name']})" if seen["name"] else ""), _ppl(seen["perplexity"]),
              help=t("gru_lstm.train_ppl_help", vocab=len(vocab)))
    c1.metric(t("gru_lstm.valid_ppl"), _ppl(seen["valid_perplexity"]), help=t("gru_lstm.valid_ppl_help"))
    with c2:
        if prefix:
            st.caption(t("gru_lstm.generated", n=NUM_PREDS, epoch=seen["epoch"]))
            st.code(seen["text"], language=None, wrap_lines=True)
        else:
            st.info(t("gru_lstm.type_prefix"), icon=":material/edit:")
    traces = seen["traces"]
    if not traces:
        st.info(t("gru_lstm.type_text"), icon=":material/edit:")
        return
    gates = gl.GATES[seen["kind"]]
    rows = ([[(g, name) for name in traces] for g in gates] if len(traces) > 1 else
            [[(g, next(iter(traces))) for g in gates[i:i + 2]] for i in range(0, len(gates), 2)])
    for row in rows:
        for col, (key, name) in zip(st.columns(2), row):
            col.plotly_chart(gate_figure(traces[name], key, name), key=f"gates:{key}:{name[:5]}", width="stretch")
    fig = charts.figure(t("gru_lstm.unit_title", unit=unit), x_title=t("gru_lstm.axis_character"),
                        y_title=t("gru_lstm.axis_value"))
    for i, key in enumerate(gates):
        for name, tr in traces.items():
            trained = name.startswith("trained")
            short = t("gru_lstm.trained_short" if trained else "gru_lstm.untrained_short")
            charts.add_line(fig, list(range(len(gate_text))), tr[key][:, unit], f"{_gate(key)} · {short}",
                            color=charts.PALETTE[i], dash="solid" if trained else "dot")
    st.plotly_chart(_token_axis(fig, traces[next(iter(traces))]["tokens"]), key="gates:unit", width="stretch")


seed, device = controls.seed(), controls.device()
text_id = gl.fingerprint(corpus, vocab)  # names the data for the workers and for the run's identity
live_panel(
    "gru_lstm", cfg, "gru_lstm", data=(corpus, vocab), data_key=f"gru_lstm:{text_id}",
    seed=seed, device=device, context={"data": text_id},
    charts_=[perplexity_chart(log_y, book_train=gl.BOOK_TRAIN_PERPLEXITY[kind],
                              book_train_note=t("gru_lstm.book_train_note"),
                              book_valid=gl.BOOK_VALID_PERPLEXITY[kind],
                              book_valid_note=t("gru_lstm.book_valid_note")),
             minibatch_perplexity_chart(log_y)],
    label=lambda c: f"{c.cell.upper()} {c.impl}, h={c.num_hiddens}, lr={c.lr:g}",
    views=[View("core.experiments.gru_lstm:look", show, every=5.0,
                params={"prefix": prefix, "gate_text": gate_text, "compare": compare, "num_preds": NUM_PREDS})],
    presets=gl.PRESETS,
)
