"""Bidirectional recurrent neural networks (book section 10.4): why a
bidirectional language model learns to a low perplexity yet generates garbage,
and a fill-in-the-blank task where reading both ways really helps."""
import streamlit as st

from core.experiments import bidirectional_rnn as br
from core.experiments import gru_lstm as gl
from playground import controls
from playground.live import ACCURACY, View, live_panel
from playground.lm_charts import minibatch_perplexity_chart, perplexity_chart, time_machine

NUM_PREDS = 50
BOOK, PAGE = br.BOOK, br.PAGE

st.title("Bidirectional recurrent neural networks")
st.markdown(
    "A recurrent net reads left to right, so its state at step *t* knows only the past. Often the future "
    "matters as much: to fill in *I am ___ hungry* the word after the blank says more than the words "
    "before it. A bidirectional RNN runs a second RNN from the end of the sequence to its start and "
    "concatenates the two hidden states at every step, so the output at *t* sees both sides."
)
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
    st.markdown(
        "**The book's warning: a bidirectional language model.** Trained to predict character *t + 1*, "
        "the backward direction at step *t* has already read character *t + 1*: the answer is in its input. "
        "Training perplexity falls close to 1 (the book's 0.x editions print 1.1 for a 2-layer "
        f"bidirectional LSTM with {BOOK.num_hiddens} hidden units after {BOOK.num_epochs} epochs), and the "
        "validation perplexity too, since the held-out text is read both ways as well. But to *generate*, "
        "the model must predict a character nobody has written yet: the backward direction then sees only "
        "the character just fed in, and the net produces garbage (the book prints *time travellererererer...*). "
        "Press *Bidirectional against unidirectional* to train both side by side."
    )
else:
    st.markdown(
        "**Where both directions help: fill in the blank.** Each example is a window of the text with its "
        "centre character replaced by a blank token; the target is the hidden character. The net predicts "
        "from its hidden state at the blank: the one-directional net has read only the characters to the "
        "left there, the bidirectional one both sides, which is a legitimate use of the future (it is in the "
        "input, not the answer). Press *Bidirectional against unidirectional* to compare the accuracies."
    )

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
    st.caption(f"{len(text):,} characters trained on, batch {cfg.batch_size} x {cfg.num_steps} time steps, "
               f"gradients clipped at norm {cfg.grad_clip:g}; the last {len(gl.valid_of(corpus)):,} characters "
               "are held out for validation. *examples/sec* counts predicted characters.")
else:
    width = 2 * cfg.context + 1
    st.caption(f"Windows of {width} characters ({cfg.context} each side of the blank), one starting every "
               f"{cfg.context + 1} characters of the {len(text):,} trained on "
               f"(about {len(text) // (cfg.context + 1):,} "
               f"examples an epoch, batch {cfg.blank_batch_size}); the windows of the last "
               f"{len(gl.valid_of(corpus)):,} characters are held out. A guess of the commonest character, the "
               "space, is right about 17-18% of the time.")

st.subheader("What the trained nets do")
if task == "lm":
    prefix = gl.clean_text(controls.text_input("prefix for generation", "prefix", "time traveller ", max_chars=80))
    left = right = ""
else:
    prefix = ""
    blank = controls.text_input("a text with one blank, written _", "blank_text", "the time trav_ller", max_chars=80)
    left_raw, sep, right_raw = blank.partition("_")
    left, right = (gl.clean_text(left_raw), gl.clean_text(right_raw)) if sep else ("", "")
log_y = controls.toggle("log-scale perplexity", "log_y", True) if task == "lm" else False


def _fmt(value, fmt: str) -> str:
    return fmt.format(value) if value is not None else "–"


def show(seen: dict) -> None:
    runs = [r for r in seen["runs"] if r["task"] == task]
    if not runs:
        return
    for r in runs:
        way = "bidirectional" if r["bidirectional"] else "one-directional (left to right)"
        st.markdown(f"**{r['name'] or way}**" + (f" ({way})" if r["name"] else "") + f", epoch {r['epoch']}")
        c1, c2, c3 = st.columns([1, 1, 4])
        if task == "lm":
            c1.metric("training perplexity", _fmt(r["perplexity"], "{:.2f}"),
                      help="exp(mean cross-entropy per character) over the last epoch; 1 is perfect.")
            c2.metric("validation perplexity", _fmt(r["valid_perplexity"], "{:.2f}"),
                      help="The held-out end of the text, read the same way: both directions see it whole.")
            if prefix:
                c3.caption("Greedy generation after the prefix, one character at a time:")
                c3.code(r["text"], language=None, wrap_lines=True)
            else:
                c3.info("Type a prefix with at least one letter to generate text.", icon=":material/edit:")
        else:
            c1.metric("training accuracy", _fmt(r["accuracy"], "{:.1%}"),
                      help="Blanks filled correctly over the last epoch's windows.")
            c2.metric("held-out accuracy", _fmt(r["valid_accuracy"], "{:.1%}"),
                      help="Blanks filled correctly in the held-out end of the text.")
            if r["fills"]:
                guesses = ", ".join(f"'{c if c != ' ' else '␣'}' {p:.0%}" for c, p in r["fills"])
                c3.markdown(f"Its likeliest characters for the blank in *{left}_{right}*: {guesses}")
            else:
                c3.info("Type a text with a blank written _ between letters to see its guesses.",
                        icon=":material/edit:")
    if len(runs) > 1:
        key = "valid_perplexity" if task == "lm" else "valid_accuracy"
        better = {r["name"]: r[key] for r in runs if r[key] is not None}
        if len(better) == len(runs):
            st.caption("Held-out " + ("perplexity" if task == "lm" else "accuracy") + ": "
                       + " against ".join(f"{name} {_fmt(v, '{:.2f}' if task == 'lm' else '{:.1%}')}"
                                          for name, v in better.items()))


seed, device = controls.seed(), controls.device()
text_id = gl.fingerprint(corpus, vocab)
if task == "lm":
    charts_ = [perplexity_chart(log_y, book_train=br.BOOK_TRAIN_PERPLEXITY,
                                book_train_note="0.x editions, 2-layer bidirectional LSTM, 256 hidden units, "
                                                "500 epochs"),
               minibatch_perplexity_chart(log_y)]
else:
    charts_ = [ACCURACY]
live_panel(
    f"bidirectional_rnn:{task}", cfg, "bidirectional_rnn", data=(corpus, vocab),
    data_key=f"bidirectional_rnn:{text_id}",
    seed=seed, device=device, context={"data": text_id},
    charts_=charts_,
    label=lambda c: (f"{'bi' if c.bidirectional else 'uni'} {c.num_layers}-layer {c.cell.upper()}, "
                     f"h={c.num_hiddens}, {br.TASKS[c.task]}"),
    views=[View("core.experiments.bidirectional_rnn:look", show, every=5.0,
                params={"prefix": prefix, "left": left, "right": right, "num_preds": NUM_PREDS})],
    presets=br.PRESETS,
)

st.subheader("What to look for")
st.markdown(
    "- **Language model:** the bidirectional run's perplexity falls much faster and much lower than the "
    "one-directional run's, yet its generated text is a repeated character or two. A low perplexity is "
    "only evidence of a good language model when the model could not see the answer.\n"
    "- The one-directional run's perplexity is higher, but its text looks like words: it learned to "
    "predict from the past, which is all there is when generating.\n"
    "- **Fill in the blank:** here the bidirectional net wins honestly, on held-out text too: the letters "
    "after the blank (*trav_ller*) pin it down, which a left-to-right reader at the blank cannot know.\n"
    "- Bidirectional nets are for encoding a whole sequence whose every part is given (tagging, "
    "translation's encoder, filling gaps), not for predicting the next token."
)
