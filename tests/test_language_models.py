"""Minibatches of text (book section 9.3): the playground's partitioning
(core.ops.partitioning spans and core.train.lm.SeqBatches) against the book's
seq_data_iter_random / seq_data_iter_sequential, written out below as the book
prints them, with the random offset passed in and the shuffle replaced by the
permutation the generator draws."""
from __future__ import annotations

import pytest
import torch

from core.ops import partitioning as pt
from core.train.lm import SeqBatches

MY_SEQ = list(range(35))  # the book's example
BATCH_SIZE, NUM_STEPS = 2, 5


# ------------------------------------------------ the book's two functions
def seq_data_iter_random(corpus, batch_size, num_steps, offset, order):
    """Generate a minibatch of subsequences using random sampling."""
    # Start with a random offset (inclusive of `num_steps - 1`) to partition a
    # sequence
    corpus = corpus[offset:]
    # Subtract 1 since we need to account for labels
    num_subseqs = (len(corpus) - 1) // num_steps
    # The starting indices for subsequences of length `num_steps`
    initial_indices = list(range(0, num_subseqs * num_steps, num_steps))
    # In random sampling, the subsequences from two adjacent random
    # minibatches during iteration are not necessarily adjacent on the
    # original sequence
    initial_indices = [initial_indices[i] for i in order]  # random.shuffle(initial_indices)

    def data(pos):
        # Return a sequence of length `num_steps` starting from `pos`
        return corpus[pos: pos + num_steps]

    num_batches = num_subseqs // batch_size
    for i in range(0, batch_size * num_batches, batch_size):
        # Here, `initial_indices` contains randomized starting indices for
        # subsequences
        initial_indices_per_batch = initial_indices[i: i + batch_size]
        X = [data(j) for j in initial_indices_per_batch]
        Y = [data(j + 1) for j in initial_indices_per_batch]
        yield torch.tensor(X), torch.tensor(Y)


def seq_data_iter_sequential(corpus, batch_size, num_steps, offset):
    """Generate a minibatch of subsequences using sequential partitioning."""
    # Start with a random offset to partition a sequence
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset: offset + num_tokens])
    Ys = torch.tensor(corpus[offset + 1: offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        X = Xs[:, i: i + num_steps]
        Y = Ys[:, i: i + num_steps]
        yield X, Y


def book(random: bool, offset: int, order=None):
    if random:
        return list(seq_data_iter_random(MY_SEQ, BATCH_SIZE, NUM_STEPS, offset, order))
    return list(seq_data_iter_sequential(MY_SEQ, BATCH_SIZE, NUM_STEPS, offset))


def same(a, b) -> bool:
    return len(a) == len(b) and all(torch.equal(x1, x2) and torch.equal(y1, y2) for (x1, y1), (x2, y2) in zip(a, b))


def seed_drawing(offset: int, random: bool) -> int:
    """A seed whose generator draws this offset first (as SeqBatches draws it)."""
    for seed in range(1000):
        if pt.draw(len(MY_SEQ), BATCH_SIZE, NUM_STEPS, random, torch.Generator().manual_seed(seed))[0] == offset:
            return seed
    raise AssertionError(f"no seed draws offset {offset}")


def test_the_books_printed_example():
    """The book prints, for offset 0 of the sequential iterator, X = [[0..4], [17..21]]."""
    (X, Y), *_ = pt.minibatches(MY_SEQ, pt.spans(35, 2, 5, False, 0))
    assert X.tolist() == [[0, 1, 2, 3, 4], [17, 18, 19, 20, 21]]
    assert Y.tolist() == [[1, 2, 3, 4, 5], [18, 19, 20, 21, 22]]


@pytest.mark.parametrize("offset", range(NUM_STEPS + 1))
def test_sequential_matches_the_book_at_every_offset(offset):
    expected = book(False, offset)
    assert expected
    assert same(pt.minibatches(MY_SEQ, pt.spans(35, BATCH_SIZE, NUM_STEPS, False, offset)), expected)
    seed = seed_drawing(offset, False)
    got = list(SeqBatches(MY_SEQ, BATCH_SIZE, NUM_STEPS, random=False).epoch(torch.Generator().manual_seed(seed)))
    assert same(got, expected)


@pytest.mark.parametrize("offset", range(NUM_STEPS))
def test_random_matches_the_book_at_every_offset_and_order(offset):
    n_sub = (35 - offset - 1) // NUM_STEPS
    for order in (list(range(n_sub)), list(reversed(range(n_sub))), torch.randperm(
            n_sub, generator=torch.Generator().manual_seed(offset)).tolist()):
        assert same(pt.minibatches(MY_SEQ, pt.spans(35, BATCH_SIZE, NUM_STEPS, True, offset, order)),
                    book(True, offset, order))
    seed = seed_drawing(offset, True)
    drawn_offset, order = pt.draw(35, BATCH_SIZE, NUM_STEPS, True, torch.Generator().manual_seed(seed))
    assert drawn_offset == offset and sorted(order) == list(range(n_sub))
    got = list(SeqBatches(MY_SEQ, BATCH_SIZE, NUM_STEPS, random=True).epoch(torch.Generator().manual_seed(seed)))
    assert same(got, book(True, offset, order))


@pytest.mark.parametrize("random", [False, True])
def test_draw_then_spans_is_seqbatches_on_a_longer_corpus(random):
    corpus = torch.arange(500) * 7 % 31
    for seed in range(5):
        spans = pt.spans(500, 4, 7, random, *pt.draw(500, 4, 7, random, torch.Generator().manual_seed(seed)))
        got = list(SeqBatches(corpus, 4, 7, random=random).epoch(torch.Generator().manual_seed(seed)))
        assert same(pt.minibatches(corpus, spans), got)


@pytest.mark.parametrize("random", [False, True])
def test_every_position_is_in_at_most_one_span_per_epoch(random):
    for n, b, s in ((35, 2, 5), (300, 3, 10), (200, 8, 4), (100, 1, 20)):
        for offset in range(pt.max_offset(s, random) + 1):
            spans = pt.spans(n, b, s, random, offset)
            owners = pt.owner(n, spans)  # raises if two spans share a position
            assert sum(o is not None for o in owners) == len(spans) * s
            assert all(sp.stop + 1 <= n for sp in spans)  # every Y exists
            assert all(o is None for o in owners[:offset])


def test_a_shared_position_is_refused():
    with pytest.raises(ValueError):
        pt.owner(10, [pt.Span(0, 0, 0, 5), pt.Span(0, 1, 4, 9)])


def test_sequential_rows_continue_random_rows_need_not():
    spans = pt.spans(35, 2, 5, False, 0)
    assert pt.num_batches(35, 2, 5, False, 0) == 3
    for j in range(2):
        assert pt.continues(spans, j) == [True, True]
    assert pt.continues(spans, 2) == []
    spans = pt.spans(35, 2, 5, True, 0, [0, 5, 1, 2, 3, 4])  # subsequences 0, 5, then 1, 2: row 0 by chance
    assert pt.continues(spans, 0) == [True, False]
    spans = pt.spans(35, 2, 5, True, 0, [5, 0, 1, 2, 3, 4])
    assert pt.continues(spans, 0) == [False, False]
    spans = pt.spans(35, 2, 5, True, 0, [0, 1, 2, 3, 4, 5])  # natural order: row 0 of batch 1 starts at 10, not 5
    assert pt.continues(spans, 0) == [False, False]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        pt.spans(35, 2, 5, True, 5)  # the random offset is at most num_steps - 1
    with pytest.raises(ValueError):
        pt.spans(35, 2, 5, True, 0, [0, 0, 1, 2, 3, 4])
    with pytest.raises(ValueError):
        pt.spans(35, 0, 5, False, 0)
    assert pt.spans(8, 2, 5, False, 0) == []  # too short for one minibatch


def test_laplace_smoothing_is_the_books_formula_and_sums_to_one():
    tokens = "the time machine by the time traveller the end".split()
    plain = pt.laplace(tokens, "the", "time", 0.0, 0.0)
    assert plain["p_x2"] == 2 / 9 and plain["p_x2_given_x"] == 2 / 3  # n(the, time) / n(the followed)
    smooth = pt.laplace(tokens, "the", "time", 1.0, 2.0)
    p1 = (2 + 1 / 6) / (9 + 1)
    assert smooth["p_x2"] == pytest.approx(p1) and smooth["p_x2_given_x"] == pytest.approx((2 + 2 * p1) / (3 + 2))
    vocab = sorted(set(tokens))
    assert sum(pt.laplace(tokens, "the", w, 1.0, 2.0)["p_x2"] for w in vocab) == pytest.approx(1.0)
    assert sum(pt.laplace(tokens, "the", w, 1.0, 2.0)["p_x2_given_x"] for w in vocab) == pytest.approx(1.0)
    unseen = pt.laplace(tokens, "machine", "end", 1.0, 1.0)
    assert unseen["n_pair"] == 0 and unseen["p_x2_given_x"] > 0  # smoothing gives an unseen pair some mass
