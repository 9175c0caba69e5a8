"""Encoder-decoder and sequence-to-sequence learning (book sections 10.6-10.7):
the book's GRU seq2seq on English-French pairs trained live, teacher forcing,
the masked loss and BLEU. The beam-search page searches the same model."""
import pandas as pd
import streamlit as st

from core.experiments import seq2seq as s2s
from core.experiments.seq2seq import BOOK, BOOK_BLEU, BOOK_EXAMPLES, STAND_IN_PAIRS, load_corpus, stand_in_corpus
from playground import controls
from playground.data import dataset, file_warning
from playground.live import MINIBATCH, Chart, Readout, View, live_panel
from playground.seq2seq_figures import architecture_dot, loss_grid, token_grid

ROWS = 6  # pairs drawn in the loss picture

st.title("Encoder-decoder and seq2seq training")
st.markdown(
    "An **encoder** reads the source sentence into a state; a **decoder** writes the target one token at a time "
    "from that state. In the book's seq2seq both are GRUs: the encoder's final hidden state of every layer starts "
    "the decoder, and its top layer's last output, the **context** c, is fed to the decoder at every step next "
    "to the embedding of the previous target token.")
st.latex(r"\mathbf{h}_t = f(\mathbf{x}_t, \mathbf{h}_{t-1}),\qquad \mathbf{c} = \mathbf{h}_T,\qquad "
         r"\mathbf{s}_{t'} = g(y_{t'-1}, \mathbf{c}, \mathbf{s}_{t'-1}),\qquad "
         r"P(y_{t'} \mid y_1, \ldots, y_{t'-1}, \mathbf{c}) = \mathrm{softmax}(\mathbf{W}\mathbf{s}_{t'} + \mathbf{b})")

corpus = dataset("English-French pairs (fra-eng)",
                 lambda **kw: load_corpus(BOOK.num_steps, BOOK.num_examples, **kw),
                 cache_key=("fra-eng", BOOK.num_steps, BOOK.num_examples),
                 stand_in=(f"{len(STAND_IN_PAIRS)} short built-in English-French pairs", stand_in_corpus))
if corpus is None:
    st.stop()
file_warning(corpus.path, corpus.notes)
data = corpus.data

form = controls.Form(s2s.Config, s2s.RUN_KEY)
form.draw("embed_size", "num_hiddens", "num_layers", "dropout", columns=4)
form.draw("lr", "num_epochs", columns=2)
cfg = form.config()
st.caption(f"The book's settings: embedding {BOOK.embed_size}, {BOOK.num_hiddens} hidden units, {BOOK.num_layers} "
           f"GRU layers, dropout {BOOK.dropout}, Adam (lr {BOOK.lr}), gradients clipped at norm {BOOK.grad_clip}, "
           f"batch {BOOK.batch_size}, the first {BOOK.num_examples} pairs cut or padded to num_steps = "
           f"{BOOK.num_steps}, 300 epochs. The beam-search page searches this same run: train here, search there.")

st.subheader("The architecture, with the shapes of one minibatch")
shapes = s2s.architecture(cfg, data)
left, right = st.columns([2, 3])
left.graphviz_chart(architecture_dot(shapes, cfg.num_layers), width="stretch")
right.dataframe(pd.DataFrame([{"tensor": what, "shape": " × ".join(map(str, shape))} for what, shape in shapes]),
                hide_index=True, key="seq2seq:shapes", height=400,
                column_config={"tensor": st.column_config.TextColumn(width="large")})

st.subheader("Teacher forcing on one batch")
st.markdown(
    "In training the decoder does not read its own predictions: it reads `<bos>` followed by the **target** "
    "shifted by one, and must predict the target itself at every step. Sentences are padded to num_steps; "
    "the loss counts only the valid positions (the target's words and its `<eos>`), which the mask marks.")
st.latex(r"\ell = \frac{1}{\sum_i L_i}\sum_i \sum_{t=1}^{\text{num\_steps}} m_{i,t}\,"
         r"\bigl(-\log P(y_{i,t} \mid \text{<bos>}, y_{i,1}, \ldots, y_{i,t-1}, \mathbf{c}_i)\bigr),"
         r"\qquad m_{i,t} = [\,t \le L_i\,]")
tf = s2s.teacher_forcing(data, rows=4)
labels = [f"{i + 1}" for i in range(len(tf["src"]))]
c1, c2 = st.columns(2)
c1.plotly_chart(token_grid(tf["src"], [[1 if t < n else 0 for t in range(len(r))]
                                       for r, n in zip(tf["src"], tf["src_valid_len"])],
                           "encoder input: source + <eos>, padded", row_labels=labels),
                key="seq2seq:src", width="stretch")
c2.plotly_chart(token_grid(tf["dec_input"], tf["mask"], "decoder input: <bos> + target shifted",
                           row_labels=labels), key="seq2seq:dec", width="stretch")
c1.plotly_chart(token_grid(tf["tgt"], tf["mask"], "target (what is predicted), blue = mask 1", row_labels=labels),
                key="seq2seq:tgt", width="stretch")
c2.dataframe(pd.DataFrame({"pair": labels, "source valid length": tf["src_valid_len"],
                           "target valid length L": tf["tgt_valid_len"],
                           "tokens the loss counts": [int(m.sum()) for m in tf["mask"]]}),
             hide_index=True, key="seq2seq:lens")

st.subheader("Training")
seed, device = controls.seed(), controls.device()


def show(seen: dict) -> None:
    rows = [f"{i + 1}: {src}" for i, src in enumerate(seen["src"])]
    st.plotly_chart(loss_grid(seen["losses"], seen["tgt"], f"Cross-entropy of each target token under teacher "
                              f"forcing, epoch {seen['epoch']} (mean {seen['loss_per_token']:.3f}; padding blank)",
                              row_labels=rows), key="seq2seq:losses", width="stretch")
    st.caption("Greedy translations of the book's four sentences (the book's `predict_seq2seq`), BLEU with k = 2 "
               "against the book's references; the book's figures after 300 epochs: 0.17.5 / zh 2.0.")
    st.dataframe(pd.DataFrame([{"English": r["src"], "translation": r["translation"] or "(nothing)",
                                "reference": r["reference"], "BLEU": r["bleu"],
                                "book's BLEU": " / ".join(f"{b:.3f}" for b in BOOK_BLEU[r["src"]])}
                               for r in seen["translations"]]),
                 hide_index=True, key="seq2seq:translations",
                 column_config={"BLEU": st.column_config.NumberColumn(format="%.3f")})


live_panel(s2s.RUN_KEY, cfg, "seq2seq", data=data, seed=seed, device=device, context={"data": corpus.label},
           charts_=[Chart("Loss per target token", [("train_loss", "train")], log_y=True,
                          reference=[(s2s.BOOK_LOSS_PER_TOKEN,
                                      f"book (0.17.5): {s2s.BOOK_PRINTED_LOSS} after 300 epochs, printed "
                                      f"÷ num_steps; {s2s.BOOK_LOSS_PER_TOKEN:.2g} per token")]),
                    Chart("BLEU of the book's four sentences (greedy, k = 2)",
                          [(s2s.bleu_key(src), src) for src in BOOK_EXAMPLES], y_title="BLEU"),
                    MINIBATCH],
           readouts=[Readout("train_loss", "loss per token", "{:.3f}")],
           label=lambda c: f"emb {c.embed_size}, h={c.num_hiddens}, {c.num_layers} layer(s), lr={c.lr:g}",
           views=[View("core.experiments.seq2seq:look", show, every="epoch", params={"rows": ROWS})])

st.page_link("topics/beam_search.py", label="Search this model step by step: beam search (10.8)",
             icon=":material/account_tree:")
st.markdown(
    "**What to look for.** The loss per token falls from about log(vocabulary size) towards the book's 0.19; "
    "the tokens that stay expensive longest are the first word of each translation (the decoder knows only "
    "the context then) and rare words. BLEU of *go .* and *i'm home .* reaches 1 once the model has learned "
    "them; *i lost .* (reference *j'ai perdu .*) often stays at 0 because the data has several translations. "
    "Set dropout to 0 or one GRU layer and compare how fast the loss falls.")
