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

from core.train.trainer import StepOut


class SeqBatches:
    """Minibatches (X, Y) of shape (batch_size, num_steps), Y = X shifted by one.

    random=False: the book's seq_data_iter_sequential. Each epoch starts at an
    offset in [0, num_steps] drawn from the generator, the corpus is cut into
    batch_size rows, and consecutive minibatches continue each row, so the
    hidden state may carry over.
    random=True: the book's seq_data_iter_random. An offset in [0, num_steps - 1],
    then subsequences of num_steps tokens in an order shuffled by the generator.

    Without a generator (evaluation) the offset is 0 and nothing is shuffled."""

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
        if self.random:
            return self._random(generator)
        return self._sequential(generator)

    def _sequential(self, generator):
        b, s = self.batch_size, self.num_steps
        offset = 0 if generator is None else int(torch.randint(0, s + 1, (1,), generator=generator))
        num_tokens = ((len(self.corpus) - offset - 1) // b) * b
        Xs = self.corpus[offset: offset + num_tokens].reshape(b, -1)
        Ys = self.corpus[offset + 1: offset + 1 + num_tokens].reshape(b, -1)
        for i in range(0, (Xs.shape[1] // s) * s, s):
            yield Xs[:, i: i + s], Ys[:, i: i + s]

    def _random(self, generator):
        b, s = self.batch_size, self.num_steps
        offset = 0 if generator is None else int(torch.randint(0, s, (1,), generator=generator))
        num_subseqs = (len(self.corpus) - offset - 1) // s
        starts = torch.arange(0, num_subseqs * s, s) + offset
        if generator is not None:
            starts = starts[torch.randperm(num_subseqs, generator=generator)]
        steps = torch.arange(s)
        for i in range(0, (num_subseqs // b) * b, b):
            idx = (starts[i: i + b, None] + steps).to(self.corpus.device)
            yield self.corpus[idx], self.corpus[idx + 1]


def _detach(state):
    if isinstance(state, (tuple, list)):
        return type(state)(s.detach() for s in state)
    return state.detach()


def _batch_size_of(state) -> int:
    s = state[0] if isinstance(state, (tuple, list)) else state
    return s.shape[-2]  # (batch, h) or (layers, batch, h)


class LMObjective:
    """The book's train_epoch_ch8 step for the engine.

    Sequential partitioning keeps the state from one minibatch to the next and
    detaches it (truncated backpropagation through time); random partitioning
    (`random=True`) starts every minibatch from a fresh state. `start_epoch()`
    (called by the trainer at each epoch and around evaluation) drops the state.
    Returns StepOut(mean cross-entropy per token, number of tokens, None)."""

    has_metric = False

    def __init__(self, random: bool = False):
        self.random = random
        self.state = None

    def start_epoch(self) -> None:
        self.state = None

    def __call__(self, net, batch) -> StepOut:
        X, Y = batch
        if self.state is None or self.random or _batch_size_of(self.state) != X.shape[0]:
            self.state = net.begin_state(X.shape[0], X.device)
        else:
            self.state = _detach(self.state)
        logits, self.state = net(X, self.state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1))
        return StepOut(loss, Y.numel(), None)


def perplexity(loss: float) -> float:
    """exp(mean cross-entropy per token): 1 is perfect, vocab size is guessing."""
    try:
        return math.exp(loss)
    except OverflowError:
        return math.inf
