"""Greedy, exhaustive and beam search, as in the book's section "Beam Search".

A model enters through `step_fn(prefixes, states) -> (log_probs, new_states)`:
`prefixes` is a LongTensor (num_hyps, t) holding the start token(s) and the
tokens generated so far, one row per hypothesis; `states` is whatever the
model carries per hypothesis (None, a tensor with hypotheses on dim 0, or a
tuple/list of those); `log_probs` is (num_hyps, vocab_size), the log of the
conditional distribution of the next token.

Conventions (the same for the three searches):
- a sequence ends at <eos> (included) or after `max_len` generated tokens;
- L counts the generated tokens, <eos> included, the start token(s) not;
- score = log P(y_1..y_L) / L^alpha, the book's length-normalised score;
- candidates are the finished sequences (ended by <eos>) plus the unfinished
  ones still alive at max_len; they are ranked by score, ties in the order
  they finished.

Beam search keeps, at each step, the k best expansions (by log P) of the live
hypotheses; a kept expansion ending in <eos> is finished and leaves the beam,
so fewer hypotheses may go on. k = 1 is greedy search.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

StepFn = Callable[[torch.Tensor, object], tuple[torch.Tensor, object]]


@dataclass
class Node:
    """One candidate in the search tree. Node 0 is the root (the start)."""

    id: int
    parent: int  # -1 for the root
    token: int  # -1 for the root
    log_prob: float  # cumulative log P of the tokens from the root to here
    step: int  # 0 for the root, t for the t-th generated token
    kept: bool = True
    finished: bool = False  # kept and ended by <eos>


@dataclass
class Candidate:
    tokens: list[int]  # generated tokens, <eos> included when the sequence has it
    log_prob: float
    score: float
    node: int | None = None  # its node in the tree (beam search only)

    @property
    def prob(self) -> float:
        return math.exp(self.log_prob)


@dataclass
class SearchResult:
    candidates: list[Candidate]  # ranked by score, best first
    tree: list[list[Node]] = field(default_factory=list)  # tree[t]: the nodes of step t
    calls: int = 0  # how many times step_fn was called

    @property
    def best(self) -> Candidate:
        return self.candidates[0]


def score(log_prob: float, length: int, alpha: float = 0.75) -> float:
    """The book's 1 / L^alpha * log P(y_1, ..., y_L)."""
    return log_prob / max(length, 1) ** alpha


# -------------------------------------------------- states, hypothesis-wise


def select_states(states, idx: torch.Tensor):
    """The states of the hypotheses `idx` (dim 0 of every tensor)."""
    if states is None:
        return None
    if isinstance(states, (tuple, list)):
        return type(states)(select_states(s, idx) for s in states)
    return states[idx.to(states.device)]


def cat_states(parts: list):
    """Stack the states of several hypothesis groups along dim 0."""
    first = parts[0]
    if first is None:
        return None
    if isinstance(first, (tuple, list)):
        return type(first)(cat_states([p[i] for p in parts]) for i in range(len(first)))
    return torch.cat(parts)


def _start_tensor(start, device) -> torch.Tensor:
    tokens = [start] if isinstance(start, int) else list(start)
    if not tokens:
        raise ValueError("the search needs at least one start token")
    return torch.tensor([tokens], dtype=torch.int64, device=device)


# ------------------------------------------------------------------ searches


def beam_search(step_fn: StepFn, start: int | Sequence[int], eos: int, k: int, max_len: int,
                alpha: float = 0.75, init_state=None, batched: bool = True,
                device: torch.device | str = "cpu", max_children: int | None = None) -> SearchResult:
    """Beam search of width k. With `batched=True` step_fn is called once per
    time step for all live hypotheses; with `batched=False` once per
    hypothesis (the result is the same).

    The tree records every expansion of every live hypothesis (kept or
    pruned); with `max_children` only each parent's best `max_children`
    expansions plus the kept ones (for drawing a large vocabulary)."""
    if k < 1 or max_len < 1:
        raise ValueError("k and max_len must be at least 1")
    prefixes = _start_tensor(start, device)
    states = init_state
    root = Node(0, -1, -1, 0.0, 0)
    tree: list[list[Node]] = [[root]]
    live: list[Node] = [root]
    finished: list[Node] = []
    calls = 0
    for t in range(1, max_len + 1):
        if batched:
            log_probs, states = step_fn(prefixes, states)
            calls += 1
        else:
            outs = []
            for i in range(len(live)):
                one = torch.tensor([i])
                outs.append(step_fn(prefixes[i:i + 1], select_states(states, one)))
                calls += 1
            log_probs = torch.cat([lp for lp, _ in outs])
            states = cat_states([s for _, s in outs])
        log_probs = log_probs.detach().double().cpu()
        V = log_probs.shape[1]
        totals = torch.tensor([h.log_prob for h in live], dtype=torch.float64)[:, None] + log_probs
        flat = totals.reshape(-1)
        order = torch.sort(flat, descending=True, stable=True).indices[:k].tolist()
        kept_set = set(order)
        shown = range(flat.numel())  # every expansion, in (parent, token) order
        if max_children is not None and max_children < V:
            top = totals.topk(max_children, dim=1).indices + torch.arange(len(live))[:, None] * V
            shown = sorted(kept_set.union(top.reshape(-1).tolist()))
        nodes, next_id = {}, tree[-1][-1].id + 1
        for j in shown:
            parent, token = divmod(j, V)
            nodes[j] = Node(next_id + len(nodes), live[parent].id, token, float(flat[j]), t, kept=j in kept_set)
        tree.append(list(nodes.values()))
        go_on = []
        for j in order:  # the kept ones, best first
            node = nodes[j]
            if node.token == eos:
                node.finished = True
                finished.append(node)
            else:
                go_on.append(j)
        if not go_on:
            live = []
            break
        parents = torch.tensor([j // V for j in go_on])
        tokens = torch.tensor([[j % V] for j in go_on], device=prefixes.device)
        prefixes = torch.cat([prefixes[parents.to(prefixes.device)], tokens], dim=1)
        states = select_states(states, parents)
        live = [nodes[j] for j in go_on]
    ends = finished + live  # live: unfinished at max_len
    by_id = {n.id: n for step in tree for n in step}
    candidates = []
    for node in ends:
        tokens, n = [], node
        while n.parent >= 0:
            tokens.append(n.token)
            n = by_id[n.parent]
        tokens.reverse()
        candidates.append(Candidate(tokens, node.log_prob, score(node.log_prob, len(tokens), alpha), node.id))
    candidates.sort(key=lambda c: -c.score)
    return SearchResult(candidates, tree, calls)


def greedy_search(step_fn: StepFn, start: int | Sequence[int], eos: int, max_len: int,
                  alpha: float = 0.75, init_state=None, device: torch.device | str = "cpu") -> SearchResult:
    """The book's greedy search: at each step the most likely token, until
    <eos> or max_len. One candidate, no tree."""
    prefixes, states = _start_tensor(start, device), init_state
    tokens, log_prob, calls = [], 0.0, 0
    for _ in range(max_len):
        log_probs, states = step_fn(prefixes, states)
        calls += 1
        log_probs = log_probs.detach().double().cpu()[0]
        token = int(log_probs.argmax())
        tokens.append(token)
        log_prob += float(log_probs[token])
        if token == eos:
            break
        prefixes = torch.cat([prefixes, torch.tensor([[token]], device=prefixes.device)], dim=1)
    return SearchResult([Candidate(tokens, log_prob, score(log_prob, len(tokens), alpha))], [], calls)


def exhaustive_search(step_fn: StepFn, start: int | Sequence[int], eos: int, vocab_size: int, max_len: int,
                      alpha: float = 0.75, init_state=None, device: torch.device | str = "cpu") -> SearchResult:
    """Score every possible output: every sequence of non-<eos> tokens followed
    by <eos>, up to max_len tokens, and every max_len tokens without <eos>.
    That is about vocab_size^max_len sequences: small vocabularies only.
    Each group of equal length is run through step_fn from the start, batched."""
    others = [v for v in range(vocab_size) if v != eos]
    seqs = [list(body) + [eos] for L in range(1, max_len + 1) for body in itertools.product(others, repeat=L - 1)]
    seqs += [list(body) for body in itertools.product(others, repeat=max_len)]
    if len(seqs) > 200_000:
        raise ValueError(f"{len(seqs)} sequences is too many for an exhaustive search")
    start_row = _start_tensor(start, device)
    candidates, calls = [], 0
    for L in range(1, max_len + 1):
        group = [s for s in seqs if len(s) == L]
        Y = torch.tensor(group, dtype=torch.int64, device=device)
        prefixes = start_row.expand(len(group), -1)
        states = select_states(init_state, torch.zeros(len(group), dtype=torch.int64))
        total = torch.zeros(len(group), dtype=torch.float64)
        for t in range(L):
            log_probs, states = step_fn(prefixes, states)
            calls += 1
            total += log_probs.detach().double().cpu().gather(1, Y[:, t:t + 1].cpu())[:, 0]
            prefixes = torch.cat([prefixes, Y[:, t:t + 1]], dim=1)
        candidates += [Candidate(s, float(lp), score(float(lp), L, alpha)) for s, lp in zip(group, total)]
    candidates.sort(key=lambda c: -c.score)
    return SearchResult(candidates, [], calls)


# ------------------------------------------------------ the book's toy model


# The book's conditional probabilities of A, B, C, <eos> after each prefix (see ToyModel).
TOY_TABLE = {
    (): (.5, .2, .2, .1),
    (0,): (.1, .4, .3, .2),
    (0, 1): (.2, .2, .4, .2),
    (0, 1, 2): (.1, .2, .1, .6),
    (0, 2): (.1, .6, .2, .1),
    (0, 2, 1): (.1, .1, .2, .6),
}


class ToyModel:
    """The book's example: output vocabulary A, B, C, <eos>; max length 4.

    The book gives the conditional distributions along two paths:

        prefix   | A    B    C    <eos>
        ---------+---------------------
        ()       | .5   .2   .2   .1
        A        | .1   .4   .3   .2
        A B      | .2   .2   .4   .2
        A B C    | .1   .2   .1   .6
        A C      | .1   .6   .2   .1
        A C B    | .1   .1   .2   .6

    Every other prefix gets the uniform distribution (.25 each). Then greedy
    search finds A B C <eos> with P = .5·.4·.4·.6 = .048, beam search with
    k = 2 finds A C B <eos> with P = .5·.3·.6·.6 = .054, which is also the
    best of all sequences under the book's score (alpha = .75).

    Token ids: A=0, B=1, C=2, <eos>=3, and <bos>=4 (a start token only; the
    model never outputs it)."""

    tokens = ("A", "B", "C", "<eos>", "<bos>")
    vocab_size, eos, bos, max_len = 4, 3, 4, 4
    DEFAULT = (.25, .25, .25, .25)

    def probs(self, prefix: Sequence[int]) -> tuple[float, ...]:
        return TOY_TABLE.get(tuple(prefix), self.DEFAULT)

    def next_log_probs(self, prefixes: torch.Tensor) -> torch.Tensor:
        """prefixes (num_hyps, t), column 0 the <bos> -> (num_hyps, 4) log-probabilities."""
        rows = [self.probs(row[1:]) for row in prefixes.tolist()]
        return torch.tensor(rows, dtype=torch.float64).log()

    def step(self, prefixes: torch.Tensor, states=None):
        """A step_fn for the searches (the toy model has no state)."""
        return self.next_log_probs(prefixes), states

    def decode(self, tokens: Sequence[int]) -> str:
        return " ".join(self.tokens[t] for t in tokens)
