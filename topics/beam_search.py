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
from playground.i18n import t
from playground.live import MINIBATCH, Chart, Readout, live_panel
from playground.tree import candidates_table, draw_search, step_controls

TOY, MODEL = "Toy example", "Trained seq2seq"  # the URL's values (shown in the page's language)
MODES = {TOY: "mode_toy", MODEL: "mode_model"}
NUM_STEPS = BOOK.num_steps

st.title(t("page.beam_search"))
st.markdown(t("beam_search.intro"))
st.latex(r"\frac{1}{L^\alpha}\log P(y_1,\ldots,y_L\mid\mathbf{c})"
         r"=\frac{1}{L^\alpha}\sum_{t'=1}^{L}\log P(y_{t'}\mid y_1,\ldots,y_{t'-1},\mathbf{c})")
mode = controls.segmented_control(t("beam_search.mode"), "beam_mode", list(MODES), TOY,
                                  format_func=lambda o: t(f"beam_search.{MODES[o]}"))
c1, c2 = st.columns(2)
k = controls.slider(t("beam_search.k"), "beam_k", 1, 6, 2, container=c1, help=t("beam_search.k_help"))
alpha = controls.slider(t("beam_search.alpha"), "beam_alpha", 0.0, 1.5, 0.75, 0.05, container=c2,
                        help=t("beam_search.alpha_help"))


def code(words) -> str:
    return "`" + " ".join(words).replace("`", "'") + "`"


if mode == TOY:
    toy = ToyModel()

    decode = toy.decode
    res = beam_search(toy.step, toy.bos, toy.eos, k, toy.max_len, alpha)
    step = step_controls("beam_step", toy.max_len, default=1)
    placed = draw_search(res.tree, step, decode, key="tree:toy", title=t("beam_search.toy_title", k=k, step=step),
                         num_steps=toy.max_len, order="token")
    st.subheader(t("beam_search.candidates"))
    candidates_table(placed, toy.max_len, alpha, decode, key="ends:toy")

    st.subheader(t("beam_search.compare"))
    greedy = greedy_search(toy.step, toy.bos, toy.eos, toy.max_len, alpha)
    full = exhaustive_search(toy.step, toy.bos, toy.eos, toy.vocab_size, toy.max_len, alpha)
    runs = [(t("beam_search.run_greedy"), greedy, toy.vocab_size * len(greedy.best.tokens)),
            (t("beam_search.run_beam", k=k), res, sum(len(s) for s in res.tree[1:])),
            (t("beam_search.run_exhaustive"), full, len(full.candidates))]
    score = t("tree.column_score")
    st.dataframe(pd.DataFrame([{t("beam_search.col_search"): name, t("beam_search.col_best"): decode(r.best.tokens),
                                "P": r.best.prob, "log P": r.best.log_prob, score: r.best.score,
                                t("beam_search.col_scored"): n}
                               for name, r, n in runs]),
                 hide_index=True, key="toy:compare",
                 column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("P", "log P", score)})
    st.caption(t("beam_search.compare_caption"))
    st.subheader(t("beam_search.toy_table"))
    prefix, source = t("beam_search.col_prefix"), t("beam_search.col_from")
    table = [{prefix: decode(p) or t("beam_search.start"), **dict(zip(toy.tokens, probs)),
              source: t("beam_search.from_book")} for p, probs in TOY_TABLE.items()]
    table.append({prefix: t("beam_search.other_prefix"), **dict(zip(toy.tokens, toy.DEFAULT)),
                  source: t("beam_search.filled_in")})
    st.dataframe(pd.DataFrame(table), hide_index=True, key="toy:table")
    st.caption(t("beam_search.toy_caption"))
    st.stop()

# ------------------------------------------------------------------ the real model
corpus = dataset(t("seq2seq.data_label"), lambda **kw: load_corpus(NUM_STEPS, BOOK.num_examples, **kw),
                 cache_key=("fra-eng", NUM_STEPS, BOOK.num_examples),
                 stand_in=(t("seq2seq.stand_in", n=len(STAND_IN_PAIRS)), stand_in_corpus))
if corpus is None:
    st.stop()
file_warning(corpus.path, corpus.notes)
st.markdown(t("beam_search.model_text", embed_size=BOOK.embed_size, num_hiddens=BOOK.num_hiddens,
               num_layers=BOOK.num_layers, dropout=BOOK.dropout, pairs=len(corpus.data.src_array),
               num_steps=NUM_STEPS, lr=BOOK.lr, batch_size=BOOK.batch_size))
st.page_link("topics/seq2seq.py", label=t("beam_search.seq2seq_link"),
             icon=":material/swap_horiz:")
form = controls.Form(s2s.Config, s2s.RUN_KEY)  # the seq2seq page's settings: one model for both pages
form.draw("num_epochs")
cfg = form.config(remembered=True)
if replace(cfg, num_epochs=BOOK.num_epochs) != BOOK:
    st.caption(t("beam_search.as_set", embed_size=cfg.embed_size, num_hiddens=cfg.num_hiddens,
                 num_layers=cfg.num_layers, dropout=f"{cfg.dropout:g}", lr=f"{cfg.lr:g}"))
seed, device = controls.seed(), controls.device()
R = live_panel(s2s.RUN_KEY, cfg, "seq2seq", data=corpus.data, seed=seed, device=device,
               context={"data": corpus.label},
               charts_=[Chart(t("seq2seq.chart_loss"), [("train_loss", t("seq2seq.curve_train"))], log_y=True,
                              reference=[(s2s.BOOK_LOSS_PER_TOKEN,
                                          t("seq2seq.ref_book", printed=s2s.BOOK_PRINTED_LOSS,
                                            per_token=f"{s2s.BOOK_LOSS_PER_TOKEN:.2g}"))]), MINIBATCH],
               readouts=[Readout("train_loss", t("seq2seq.readout_loss"), "{:.3f}")],
               label=lambda cfg: t("beam_search.run_label", data=corpus.label, seed=seed))

st.header(t("beam_search.translate"))


def model_translation(R, src: str):
    """The search with the model as it is now (in the run's worker, between two steps), or None after
    saying why there is none yet."""
    if R.building:
        st.info(t("beam_search.building"), icon=":material/hourglass:")
        return None
    try:
        return R.probe("core.experiments.seq2seq:translation", src=src, num_steps=NUM_STEPS, k=k, alpha=alpha,
                       branches=branches)
    except (RunGone, TimeoutError):
        st.warning(t("beam_search.not_answering"), icon=":material/warning:")
        return None



def pick(sentence: str) -> None:
    controls.set_value("beam_src", sentence)


st.caption(t("beam_search.examples"))
for col, src in zip(st.columns(len(BOOK_EXAMPLES)), BOOK_EXAMPLES):
    col.button(src, key=f"pick:{src}", width="stretch", on_click=pick, args=(src,))
c1, c2, c3 = st.columns([3, 3, 2])
text = controls.text_input(t("beam_search.sentence"), "beam_src", "go .", max_chars=200, container=c1)
typed_ref = controls.text_input(t("beam_search.reference"), "beam_ref", "", container=c2,
                                help=t("beam_search.reference_help"))
branches = controls.slider(t("beam_search.branches"), "beam_branches", 1, 6, 3, container=c3,
                           help=t("beam_search.branches_help"))
src = normalize(text)
if not src:
    st.info(t("beam_search.type_one"), icon=":material/edit:")
    st.stop()
data = corpus.data
tr = model_translation(R, src)
if tr is None:
    st.stop()
if tr.unknown:
    st.warning(t("beam_search.unknown", words=code(tr.unknown)), icon=":material/help:")
if len(tr.src_tokens) + 1 > NUM_STEPS:
    st.caption(t("beam_search.reads_only", n=NUM_STEPS - 1, num_steps=NUM_STEPS))
reference = normalize(typed_ref) or corpus.reference(src)


def decode(tokens, eos=True):
    return " ".join(w for w in data.tgt_vocab.to_tokens(list(tokens)) if eos or w != "<eos>")


search_len = len(tr.tree) - 1
step = step_controls("beam_mstep", NUM_STEPS, default=1, end=search_len, reset_on=src)  # a new sentence: step 1
placed = draw_search(tr.tree, min(step, search_len), decode, key="tree:model", num_steps=NUM_STEPS,
                     title=t("beam_search.model_title", sentence=html.escape(' '.join(tr.src_tokens)), k=k),
                     label_pruned=False, label_width=1.3)
done = step >= search_len
st.caption(t("beam_search.ended", step=search_len) if done else t("beam_search.more_steps", n=search_len - step))
st.subheader(t("beam_search.candidates"))
candidates_table(placed, NUM_STEPS, alpha, decode, key="ends:model",
                 bleu=(lambda p: bleu(decode(p.prefix, eos=False), reference, 2)) if reference else None)
m1, m2 = st.columns(2)
m1.metric(t("beam_search.best"), tr.text if done else "…", help=t("beam_search.best_help"))
m2.metric(t("beam_search.bleu"), f"{bleu(tr.text, reference, 2):.3f}" if reference and done else "–",
          help=t("beam_search.bleu_help", reference=code([reference])) if reference else t("beam_search.no_reference"))
