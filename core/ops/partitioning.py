"""Minibatches of text (book section 9.3): where the book's random and
sequential partitioning put each subsequence of a corpus.

A span is one row of one minibatch: X holds the tokens at positions
start .. stop - 1 of the corpus and Y the same shifted by one (start + 1 ..
stop). `spans` lists them for an explicit offset (and, for random
partitioning, an explicit order of the subsequences), exactly as the book's
seq_data_iter_sequential / seq_data_iter_random cut the corpus; `draw` makes
the random choices of one epoch from a torch.Generator exactly as
core.train.lm.SeqBatches does, so `spans(n, ..., *draw(...))` are the
minibatches SeqBatches yields for that generator.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Span:
    batch: int  # the minibatch's index in the epoch
    row: int  # the row of the minibatch
    start: int  # X = corpus[start:stop], Y = corpus[start + 1:stop + 1]
    stop: int


def max_offset(num_steps: int, random: bool) -> int:
    """The largest offset the book draws: random.randint(0, num_steps - 1) for
    random partitioning, random.randint(0, num_steps) for sequential."""
    return num_steps - 1 if random else num_steps


def num_batches(n: int, batch_size: int, num_steps: int, random: bool, offset: int) -> int:
    """Minibatches in an epoch of a corpus of n tokens at this offset."""
    usable = n - offset - 1
    if usable < 1:
        return 0
    if random:
        return (usable // num_steps) // batch_size
    return (usable // batch_size) // num_steps


def draw(n: int, batch_size: int, num_steps: int, random: bool, generator: torch.Generator | None):
    """(offset, order): the epoch's random choices, drawn from `generator` as
    SeqBatches draws them (the offset, then for random partitioning a
    permutation of the subsequences); (0, None) without a generator."""
    if generator is None:
        return 0, None
    offset = int(torch.randint(0, max_offset(num_steps, random) + 1, (1,), generator=generator))
    if not random:
        return offset, None
    num_subseqs = (n - offset - 1) // num_steps
    return offset, torch.randperm(num_subseqs, generator=generator).tolist()


def spans(n: int, batch_size: int, num_steps: int, random: bool, offset: int = 0, order=None) -> list[Span]:
    """Every span of one epoch over a corpus of n tokens, minibatch by minibatch.

    Sequential: the tokens from `offset` on, cut to a multiple of batch_size,
    are laid out as batch_size rows of equal length L; minibatch j takes
    positions j*num_steps .. (j+1)*num_steps - 1 of every row, so row i of
    minibatch j+1 starts where row i of minibatch j stops.
    Random: the subsequences start at offset, offset + num_steps, ...; taken in
    `order` (a permutation of their indices, None for their natural order),
    batch_size at a time."""
    if batch_size < 1 or num_steps < 1:
        raise ValueError("batch_size and num_steps must be at least 1")
    if not 0 <= offset <= max_offset(num_steps, random):
        raise ValueError(f"offset must be in [0, {max_offset(num_steps, random)}], got {offset}")
    out: list[Span] = []
    b, s = batch_size, num_steps
    if random:
        num_subseqs = max(0, (n - offset - 1) // s)
        order = list(range(num_subseqs)) if order is None else [int(i) for i in order]
        if sorted(order) != list(range(num_subseqs)):
            raise ValueError(f"order must be a permutation of range({num_subseqs})")
        for j in range(num_batches(n, b, s, True, offset)):
            for i in range(b):
                start = offset + order[j * b + i] * s
                out.append(Span(j, i, start, start + s))
        return out
    num_tokens = max(0, ((n - offset - 1) // b) * b)
    row_len = num_tokens // b
    for j in range(num_batches(n, b, s, False, offset)):
        for i in range(b):
            start = offset + i * row_len + j * s
            out.append(Span(j, i, start, start + s))
    return out


def minibatches(corpus, spans_: list[Span]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (X, Y) pairs the spans cut from `corpus`, minibatch by minibatch."""
    corpus = torch.as_tensor(corpus)
    out = []
    for j in sorted({sp.batch for sp in spans_}):
        rows = sorted((sp for sp in spans_ if sp.batch == j), key=lambda sp: sp.row)
        out.append((torch.stack([corpus[sp.start: sp.stop] for sp in rows]),
                    torch.stack([corpus[sp.start + 1: sp.stop + 1] for sp in rows])))
    return out


def continues(spans_: list[Span], batch: int) -> list[bool]:
    """For each row i of minibatch `batch` + 1: does it start exactly where row
    i of minibatch `batch` stops (so the hidden state may carry over)? []
    when `batch` is the epoch's last minibatch."""
    this = {sp.row: sp for sp in spans_ if sp.batch == batch}
    after = {sp.row: sp for sp in spans_ if sp.batch == batch + 1}
    return [after[i].start == this[i].stop for i in sorted(after)] if after and this else []


def owner(n: int, spans_: list[Span]) -> list[tuple[int, int] | None]:
    """For each of the n token positions, the (minibatch, row) whose X holds it,
    None for a position no X reads; ValueError if two spans share a position."""
    out: list[tuple[int, int] | None] = [None] * n
    for sp in spans_:
        for p in range(sp.start, min(sp.stop, n)):
            if out[p] is not None:
                raise ValueError(f"position {p} is in minibatch {out[p]} and ({sp.batch}, {sp.row})")
            out[p] = (sp.batch, sp.row)
    return out


def segments(span: Span, width: int) -> list[tuple[int, int, int, int]]:
    """Where a span lies on text drawn `width` characters to a line: (row of the
    span, line, first column, last column) for each line it touches."""
    out = []
    p = span.start
    while p < span.stop:
        line, col = divmod(p, width)
        last = min(span.stop - 1, (line + 1) * width - 1)
        out.append((span.row, line, col, last - line * width))
        p = last + 1
    return out


# ------------------------------------------------------------ n-gram estimates
def laplace(tokens: list, x: str, x2: str, eps1: float = 1.0, eps2: float = 1.0) -> dict:
    """The book's Laplace-smoothed unigram and bigram estimates on a flat token list:

        P(x2)      = (n(x2) + eps1 / m) / (n + eps1)
        P(x2 | x)  = (n(x, x2) + eps2 P(x2)) / (n(x) + eps2)

    n tokens, m distinct ones; with eps = 0 they are the plain frequency ratios."""
    n, m = len(tokens), len(set(tokens))
    n_x2 = sum(1 for t in tokens if t == x2)
    n_x = sum(1 for t in tokens[:-1] if t == x)  # x followed by something
    n_pair = sum(1 for a, b in zip(tokens, tokens[1:]) if a == x and b == x2)
    p_x2 = (n_x2 + eps1 / m) / (n + eps1) if n + eps1 > 0 else 0.0
    p_pair = (n_pair + eps2 * p_x2) / (n_x + eps2) if n_x + eps2 > 0 else 0.0
    return {"n": n, "m": m, "n_x": n_x, "n_x2": n_x2, "n_pair": n_pair, "p_x2": p_x2, "p_x2_given_x": p_pair}


def shuffled(n: int, num_steps: int, offset: int, seed: int) -> list[int]:
    """A permutation of the subsequences of random sampling at this offset,
    drawn from a torch.Generator seeded with `seed` (the page's shuffle seed)."""
    return torch.randperm(max(0, (n - offset - 1) // num_steps), generator=torch.Generator().manual_seed(seed)).tolist()
