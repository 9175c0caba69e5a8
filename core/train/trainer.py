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

A step has three phases, which a page that draws the inside of a step can run
one at a time: `forward()` (the objective's loss on the next minibatch),
`backward()` (gradients), `update()` (clipping, the optimizer's step, the
records). `advance()` runs whole steps and is the fast path; a step run by
phases computes exactly what it computes.

Callbacks `fn(trainer, record) -> dict | None` run at four events (a returned
dict is merged into the record):

- "after_forward":  the step's forward pass is done (`trainer.last_forward`);
  record is the step's record, without its loss yet;
- "after_backward": gradients are there (before clipping);
- "step_end":       the optimizer has stepped; the step's record is complete;
- "epoch_end":      the epoch's record (losses, evaluation), before `elapsed`.

`snapshot()` / `restore()` save and put back the whole state of a run between
two steps, so a rewound run continues bit for bit as the uninterrupted one.
Not in a snapshot: torch's global RNG (the run never draws from it), the
callbacks (settings, like the data), and the device: a snapshot of a CUDA run
restores into a CUDA run (a CUDA generator's state is not a CPU one's).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from core.train import metrics as metrics_
from core.train.metrics import Metric
from core.train.optim import as_hparam, default_hparams, make_optimizer
from core.train.probe import probe
from core.train.protocols import (
    DataSource,
    HasState,
    Measures,
    Objective,
    Seekable,
    StartsEpochs,
    StepOut,
)

__all__ = ["Batches", "EVENTS", "Forward", "History", "Resize", "Snapshot", "StepOut", "Supervised", "Trainer",
           "squared_loss"]


class Batches:
    """Minibatches of tensors that already live on the device.

    `epoch(generator)` yields the batches of one epoch; with `shuffle` the order
    is a permutation drawn from `generator` (on the CPU, then moved).
    `transform(*batch) -> batch`, when given, is applied to every batch as it
    is yielded, on the batch's device (e.g. `Resize` to enlarge images for a
    bigger CNN without holding the enlarged data set in memory)."""

    def __init__(self, *tensors: torch.Tensor, batch_size: int, shuffle: bool = True,
                 transform: Callable[..., tuple] | None = None):
        if not tensors:
            raise ValueError("Batches needs at least one tensor")
        n = len(tensors[0])
        if any(len(t) != n for t in tensors):
            raise ValueError("all tensors must have the same first dimension")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.tensors, self.batch_size, self.shuffle = tensors, batch_size, shuffle
        self.transform = transform

    @property
    def num_examples(self) -> int:
        return len(self.tensors[0])

    def __len__(self) -> int:
        return math.ceil(self.num_examples / self.batch_size)

    def epoch(self, generator: torch.Generator | None = None) -> Iterator[tuple]:
        return self.epoch_from(generator, 0)

    def epoch_from(self, generator: torch.Generator | None, start: int) -> Iterator[tuple]:
        """The epoch `epoch(generator)` yields, from batch `start` on: the same
        permutation is drawn, the first batches are not gathered."""
        n, b = self.num_examples, self.batch_size
        order = None
        if self.shuffle and generator is not None:
            order = torch.randperm(n, generator=generator).to(self.tensors[0].device)
        for i in range(start * b, n, b):
            if order is None:
                batch = tuple(t[i : i + b] for t in self.tensors)
            else:
                idx = order[i : i + b]
                batch = tuple(t[idx] for t in self.tensors)
            yield tuple(self.transform(*batch)) if self.transform is not None else batch


class Resize:
    """A batch transform: images X (batch, channels, h, w) resized to `size`
    (an int for square images, or (h, w)) by F.interpolate; the other tensors
    of the batch pass unchanged."""

    def __init__(self, size: int | tuple[int, int], mode: str = "bilinear"):
        self.size, self.mode = size, mode

    def __call__(self, X: torch.Tensor, *rest: torch.Tensor) -> tuple:
        align = False if self.mode in ("linear", "bilinear", "bicubic", "trilinear") else None
        return (F.interpolate(X, size=self.size, mode=self.mode, align_corners=align), *rest)


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The book's squared loss, (y_hat - y)^2 / 2, per example."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def _as_metric(metric: Metric | str | Callable | None) -> Metric | None:
    if metric is None or isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        if metric not in metrics_.METRICS:
            raise ValueError(f"unknown metric {metric!r}: use one of {sorted(metrics_.METRICS)}")
        return metrics_.METRICS[metric]
    if callable(metric):  # a plain fn(y_hat, y): the batch's sum, averaged over the epoch's examples
        return Metric(getattr(metric, "__name__", "metric"), metric)
    raise ValueError(f"a metric is a Metric, a name or a callable, not {metric!r}")


class Supervised:
    """The default objective: `loss(net(X), y)`, averaged over the batch.

    loss: 'squared' (the book's, with the 1/2), 'cross_entropy', or a callable
    returning per-example losses. metric: a `core.train.metrics.Metric`
    (accuracy, log_rmse, ...), its name, or a plain fn(y_hat, y) giving the
    batch's sum (the book's accuracy counts); `accuracy=True` is
    `metric=accuracy`. The predictions are kept in StepOut.y_hat (detached)."""

    def __init__(self, loss: str | Callable = "squared", accuracy: bool = False,
                 metric: Metric | str | Callable | None = None):
        if loss == "squared":
            loss = squared_loss
        elif loss == "cross_entropy":
            loss = nn.CrossEntropyLoss(reduction="none")
        elif not callable(loss):
            raise ValueError(f"unknown loss {loss!r}")
        self.loss = loss
        self.metric = _as_metric(metric if metric is not None or not accuracy else metrics_.accuracy)

    @property
    def accuracy(self) -> bool:
        return self.metric is metrics_.accuracy

    def __call__(self, net: nn.Module, batch: tuple) -> StepOut:
        X, y = batch
        y_hat = net(X)
        l = self.loss(y_hat, y).mean()
        y_hat = y_hat.detach()
        metric_sum = None if self.metric is None else self.metric.batch_sum(y_hat, y)
        return StepOut(l, len(X), metric_sum, y_hat)


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

    def lengths(self) -> tuple[int, int, int]:
        return len(self.steps), len(self.epochs), len(self.hparams)

    def truncate(self, steps: int, epochs: int, hparams: int) -> None:
        del self.steps[steps:], self.epochs[epochs:], self.hparams[hparams:]


EVENTS = ("after_forward", "after_backward", "step_end", "epoch_end")
Callback = Callable[["Trainer", dict], "dict | None"]


class _Extra:
    """The old `extras={name: fn(net) -> float}`, as an epoch_end callback."""

    def __init__(self, name: str, fn: Callable[[nn.Module], float]):
        self.name, self.fn = name, fn

    def __call__(self, trainer: Trainer, record: dict) -> dict:
        return {self.name: float(self.fn(trainer.net))}


@dataclass
class Forward:
    """What the forward phase of the current step computed: the minibatch and
    the objective's StepOut (`loss` as a number, `y_hat` when the objective
    keeps its predictions)."""

    batch: tuple
    out: StepOut

    @property
    def loss(self) -> float:
        return float(self.out.loss.detach())

    @property
    def y_hat(self) -> torch.Tensor | None:
        return self.out.y_hat


def _clone(value):
    """Tensors cloned (detached) inside dicts, lists and tuples; the rest as is."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(v) for v in value)
    return value


def _tensor_bytes(value) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, dict):
        return sum(_tensor_bytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_tensor_bytes(v) for v in value)
    return 0


@dataclass
class Snapshot:
    """The whole state of a run between two steps (see `Trainer.snapshot`).

    Only plain values: dicts, lists, tuples, tensors, numbers, bools, None, so
    `to_dict()` can go through `torch.save` and back with
    `torch.load(..., weights_only=True)` (`save` / `load` do that; the object
    itself loads that way inside `torch.serialization.safe_globals([Snapshot])`)."""

    net: dict[str, torch.Tensor]  # net.state_dict(), cloned: parameters and buffers
    optimizer: dict  # optimizer.state_dict(), its tensors cloned
    gen_init: torch.Tensor  # the three generators' get_state()
    gen_data: torch.Tensor
    gen_noise: torch.Tensor
    epoch_start: torch.Tensor | None  # gen_data's state when the current epoch began; None between epochs
    batch_in_epoch: int  # minibatches of the current epoch already trained
    sums: list  # the epoch's running sums: loss * n, n, metric, train seconds
    step: int
    epoch: int
    elapsed: float
    hparams: dict[str, Any]
    diverged: bool
    history_lengths: tuple[int, int, int]  # steps, epochs, hparams records
    objective: dict | None  # the objective's state_dict(), when it has one
    history: dict | None = None  # the records themselves, with snapshot(history=True)

    @property
    def nbytes(self) -> int:
        """Bytes held in tensors (weights, optimizer state, generator states);
        the few numbers and the history records are not counted."""
        return _tensor_bytes([getattr(self, f.name) for f in fields(self)])

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Snapshot:
        values = dict(values)
        values["history_lengths"] = tuple(values["history_lengths"])
        return cls(**values)

    def save(self, path) -> None:
        torch.save(self.to_dict(), path)

    @classmethod
    def load(cls, path, map_location=None) -> Snapshot:
        return cls.from_dict(torch.load(path, map_location=map_location, weights_only=True))


class Trainer:
    """Trains `net_fn(gen_init)` on `train` for `num_epochs`, a budget at a time.

    optimizer: a name from core.train.optim.OPTIMIZERS ('sgd', 'momentum',
    'adam', 'adam_scratch', ...); its hyperparameters are lr, weight_decay and
    the optimizer's own, set by `hparams` (e.g. {"momentum": 0.9}) and
    changed mid-run by `set_hparams`. param_groups(net) may split the
    parameters into groups (dicts as torch's optimizers take them); a group
    with `"decay": False` never gets weight decay. callbacks: (event, fn)
    pairs, see the module's docstring; extras maps a name to `fn(net) -> float`,
    recorded every epoch (an epoch_end callback). clock: what `advance`'s time
    budget and the records' seconds are measured with."""

    def __init__(
        self,
        net_fn: Callable[[torch.Generator], nn.Module],
        train: DataSource,
        *,
        test: DataSource | None = None,
        objective: Objective | None = None,
        optimizer: str = "sgd",
        lr: float = 0.1,
        weight_decay: float = 0.0,
        hparams: dict[str, Any] | None = None,
        num_epochs: int = 10,
        seed: int = 0,
        device: torch.device | str = "cpu",
        grad_clip: float | None = None,
        eval_train: bool = False,
        param_groups: Callable[[nn.Module], list[dict]] | None = None,
        callbacks: list[tuple[str, Callback]] | tuple = (),
        extras: dict[str, Callable[[nn.Module], float]] | None = None,
        config: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        if num_epochs < 0:
            raise ValueError("num_epochs must be >= 0")
        for name, data in (("train", train), ("test", test)):
            if data is not None and not isinstance(data, DataSource):
                raise TypeError(f"{name} must have epoch(generator), __len__ and num_examples")
        objective = objective or Supervised()
        if not isinstance(objective, Objective):
            raise TypeError("the objective must be a callable objective(net, batch) -> StepOut")
        self.net_fn, self.train, self.test = net_fn, train, test
        self.objective = objective
        self.initial_hparams = default_hparams(optimizer, lr=lr, weight_decay=weight_decay, **(hparams or {}))
        self.optimizer_name, self.seed = optimizer, int(seed)
        self.device = torch.device(device)
        self.grad_clip, self.eval_train = grad_clip, eval_train
        self.param_groups_fn = param_groups
        self.config = dict(config or {})
        self.num_epochs = int(num_epochs)
        self.clock = clock
        self._callbacks: dict[str, list[Callback]] = {event: [] for event in EVENTS}
        self.extras = dict(extras or {})
        for name, fn in self.extras.items():
            self.add_callback("epoch_end", _Extra(name, fn))
        for event, fn in callbacks:
            self.add_callback(event, fn)
        # fn(trainer, event) at each step boundary: "step" after a whole step (and its epoch's end), "reset",
        # "restore"; between two steps, so it may take a snapshot (core.train.timeline); stays through reset()
        self.on_boundary: Callable[[Trainer, str], None] | None = None
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
        self.optimizer = make_optimizer(self.optimizer_name, groups, **self.hparams)
        self.history = History()
        self.epoch, self.step, self.elapsed = 0, 0, 0.0
        self.diverged = False
        self.last_forward: Forward | None = None
        self._phase = "forward"
        self._record: dict | None = None
        self._phase_seconds = 0.0
        self._pending: tuple | None = None
        self._it: Iterator | None = None
        self._epoch_start: torch.Tensor | None = None
        self._batch_in_epoch = 0
        self._sums = [0.0, 0, 0.0, 0.0]  # loss*n, n, metric, train seconds
        self._boundary("reset")

    def set_hparams(self, **values: Any) -> None:
        """Change any of the optimizer's hyperparameters (lr, weight_decay,
        momentum, betas, eps, ... see `hparams`); the next step uses the new
        values. weight_decay changes only the groups that decay. An unknown
        name raises ValueError and changes nothing."""
        unknown = sorted(set(values) - set(self.hparams))
        if unknown:
            raise ValueError(f"unknown hyperparameter(s) {unknown} for optimizer {self.optimizer_name!r}: "
                             f"it has {sorted(self.hparams)}")
        for name, value in values.items():
            value = as_hparam(value)
            if value == self.hparams[name]:
                continue
            self.hparams[name] = value
            for g in self.optimizer.param_groups:
                if name != "weight_decay" or g.get("decay", True):
                    g[name] = value
            self.history.hparams.append({"step": self.step, "name": name, "value": value})

    def add_callback(self, event: str, fn: Callback) -> Callback:
        """Call `fn(trainer, record)` at `event` (one of EVENTS); a dict it
        returns is merged into the record. Callbacks stay through reset()."""
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}: use one of {EVENTS}")
        self._callbacks[event].append(fn)
        return fn

    def remove_callback(self, event: str, fn: Callback) -> None:
        self._callbacks[event].remove(fn)

    def _fire(self, event: str, record: dict) -> None:
        for fn in self._callbacks[event]:
            values = fn(self, record)
            if values:
                record.update(values)

    def probe(self, **kwargs):
        """`core.train.probe.probe` on this run's net, also putting back the
        run's three generators: `with trainer.probe(capture=[...]) as p: trainer.net(X)`."""
        return probe(self.net, generators=(self.gen_init, self.gen_data, self.gen_noise), **kwargs)

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

    @property
    def phase(self) -> str:
        """The phase the current step runs next: 'forward', 'backward' or 'update'."""
        return self._phase

    @property
    def metric(self) -> Metric | None:
        """The objective's metric (its `.name` names it), or None."""
        return self.objective.metric if isinstance(self.objective, Measures) else None

    def advance(self, max_steps: int | None = None, max_seconds: float | None = None) -> list[dict]:
        """Train until `max_steps` minibatches or `max_seconds` have passed, or
        the run is done; at least one step when a budget allows any. The time
        budget is checked (on the trainer's clock) before each step, and a step
        is never cut: a step starts while less than `max_seconds` has passed
        since the call, so the call overshoots by at most one step. A step begun
        by phases is finished first (and counts as one). Returns the new records
        (step records, and epoch records at epoch ends)."""
        new: list[dict] = []
        start, steps = self.clock(), 0
        while not self.done:
            if max_steps is not None and steps >= max_steps:
                break
            if max_seconds is not None and steps and self.clock() - start >= max_seconds:
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

    # ------------------------------------------------------------- the phases
    def step_once(self) -> list[dict]:
        """One whole step, or the rest of a step begun by phases; [] when done."""
        if self._phase == "forward" and self.done:
            return []
        return self._one_step()

    def forward(self) -> Forward:
        """Phase 1: the objective on the next minibatch, in training mode
        (starting an epoch when one is due). Returns (and keeps in
        `last_forward`) the batch and the objective's output."""
        self._expect("forward")
        t0 = self.clock()
        self._forward()
        self._phase_seconds += self.clock() - t0
        return self.last_forward

    def backward(self) -> None:
        """Phase 2: the gradients of the forward phase's loss."""
        self._expect("backward")
        t0 = self.clock()
        self._backward()
        self._phase_seconds += self.clock() - t0

    def update(self) -> list[dict]:
        """Phase 3: gradient clipping, the optimizer's step, the step's record
        (and the epoch's, when the data ran out). Returns the new records.
        The step's seconds are those of its three phases, not the time between them."""
        self._expect("update")
        return self._update(self.clock())

    def _expect(self, phase: str) -> None:
        if self._phase != phase:
            raise ValueError(f"{phase}() called when the step's next phase is {self._phase}(): "
                             "a step runs forward(), backward(), update() in this order")
        if phase == "forward" and self.done:
            raise ValueError("the run is done: reset() it, or raise num_epochs to train on")

    # ---------------------------------------------------------------- the work
    def _start_epoch(self) -> None:
        if isinstance(self.objective, StartsEpochs):
            self.objective.start_epoch()
        self._epoch_start = self.gen_data.get_state()
        self._it = iter(self.train.epoch(self.gen_data))
        self._pending = next(self._it, None)
        self._batch_in_epoch = 0
        self._sums = [0.0, 0, 0.0, 0.0]
        if self._pending is None:
            raise ValueError("the training data yields no batches")

    def _one_step(self) -> list[dict]:
        t0 = self.clock()
        if self._phase == "forward":
            self._forward()
        if self._phase == "backward":
            self._backward()
        return self._update(t0)

    def _forward(self) -> None:
        if self._it is None:
            self._start_epoch()
        batch, self._pending = self._pending, next(self._it, None)
        self.net.train()
        self.last_forward = Forward(batch, self.objective(self.net, batch))
        frac = min((self._batch_in_epoch + 1) / max(1, len(self.train)), 1.0)
        self._record = {"step": self.step + 1, "epoch": self.epoch + frac, "loss": None}
        self._phase = "backward"
        self._fire("after_forward", self._record)

    def _backward(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        self.last_forward.out.loss.backward()
        self._phase = "update"
        self._fire("after_backward", self._record)

    def _update(self, t0: float) -> list[dict]:
        if self.grad_clip:
            nn.utils.clip_grad_norm_(self.net.parameters(), self.grad_clip)
        self.optimizer.step()
        out = self.last_forward.out
        loss = float(out.loss.detach())
        if not math.isfinite(loss):
            self.diverged = True
        s = self._sums
        s[0] += loss * out.n
        s[1] += out.n
        s[2] += out.metric_sum or 0.0
        self.step += 1
        self._batch_in_epoch += 1
        record, self._record = self._record, None
        record["loss"] = loss
        self.history.steps.append(record)
        self._phase = "forward"
        self._fire("step_end", record)
        dt = self._phase_seconds + self.clock() - t0
        self._phase_seconds = 0.0
        s[3] += dt
        self.elapsed += dt
        new = [record, self._finish_epoch()] if self._pending is None and not self.diverged else [record]
        self._boundary("step")
        return new

    def _boundary(self, event: str) -> None:
        if self.on_boundary is not None:
            self.on_boundary(self, event)

    @property
    def batch_in_epoch(self) -> int:
        """Minibatches of the current epoch trained so far (0 between epochs)."""
        return self._batch_in_epoch

    def _finish_epoch(self) -> dict:
        t0 = self.clock()
        loss_sum, n, metric_sum, seconds = self._sums
        metric = self.metric
        self.epoch += 1
        self._it, self._epoch_start, self._batch_in_epoch = None, None, 0
        record: dict[str, Any] = {
            "epoch": self.epoch,
            "step": self.step,
            "train_loss": loss_sum / n,
            "train_metric": metric.finish(metric_sum / n) if metric is not None else None,
            "examples_per_sec": n / seconds if seconds > 0 else None,
        }
        if self.eval_train:
            record["train_loss"], record["train_metric"] = self.evaluate(self.train)
        if self.test is not None:
            record["test_loss"], record["test_metric"] = self.evaluate(self.test)
        self._fire("epoch_end", record)
        self.elapsed += self.clock() - t0
        record["elapsed"] = self.elapsed
        self.history.epochs.append(record)
        return record

    @torch.no_grad()
    def evaluate(self, data: DataSource) -> tuple[float, float | None]:
        """Mean loss (and metric) over `data` in eval mode, in a fixed order.
        The objective's state (the recurrent state an LM carries) is put back
        afterwards, so evaluating mid-epoch does not change the run."""
        was_training = self.net.training
        self.net.eval()
        saved = _clone(self.objective.state_dict()) if isinstance(self.objective, HasState) else None
        if isinstance(self.objective, StartsEpochs):
            self.objective.start_epoch()
        loss_sum, n, metric_sum = 0.0, 0, 0.0
        for batch in data.epoch(None):
            out = self.objective(self.net, batch)
            loss_sum += float(out.loss) * out.n
            n += out.n
            metric_sum += out.metric_sum or 0.0
        self.net.train(was_training)
        if saved is not None:
            self.objective.load_state_dict(saved)
        elif isinstance(self.objective, StartsEpochs):
            self.objective.start_epoch()
        metric = self.metric
        return loss_sum / max(n, 1), (metric.finish(metric_sum / max(n, 1)) if metric is not None else None)

    # ------------------------------------------------------ snapshot / restore
    def snapshot(self, history: bool = False) -> Snapshot:
        """The run's whole state now, between two steps (a half-done step
        raises ValueError): weights and buffers, optimizer state, the three
        generators, where the epoch is (gen_data's state at the epoch's start
        and the number of batches done, never a live iterator), the epoch's
        sums, counters, hyperparameters and the objective's state. With
        `history`, the records too (to move the run to a fresh trainer);
        without, only their numbers (to rewind this one)."""
        if self._phase != "forward":
            raise ValueError(f"snapshot() between steps only: this step's {self._phase}() is still to run")
        objective = _clone(self.objective.state_dict()) if isinstance(self.objective, HasState) else None
        return Snapshot(
            net={k: v.detach().clone() for k, v in self.net.state_dict().items()},
            optimizer=_clone(self.optimizer.state_dict()),
            gen_init=self.gen_init.get_state(), gen_data=self.gen_data.get_state(),
            gen_noise=self.gen_noise.get_state(),
            epoch_start=None if self._it is None else self._epoch_start.clone(),
            batch_in_epoch=self._batch_in_epoch, sums=list(self._sums),
            step=self.step, epoch=self.epoch, elapsed=self.elapsed,
            hparams=dict(self.hparams), diverged=self.diverged,
            history_lengths=self.history.lengths(), objective=objective,
            history=None if not history else {
                "steps": [dict(r) for r in self.history.steps], "epochs": [dict(r) for r in self.history.epochs],
                "hparams": [dict(r) for r in self.history.hparams]},
        )

    def restore(self, snap: Snapshot) -> None:
        """Put the run back to `snap` (from this trainer or another built with
        the same settings); training on gives bit for bit what followed the
        snapshot. A half-done step is dropped. The history is cut back to the
        snapshot's (or replaced by its records, when it carries them); a trainer
        that never had those records keeps its shorter history."""
        self.net.load_state_dict(snap.net)
        self.optimizer.load_state_dict(_clone(snap.optimizer))
        self.hparams = dict(snap.hparams)
        self.gen_init.set_state(snap.gen_init)
        self.gen_noise.set_state(snap.gen_noise)
        self.step, self.epoch, self.elapsed, self.diverged = snap.step, snap.epoch, snap.elapsed, snap.diverged
        self._sums = list(snap.sums)
        if snap.history is not None:
            self.history = History(*([dict(r) for r in snap.history[k]] for k in ("steps", "epochs", "hparams")))
        else:
            self.history.truncate(*snap.history_lengths)
        if isinstance(self.objective, HasState) and snap.objective is not None:
            self.objective.load_state_dict(_clone(snap.objective))
        self._batch_in_epoch = snap.batch_in_epoch
        if snap.epoch_start is None:
            self._it = self._pending = self._epoch_start = None
        else:  # the epoch re-drawn from its start, then on to the batch it had reached
            self._epoch_start = snap.epoch_start.clone()
            self.gen_data.set_state(snap.epoch_start)
            if isinstance(self.train, Seekable):
                self._it = iter(self.train.epoch_from(self.gen_data, snap.batch_in_epoch))
            else:
                self._it = iter(self.train.epoch(self.gen_data))
                for _ in range(snap.batch_in_epoch):
                    next(self._it, None)
            self._pending = next(self._it, None)
        self.gen_data.set_state(snap.gen_data)
        self._phase, self._record, self._phase_seconds, self.last_forward = "forward", None, 0.0, None
        self._boundary("restore")
