"""Tokens and vocabularies, as in the book's text-preprocessing section."""
from __future__ import annotations

import collections
from collections.abc import Iterable


def tokenize(lines: list[str], token: str = "word") -> list[list[str]]:
    """Split each line into word or character tokens."""
    if token == "word":
        return [line.split() for line in lines]
    if token == "char":
        return [list(line) for line in lines]
    raise ValueError(f"unknown token type {token!r}: use 'word' or 'char'")


def count_corpus(tokens: Iterable) -> collections.Counter:
    """Count token frequencies; `tokens` is a flat list or a list of lines."""
    tokens = list(tokens)
    if tokens and isinstance(tokens[0], list):
        tokens = [tok for line in tokens for tok in line]
    return collections.Counter(tokens)


class Vocab:
    """Map tokens to indices. Index 0 is `<unk>`; reserved tokens follow, then
    tokens by falling frequency (ties broken by first appearance)."""

    def __init__(self, tokens=None, min_freq: int = 0, reserved_tokens=None):
        tokens = tokens or []
        reserved_tokens = list(reserved_tokens or [])
        counter = count_corpus(tokens)
        self.token_freqs = sorted(counter.items(), key=lambda kv: kv[1], reverse=True)
        self.idx_to_token = ["<unk>"] + [t for t in reserved_tokens if t != "<unk>"]
        self.token_to_idx = {tok: idx for idx, tok in enumerate(self.idx_to_token)}
        for tok, freq in self.token_freqs:
            if freq < min_freq:
                break
            if tok not in self.token_to_idx:
                self.idx_to_token.append(tok)
                self.token_to_idx[tok] = len(self.idx_to_token) - 1

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.unk)
        return [self.__getitem__(tok) for tok in tokens]

    def to_tokens(self, indices):
        if hasattr(indices, "tolist"):
            indices = indices.tolist()
        if not isinstance(indices, (list, tuple)):
            return self.idx_to_token[indices]
        return [self.idx_to_token[int(i)] for i in indices]

    @property
    def unk(self) -> int:
        return 0
