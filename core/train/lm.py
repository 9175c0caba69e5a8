"""Training a language model with the engine, as the book's train_ch8.

`SeqBatches` is the data (the book's sequential and random partitioning),
`LMObjective` carries the recurrent state from one minibatch to the next.
Gradient clipping is the trainer's `grad_clip=θ`: nn.utils.clip_grad_norm_
rescales all gradients by min(1, θ / ‖g‖), which is the book's grad_clipping.
"""
from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch.nn import functional as F

from core.train.metrics import Metric
from core.train.protocols import StepOut


class SeqBatches:
    """Minibatches (X, Y) of shape (batch_size, num_steps), Y = X shifted by one.

    random=False: the book's seq_data_iter_sequential. Each epoch starts at an
    offset in [0, num_steps] drawn from the generator, the corpus is cut into
    batch_size rows, and consecutive minibatches continue each row, so the
    hidden state may carry over.
    random=True: the book's seq_data_iter_random. An offset in [0, num_steps - 1],
    then subsequences of num_steps tokens in an order shuffled by the generator.

    Without a generator (evaluation) the offset is 0 and nothing is shuffled.
    Every random draw of an epoch (its offset, and for random=True its order)
    comes from the generator when the epoch's first batch is asked for, so
    `epoch_from(generator, start)` draws the same and starts at batch `start`."""

    def __init__(self, corpus, batch_size: int, num_steps: int, random: bool = False,
                 device: torch.device | str = "cpu"):
        if batch_size < 1 or num_steps < 1:
            raise ValueError("batch_size and num_steps must be at least 1")
        self.corpus = torch.as_tensor(corpus, dtype=torch.int64).reshape(-1).to(device)
        self.batch_size, self.num_steps, self.random = batch_size, num_steps, random
        if self._num_batches(num_steps) < 1:
            raise ValueError(f"a corpus of {len(self.corpus)} tokens is too short for one minibatch "
                             f"of {batch_size} x {num_steps} at every offset")

    def _num_batches(self, offset: int) -> int:
        n = len(self.corpus) - offset - 1
        if self.random:
            return (n // self.num_steps) // self.batch_size
        return (n // self.batch_size) // self.num_steps

    def __len__(self) -> int:
        """Minibatches per epoch at offset 0 (an epoch may have one fewer)."""
        return self._num_batches(0)

    @property
    def num_examples(self) -> int:
        """Tokens per epoch (predicted) at offset 0."""
        return len(self) * self.batch_size * self.num_steps

    def epoch(self, generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return self.epoch_from(generator, 0)

    def epoch_from(self, generator: torch.Generator | None, start: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The epoch `epoch(generator)` yields, from minibatch `start` on."""
        if self.random:
            return self._random(generator, start)
        return self._sequential(generator, start)

    def _sequential(self, generator, start: int = 0):
        b, s = self.batch_size, self.num_steps
        offset = 0 if generator is None else int(torch.randint(0, s + 1, (1,), generator=generator))
        num_tokens = ((len(self.corpus) - offset - 1) // b) * b
        Xs = self.corpus[offset: offset + num_tokens].reshape(b, -1)
        Ys = self.corpus[offset + 1: offset + 1 + num_tokens].reshape(b, -1)
        for i in range(start * s, (Xs.shape[1] // s) * s, s):
            yield Xs[:, i: i + s], Ys[:, i: i + s]

    def _random(self, generator, start: int = 0):
        b, s = self.batch_size, self.num_steps
        offset = 0 if generator is None else int(torch.randint(0, s, (1,), generator=generator))
        num_subseqs = (len(self.corpus) - offset - 1) // s
        starts = torch.arange(0, num_subseqs * s, s) + offset
        if generator is not None:
            starts = starts[torch.randperm(num_subseqs, generator=generator)]
        steps = torch.arange(s)
        for i in range(start * b, (num_subseqs // b) * b, b):
            idx = (starts[i: i + b, None] + steps).to(self.corpus.device)
            yield self.corpus[idx], self.corpus[idx + 1]


VALID_TOKENS = 5_000  # the 1.0 edition's num_val: validation tokens held out of The Time Machine


def holdout(corpus, num_valid: int = VALID_TOKENS):
    """(train, valid): the last `num_valid` tokens of the corpus (at most a
    fifth of it) are held out for validation and never trained on; the rest,
    from the start, is what training may read. Both are slices of `corpus`."""
    n = len(corpus)
    k = min(num_valid, n // 5)
    return corpus[:n - k], corpus[n - k:]


def valid_batches(valid, batch_size: int, num_steps: int, device: torch.device | str = "cpu") -> SeqBatches | None:
    """The held-out tokens as sequential minibatches for evaluation (fewer rows
    than `batch_size` when the part is short), or None when not even one row
    of `num_steps` fits: the page then shows training perplexity only."""
    rows = min(batch_size, (len(valid) - num_steps - 1) // num_steps)  # SeqBatches checks every offset
    if rows < 1:
        return None
    return SeqBatches(valid, rows, num_steps, device=device)


def _detach(state):  # a tensor, an LSTM's (H, C), or a list of those (a scratch stack's layers)
    if isinstance(state, (tuple, list)):
        return type(state)(_detach(s) for s in state)
    return state.detach()


def _clone(state):
    if isinstance(state, (tuple, list)):
        return type(state)(_clone(s) for s in state)
    return state.detach().clone()


def _batch_size_of(state) -> int:
    while isinstance(state, (tuple, list)):
        state = state[0]
    return state.shape[-2]  # (batch, h) or (layers, batch, h)


class LMObjective:
    """The book's train_epoch_ch8 step for the engine.

    Sequential partitioning keeps the state from one minibatch to the next and
    detaches it (truncated backpropagation through time); random partitioning
    (`random=True`) starts every minibatch from a fresh state. `start_epoch()`
    (called by the trainer at each epoch and around evaluation) drops the state;
    `state_dict()` / `load_state_dict()` hand it to a snapshot and back.
    Returns StepOut(mean cross-entropy per token, number of tokens, metric sum,
    the logits detached). metric: None, or e.g. core.train.metrics.perplexity,
    so the epoch records carry the perplexity as their metric."""

    def __init__(self, random: bool = False, metric: Metric | None = None):
        self.random = random
        self.metric = metric
        self.state = None

    def start_epoch(self) -> None:
        self.state = None

    def state_dict(self) -> dict:
        """The carried state, detached and cloned (None at an epoch's start)."""
        return {"state": None if self.state is None else _clone(self.state)}

    def load_state_dict(self, state: dict) -> None:
        self.state = None if state["state"] is None else _clone(state["state"])

    def __call__(self, net, batch) -> StepOut:
        X, Y = batch
        if self.state is None or self.random or _batch_size_of(self.state) != X.shape[0]:
            self.state = net.begin_state(X.shape[0], X.device)
        else:
            self.state = _detach(self.state)
        logits, self.state = net(X, self.state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1))
        logits = logits.detach()
        metric_sum = None if self.metric is None else self.metric.batch_sum(logits, Y)
        return StepOut(loss, Y.numel(), metric_sum, logits)


def perplexity(loss: float) -> float:
    """exp(mean cross-entropy per token): 1 is perfect, vocab size is guessing.
    (`core.train.metrics.perplexity` is the same as a metric an objective carries.)"""
    try:
        return math.exp(loss)
    except OverflowError:
        return math.inf
