"""Greedy, beam and exhaustive search: the book's toy example and random models."""
import math

import pytest
import torch

from core.ops.beam import ToyModel, beam_search, exhaustive_search, greedy_search, score


class RandomRNN:
    """A small random recurrent model over `vocab_size` tokens (plus a start
    token `vocab_size`). `step` uses the per-hypothesis state; `full` ignores
    it and re-reads the whole prefix, so both must give the same numbers."""

    def __init__(self, vocab_size=3, num_hiddens=5, seed=0, sharp=3.0):
        g = torch.Generator().manual_seed(seed)
        self.V, self.eos = vocab_size, vocab_size - 1
        self.E = torch.randn(vocab_size + 1, num_hiddens, generator=g, dtype=torch.float64)
        self.W = torch.randn(num_hiddens, num_hiddens, generator=g, dtype=torch.float64) / num_hiddens ** 0.5
        self.out = torch.randn(num_hiddens, vocab_size, generator=g, dtype=torch.float64) * sharp
        self.init_state = torch.zeros(1, num_hiddens, dtype=torch.float64)
        self.calls = 0

    def _cell(self, tokens, H):
        return torch.tanh(self.E[tokens] + H @ self.W)

    def step(self, prefixes, states):
        self.calls += 1
        H = self._cell(prefixes[:, -1], states)
        return torch.log_softmax(H @ self.out, dim=1), H

    def full(self, prefixes, states=None):
        self.calls += 1
        H = self.init_state.expand(len(prefixes), -1)
        for t in range(prefixes.shape[1]):
            H = self._cell(prefixes[:, t], H)
        return torch.log_softmax(H @ self.out, dim=1), states


# ------------------------------------------------------------ the book's toy


def test_toy_greedy_finds_0_048():
    m = ToyModel()
    for result in (greedy_search(m.step, m.bos, m.eos, m.max_len), beam_search(m.step, m.bos, m.eos, 1, m.max_len)):
        assert m.decode(result.best.tokens) == "A B C <eos>"
        assert math.isclose(result.best.prob, 0.048)
        assert len(result.candidates) == 1


def test_toy_beam_of_two_finds_0_054():
    m = ToyModel()
    r = beam_search(m.step, m.bos, m.eos, 2, m.max_len)
    assert m.decode(r.best.tokens) == "A C B <eos>"
    assert math.isclose(r.best.prob, 0.054)
    assert [m.decode(c.tokens) for c in r.candidates] == ["A C B <eos>", "A B C <eos>"]
    assert math.isclose(r.best.score, math.log(0.054) / 4 ** 0.75)
    kept = [[(m.decode([n.token]), round(math.exp(n.log_prob), 4)) for n in step if n.kept] for step in r.tree[1:]]
    assert kept == [[("A", 0.5), ("B", 0.2)], [("B", 0.2), ("C", 0.15)],
                    [("C", 0.08), ("B", 0.09)], [("<eos>", 0.054), ("<eos>", 0.048)]]


def test_toy_exhaustive_agrees_with_the_book():
    m = ToyModel()
    r = exhaustive_search(m.step, m.bos, m.eos, m.vocab_size, m.max_len)
    assert len(r.candidates) == 1 + 3 + 9 + 27 + 81  # ended by <eos> at length 1..4, or cut at 4
    assert m.decode(r.best.tokens) == "A C B <eos>" and math.isclose(r.best.prob, 0.054)
    assert math.isclose(sum(c.prob for c in r.candidates), 1.0)  # a distribution over all outputs
    assert max(c.prob for c in r.candidates if len(c.tokens) == 4) == pytest.approx(0.054)


def test_score_is_the_books():
    assert score(math.log(0.054), 4, 0.75) == pytest.approx(-2.9188 / 2.8284, abs=1e-4)
    assert score(-3.0, 1) == -3.0


# ------------------------------------------------------------- random models


@pytest.mark.parametrize("seed", range(5))
def test_beam_of_one_is_greedy(seed):
    m = RandomRNN(vocab_size=5, seed=seed)
    g = greedy_search(m.step, m.V, m.eos, 6, init_state=m.init_state)
    b = beam_search(m.step, m.V, m.eos, 1, 6, init_state=m.init_state)
    assert b.best.tokens == g.best.tokens
    assert b.best.log_prob == pytest.approx(g.best.log_prob, abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_wide_beam_is_exhaustive(seed):
    m = RandomRNN(vocab_size=3, seed=seed, sharp=1.0)
    ex = exhaustive_search(m.full, m.V, m.eos, m.V, 4, init_state=m.init_state)
    beam = beam_search(m.step, m.V, m.eos, 3 ** 4, 4, init_state=m.init_state)
    assert [c.tokens for c in beam.candidates] == [c.tokens for c in ex.candidates]
    assert [c.score for c in beam.candidates] == pytest.approx([c.score for c in ex.candidates], abs=1e-9)
    narrow = beam_search(m.step, m.V, m.eos, 2, 4, init_state=m.init_state)
    assert narrow.best.score <= ex.best.score + 1e-12


@pytest.mark.parametrize("k", [2, 3])
def test_tree_holds_k_kept_nodes_and_all_pruned_children(k):
    m = RandomRNN(vocab_size=4, seed=1)
    r = beam_search(m.step, m.V, m.eos, k, 5, init_state=m.init_state)
    assert len(r.tree[0]) == 1 and r.tree[0][0].parent == -1
    by_id = {n.id: n for step in r.tree for n in step}
    assert len(by_id) == sum(len(step) for step in r.tree)
    for prev, step in zip(r.tree, r.tree[1:]):
        live = [n for n in prev if n.kept and not n.finished]
        assert len(step) == len(live) * m.V  # every child of every live hypothesis
        assert sum(n.kept for n in step) == min(k, len(step))
        assert {n.parent for n in step} == {n.id for n in live}
        kept = sorted(n.log_prob for n in step if n.kept)
        assert all(n.log_prob <= kept[0] for n in step if not n.kept)
        for n in step:
            assert n.log_prob < by_id[n.parent].log_prob  # a child adds a log-probability < 0
            assert n.finished == (n.kept and n.token == m.eos)
    ends = {c.node for c in r.candidates}
    alive = {n.id for n in r.tree[-1] if n.kept and not n.finished}
    assert ends == {n.id for n in by_id.values() if n.finished} | alive


def test_batched_calls_once_per_step_and_equals_one_at_a_time():
    m = RandomRNN(vocab_size=4, seed=2)
    batched = beam_search(m.step, m.V, m.eos, 3, 6, init_state=m.init_state)
    assert batched.calls == len(batched.tree) - 1
    m.calls = 0
    single = beam_search(m.step, m.V, m.eos, 3, 6, init_state=m.init_state, batched=False)
    live_per_step = [sum(n.kept and not n.finished for n in step) for step in single.tree[:-1]]
    assert single.calls == m.calls == sum(live_per_step) > batched.calls
    assert [c.tokens for c in single.candidates] == [c.tokens for c in batched.candidates]
    assert [c.log_prob for c in single.candidates] == pytest.approx([c.log_prob for c in batched.candidates], abs=1e-12)
    assert [(n.parent, n.token, n.kept) for s in single.tree for n in s] == \
           [(n.parent, n.token, n.kept) for s in batched.tree for n in s]


def test_max_children_trims_the_drawn_tree_only():
    m = RandomRNN(vocab_size=6, seed=3)
    full = beam_search(m.step, m.V, m.eos, 2, 5, init_state=m.init_state)
    trimmed = beam_search(m.step, m.V, m.eos, 2, 5, init_state=m.init_state, max_children=2)
    assert [c.tokens for c in trimmed.candidates] == [c.tokens for c in full.candidates]
    for s_full, s_trim in zip(full.tree[1:], trimmed.tree[1:]):
        assert len(s_trim) < len(s_full)
        assert sorted(n.log_prob for n in s_trim if n.kept) == sorted(n.log_prob for n in s_full if n.kept)
        per_parent = {}
        for n in s_trim:
            per_parent[n.parent] = per_parent.get(n.parent, 0) + 1
        assert all(count <= 2 + 2 for count in per_parent.values())
