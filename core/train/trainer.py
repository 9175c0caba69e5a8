"""A resumable, time-budgeted trainer that knows nothing about the UI.

The page (or a test, or a benchmark) builds a `Trainer` and calls `advance()` with
a budget of steps or seconds as often as it likes; the trainer remembers where it
is inside the epoch, so many small calls train exactly like one long call.
Everything random comes from generators owned by the run:

- `gen_init` (CPU) draws the initial weights, so CPU and CUDA start identical;
- `gen_data` (CPU) draws the minibatch order of every epoch;
- `gen_noise` (on the device) is handed to every module with a `generator`
  attribute (the playground's dropout, for one).

`reset()` re-seeds all three, so a replay gives the same curve bit for bit.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from torch import nn


class StepOut(NamedTuple):
    """What an objective returns for one minibatch."""

    loss: torch.Tensor  # mean loss over the batch, a scalar with a graph
    n: int  # examples (or tokens) in the batch
    metric_sum: float | None = None  # e.g. number of correct predictions


class Batches:
    """Minibatches of tensors that already live on the device.

    `epoch(generator)` yields the batches of one epoch; with `shuffle` the order
    is a permutation drawn from `generator` (on the CPU, then moved)."""

    def __init__(self, *tensors: torch.Tensor, batch_size: int, shuffle: bool = True):
        if not tensors:
            raise ValueError("Batches needs at least one tensor")
        n = len(tensors[0])
        if any(len(t) != n for t in tensors):
            raise ValueError("all tensors must have the same first dimension")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.tensors, self.batch_size, self.shuffle = tensors, batch_size, shuffle

    @property
    def num_examples(self) -> int:
        return len(self.tensors[0])

    def __len__(self) -> int:
        return math.ceil(self.num_examples / self.batch_size)

    def epoch(self, generator: torch.Generator | None = None) -> Iterator[tuple]:
        n = self.num_examples
        if self.shuffle and generator is not None:
            order = torch.randperm(n, generator=generator).to(self.tensors[0].device)
            for i in range(0, n, self.batch_size):
                idx = order[i : i + self.batch_size]
                yield tuple(t[idx] for t in self.tensors)
        else:
            for i in range(0, n, self.batch_size):
                yield tuple(t[i : i + self.batch_size] for t in self.tensors)


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The book's squared loss, (y_hat - y)^2 / 2, per example."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


class Supervised:
    """The default objective: `loss(net(X), y)`, averaged over the batch.

    loss: 'squared' (the book's, with the 1/2), 'cross_entropy', or a callable
    returning per-example losses. With `accuracy=True` the metric is the count
    of correct argmax predictions."""

    def __init__(self, loss: str | Callable = "squared", accuracy: bool = False):
        if loss == "squared":
            loss = squared_loss
        elif loss == "cross_entropy":
            loss = nn.CrossEntropyLoss(reduction="none")
        elif not callable(loss):
            raise ValueError(f"unknown loss {loss!r}")
        self.loss, self.accuracy = loss, accuracy

    def __call__(self, net: nn.Module, batch: tuple) -> StepOut:
        X, y = batch
        y_hat = net(X)
        l = self.loss(y_hat, y).mean()
        correct = None
        if self.accuracy:
            correct = float((y_hat.argmax(dim=1) == y).sum())
        return StepOut(l, len(X), correct)


@dataclass
class History:
    steps: list[dict] = field(default_factory=list)  # one record per minibatch
    epochs: list[dict] = field(default_factory=list)  # one record per epoch
    hparams: list[dict] = field(default_factory=list)  # mid-run changes

    def series(self, key: str, level: str = "epochs") -> tuple[list, list]:
        records = getattr(self, level)
        xs = [r["epoch"] for r in records if r.get(key) is not None]
        ys = [r[key] for r in records if r.get(key) is not None]
        return xs, ys


OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}


class Trainer:
    """Trains `net_fn(gen_init)` on `train` for `num_epochs`, a budget at a time.

    param_groups(net) may split the parameters into groups (dicts as torch's
    optimizers take them); a group with `"decay": False` never gets weight
    decay. extras maps a name to `fn(net) -> float`, recorded every epoch."""

    def __init__(
        self,
        net_fn: Callable[[torch.Generator], nn.Module],
        train: Batches,
        *,
        test: Batches | None = None,
        objective: Callable[[nn.Module, tuple], StepOut] | None = None,
        optimizer: str = "sgd",
        lr: float = 0.1,
        weight_decay: float = 0.0,
        num_epochs: int = 10,
        seed: int = 0,
        device: torch.device | str = "cpu",
        grad_clip: float | None = None,
        eval_train: bool = False,
        param_groups: Callable[[nn.Module], list[dict]] | None = None,
        extras: dict[str, Callable[[nn.Module], float]] | None = None,
        config: dict[str, Any] | None = None,
    ):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}")
        if num_epochs < 0:
            raise ValueError("num_epochs must be >= 0")
        self.net_fn, self.train, self.test = net_fn, train, test
        self.objective = objective or Supervised()
        self.optimizer_name, self.seed = optimizer, int(seed)
        self.device = torch.device(device)
        self.grad_clip, self.eval_train = grad_clip, eval_train
        self.param_groups_fn = param_groups
        self.extras = dict(extras or {})
        self.config = dict(config or {})
        self.num_epochs = int(num_epochs)
        self.initial_hparams = {"lr": float(lr), "weight_decay": float(weight_decay)}
        self.reset()

    # ----------------------------------------------------------------- set-up
    def reset(self) -> None:
        """Back to the identical initial weights, data order and noise."""
        self.gen_init = torch.Generator().manual_seed(self.seed)
        self.gen_data = torch.Generator().manual_seed(self.seed + 1)
        self.gen_noise = torch.Generator(device=self.device).manual_seed(self.seed + 2)
        self.net = self.net_fn(self.gen_init).to(self.device)
        for module in self.net.modules():
            if hasattr(module, "generator"):
                module.generator = self.gen_noise
        self.hparams = dict(self.initial_hparams)
        groups = self.param_groups_fn(self.net) if self.param_groups_fn else [
            {"params": list(self.net.parameters())}
        ]
        for g in groups:
            g.setdefault("decay", True)
            g["weight_decay"] = self.hparams["weight_decay"] if g["decay"] else 0.0
        self.optimizer = OPTIMIZERS[self.optimizer_name](groups, lr=self.hparams["lr"])
        self.history = History()
        self.epoch, self.step, self.elapsed = 0, 0, 0.0
        self.diverged = False
        self._pending: tuple | None = None
        self._it: Iterator | None = None
        self._batch_in_epoch = 0
        self._sums = [0.0, 0, 0.0, 0.0]  # loss*n, n, metric, train seconds

    def set_hparams(self, **values: float) -> None:
        """Change lr and/or weight_decay; the next step uses the new values."""
        for name, value in values.items():
            if name not in self.hparams:
                raise ValueError(f"unknown hyperparameter {name!r}")
            value = float(value)
            if value == self.hparams[name]:
                continue
            self.hparams[name] = value
            for g in self.optimizer.param_groups:
                if name == "lr":
                    g["lr"] = value
                elif g.get("decay", True):
                    g["weight_decay"] = value
            self.history.hparams.append({"step": self.step, "name": name, "value": value})

    # --------------------------------------------------------------- progress
    @property
    def done(self) -> bool:
        """Finished all epochs, or stopped because the loss stopped being finite."""
        return self.epoch >= self.num_epochs or self.diverged

    @property
    def progress(self) -> float:
        """Fraction of the run done, in [0, 1]."""
        if self.num_epochs == 0:
            return 1.0
        within = min(self._batch_in_epoch / max(1, len(self.train)), 0.999) if not self.done else 0
        return min(1.0, (self.epoch + within) / self.num_epochs)

    @property
    def steps_left_in_epoch(self) -> int:
        """Minibatches until the current epoch ends (approximate for data whose
        epochs vary in length; the epoch still ends exactly when the data does)."""
        return max(1, len(self.train) - self._batch_in_epoch)

    @property
    def started(self) -> bool:
        return self.step > 0

    def advance(self, max_steps: int | None = None, max_seconds: float | None = None) -> list[dict]:
        """Train until `max_steps` minibatches or `max_seconds` have passed, or
        the run is done; at least one step when a budget allows any. Returns the
        new records (step records, and epoch records at epoch ends)."""
        new: list[dict] = []
        start, steps = time.perf_counter(), 0
        while not self.done:
            if max_steps is not None and steps >= max_steps:
                break
            if max_seconds is not None and steps and time.perf_counter() - start >= max_seconds:
                break
            new.extend(self._one_step())
            steps += 1
        return new

    def advance_epoch(self) -> list[dict]:
        """Finish the current epoch (or run one whole epoch)."""
        new: list[dict] = []
        target = self.epoch + 1
        while not self.done and self.epoch < target:
            new.extend(self._one_step())
        return new

    # ---------------------------------------------------------------- the work
    def _start_epoch(self) -> None:
        if hasattr(self.objective, "start_epoch"):
            self.objective.start_epoch()
        self._it = iter(self.train.epoch(self.gen_data))
        self._pending = next(self._it, None)
        self._batch_in_epoch = 0
        self._sums = [0.0, 0, 0.0, 0.0]
        if self._pending is None:
            raise ValueError("the training data yields no batches")

    def _one_step(self) -> list[dict]:
        t0 = time.perf_counter()
        if self._it is None:
            self._start_epoch()
        batch, self._pending = self._pending, next(self._it, None)
        self.net.train()
        out = self.objective(self.net, batch)
        self.optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        if self.grad_clip:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.grad_clip)
        self.optimizer.step()
        loss = float(out.loss.detach())
        if not math.isfinite(loss):
            self.diverged = True
        s = self._sums
        s[0] += loss * out.n
        s[1] += out.n
        s[2] += out.metric_sum or 0.0
        self.step += 1
        self._batch_in_epoch += 1
        dt = time.perf_counter() - t0
        s[3] += dt
        self.elapsed += dt
        frac = min(self._batch_in_epoch / max(1, len(self.train)), 1.0)
        record = {"step": self.step, "epoch": self.epoch + frac, "loss": loss}
        self.history.steps.append(record)
        if self._pending is None and not self.diverged:
            return [record, self._finish_epoch()]
        return [record]

    def _finish_epoch(self) -> dict:
        t0 = time.perf_counter()
        loss_sum, n, metric_sum, seconds = self._sums
        self.epoch += 1
        self._it = None
        record: dict[str, Any] = {
            "epoch": self.epoch,
            "step": self.step,
            "train_loss": loss_sum / n,
            "train_metric": metric_sum / n if self._has_metric() else None,
            "examples_per_sec": n / seconds if seconds > 0 else None,
        }
        if self.eval_train:
            record["train_loss"], record["train_metric"] = self.evaluate(self.train)
        if self.test is not None:
            record["test_loss"], record["test_metric"] = self.evaluate(self.test)
        for name, fn in self.extras.items():
            record[name] = float(fn(self.net))
        self.elapsed += time.perf_counter() - t0
        record["elapsed"] = self.elapsed
        self.history.epochs.append(record)
        return record

    def _has_metric(self) -> bool:
        return getattr(self.objective, "accuracy", False) or getattr(self.objective, "has_metric", False)

    @torch.no_grad()
    def evaluate(self, data: Batches) -> tuple[float, float | None]:
        """Mean loss (and metric) over `data` in eval mode, in a fixed order."""
        was_training = self.net.training
        self.net.eval()
        loss_sum, n, metric_sum = 0.0, 0, 0.0
        if hasattr(self.objective, "start_epoch"):
            self.objective.start_epoch()
        for batch in data.epoch(None):
            out = self.objective(self.net, batch)
            loss_sum += float(out.loss) * out.n
            n += out.n
            metric_sum += out.metric_sum or 0.0
        self.net.train(was_training)
        if hasattr(self.objective, "start_epoch"):
            self.objective.start_epoch()
        return loss_sum / max(n, 1), (metric_sum / max(n, 1) if self._has_metric() else None)
