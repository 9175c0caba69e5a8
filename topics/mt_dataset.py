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

BATCH = 8
STYLE = {"<pad>": f"background-color: {charts.PALE}; color: {charts.MUTED}",
         "<eos>": f"background-color: {charts.faded(charts.PALETTE[2], 0.8)}",
         "<unk>": f"background-color: {charts.faded(charts.PALETTE[4], 0.75)}"}

st.title("Machine translation dataset")
st.markdown("Pairs of an English sentence and its French translation, one pair a line separated by a tab. "
            "The book lower-cases them, puts a space before punctuation, splits on spaces, builds a "
            "vocabulary per language (`min_freq=2`) and cuts or pads every sentence to `num_steps` tokens.")

source = controls.selectbox("Sentence pairs", "pairs_source", ["English-French (fra-eng)", "Your pairs"],
                            "English-French (fra-eng)", help="The book's Tatoeba pairs, or pairs you paste or upload.")
upload_prompt = "Sentence pairs as a UTF-8 text file: source, a tab, target on each line"
if source == "Your pairs":
    text = pasted_or_uploaded(mt.validate_pairs_upload, default=mt.SAMPLE_PAIRS,
                              paste_label="Paste sentence pairs (source, a tab, target on each line)",
                              paste_key="pasted_pairs", upload_key="pairs_upload", types=["txt", "tsv"],
                              upload_label="...or upload them; the file replaces the box above", what="pairs")
    if text is None:
        st.stop()
    skipped, first = per_text(lines_without_tab, text)
    if skipped:
        st.info(messages.skipped_lines(skipped, first), icon=":material/info:")
else:
    got = dataset("The English-French data (fra-eng)", lambda **kw: load_fra(**kw), cache_key="fra-eng:file",
                  stand_in=("30 sentence pairs written for the playground", lambda: mt.SAMPLE_PAIRS),
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
                            help="Every sentence (with its <eos>) is cut or padded to this many tokens.")
source_tok, target_tok, data = per_text(mt.nmt_view, text, num_examples, num_steps, BATCH)  # once per text
n = len(source_tok)
if n < num_examples:
    st.caption(f"The text holds only {n:,} pairs: all of them are used.")

st.header("Raw and preprocessed")
rows = per_text(mt.raw_and_preprocessed, text, 8)
st.dataframe(pd.DataFrame(rows, columns=["raw source", "raw target", "preprocessed source", "preprocessed target"]),
             hide_index=True, width="stretch")
m = st.columns(4)
m[0].metric("pairs used", f"{n:,}")
m[1].metric("source vocabulary", f"{len(data.src_vocab):,}", help="Words seen at least twice, plus <unk>, <pad>, "
            "<bos>, <eos>.")
m[2].metric("target vocabulary", f"{len(data.tgt_vocab):,}")
m[3].metric("cut at num_steps", f"{mt.truncated_share(source_tok, num_steps):.0%} / "
            f"{mt.truncated_share(target_tok, num_steps):.0%}", help="Share of source / target sentences whose "
            "tokens plus <eos> exceed num_steps.")

lengths, src_counts, tgt_counts = mt.length_counts(source_tok, target_tok)
fig = charts.figure("Tokens per sentence", x_title="# tokens per sentence", y_title="count", height=320)
fig.add_bar(x=lengths, y=src_counts, name="source (English)", marker_color=charts.PALETTE[0])
fig.add_bar(x=lengths, y=tgt_counts, name="target (French)", marker_color=charts.PALETTE[1])
fig.add_vline(x=num_steps - 0.5, line=dict(color=charts.BAD, dash="dot"),
              annotation_text=f"longer than num_steps − 1 = {num_steps - 1}: cut", annotation_position="top left")
fig.update_layout(barmode="group", hovermode="x")
st.plotly_chart(fig, key="mt:lengths", width="stretch")

st.header("A padded minibatch")
st.markdown(f"A batch of {BATCH} pairs drawn with seed {controls.seed()} by the training pages' iterator. Each "
            "sentence gets `<eos>`, then is cut to `num_steps` tokens or filled with `<pad>`; `valid_len` counts "
            "the tokens that are not padding.")
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
    st.subheader("source")
    batch_table(X, X_valid_len, data.src_vocab, "mt:src")
with b2:
    st.subheader("target")
    batch_table(Y, Y_valid_len, data.tgt_vocab, "mt:tgt")
st.caption("Grey: <pad>. Green: <eos>. Yellow: <unk>, a word seen only once in these pairs.")
