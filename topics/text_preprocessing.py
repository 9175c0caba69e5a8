"""Converting raw text into sequence data (book section 9.2), with the
frequency statistics of section 9.3."""
import pandas as pd
import streamlit as st

from core.data.text import lines_from_text, locate_time_machine, validate_text_upload
from core.data.vocab import Vocab, tokenize
from core.ops import text_stats as ts
from playground import charts, controls
from playground.data import MAX_TEXT, dataset, pasted_or_uploaded, per_text
from playground.i18n import t


def split(text: str, token: str) -> dict:
    """Lines, tokens and n-gram counts of `text`: what every setting below but
    min_freq shows, computed once per text (per_text), not on every rerun."""
    raw, lines = ts.raw_lines(text), lines_from_text(text)
    tokens = tokenize(lines, token)
    flat = [tok for line in tokens for tok in line]
    counts = {n: [f for _, f in ts.ngram_freqs(flat, n)] for n in (1, 2, 3)}
    shown = [i for i, line in enumerate(lines) if line][:8]
    return {"rows": {"raw": [raw[i].rstrip("\n") for i in shown], "preprocessed": [lines[i] for i in shown],
                     "tokens": [" | ".join(tokens[i]) for i in shown]},
            "lines": len(lines), "non_empty": sum(1 for line in lines if line), "tokens": tokens, "flat": flat,
            "zipf": {n: ts.log_spaced_ranks(c) for n, c in counts.items()},
            "most_ngrams": max(len(c) for c in counts.values())}


def indexed(text: str, token: str, min_freq: int) -> tuple[Vocab, ts.RoundTrip]:
    """The vocabulary for `min_freq` and the round trip of the tokens through it."""
    got = per_text(split, text, token)
    vocab = Vocab(got["tokens"], min_freq=min_freq)
    return vocab, ts.round_trip(got["flat"], vocab)


st.title(t("page.text_preprocessing"))
st.markdown(t("text_preprocessing.intro"))

SOURCES = {"The Time Machine": "time_machine", "Your text": "yours"}  # the URL's values, shown in the page's language
source = controls.selectbox(t("text_preprocessing.source"), "text_source", list(SOURCES), "The Time Machine",
                            format_func=lambda o: t(f"text_preprocessing.source_{SOURCES[o]}"),
                            help=t("text_preprocessing.source_help"))
if source == "The Time Machine":
    text = dataset(t("lm_charts.time_machine"), lambda **kw: locate_time_machine(**kw).read_text(encoding="utf-8"),
                   cache_key="timemachine:raw",
                   stand_in=(t("language_models.stand_in"), lambda: ts.SAMPLE_TEXT),
                   upload=(t("language_models.upload"), ["txt"], validate_text_upload),
                   upload_max_chars=MAX_TEXT)
    if text is None:
        st.stop()
else:
    text = pasted_or_uploaded(validate_text_upload, default=ts.SAMPLE_TEXT, paste_label=t("text_preprocessing.paste"),
                              paste_key="pasted_text", help=t("text_preprocessing.paste_help"),
                              upload_label=t("text_preprocessing.upload"),
                              upload_key="text_upload", types=["txt"], what="text")
    if text is None:
        st.stop()

c1, c2 = st.columns(2)
token = controls.selectbox(t("text_preprocessing.token"), "token", ["word", "char"], "word", container=c1,
                           format_func=lambda o: t(f"text_preprocessing.token_{o}"),
                           help=t("text_preprocessing.token_help"))
min_freq = controls.slider("min_freq", "min_freq", 0, 20, 0, container=c2, help=t("text_preprocessing.min_freq_help"))

got = per_text(split, text, token)
vocab, trip = per_text(indexed, text, token, min_freq)
flat = got["flat"]

st.header(t("text_preprocessing.lines_header"))
columns = {name: t(f"text_preprocessing.col_{name}") for name in got["rows"]}
st.dataframe(pd.DataFrame(got["rows"]).rename(columns=columns), hide_index=True, width="stretch",
             column_config={columns["raw"]: st.column_config.TextColumn(width="medium"),
                            columns["preprocessed"]: st.column_config.TextColumn(width="medium"),
                            columns["tokens"]: st.column_config.TextColumn(width="large")})
st.caption(t("text_preprocessing.lines_caption", lines=f"{got['lines']:,}", non_empty=f"{got['non_empty']:,}"))

st.header(t("text_preprocessing.vocab_header"))
m = st.columns(4)
m[0].metric(t("text_preprocessing.m_tokens"), f"{len(flat):,}")
m[1].metric(t("text_preprocessing.m_distinct"), f"{len(vocab.token_freqs):,}")
m[2].metric(t("text_preprocessing.m_vocab"), f"{len(vocab):,}", help=t("text_preprocessing.m_vocab_help"))
m[3].metric(t("text_preprocessing.m_unk"), f"{trip.num_unk:,}")
table = pd.DataFrame(ts.freq_table(vocab))
table["in vocabulary"] = table["index"] != vocab.unk
table = table.rename(columns={name: t("text_preprocessing.col_" + name.replace(" ", "_")) for name in table})
t1, t2 = st.columns([2, 3])
t1.dataframe(table, hide_index=True, width="stretch", height=360)

fig = charts.figure(t("text_preprocessing.zipf_title"), x_title=t("text_preprocessing.col_rank"),
                    y_title=t("text_preprocessing.col_frequency"), log_y=True, height=360)
fig.update_xaxes(type="log")
for n, name in ((1, "unigrams"), (2, "bigrams"), (3, "trigrams")):
    charts.add_line(fig, *got["zipf"][n], t(f"text_preprocessing.{name}"), color=charts.PALETTE[n - 1],
                    dash=charts.DASHES[n - 1])
if min_freq > 1:
    charts.add_line(fig, [1, got["most_ngrams"]], [min_freq, min_freq],
                    f"min_freq = {min_freq}", color=charts.BAD, dash="dot", width=1.5)
fig.update_xaxes(dtick=1)
fig.update_yaxes(dtick=1)
t2.plotly_chart(fig, key="text:zipf", width="stretch")
st.caption(t("text_preprocessing.zipf_caption"))

st.header(t("text_preprocessing.indices_header"))
first_n = controls.slider(t("text_preprocessing.first_n"), "first_n", 10, 200, 30, 10)
head = pd.DataFrame({t("text_preprocessing.col_position"): range(min(first_n, len(flat))),
                     t("text_preprocessing.col_token"): trip.tokens[:first_n],
                     t("text_preprocessing.col_index"): trip.indices[:first_n],
                     t("text_preprocessing.col_back"): trip.back[:first_n]})
i1, i2 = st.columns([2, 3])
i1.dataframe(head, hide_index=True, width="stretch", height=360)
i2.code("corpus = " + str(trip.indices[:first_n]) + (" ..." if len(flat) > first_n else ""),
        language=None, wrap_lines=True)
if trip.ok:
    i2.success(t("text_preprocessing.round_trip_unk", n=f"{len(flat):,}", unk=f"{trip.num_unk:,}") if trip.num_unk
               else t("text_preprocessing.round_trip", n=f"{len(flat):,}"), icon=":material/check_circle:")
else:
    i2.error(t("text_preprocessing.round_trip_failed", n=f"{trip.num_mismatch:,}"), icon=":material/cancel:")
