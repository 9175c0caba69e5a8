"""Layout of beam-search trees (core.ops.beam_layout) and the seq2seq set-up (core.experiments.seq2seq)."""
import math

import pytest
import torch

from core.experiments.seq2seq import BOOK_EXAMPLES, STAND_IN_PAIRS, make_trainer, normalize, stand_in_corpus
from core.models.seq2seq import translate
from core.ops.beam import ToyModel, beam_search
from core.ops.beam_layout import beam_at, edges, endings, layout


def toy_tree(k=2, **kw):
    m = ToyModel()
    return m, beam_search(m.step, m.bos, m.eos, k, m.max_len, **kw)


@pytest.mark.parametrize("k", [1, 2, 3, 6])
@pytest.mark.parametrize("order", ["prob", "token"])
def test_every_node_has_a_kept_parent_one_step_back_and_positions_are_unique(k, order):
    _, res = toy_tree(k)
    placed = layout(res.tree, order=order)
    assert len(placed) == sum(len(s) for s in res.tree)
    by_id = {p.id: p for p in placed}
    for p in placed:
        assert p.x == p.step
        if p.step == 0:
            assert p.status == "root" and p.parent == -1
            continue
        parent = by_id[p.parent]
        assert parent.step == p.step - 1
        assert parent.status in ("root", "kept")  # only live hypotheses are expanded
        assert p.prefix == parent.prefix + (p.token,)
    assert len({(p.x, p.y) for p in placed}) == len(placed)


def test_parents_sit_between_their_children_and_edges_do_not_cross():
    _, res = toy_tree(3)
    placed = layout(res.tree)
    kids = {}
    for a, b in edges(placed):
        kids.setdefault(a.id, []).append(b.y)
    by_id = {p.id: p for p in placed}
    for pid, ys in kids.items():
        assert min(ys) <= by_id[pid].y <= max(ys)
    # siblings' subtrees occupy disjoint row ranges: order of parents = order of their children
    for step in range(1, len(res.tree) - 1):
        parents = sorted((p for p in placed if p.step == step and p.id in kids), key=lambda p: -p.y)
        spans = [(max(kids[p.id]), min(kids[p.id])) for p in parents]
        for (_, low), (high, _) in zip(spans, spans[1:]):
            assert high < low


def test_toy_probabilities_statuses_and_endings():
    m, res = toy_tree(2)
    placed = layout(res.tree, order="token")
    a = next(p for p in placed if p.prefix == (0,))
    assert math.exp(a.cond_log_prob) == pytest.approx(0.5) and a.status == "kept"
    acb = next(p for p in placed if p.prefix == (0, 2, 1, 3))
    assert acb.status == "finished"
    assert math.exp(acb.log_prob) == pytest.approx(0.054) and math.exp(acb.cond_log_prob) == pytest.approx(0.6)
    ends = endings(placed, m.max_len)
    assert [m.decode(p.prefix) for p, _ in ends] == [m.decode(c.tokens) for c in res.candidates]
    assert [s for _, s in ends] == pytest.approx([c.score for c in res.candidates])
    assert [p.prefix for p in beam_at(placed, 2)] == [(0, 1), (0, 2)]
    # siblings in token order: A, B, C, <eos> from the top
    first = sorted((p for p in placed if p.step == 1), key=lambda p: -p.y)
    assert [p.token for p in first] == [0, 1, 2, 3]


def test_partial_layouts_grow_step_by_step():
    _, res = toy_tree(2)
    sizes = [len(layout(res.tree, upto=s)) for s in range(len(res.tree) + 2)]
    assert sizes[0] == 1 and sizes == sorted(sizes) and sizes[-1] == sum(len(s) for s in res.tree)
    assert endings(layout(res.tree, upto=3), 4) == []  # nothing finished before step 4
    assert layout([]) == []
    with pytest.raises(ValueError):
        layout(res.tree, order="random")


def test_unfinished_hypotheses_at_max_len_are_endings():
    m = ToyModel()
    res = beam_search(m.step, m.bos, m.eos, 2, 2)  # too short for <eos> to win
    ends = endings(layout(res.tree), 2)
    assert len(ends) == len(res.candidates)
    assert {p.prefix for p, _ in ends} == {tuple(c.tokens) for c in res.candidates}


def test_stand_in_corpus_and_references():
    corpus = stand_in_corpus()
    d = corpus.data
    assert corpus.label == "stand-in" and len(d.src_array) == len(STAND_IN_PAIRS)
    assert all(w in d.src_vocab.token_to_idx for s, _ in STAND_IN_PAIRS for w in s.split())
    for src, ref in BOOK_EXAMPLES.items():
        assert corpus.reference(src) == ref
    assert corpus.reference("I lost.") == "j'ai perdu ."
    assert corpus.reference("nothing like it") is None
    assert normalize("  He's  calm! ") == "he's calm !"


def test_stand_in_trains_and_translates_with_a_tree():
    torch.set_num_threads(1)
    corpus = stand_in_corpus()
    t = make_trainer(corpus.data, num_epochs=150)
    t.advance()
    losses = [r["train_loss"] for r in t.history.epochs]
    assert losses[-1] < losses[0] / 3
    d = corpus.data
    tr = translate(t.net, "go zzz .", d.src_vocab, d.tgt_vocab, 10, k=3, max_children=2)
    assert tr.unknown == ["zzz"]
    placed = layout(tr.tree)
    assert len({(p.x, p.y) for p in placed}) == len(placed)
    assert len(endings(placed, 10)) == len(tr.candidates)
