"""Language models and minibatches of text (book section 9.3): n-grams with
Laplace smoothing, and how random and sequential partitioning cut a text
into minibatches."""
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.data.text import lines_from_text, locate_time_machine, validate_text_upload
from core.data.vocab import tokenize
from core.experiments.schema import setting
from core.ops import partitioning as pt
from core.ops import text_stats as ts
from playground import controls
from playground import sequence_figures as figs
from playground.data import MAX_TEXT, dataset, per_text
from playground.i18n import t

SCHEMES = {"sequential": "sequential partitioning", "random": "random sampling"}
WIDTH = 60  # characters to a line of the picture


@dataclass(frozen=True)
class Partition:
    scheme: str = setting("sequential", "partitioning", kind="segmented", options=tuple(SCHEMES), labels=SCHEMES,
                          help="Sequential: minibatch j+1 continues each row of minibatch j. Random: subsequences "
                               "in a shuffled order, so neighbouring minibatches need not be neighbours in the text.")
    batch_size: int = setting(3, "batch_size", min=1, max=8, help="Rows (subsequences) per minibatch.")
    num_steps: int = setting(8, "num_steps", min=2, max=20, help="Characters per subsequence.")
    offset: int = setting(0, "random offset", min=0, max=20,
                          help="Where the first subsequence starts: the book draws it anew each epoch, from "
                               "0 to num_steps (sequential) or num_steps - 1 (random), so every epoch cuts the text "
                               "differently.")
    order_seed: int = setting(0, "shuffle seed (random sampling)", min=0, max=99,
                              help="Seeds the torch.Generator that shuffles the subsequences.")
    n_chars: int = setting(240, "characters of the text", min=60, max=600, step=30,
                           help="The corpus partitioned here: the first characters of the preprocessed text.")
    minibatch: int = setting(0, "minibatch to pick out", min=0, max=99)


def book_words_and_chars(text: str) -> dict:
    """The book's preprocessing: the lines (letters only, lower case), their
    characters joined as the character corpus, the word tokens, the top n-grams."""
    lines = lines_from_text(text)
    words = [w for line in tokenize(lines, "word") for w in line]
    return {"chars": "".join(lines), "words": words,
            "top": {n: ts.ngram_freqs(words, n)[:5] for n in (1, 2, 3)}}


st.title(t("page.language_models"))
st.markdown(t("language_models.intro"))
st.latex(r"P(x_1, x_2, x_3, x_4) = P(x_1) P(x_2 \mid x_1) P(x_3 \mid x_1, x_2) P(x_4 \mid x_1, x_2, x_3)")
st.latex(r"\begin{aligned} \text{" + t("language_models.unigram") + r": } & P(x_1) P(x_2) P(x_3) P(x_4) \\ "
         r"\text{" + t("language_models.bigram") + r": } & P(x_1) P(x_2 \mid x_1) P(x_3 \mid x_2) P(x_4 \mid x_3) \\ "
         r"\text{" + t("language_models.trigram") + r": } & P(x_1) P(x_2 \mid x_1) "
         r"P(x_3 \mid x_1, x_2) P(x_4 \mid x_2, x_3) \end{aligned}")
st.latex(r"\hat P(x) = \frac{n(x) + \epsilon_1 / m}{n + \epsilon_1} \qquad "
         r"\hat P(x' \mid x) = \frac{n(x, x') + \epsilon_2 \hat P(x')}{n(x) + \epsilon_2} \qquad "
         r"\hat P(x'' \mid x, x') = \frac{n(x, x', x'') + \epsilon_3 \hat P(x'')}{n(x, x') + \epsilon_3}")
st.caption(t("language_models.laplace_caption"))

text = dataset(t("lm_charts.time_machine"), lambda **kw: locate_time_machine(**kw).read_text(encoding="utf-8"),
               cache_key="timemachine:raw",
               stand_in=(t("language_models.stand_in"), lambda: ts.SAMPLE_TEXT),
               upload=(t("language_models.upload"), ["txt"], validate_text_upload),
               upload_max_chars=MAX_TEXT)
if text is None:
    st.stop()
got = per_text(book_words_and_chars, text)

st.header(t("language_models.ngrams"))
st.page_link("topics/text_preprocessing.py", label=t("language_models.zipf_link"),
             icon=":material/text_fields:")
cols = st.columns(3)
for col, n, name in zip(cols, (1, 2, 3), ("unigram", "bigram", "trigram")):
    col.dataframe(pd.DataFrame([{t(f"language_models.{name}"): " ".join(g), t("language_models.count"): c}
                                for g, c in got["top"][n]]),
                  hide_index=True, width="stretch")
words = got["words"]
if len(words) > 1:
    x, x2 = words[0], words[1]
    plain, smooth = pt.laplace(words, x, x2, 0.0, 0.0), pt.laplace(words, x, x2, 1.0, 1.0)
    st.markdown(t("language_models.first_words", x=x, x2=x2, n_pair=f"{plain['n_pair']:,}", n_x=f"{plain['n_x']:,}",
                  plain=f"{plain['p_x2_given_x']:.6f}", smooth=f"{smooth['p_x2_given_x']:.6f}",
                  n=f"{plain['n']:,}", m=f"{plain['m']:,}"))

st.header(t("language_models.minibatches"))
st.markdown(t("language_models.partition_intro"))
form = controls.Form(Partition)
scheme, batch_size, num_steps = form.draw("scheme", "batch_size", "num_steps", columns=3)
offset, order_seed, n_chars = form.draw("offset", "order_seed", "n_chars", columns=3)
random = scheme == "random"
top = pt.max_offset(num_steps, random)
if offset > top:
    st.caption(":material/warning: " + t("language_models.offset_too_big", top=top, num_steps=num_steps,
                                               scheme=t(f"language_models.option.scheme.{scheme}")))
    offset = top
corpus = got["chars"][:n_chars]
if len(corpus) < n_chars:
    st.caption(t("language_models.short_text", n=len(corpus)))
n = len(corpus)
count = pt.num_batches(n, batch_size, num_steps, random, offset)
if count == 0:
    st.warning(t("language_models.too_few", n=n, batch_size=batch_size, num_steps=num_steps),
               icon=":material/warning:")
    st.stop()
order = pt.shuffled(n, num_steps, offset, order_seed) if random else None
spans = pt.spans(n, batch_size, num_steps, random, offset, order)
(picked,) = form.draw("minibatch")
if picked > count - 1:
    st.caption(":material/warning: " + t("language_models.picked_too_big", count=count, last=count - 1))
    picked = count - 1
owners = pt.owner(n, spans)
fig = figs.character_cells(corpus, owners, picked, WIDTH,
                           t("language_models.cells_title", scheme=t(f"language_models.scheme_title.{scheme}"),
                             offset=offset, count=count, batch_size=batch_size, num_steps=num_steps, picked=picked))
chosen = [sp for sp in spans if sp.batch == picked]
figs.label_rows(fig, [seg for sp in chosen for seg in pt.segments(sp, WIDTH)])
st.plotly_chart(fig, key="langmod:cells", width="stretch")
unused = sum(o is None for o in owners)
st.caption(t("language_models.cells_caption", unused=unused, n=n))

def _yes_no(flag: bool) -> str:
    return t("language_models.yes") if flag else t("language_models.no")


rows = []
after = pt.continues(spans, picked)
before = pt.continues(spans, picked - 1) if picked > 0 else []
for sp in sorted(chosen, key=lambda s: s.row):
    rows.append({t("language_models.col_row"): sp.row, t("language_models.col_positions"): f"{sp.start}-{sp.stop - 1}",
                 "X": corpus[sp.start:sp.stop], "Y": corpus[sp.start + 1:sp.stop + 1],
                 t("language_models.col_continues"): _yes_no(before[sp.row]) if before else "-",
                 t("language_models.col_continued"): _yes_no(after[sp.row]) if after else "-"})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
carried = sum(after) if after else None
if carried is None:
    st.info(t("language_models.last", picked=picked), icon=":material/info:")
elif random:
    st.info(t("language_models.random_rows", carried=carried, batch_size=batch_size, next=picked + 1, picked=picked),
            icon=":material/shuffle:")
else:
    st.success(t("language_models.sequential_rows", batch_size=batch_size, next=picked + 1, picked=picked),
               icon=":material/arrow_forward:")

with st.expander(t("common.what_to_look_for")):
    st.markdown(t("language_models.look"))
