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


st.title("Language models and minibatches of text")
st.markdown(
    "A language model gives a probability to a sequence of tokens. By the chain rule it is a product of each "
    "token's probability given the ones before it; counting how often words follow each other estimates these "
    "from a text. Long histories are rarely seen twice, so **n-gram** models keep only the last n - 1 tokens, "
    "and **Laplace smoothing** gives unseen n-grams a little probability. Training a neural language model "
    "instead reads the text in **minibatches of subsequences**, cut in one of two ways, drawn below on "
    "The Time Machine."
)
st.latex(r"P(x_1, x_2, x_3, x_4) = P(x_1) P(x_2 \mid x_1) P(x_3 \mid x_1, x_2) P(x_4 \mid x_1, x_2, x_3)")
st.latex(r"\begin{aligned} \text{unigram: } & P(x_1) P(x_2) P(x_3) P(x_4) \\ \text{bigram: } & P(x_1) "
         r"P(x_2 \mid x_1) P(x_3 \mid x_2) P(x_4 \mid x_3) \\ \text{trigram: } & P(x_1) P(x_2 \mid x_1) "
         r"P(x_3 \mid x_1, x_2) P(x_4 \mid x_2, x_3) \end{aligned}")
st.latex(r"\hat P(x) = \frac{n(x) + \epsilon_1 / m}{n + \epsilon_1} \qquad "
         r"\hat P(x' \mid x) = \frac{n(x, x') + \epsilon_2 \hat P(x')}{n(x) + \epsilon_2} \qquad "
         r"\hat P(x'' \mid x, x') = \frac{n(x, x', x'') + \epsilon_3 \hat P(x'')}{n(x, x') + \epsilon_3}")
st.caption("n is the number of tokens, m the number of distinct ones, n(x, x') how often x' follows x; "
           "ε = 0 gives the plain frequency ratios, a large ε pulls every estimate toward the uniform one.")

text = dataset("The Time Machine", lambda **kw: locate_time_machine(**kw).read_text(encoding="utf-8"),
               cache_key="timemachine:raw",
               stand_in=("a ten-line paragraph written for the playground", lambda: ts.SAMPLE_TEXT),
               upload=("Or use your own text: a plain-text file (UTF-8)", ["txt"], validate_text_upload),
               upload_max_chars=MAX_TEXT)
if text is None:
    st.stop()
got = per_text(book_words_and_chars, text)

st.header("1. n-grams")
st.page_link("topics/text_preprocessing.py", label="Text preprocessing (9.2) draws Zipf's law for 1-, 2- and 3-grams",
             icon=":material/text_fields:")
cols = st.columns(3)
for col, n, name in zip(cols, (1, 2, 3), ("unigrams", "bigrams", "trigrams")):
    col.dataframe(pd.DataFrame([{name[:-1]: " ".join(g), "count": c} for g, c in got["top"][n]]),
                  hide_index=True, width="stretch")
words = got["words"]
if len(words) > 1:
    x, x2 = words[0], words[1]
    plain, smooth = pt.laplace(words, x, x2, 0.0, 0.0), pt.laplace(words, x, x2, 1.0, 1.0)
    st.markdown(f"The text's first two words, **{x} {x2}**: n({x}, {x2}) = {plain['n_pair']:,} and "
                f"n({x}) = {plain['n_x']:,}, so P({x2} | {x}) = {plain['p_x2_given_x']:.6f} by counting and "
                f"{smooth['p_x2_given_x']:.6f} with ε₁ = ε₂ = 1 (n = {plain['n']:,} words, m = {plain['m']:,} "
                "distinct).")

st.header("2. Minibatches of subsequences")
st.markdown("Each minibatch is batch_size rows of num_steps characters (X), and the same shifted by one (Y, the "
            "next characters to predict). **Sequential partitioning** lays the text out as batch_size long rows "
            "and walks along them, so row i of the next minibatch continues row i of this one and the hidden "
            "state can carry over. **Random sampling** cuts the text into subsequences and shuffles them, so "
            "neighbouring minibatches need not be neighbours in the text.")
form = controls.Form(Partition)
scheme, batch_size, num_steps = form.draw("scheme", "batch_size", "num_steps", columns=3)
offset, order_seed, n_chars = form.draw("offset", "order_seed", "n_chars", columns=3)
random = scheme == "random"
top = pt.max_offset(num_steps, random)
if offset > top:
    st.caption(f":material/warning: The offset is at most {top} for {SCHEMES[scheme]} with num_steps = "
               f"{num_steps}; using {top}.")
    offset = top
corpus = got["chars"][:n_chars]
if len(corpus) < n_chars:
    st.caption(f"The text has only {len(corpus)} characters after preprocessing; all of them are used.")
n = len(corpus)
count = pt.num_batches(n, batch_size, num_steps, random, offset)
if count == 0:
    st.warning(f"{n} characters are too few for one minibatch of {batch_size} × {num_steps} (and one more "
               "character for Y): take more characters, or a smaller batch_size or num_steps.",
               icon=":material/warning:")
    st.stop()
order = pt.shuffled(n, num_steps, offset, order_seed) if random else None
spans = pt.spans(n, batch_size, num_steps, random, offset, order)
(picked,) = form.draw("minibatch")
if picked > count - 1:
    st.caption(f":material/warning: This epoch has {count} minibatches (0 to {count - 1}); showing the last.")
    picked = count - 1
owners = pt.owner(n, spans)
fig = figs.character_cells(corpus, owners, picked, WIDTH,
                           f"{SCHEMES[scheme].capitalize()}, offset {offset}: {count} minibatches of {batch_size} "
                           f"× {num_steps}; minibatch {picked} outlined")
chosen = [sp for sp in spans if sp.batch == picked]
figs.label_rows(fig, [seg for sp in chosen for seg in pt.segments(sp, WIDTH)])
st.plotly_chart(fig, key="langmod:cells", width="stretch")
unused = sum(o is None for o in owners)
st.caption(f"Every colour is one minibatch (colours repeat after 8); hover a character for its minibatch and row. "
           f"Grey characters ({unused} of {n}) are in no X this epoch: the offset at the start, and the rest "
           "at the end that does not fill a minibatch. Spaces are shown as dots; the book's preprocessing joins "
           "the lines without a space.")

rows = []
after = pt.continues(spans, picked)
before = pt.continues(spans, picked - 1) if picked > 0 else []
for sp in sorted(chosen, key=lambda s: s.row):
    rows.append({"row": sp.row, "positions": f"{sp.start}-{sp.stop - 1}", "X": corpus[sp.start:sp.stop],
                 "Y": corpus[sp.start + 1:sp.stop + 1],
                 "continues the previous minibatch's row": ("yes" if before[sp.row] else "no") if before else "-",
                 "continued by the next minibatch's row": ("yes" if after[sp.row] else "no") if after else "-"})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
carried = sum(after) if after else None
if carried is None:
    st.info(f"Minibatch {picked} is the epoch's last.", icon=":material/info:")
elif random:
    st.info(f"{carried} of {batch_size} rows of minibatch {picked + 1} happen to continue the same row of minibatch "
            f"{picked}: with random sampling the state must start afresh for every minibatch.",
            icon=":material/shuffle:")
else:
    st.success(f"All {batch_size} rows of minibatch {picked + 1} continue the same row of minibatch {picked}: "
               "the hidden state at the end of a row is the right start for the next minibatch (detached from "
               "the graph, so gradients stop at the minibatch boundary).", icon=":material/arrow_forward:")

with st.expander("What to look for"):
    st.markdown(
        "- **Sequential**: the colours run along the text in batch_size long stretches; step the minibatch picker "
        "and every outlined row moves right by num_steps characters.\n"
        "- **Random**: the colours are scattered; the outlined rows of one minibatch jump around the text, and "
        "the next minibatch starts somewhere else.\n"
        "- **Offset**: moving it shifts every cut, so across epochs (the book draws a new offset each time) a "
        "character is seen at different places in a subsequence.\n"
        "- In either scheme no character is in two X's of one epoch; a few at the start and end are in none.\n"
        "- The counts in part 1: the most frequent words are stop words, and most bigrams and trigrams are rare, "
        "which is why n-gram models need smoothing."
    )
