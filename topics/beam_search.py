"""Beam search, step by step (book section 10.8): the book's toy example, then a trained seq2seq."""
import html
from dataclasses import replace

import pandas as pd
import streamlit as st

from core.experiments import seq2seq as s2s
from core.experiments.seq2seq import BOOK, BOOK_EXAMPLES, STAND_IN_PAIRS, load_corpus, normalize, stand_in_corpus
from core.models.seq2seq import bleu
from core.ops.beam import TOY_TABLE, ToyModel, beam_search, exhaustive_search, greedy_search
from core.train.runs import RunGone
from playground import controls
from playground.data import dataset, file_warning
from playground.live import MINIBATCH, Chart, Readout, live_panel
from playground.tree import candidates_table, draw_search, step_controls

TOY, MODEL = "Toy example", "Trained seq2seq"  # the labels are also the URL's values
NUM_STEPS = BOOK.num_steps

st.title("Beam search, step by step")
st.markdown(
    "A decoder gives, at each time step, a distribution over the next token. **Greedy search** takes the "
    "most likely token every time; **exhaustive search** scores every possible output; **beam search** keeps "
    "the *k* most likely prefixes at each step and expands only those. Finished candidates are ranked by")
st.latex(r"\frac{1}{L^\alpha}\log P(y_1,\ldots,y_L\mid\mathbf{c})"
         r"=\frac{1}{L^\alpha}\sum_{t'=1}^{L}\log P(y_{t'}\mid y_1,\ldots,y_{t'-1},\mathbf{c})")
mode = controls.segmented_control("Search over", "beam_mode", [TOY, MODEL], TOY)
c1, c2 = st.columns(2)
k = controls.slider("beam size k", "beam_k", 1, 6, 2, container=c1, help="k = 1 is greedy search.")
alpha = controls.slider("length penalty α", "beam_alpha", 0.0, 1.5, 0.75, 0.05, container=c2,
                        help="Only the final ranking uses it: the beam keeps the k largest log P at each step.")


def code(words) -> str:
    return "`" + " ".join(words).replace("`", "'") + "`"


if mode == TOY:
    toy = ToyModel()

    decode = toy.decode
    res = beam_search(toy.step, toy.bos, toy.eos, k, toy.max_len, alpha)
    step = step_controls("beam_step", toy.max_len, default=1)
    placed = draw_search(res.tree, step, decode, key="tree:toy", title=f"Beam search with k = {k}, steps 1 to {step}",
                         num_steps=toy.max_len, order="token")
    st.subheader("Candidates so far, ranked by score")
    candidates_table(placed, toy.max_len, alpha, decode, key="ends:toy")

    st.subheader("Greedy, beam and exhaustive search")
    greedy = greedy_search(toy.step, toy.bos, toy.eos, toy.max_len, alpha)
    full = exhaustive_search(toy.step, toy.bos, toy.eos, toy.vocab_size, toy.max_len, alpha)
    runs = [("greedy (k = 1)", greedy, toy.vocab_size * len(greedy.best.tokens)),
            (f"beam (k = {k})", res, sum(len(s) for s in res.tree[1:])),
            ("exhaustive", full, len(full.candidates))]
    st.dataframe(pd.DataFrame([{"search": name, "best sequence": decode(r.best.tokens), "P": r.best.prob,
                                "log P": r.best.log_prob, "score": r.best.score, "candidates scored": n}
                               for name, r, n in runs]),
                 hide_index=True, key="toy:compare",
                 column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("P", "log P", "score")})
    st.caption("The best by score (α above). Greedy: P = .5·.4·.4·.6 = .048; beam with k = 2: .5·.3·.6·.6 = .054.")
    st.subheader("The toy model's conditional probabilities")
    table = [{"prefix": decode(p) or "(start)", **dict(zip(toy.tokens, probs)), "from": "the book"}
             for p, probs in TOY_TABLE.items()]
    table.append({"prefix": "any other prefix", **dict(zip(toy.tokens, toy.DEFAULT)), "from": "filled in here"})
    st.dataframe(pd.DataFrame(table), hide_index=True, key="toy:table")
    st.caption("The book gives only the rows along its two paths (greedy's A B C and A C B); every other "
               "prefix is completed here with the uniform distribution, which the searches also see.")
    st.stop()

# ------------------------------------------------------------------ the real model
corpus = dataset("English-French pairs (fra-eng)", lambda **kw: load_corpus(NUM_STEPS, BOOK.num_examples, **kw),
                 cache_key=("fra-eng", NUM_STEPS, BOOK.num_examples),
                 stand_in=(f"{len(STAND_IN_PAIRS)} short built-in English-French pairs", stand_in_corpus))
if corpus is None:
    st.stop()
file_warning(corpus.path, corpus.notes)
st.markdown(
    f"The book's encoder-decoder (GRU, embedding {BOOK.embed_size}, {BOOK.num_hiddens} hidden units, "
    f"{BOOK.num_layers} layers, dropout {BOOK.dropout}) on the first {len(corpus.data.src_array)} pairs, "
    f"num_steps {NUM_STEPS}, Adam (lr {BOOK.lr}), gradient clipping at 1, batch {BOOK.batch_size}. "
    "The book trains 300 epochs; on a small CPU server that takes several minutes (see *elapsed*), "
    "and the search below works with the model as it is at any moment. It is the same run as on the seq2seq page, "
    "where its shapes, teacher forcing and loss per token are drawn.")
st.page_link("topics/seq2seq.py", label="The model's training: encoder-decoder and seq2seq (10.6-10.7)",
             icon=":material/swap_horiz:")
form = controls.Form(s2s.Config, s2s.RUN_KEY)  # the seq2seq page's settings: one model for both pages
form.draw("num_epochs")
cfg = form.config(remembered=True)
if replace(cfg, num_epochs=BOOK.num_epochs) != BOOK:
    st.caption(f"The model as set on the seq2seq page: embedding {cfg.embed_size}, {cfg.num_hiddens} hidden units, "
               f"{cfg.num_layers} layer(s), dropout {cfg.dropout:g}, lr {cfg.lr:g}.")
seed, device = controls.seed(), controls.device()
R = live_panel(s2s.RUN_KEY, cfg, "seq2seq", data=corpus.data, seed=seed, device=device,
               context={"data": corpus.label},
               charts_=[Chart("Loss per target token", [("train_loss", "train")], log_y=True,
                              reference=[(s2s.BOOK_LOSS_PER_TOKEN,
                                          f"book (0.17.5): {s2s.BOOK_PRINTED_LOSS} after 300 epochs, printed "
                                          f"÷ num_steps; {s2s.BOOK_LOSS_PER_TOKEN:.2g} per token")]), MINIBATCH],
               readouts=[Readout("train_loss", "loss per token", "{:.3f}")],
               label=lambda cfg: f"{corpus.label}, seed {seed}")

st.header("Translate, one step at a time")


def model_translation(R, src: str):
    """The search with the model as it is now (in the run's worker, between two steps), or None after
    saying why there is none yet."""
    if R.building:
        st.info("The model is being set up in a worker: the search appears in a moment.", icon=":material/hourglass:")
        return None
    try:
        return R.probe("core.experiments.seq2seq:translation", src=src, num_steps=NUM_STEPS, k=k, alpha=alpha,
                       branches=branches)
    except (RunGone, TimeoutError):
        st.warning("The model's worker is not answering (see the training panel above).", icon=":material/warning:")
        return None



def pick(sentence: str) -> None:
    controls.set_value("beam_src", sentence)


st.caption("The book's four examples:")
for col, src in zip(st.columns(len(BOOK_EXAMPLES)), BOOK_EXAMPLES):
    col.button(src, key=f"pick:{src}", width="stretch", on_click=pick, args=(src,))
c1, c2, c3 = st.columns([3, 3, 2])
text = controls.text_input("English sentence", "beam_src", "go .", max_chars=200, container=c1)
typed_ref = controls.text_input("Reference translation (optional)", "beam_ref", "", container=c2,
                                help="Empty: the book's reference, or the data's own translation of the sentence.")
branches = controls.slider("branches drawn", "beam_branches", 1, 6, 3, container=c3,
                           help="Per hypothesis: its most likely next words (plus any kept ones) are drawn.")
src = normalize(text)
if not src:
    st.info("Type an English sentence to translate.", icon=":material/edit:")
    st.stop()
data = corpus.data
tr = model_translation(R, src)
if tr is None:
    st.stop()
if tr.unknown:
    st.warning(f"Not in the model's English vocabulary, read as `<unk>`: {code(tr.unknown)}", icon=":material/help:")
if len(tr.src_tokens) + 1 > NUM_STEPS:
    st.caption(f"The encoder reads only the first {NUM_STEPS - 1} words (num_steps = {NUM_STEPS}, `<eos>` included).")
reference = normalize(typed_ref) or corpus.reference(src)


def decode(tokens, eos=True):
    return " ".join(w for w in data.tgt_vocab.to_tokens(list(tokens)) if eos or w != "<eos>")


search_len = len(tr.tree) - 1
step = step_controls("beam_mstep", NUM_STEPS, default=1, end=search_len, reset_on=src)  # a new sentence: step 1
placed = draw_search(tr.tree, min(step, search_len), decode, key="tree:model", num_steps=NUM_STEPS,
                     title=f"Translating “{html.escape(' '.join(tr.src_tokens))}” with k = {k}",
                     label_pruned=False, label_width=1.3)
done = step >= search_len
st.caption(f"The search ended at step {search_len}: every hypothesis in the beam had finished." if done else
           f"{search_len - step} more step(s) to the end of the search.")
st.subheader("Candidates so far, ranked by score")
candidates_table(placed, NUM_STEPS, alpha, decode, key="ends:model",
                 bleu=(lambda p: bleu(decode(p.prefix, eos=False), reference, 2)) if reference else None)
m1, m2 = st.columns(2)
m1.metric("best translation", tr.text if done else "…", help="Shown once the search has ended (press Next).")
m2.metric("BLEU (k = 2)", f"{bleu(tr.text, reference, 2):.3f}" if reference and done else "–",
          help=f"The book's BLEU against {code([reference])}." if reference else "No reference known: type one.")
