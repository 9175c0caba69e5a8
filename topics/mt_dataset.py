"""The machine translation dataset (book section 10.5): English-French pairs,
preprocessed, tokenized, truncated and padded into minibatches."""
import pandas as pd
import streamlit as st
import torch

from core.data.translation import FraFile, lines_without_tab, load_fra
from core.ops import translation_stats as mt
from core.train.trainer import Batches
from playground import charts, controls, messages
from playground.data import dataset, file_warning, pasted_or_uploaded, per_text
from playground.i18n import t

BATCH = 8
STYLE = {"<pad>": f"background-color: {charts.PALE}; color: {charts.MUTED}",
         "<eos>": f"background-color: {charts.faded(charts.PALETTE[2], 0.8)}",
         "<unk>": f"background-color: {charts.faded(charts.PALETTE[4], 0.75)}"}

st.title(t("page.mt_dataset"))
st.markdown(t("mt_dataset.intro"))

SOURCES = {"English-French (fra-eng)": "fra", "Your pairs": "yours"}  # the URL's values, shown in the page's language
source = controls.selectbox(t("mt_dataset.source"), "pairs_source", list(SOURCES), "English-French (fra-eng)",
                            format_func=lambda o: t(f"mt_dataset.source_{SOURCES[o]}"),
                            help=t("mt_dataset.source_help"))
upload_prompt = t("mt_dataset.upload_prompt")
if source == "Your pairs":
    text = pasted_or_uploaded(mt.validate_pairs_upload, default=mt.SAMPLE_PAIRS,
                              paste_label=t("mt_dataset.paste"),
                              paste_key="pasted_pairs", upload_key="pairs_upload", types=["txt", "tsv"],
                              upload_label=t("mt_dataset.upload"), what="pairs")
    if text is None:
        st.stop()
    skipped, first = per_text(lines_without_tab, text)
    if skipped:
        st.info(messages.skipped_lines(skipped, first), icon=":material/info:")
else:
    got = dataset(t("mt_dataset.data_label"), lambda **kw: load_fra(**kw), cache_key="fra-eng:file",
                  stand_in=(t("mt_dataset.stand_in"), lambda: mt.SAMPLE_PAIRS),
                  upload=(upload_prompt, ["txt", "tsv"], mt.validate_pairs_upload))
    if got is None:
        st.stop()
    if isinstance(got, FraFile):  # the real file (not an upload or the stand-in): is it the book's?
        file_warning(got.path, got.notes)
    text = got.text if isinstance(got, FraFile) else got

c1, c2 = st.columns(2)
num_examples = controls.select_slider("num_examples", "num_examples", [100, 200, 600, 1000, 2000, 5000, 10000,
                                                                        20000], 600, container=c1)
num_steps = controls.slider("num_steps", "num_steps", 2, 40, 8, container=c2,
                            help=t("mt_dataset.num_steps_help"))
source_tok, target_tok, data = per_text(mt.nmt_view, text, num_examples, num_steps, BATCH)  # once per text
n = len(source_tok)
if n < num_examples:
    st.caption(t("mt_dataset.only_pairs", n=n))

st.header(t("mt_dataset.raw_header"))
rows = per_text(mt.raw_and_preprocessed, text, 8)
st.dataframe(pd.DataFrame(rows, columns=[t(f"mt_dataset.col_{c}") for c in ("raw_source", "raw_target", "source",
                                                                             "target")]),
             hide_index=True, width="stretch")
m = st.columns(4)
m[0].metric(t("mt_dataset.m_pairs"), f"{n:,}")
m[1].metric(t("mt_dataset.m_src_vocab"), f"{len(data.src_vocab):,}", help=t("mt_dataset.m_src_vocab_help"))
m[2].metric(t("mt_dataset.m_tgt_vocab"), f"{len(data.tgt_vocab):,}")
m[3].metric(t("mt_dataset.m_cut"), f"{mt.truncated_share(source_tok, num_steps):.0%} / "
            f"{mt.truncated_share(target_tok, num_steps):.0%}", help=t("mt_dataset.m_cut_help"))

lengths, src_counts, tgt_counts = mt.length_counts(source_tok, target_tok)
fig = charts.figure(t("mt_dataset.lengths_title"), x_title=t("mt_dataset.lengths_x"), y_title=t("mt_dataset.lengths_y"),
                    height=320)
fig.add_bar(x=lengths, y=src_counts, name=t("mt_dataset.trace_source"), marker_color=charts.PALETTE[0])
fig.add_bar(x=lengths, y=tgt_counts, name=t("mt_dataset.trace_target"), marker_color=charts.PALETTE[1])
fig.add_vline(x=num_steps - 0.5, line=dict(color=charts.BAD, dash="dot"),
              annotation_text=t("mt_dataset.cut_line", limit=num_steps - 1), annotation_position="top left")
fig.update_layout(barmode="group", hovermode="x")
st.plotly_chart(fig, key="mt:lengths", width="stretch")

st.header(t("mt_dataset.batch_header"))
st.markdown(t("mt_dataset.batch_text", batch=BATCH, seed=controls.seed()))
X, X_valid_len, Y, Y_valid_len = next(iter(Batches(data.src_array, data.src_valid_len, data.tgt_array,
                                                   data.tgt_valid_len, batch_size=BATCH)
                                           .epoch(torch.Generator().manual_seed(controls.seed()))))


def batch_table(array, valid_len, vocab, key):
    df = pd.DataFrame([vocab.to_tokens(row) for row in array], columns=[str(i) for i in range(num_steps)])
    df.insert(0, "valid_len", valid_len.tolist())
    styled = df.style.map(lambda v: STYLE.get(v, ""), subset=df.columns[1:])
    st.dataframe(styled, hide_index=True, width="stretch", key=key,
                 column_config={"valid_len": st.column_config.NumberColumn(pinned=True)})


b1, b2 = st.columns(2) if num_steps <= 6 else (st.container(), st.container())
with b1:
    st.subheader(t("mt_dataset.batch_source"))
    batch_table(X, X_valid_len, data.src_vocab, "mt:src")
with b2:
    st.subheader(t("mt_dataset.batch_target"))
    batch_table(Y, Y_valid_len, data.tgt_vocab, "mt:tgt")
st.caption(t("mt_dataset.colours"))
