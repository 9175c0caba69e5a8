"""Converting raw text into sequence data (book section 9.2), with the
frequency statistics of section 9.3."""
import pandas as pd
import streamlit as st

from core.data.text import lines_from_text, locate_time_machine, validate_text_upload
from core.data.vocab import Vocab, tokenize
from core.ops import text_stats as ts
from playground import charts, controls
from playground.data import MAX_TEXT, dataset, pasted_or_uploaded, per_text


def split(text: str, token: str) -> dict:
    """Lines, tokens and n-gram counts of `text`: what every setting below but
    min_freq shows, computed once per text (per_text), not on every rerun."""
    raw, lines = ts.raw_lines(text), lines_from_text(text)
    tokens = tokenize(lines, token)
    flat = [tok for line in tokens for tok in line]
    counts = {n: [f for _, f in ts.ngram_freqs(flat, n)] for n in (1, 2, 3)}
    shown = [i for i, line in enumerate(lines) if line][:8]
    return {"rows": {"raw line": [raw[i].rstrip("\n") for i in shown], "preprocessed": [lines[i] for i in shown],
                     "tokens": [" | ".join(tokens[i]) for i in shown]},
            "lines": len(lines), "non_empty": sum(1 for line in lines if line), "tokens": tokens, "flat": flat,
            "zipf": {n: ts.log_spaced_ranks(c) for n, c in counts.items()},
            "most_ngrams": max(len(c) for c in counts.values())}


def indexed(text: str, token: str, min_freq: int) -> tuple[Vocab, ts.RoundTrip]:
    """The vocabulary for `min_freq` and the round trip of the tokens through it."""
    got = per_text(split, text, token)
    vocab = Vocab(got["tokens"], min_freq=min_freq)
    return vocab, ts.round_trip(got["flat"], vocab)


st.title("Text preprocessing")
st.markdown("The book's pipeline: read the text as **lines** (letters only, lower case), split them into "
            "**tokens**, build a **vocabulary** that maps every token to an index (rare tokens to `<unk>`), "
            "and turn the text into a sequence of indices.")

source = controls.selectbox("Text", "text_source", ["The Time Machine", "Your text"], "The Time Machine",
                            help="H. G. Wells' novel as the book downloads it, or text you paste or upload.")
if source == "The Time Machine":
    text = dataset("The Time Machine", lambda **kw: locate_time_machine(**kw).read_text(encoding="utf-8"),
                   cache_key="timemachine:raw",
                   stand_in=("a ten-line paragraph written for the playground", lambda: ts.SAMPLE_TEXT),
                   upload=("Or use your own text: a plain-text file (UTF-8)", ["txt"], validate_text_upload),
                   upload_max_chars=MAX_TEXT)
    if text is None:
        st.stop()
else:
    text = pasted_or_uploaded(validate_text_upload, default=ts.SAMPLE_TEXT, paste_label="Paste text",
                              paste_key="pasted_text", help="Any UTF-8 text; only the letters A-Z are kept.",
                              upload_label="...or upload a plain-text file (UTF-8); it replaces the box above",
                              upload_key="text_upload", types=["txt"], what="text")
    if text is None:
        st.stop()

c1, c2 = st.columns(2)
token = controls.selectbox("Tokens", "token", ["word", "char"], "word", container=c1,
                           help="Split lines into words, or into single characters (spaces included).")
min_freq = controls.slider("min_freq", "min_freq", 0, 20, 0, container=c2,
                           help="Tokens seen fewer times than this get no index of their own: they map to <unk>.")

got = per_text(split, text, token)
vocab, trip = per_text(indexed, text, token, min_freq)
flat = got["flat"]

st.header("1. Lines and tokens")
st.dataframe(pd.DataFrame(got["rows"]), hide_index=True, width="stretch",
             column_config={"raw line": st.column_config.TextColumn(width="medium"),
                            "preprocessed": st.column_config.TextColumn(width="medium"),
                            "tokens": st.column_config.TextColumn(width="large")})
st.caption(f"{got['lines']:,} lines, {got['non_empty']:,} of them not empty after preprocessing. "
           "Character tokens include the spaces between words.")

st.header("2. Vocabulary")
m = st.columns(4)
m[0].metric("tokens in the text", f"{len(flat):,}")
m[1].metric("distinct tokens", f"{len(vocab.token_freqs):,}")
m[2].metric("vocabulary size", f"{len(vocab):,}", help="Distinct tokens with frequency >= min_freq, plus <unk>.")
m[3].metric("tokens mapped to <unk>", f"{trip.num_unk:,}")
table = pd.DataFrame(ts.freq_table(vocab))
table["in vocabulary"] = table["index"] != vocab.unk
t1, t2 = st.columns([2, 3])
t1.dataframe(table, hide_index=True, width="stretch", height=360)

fig = charts.figure("Frequency by rank", x_title="rank", y_title="frequency", log_y=True, height=360)
fig.update_xaxes(type="log")
for n, name in ((1, "unigrams"), (2, "bigrams"), (3, "trigrams")):
    charts.add_line(fig, *got["zipf"][n], name, color=charts.PALETTE[n - 1], dash=charts.DASHES[n - 1])
if min_freq > 1:
    charts.add_line(fig, [1, got["most_ngrams"]], [min_freq, min_freq],
                    f"min_freq = {min_freq}", color=charts.BAD, dash="dot", width=1.5)
fig.update_xaxes(dtick=1)
fig.update_yaxes(dtick=1)
t2.plotly_chart(fig, key="text:zipf", width="stretch")
st.caption("On log-log axes word frequencies fall on a nearly straight line (Zipf's law), and so do the "
           "frequencies of bigrams and trigrams; most n-grams are rare, which is why counting them to model "
           "language does not scale.")

st.header("3. The corpus as indices")
first_n = controls.slider("tokens shown", "first_n", 10, 200, 30, 10)
head = pd.DataFrame({"position": range(min(first_n, len(flat))), "token": trip.tokens[:first_n],
                     "index": trip.indices[:first_n], "back to token": trip.back[:first_n]})
i1, i2 = st.columns([2, 3])
i1.dataframe(head, hide_index=True, width="stretch", height=360)
i2.code("corpus = " + str(trip.indices[:first_n]) + (" ..." if len(flat) > first_n else ""),
        language=None, wrap_lines=True)
if trip.ok:
    unk = (f"except the {trip.num_unk:,} mapped to <unk>, which come back as <unk>" if trip.num_unk
           else "exactly: no token is mapped to <unk>")
    i2.success(f"Round trip: indices → tokens gives back all {len(flat):,} tokens, {unk}.",
               icon=":material/check_circle:")
else:
    i2.error(f"Round trip failed: {trip.num_mismatch:,} tokens came back different.", icon=":material/cancel:")
