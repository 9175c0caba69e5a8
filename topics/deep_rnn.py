"""Deep recurrent neural networks (book section 10.3): GRU or LSTM layers
stacked 1 to 4 deep, trained live on The Time Machine; perplexity against
depth; every layer's hidden states on a typed text."""
import streamlit as st

from core.experiments import deep_rnn as dr
from core.experiments import gru_lstm as gl
from playground import charts, controls
from playground.i18n import t
from playground.live import View, live_panel
from playground.lm_charts import generation_inputs, minibatch_perplexity_chart, perplexity_chart, time_machine

SHOWN = 32  # hidden units per heatmap
NUM_PREDS = 50
BOOK, PAGE = dr.BOOK, dr.PAGE

st.title(t("page.deep_rnn"))
st.markdown(t("deep_rnn.intro", num_hiddens=BOOK.num_hiddens, lr=f"{BOOK.lr:g}", num_epochs=BOOK.num_epochs,
              max_tokens=f"{BOOK.max_tokens:,}"))
st.latex(r"\mathbf{H}_t^{(0)} = \mathbf{X}_t,\qquad "
         r"\mathbf{H}_t^{(l)} = \phi_l\!\left(\mathbf{H}_t^{(l-1)} \mathbf{W}_{xh}^{(l)} + "
         r"\mathbf{H}_{t-1}^{(l)} \mathbf{W}_{hh}^{(l)} + \mathbf{b}_h^{(l)}\right),\quad l = 1, \ldots, L")
st.latex(r"\mathbf{O}_t = \mathbf{H}_t^{(L)} \mathbf{W}_{hq} + \mathbf{b}_q")
st.caption(t("deep_rnn.phi_caption"))

form = controls.Form(dr.Config, base=PAGE)
kind, impl, num_layers = form.draw("cell", "impl", "num_layers", columns=3)

data = time_machine()
if data is None:
    st.stop()
corpus, vocab = data

hidden, _, _, _ = form.draw("num_hiddens", "max_tokens", "num_epochs", "lr", columns=4)
cfg = form.config()
text = gl.text_of(corpus, cfg)
st.caption(t("deep_rnn.data_caption", chars=f"{len(text):,}", vocab=len(vocab), valid=f"{len(gl.valid_of(corpus)):,}",
             batch_size=cfg.batch_size, num_steps=cfg.num_steps, grad_clip=f"{cfg.grad_clip:g}"))

st.subheader(t("deep_rnn.generation"))
prefix, state_text, c3 = generation_inputs(t("deep_rnn.state_text"), "state_text")
log_y = controls.toggle(t("deep_rnn.log_y"), "log_y", True, container=c3)


def _ppl(value) -> str:
    return f"{value:.2f}" if value is not None else "–"


def _token_axis(fig, tokens):
    fig.update_xaxes(tickvals=list(range(len(tokens))), ticktext=[c if c != " " else "␣" for c in tokens],
                     tickangle=0)
    return fig


def depth_figure(runs: list[dict]):
    """Final training and validation perplexity against the number of layers."""
    rows = sorted((r for r in runs if r["perplexity"] is not None), key=lambda r: r["num_layers"])
    fig = charts.figure(t("deep_rnn.depth_title"), x_title=t("deep_rnn.axis_layers"),
                        y_title=t("deep_rnn.axis_perplexity"))
    depths = [r["num_layers"] for r in rows]
    charts.add_line(fig, depths, [r["perplexity"] for r in rows], t("deep_rnn.curve_training"), color=charts.PALETTE[0],
                    mode="lines+markers")
    valid = [r for r in rows if r["valid_perplexity"] is not None]
    charts.add_line(fig, [r["num_layers"] for r in valid], [r["valid_perplexity"] for r in valid],
                    t("deep_rnn.curve_validation"), color=charts.PALETTE[1], mode="lines+markers", dash="dash",
                    symbol=charts.MARKERS[1])
    fig.update_xaxes(tickvals=list(dr.DEPTHS))
    return fig


def show(seen: dict) -> None:
    runs = seen["runs"]
    st.markdown(t("deep_rnn.last_epoch"))
    for r in runs:
        c1, c2, c3 = st.columns([1, 1, 4])
        label = f" ({r['name']})" if r["name"] else ""
        c1.metric(t("deep_rnn.train_ppl", label=label), _ppl(r["perplexity"]),
                  help=t("deep_rnn.train_ppl_help", layers=r["num_layers"], epoch=r["epoch"], vocab=len(vocab)))
        c2.metric(t("deep_rnn.valid_ppl"), _ppl(r["valid_perplexity"]), help=t("deep_rnn.valid_ppl_help"))
        if prefix:
            c3.caption(t("deep_rnn.generated", layers=r["num_layers"], epoch=r["epoch"]))
            c3.code(r["text"], language=None, wrap_lines=True)
        else:
            c3.info(t("deep_rnn.type_prefix"), icon=":material/edit:")
    if len({r["num_layers"] for r in runs if r["perplexity"] is not None}) > 1:
        st.plotly_chart(depth_figure(runs), key="deep_rnn:depth", width="stretch")
    else:
        st.caption(t("deep_rnn.press_preset"))
    deepest = max(runs, key=lambda r: r["num_layers"])
    if deepest["states"] is None:
        st.info(t("deep_rnn.type_text"), icon=":material/edit:")
        return
    states = deepest["states"]  # (layers, characters, units)
    st.caption(t("deep_rnn.states_caption", layers=deepest["num_layers"], epoch=deepest["epoch"],
                 name=f" ({deepest['name']})" if deepest["name"] else "", shown=min(SHOWN, hidden)))
    cols = st.columns(2)
    for layer in range(len(states)):
        z = states[layer][:, :SHOWN].T  # (units, characters)
        fig = charts.heatmap(z, title=t("deep_rnn.layer_title", layer=layer + 1, layers=len(states)),
                             colorscale=charts.DIVERGING, zmin=-1.0, zmax=1.0, x_title=t("deep_rnn.axis_character"),
                             y_title=t("deep_rnn.axis_unit"))
        cols[layer % 2].plotly_chart(_token_axis(fig, deepest["tokens"]), key=f"deep_rnn:layer:{layer}",
                                     width="stretch")


seed, device = controls.seed(), controls.device()
text_id = gl.fingerprint(corpus, vocab)
if kind == "lstm":
    reference = {"book_train": dr.BOOK_LSTM_TRAIN_PERPLEXITY,
                 "book_train_note": t("deep_rnn.lstm_train_note")}
else:
    reference = {"book_train": dr.BOOK_GRU_TRAIN_PERPLEXITY, "book_valid": dr.BOOK_GRU_VALID_PERPLEXITY,
                 "book_train_note": t("deep_rnn.gru_train_note"), "book_valid_note": t("deep_rnn.gru_valid_note")}
live_panel(
    "deep_rnn", cfg, "deep_rnn", data=(corpus, vocab), data_key=f"deep_rnn:{text_id}",
    seed=seed, device=device, context={"data": text_id},
    charts_=[perplexity_chart(log_y, **reference), minibatch_perplexity_chart(log_y)],
    label=lambda c: t("deep_rnn.run_label", layers=c.num_layers, cell=c.cell.upper(), impl=c.impl,
                      num_hiddens=c.num_hiddens, lr=f"{c.lr:g}"),
    views=[View("core.experiments.deep_rnn:look", show, every=5.0,
                params={"prefix": prefix, "text": state_text, "num_preds": NUM_PREDS})],
    presets=dr.PRESETS,
)

st.subheader(t("common.what_to_look_for"))
st.markdown(t("deep_rnn.look"))
