"""Where to draw the nodes of a beam-search tree (core.ops.beam's SearchResult.tree).

x is the time step; y comes from a tidy layout: the leaves of the tree drawn
so far get consecutive rows (top to bottom, in depth-first order), every other
node sits midway between its first and last child. Siblings' subtrees never
overlap, so no two nodes share a position and no edges cross.

`layout(tree, upto=s)` lays out the tree as it stands after step s (a search
revealed step by step); `endings(placed)` are the candidates it has so far.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.ops.beam import Node, score


@dataclass(frozen=True)
class Placed:
    id: int
    parent: int  # -1 for the root
    token: int  # -1 for the root
    step: int
    x: float
    y: float
    log_prob: float  # cumulative: log P(y_1..y_step)
    cond_log_prob: float  # log p(token | the prefix before it)
    status: str  # "root", "kept" (in the beam), "finished" (kept, ended by <eos>) or "pruned"
    prefix: tuple[int, ...]  # the generated tokens from the root to here, this one included


def layout(tree: Sequence[Sequence[Node]], upto: int | None = None, order: str = "prob") -> list[Placed]:
    """Positions of the nodes of steps 0..upto (all when None), sorted by id.

    order: siblings top to bottom by "prob" (most likely first) or "token" (id)."""
    if order not in ("prob", "token"):
        raise ValueError(f"unknown order {order!r}")
    if not tree or not tree[0]:
        return []
    last = len(tree) - 1 if upto is None else max(0, min(int(upto), len(tree) - 1))
    nodes = [n for step in tree[:last + 1] for n in step]
    by_id = {n.id: n for n in nodes}
    children: dict[int, list[Node]] = {n.id: [] for n in nodes}
    for n in nodes:
        if n.parent >= 0:
            children[n.parent].append(n)
    key = (lambda n: (-n.log_prob, n.token)) if order == "prob" else (lambda n: n.token)
    for kids in children.values():
        kids.sort(key=key)

    y: dict[int, float] = {}
    rows = 0
    root = tree[0][0]
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:  # depth-first, iterative: children first, then their parent
        node, expanded = stack.pop()
        kids = children[node.id]
        if not kids:
            y[node.id] = -float(rows)
            rows += 1
        elif expanded:
            y[node.id] = (y[kids[0].id] + y[kids[-1].id]) / 2
        else:
            stack.append((node, True))
            stack.extend((k, False) for k in reversed(kids))

    prefix: dict[int, tuple[int, ...]] = {root.id: ()}
    placed = []
    for n in sorted(nodes, key=lambda n: (n.step, n.id)):
        parent = by_id.get(n.parent)
        if parent is not None:
            prefix[n.id] = prefix[parent.id] + (n.token,)
        status = ("root" if parent is None else "finished" if n.finished else "kept" if n.kept else "pruned")
        placed.append(Placed(n.id, n.parent, n.token, n.step, float(n.step), y[n.id], n.log_prob,
                             n.log_prob - (parent.log_prob if parent else 0.0), status, prefix[n.id]))
    placed.sort(key=lambda p: p.id)
    return placed


def edges(placed: Sequence[Placed]) -> list[tuple[Placed, Placed]]:
    """(parent, child) pairs."""
    by_id = {p.id: p for p in placed}
    return [(by_id[p.parent], p) for p in placed if p.parent in by_id]


def endings(placed: Sequence[Placed], max_len: int, alpha: float = 0.75) -> list[tuple[Placed, float]]:
    """The candidates among the placed nodes, best score first: the finished ones,
    and the ones still in the beam at step max_len. Each with its score."""
    ends = [p for p in placed if p.status == "finished" or (p.status == "kept" and p.step == max_len)]
    scored = [(p, score(p.log_prob, len(p.prefix), alpha)) for p in ends]
    return sorted(scored, key=lambda ps: -ps[1])


def beam_at(placed: Sequence[Placed], step: int) -> list[Placed]:
    """The hypotheses kept at `step` (finished ones included), most likely first."""
    return sorted((p for p in placed if p.step == step and p.status in ("kept", "finished")),
                  key=lambda p: -p.log_prob)
