"""What the trainer expects of an objective and of a data source, declared.

The trainer used to ask `hasattr(objective, "start_epoch")`; these protocols say
instead what each part must have and which parts are optional. The optional
parts are separate `runtime_checkable` protocols, so the trainer asks
`isinstance(objective, StartsEpochs)` and a type checker can see the contract.

An objective (required): `objective(net, batch) -> StepOut`.
Optional parts of an objective:
- `start_epoch()`: called at the start of every epoch and around evaluation
  (`StartsEpochs`), e.g. to drop a recurrent state;
- `metric`: a `core.train.metrics.Metric` or None (`Measures`); its `.name` is
  the metric's name, and `StepOut.metric_sum` the batch's additive part of it;
- `state_dict()` / `load_state_dict(state)` (`HasState`): whatever the
  objective carries from one minibatch to the next (the language model's
  hidden state), so a snapshot can put it back. The state must be plain:
  dicts, lists, tuples, tensors, numbers, None.

A data source (required, `DataSource`): `epoch(generator)` yields the batches of
one epoch (drawing any randomness from `generator`, none without one),
`len(source)` batches per epoch, `num_examples` per epoch.
Optional (`Seekable`): `epoch_from(generator, start)`, the same epoch from batch
`start` on, drawing exactly what `epoch(generator)` draws; without it a restore
replays the epoch's first batches and throws them away.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

import torch
from torch import nn

if TYPE_CHECKING:
    from core.train.metrics import Metric


class StepOut(NamedTuple):
    """What an objective returns for one minibatch."""

    loss: torch.Tensor  # mean loss over the batch, a scalar with a graph
    n: int  # examples (or tokens) in the batch
    metric_sum: float | None = None  # the metric's additive part, e.g. number of correct predictions
    y_hat: torch.Tensor | None = None  # the predictions (detached), for pictures; None if not kept


@runtime_checkable
class Objective(Protocol):
    def __call__(self, net: nn.Module, batch: tuple) -> StepOut: ...


@runtime_checkable
class StartsEpochs(Protocol):
    def start_epoch(self) -> None: ...


@runtime_checkable
class Measures(Protocol):
    metric: Metric | None


@runtime_checkable
class HasState(Protocol):
    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@runtime_checkable
class DataSource(Protocol):
    @property
    def num_examples(self) -> int: ...

    def __len__(self) -> int: ...

    def epoch(self, generator: torch.Generator | None = None) -> Iterator[tuple]: ...


@runtime_checkable
class Seekable(Protocol):
    def epoch_from(self, generator: torch.Generator | None, start: int) -> Iterator[tuple]: ...
