"""Counting what the text pipeline produces (book sections 9.2 and 9.3):
n-gram frequencies, the frequency table of a vocabulary, and the round trip
tokens -> indices -> tokens."""
from __future__ import annotations

import collections
import io
from dataclasses import dataclass

import numpy as np

from core.data.vocab import Vocab

# A short text written for the playground: the default of the "your text" box
# and the stand-in when The Time Machine is missing.
SAMPLE_TEXT = """\
Text is one of the most common kinds of sequence data. Before a model can read it,
we turn the raw characters into numbers. First we split the text into lines and keep
only the letters, in lower case. Then we split every line into tokens: single
characters, or whole words. Next we count the tokens and build a vocabulary that
gives every distinct token an index, the most frequent tokens first. Tokens that
appear less often than a chosen minimum frequency are not given their own index:
they all share the index of the unknown token. Finally we replace every token of
the text by its index, and the text has become a long sequence of numbers that a
model can read, one token at a time. Reading the numbers back through the
vocabulary gives the tokens again, except the rare ones, which come back unknown.
"""


def raw_lines(text: str) -> list[str]:
    """The lines of `text` as a text file reads them (the same split as
    core.data.text.lines_from_text, before its preprocessing)."""
    return io.StringIO(text, newline=None).readlines()


def ngram_freqs(tokens: list, n: int) -> list[tuple[tuple, int]]:
    """Frequencies of the n-grams (consecutive n-tuples) of a flat token list,
    most frequent first (ties in order of first appearance)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    counter = collections.Counter(zip(*[tokens[i:] for i in range(n)]))
    return sorted(counter.items(), key=lambda kv: kv[1], reverse=True)


def log_spaced_ranks(freqs: list[int], max_points: int = 300) -> tuple[list[int], list[int]]:
    """(ranks, frequencies) at about `max_points` ranks spaced evenly on a log
    axis, always with the first and last rank: a log-log plot keeps its shape."""
    n = len(freqs)
    if n == 0:
        return [], []
    ranks = np.unique(np.geomspace(1, n, num=min(n, max_points)).round().astype(int))
    return ranks.tolist(), [int(freqs[r - 1]) for r in ranks]


def freq_table(vocab: Vocab) -> list[dict]:
    """One row per distinct token of the text, most frequent first: its rank,
    frequency and the index the vocabulary gives it (0, <unk>, when its
    frequency is below min_freq)."""
    return [{"rank": r + 1, "token": tok, "frequency": freq, "index": vocab[tok]}
            for r, (tok, freq) in enumerate(vocab.token_freqs)]


@dataclass
class RoundTrip:
    tokens: list  # the original tokens
    indices: list[int]  # vocab[tokens]
    back: list  # vocab.to_tokens(indices)
    num_unk: int  # tokens mapped to <unk>
    num_mismatch: int  # tokens that came back different and were not mapped to <unk>

    @property
    def ok(self) -> bool:
        return self.num_mismatch == 0


def round_trip(tokens: list, vocab: Vocab) -> RoundTrip:
    """Tokens to indices and back: equal to the original except where a token
    was mapped to <unk> (index 0)."""
    indices = vocab[list(tokens)]
    back = vocab.to_tokens(indices)
    unk = [i == vocab.unk for i in indices]
    mismatch = sum(1 for t, b, u in zip(tokens, back, unk) if t != b and not u)
    return RoundTrip(list(tokens), indices, back, sum(unk), mismatch)
