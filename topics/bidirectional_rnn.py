"""Bidirectional recurrent neural networks (book section 10.4): why a
bidirectional language model learns to a low perplexity yet generates garbage,
and a fill-in-the-blank task where reading both ways really helps."""
import streamlit as st

from core.experiments import bidirectional_rnn as br
from core.experiments import gru_lstm as gl
from playground import controls
from playground.i18n import t
from playground.live import ACCURACY, View, live_panel
from playground.lm_charts import minibatch_perplexity_chart, perplexity_chart, time_machine

NUM_PREDS = 50
BOOK, PAGE = br.BOOK, br.PAGE

st.title(t("page.bidirectional_rnn"))
st.markdown(t("bidirectional_rnn.intro"))
st.latex(r"\overrightarrow{\mathbf{H}}_t = \phi\!\left(\mathbf{X}_t \mathbf{W}_{xh}^{(f)} + "
         r"\overrightarrow{\mathbf{H}}_{t-1} \mathbf{W}_{hh}^{(f)} + \mathbf{b}_h^{(f)}\right)"
         r"\qquad\text{forward}")
st.latex(r"\overleftarrow{\mathbf{H}}_t = \phi\!\left(\mathbf{X}_t \mathbf{W}_{xh}^{(b)} + "
         r"\overleftarrow{\mathbf{H}}_{t+1} \mathbf{W}_{hh}^{(b)} + \mathbf{b}_h^{(b)}\right)"
         r"\qquad\text{backward}")
st.latex(r"\mathbf{H}_t = \left[\overrightarrow{\mathbf{H}}_t,\ \overleftarrow{\mathbf{H}}_t\right],\qquad "
         r"\mathbf{O}_t = \mathbf{H}_t \mathbf{W}_{hq} + \mathbf{b}_q")

form = controls.Form(br.Config, base=PAGE)
task, bidirectional = form.draw("task", "bidirectional", columns=2)
if task == "lm":
    st.markdown(t("bidirectional_rnn.lm_intro", num_hiddens=BOOK.num_hiddens, num_epochs=BOOK.num_epochs))
else:
    st.markdown(t("bidirectional_rnn.blank_intro"))

data = time_machine()
if data is None:
    st.stop()
corpus, vocab = data

names = ["cell", "num_layers", "num_hiddens", "max_tokens", "num_epochs", "lr"]
if task == "blank":
    names.insert(4, "context")
form.draw(*names, columns=len(names))
cfg = form.config()
text = gl.text_of(corpus, cfg)
if task == "lm":
    st.caption(t("bidirectional_rnn.lm_caption", chars=f"{len(text):,}", batch_size=cfg.batch_size,
                 num_steps=cfg.num_steps, grad_clip=f"{cfg.grad_clip:g}", valid=f"{len(gl.valid_of(corpus)):,}"))
else:
    width = 2 * cfg.context + 1
    st.caption(t("bidirectional_rnn.blank_caption", width=width, context=cfg.context, stride=cfg.context + 1,
                 chars=f"{len(text):,}", examples=f"{len(text) // (cfg.context + 1):,}",
                 batch_size=cfg.blank_batch_size, valid=f"{len(gl.valid_of(corpus)):,}"))

st.subheader(t("bidirectional_rnn.trained_nets"))
if task == "lm":
    prefix = gl.clean_text(controls.text_input(t("bidirectional_rnn.prefix"), "prefix", "time traveller ",
                                               max_chars=80))
    left = right = ""
else:
    prefix = ""
    blank = controls.text_input(t("bidirectional_rnn.blank_text"), "blank_text", "the time trav_ller", max_chars=80)
    left_raw, sep, right_raw = blank.partition("_")
    left, right = (gl.clean_text(left_raw), gl.clean_text(right_raw)) if sep else ("", "")
log_y = controls.toggle(t("bidirectional_rnn.log_y"), "log_y", True) if task == "lm" else False


def _fmt(value, fmt: str) -> str:
    return fmt.format(value) if value is not None else "–"


def show(seen: dict) -> None:
    runs = [r for r in seen["runs"] if r["task"] == task]
    if not runs:
        return
    for r in runs:
        way = t("bidirectional_rnn.bidirectional" if r["bidirectional"] else "bidirectional_rnn.one_directional")
        st.markdown(t("bidirectional_rnn.run_heading", name=r["name"] or way, way=f" ({way})" if r["name"] else "",
                      epoch=r["epoch"]))
        c1, c2, c3 = st.columns([1, 1, 4])
        if task == "lm":
            c1.metric(t("bidirectional_rnn.train_ppl"), _fmt(r["perplexity"], "{:.2f}"),
                      help=t("bidirectional_rnn.train_ppl_help"))
            c2.metric(t("bidirectional_rnn.valid_ppl"), _fmt(r["valid_perplexity"], "{:.2f}"),
                      help=t("bidirectional_rnn.valid_ppl_help"))
            if prefix:
                c3.caption(t("bidirectional_rnn.generated"))
                c3.code(r["text"], language=None, wrap_lines=True)
            else:
                c3.info(t("bidirectional_rnn.type_prefix"), icon=":material/edit:")
        else:
            c1.metric(t("bidirectional_rnn.train_acc"), _fmt(r["accuracy"], "{:.1%}"),
                      help=t("bidirectional_rnn.train_acc_help"))
            c2.metric(t("bidirectional_rnn.valid_acc"), _fmt(r["valid_accuracy"], "{:.1%}"),
                      help=t("bidirectional_rnn.valid_acc_help"))
            if r["fills"]:
                guesses = ", ".join(f"'{c if c != ' ' else '␣'}' {p:.0%}" for c, p in r["fills"])
                c3.markdown(t("bidirectional_rnn.guesses", text=f"{left}_{right}", guesses=guesses))
            else:
                c3.info(t("bidirectional_rnn.type_blank"), icon=":material/edit:")
    if len(runs) > 1:
        key = "valid_perplexity" if task == "lm" else "valid_accuracy"
        better = {r["name"]: r[key] for r in runs if r[key] is not None}
        if len(better) == len(runs):
            fmt = "{:.2f}" if task == "lm" else "{:.1%}"
            runs_ = t("bidirectional_rnn.against").join(f"{name} {_fmt(v, fmt)}" for name, v in better.items())
            st.caption(t("bidirectional_rnn.held_out_" + ("perplexity" if task == "lm" else "accuracy"), runs=runs_))


seed, device = controls.seed(), controls.device()
text_id = gl.fingerprint(corpus, vocab)
if task == "lm":
    charts_ = [perplexity_chart(log_y, book_train=br.BOOK_TRAIN_PERPLEXITY,
                                book_train_note=t("bidirectional_rnn.book_train_note")),
               minibatch_perplexity_chart(log_y)]
else:
    charts_ = [ACCURACY]
live_panel(
    f"bidirectional_rnn:{task}", cfg, "bidirectional_rnn", data=(corpus, vocab),
    data_key=f"bidirectional_rnn:{text_id}",
    seed=seed, device=device, context={"data": text_id},
    charts_=charts_,
    label=lambda c: t("bidirectional_rnn.run_label", way=t("bidirectional_rnn.bi" if c.bidirectional else
                                                             "bidirectional_rnn.uni"),
                      layers=c.num_layers, cell=c.cell.upper(), num_hiddens=c.num_hiddens,
                      task=t(f"bidirectional_rnn.option.task.{c.task}")),
    views=[View("core.experiments.bidirectional_rnn:look", show, every=5.0,
                params={"prefix": prefix, "left": left, "right": right, "num_preds": NUM_PREDS})],
    presets=br.PRESETS,
)

st.subheader(t("common.what_to_look_for"))
st.markdown(t("bidirectional_rnn.look"))
