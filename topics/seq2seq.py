"""Encoder-decoder and sequence-to-sequence learning (book sections 10.6-10.7):
the book's GRU seq2seq on English-French pairs trained live, teacher forcing,
the masked loss and BLEU. The beam-search page searches the same model."""
import pandas as pd
import streamlit as st

from core.experiments import seq2seq as s2s
from core.experiments.seq2seq import BOOK, BOOK_BLEU, BOOK_EXAMPLES, STAND_IN_PAIRS, load_corpus, stand_in_corpus
from playground import controls
from playground.data import dataset, file_warning
from playground.i18n import t
from playground.live import MINIBATCH, Chart, Readout, View, live_panel
from playground.seq2seq_figures import architecture_dot, loss_grid, token_grid

ROWS = 6  # pairs drawn in the loss picture

st.title(t("page.seq2seq"))
st.markdown(t("seq2seq.intro"))
st.latex(r"\mathbf{h}_t = f(\mathbf{x}_t, \mathbf{h}_{t-1}),\qquad \mathbf{c} = \mathbf{h}_T,\qquad "
         r"\mathbf{s}_{t'} = g(y_{t'-1}, \mathbf{c}, \mathbf{s}_{t'-1}),\qquad "
         r"P(y_{t'} \mid y_1, \ldots, y_{t'-1}, \mathbf{c}) = \mathrm{softmax}(\mathbf{W}\mathbf{s}_{t'} + \mathbf{b})")

corpus = dataset(t("seq2seq.data_label"),
                 lambda **kw: load_corpus(BOOK.num_steps, BOOK.num_examples, **kw),
                 cache_key=("fra-eng", BOOK.num_steps, BOOK.num_examples),
                 stand_in=(t("seq2seq.stand_in", n=len(STAND_IN_PAIRS)), stand_in_corpus))
if corpus is None:
    st.stop()
file_warning(corpus.path, corpus.notes)
data = corpus.data

form = controls.Form(s2s.Config, s2s.RUN_KEY)
form.draw("embed_size", "num_hiddens", "num_layers", "dropout", columns=4)
form.draw("lr", "num_epochs", columns=2)
cfg = form.config()
st.caption(t("seq2seq.book_settings", embed_size=BOOK.embed_size, num_hiddens=BOOK.num_hiddens,
             num_layers=BOOK.num_layers, dropout=BOOK.dropout, lr=BOOK.lr, grad_clip=BOOK.grad_clip,
             batch_size=BOOK.batch_size, num_examples=BOOK.num_examples, num_steps=BOOK.num_steps))

st.subheader(t("seq2seq.architecture"))
shapes = s2s.architecture(cfg, data)
left, right = st.columns([2, 3])
left.graphviz_chart(architecture_dot(shapes, cfg.num_layers), width="stretch")
TENSOR, SHAPE = t("seq2seq.column_tensor"), t("seq2seq.column_shape")
right.dataframe(pd.DataFrame([{TENSOR: t(f"seq2seq.tensor.{i}") if len(shapes) == 10 else what,
                               SHAPE: " × ".join(map(str, shape))} for i, (what, shape) in enumerate(shapes)]),
                hide_index=True, key="seq2seq:shapes", height=400,
                column_config={TENSOR: st.column_config.TextColumn(width="large")})

st.subheader(t("seq2seq.teacher_forcing"))
st.markdown(t("seq2seq.teacher_forcing_text"))
st.latex(r"\ell = \frac{1}{\sum_i L_i}\sum_i \sum_{t=1}^{\text{num\_steps}} m_{i,t}\,"
         r"\bigl(-\log P(y_{i,t} \mid \text{<bos>}, y_{i,1}, \ldots, y_{i,t-1}, \mathbf{c}_i)\bigr),"
         r"\qquad m_{i,t} = [\,t \le L_i\,]")
tf = s2s.teacher_forcing(data, rows=4)
labels = [f"{i + 1}" for i in range(len(tf["src"]))]
c1, c2 = st.columns(2)
c1.plotly_chart(token_grid(tf["src"], [[1 if t < n else 0 for t in range(len(r))]
                                       for r, n in zip(tf["src"], tf["src_valid_len"])],
                           t("seq2seq.grid_src"), row_labels=labels),
                key="seq2seq:src", width="stretch")
c2.plotly_chart(token_grid(tf["dec_input"], tf["mask"], t("seq2seq.grid_dec"),
                           row_labels=labels), key="seq2seq:dec", width="stretch")
c1.plotly_chart(token_grid(tf["tgt"], tf["mask"], t("seq2seq.grid_tgt"), row_labels=labels),
                key="seq2seq:tgt", width="stretch")
c2.dataframe(pd.DataFrame({t("seq2seq.column_pair"): labels, t("seq2seq.column_src_len"): tf["src_valid_len"],
                           t("seq2seq.column_tgt_len"): tf["tgt_valid_len"],
                           t("seq2seq.column_counted"): [int(m.sum()) for m in tf["mask"]]}),
             hide_index=True, key="seq2seq:lens")

st.subheader(t("seq2seq.training"))
seed, device = controls.seed(), controls.device()


def show(seen: dict) -> None:
    rows = [f"{i + 1}: {src}" for i, src in enumerate(seen["src"])]
    title = t("seq2seq.loss_title", epoch=seen["epoch"], mean=f"{seen['loss_per_token']:.3f}")
    st.plotly_chart(loss_grid(seen["losses"], seen["tgt"], title, row_labels=rows), key="seq2seq:losses",
                    width="stretch")
    st.caption(t("seq2seq.greedy_caption"))
    bleu_ = t("seq2seq.column_bleu")
    st.dataframe(pd.DataFrame([{t("seq2seq.column_english"): r["src"],
                                t("seq2seq.column_translation"): r["translation"] or t("seq2seq.nothing"),
                                t("seq2seq.column_reference"): r["reference"], bleu_: r["bleu"],
                                t("seq2seq.column_book_bleu"): " / ".join(f"{b:.3f}" for b in BOOK_BLEU[r["src"]])}
                               for r in seen["translations"]]),
                 hide_index=True, key="seq2seq:translations",
                 column_config={bleu_: st.column_config.NumberColumn(format="%.3f")})


live_panel(s2s.RUN_KEY, cfg, "seq2seq", data=data, seed=seed, device=device, context={"data": corpus.label},
           charts_=[Chart(t("seq2seq.chart_loss"), [("train_loss", t("seq2seq.curve_train"))], log_y=True,
                          reference=[(s2s.BOOK_LOSS_PER_TOKEN,
                                      t("seq2seq.ref_book", printed=s2s.BOOK_PRINTED_LOSS,
                                        per_token=f"{s2s.BOOK_LOSS_PER_TOKEN:.2g}"))]),
                    Chart(t("seq2seq.chart_bleu"),
                          [(s2s.bleu_key(src), src) for src in BOOK_EXAMPLES], y_title="BLEU"),
                    MINIBATCH],
           readouts=[Readout("train_loss", t("seq2seq.readout_loss"), "{:.3f}")],
           label=lambda c: t("seq2seq.run_label", embed_size=c.embed_size, num_hiddens=c.num_hiddens,
                             num_layers=c.num_layers, lr=f"{c.lr:g}"),
           views=[View("core.experiments.seq2seq:look", show, every="epoch", params={"rows": ROWS})])

st.page_link("topics/beam_search.py", label=t("seq2seq.beam_link"),
             icon=":material/account_tree:")
st.markdown(t("seq2seq.look"))
