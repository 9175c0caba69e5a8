"""Runs that train somewhere else: what the page side holds, and the words both sides share.

Today a page's run lives inside the Streamlit process and trains only while the
page ticks it. The next step is "the web process renders, workers train": an
executor hosts the runs in worker processes (`LocalExecutor`) or Ray actors
(`RayExecutor`), they train on by themselves, and the page holds a `RunHandle`
whose calls are short. Everything that crosses over is plain, picklable data:

- a `RunSpec` says what to build: an experiment module of `core.experiments`
  by name, its Config, the seed, the device, and the data (the data itself,
  or a `DataRef` naming a loader the worker calls, so a big data set is read
  where the run trains instead of being shipped with every run);
- a `Poll` says what happened since the page last asked: the new step, epoch
  and hyperparameter records (by trainer name, as `Trainer.history` holds
  them), the state, the place in the queue, the error, the progress;
- a probe is named, never sent as code: "core.some.module:function", called
  as function(trainers, **kwargs) between two steps in the worker, returning
  arrays and dicts;
- a snapshot is `{trainer name: Snapshot.to_dict()}`, with the history.

States are LiveRun's (idle, running, stepping, queued, finished, diverged,
failed) and four of the executor's: building (placed and being built, or for
Ray waiting for a node with room), lost (the worker died: the poll carries the
last snapshot the executor took, and `restore` onto a new run resumes from it),
closed. `make_executor()` picks the executor from the environment
(`PLAYGROUND_RAY_ADDRESS`); ray is imported only when it is set.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import inspect
import os
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

BUILDING, LOST, CLOSED = "building", "lost", "closed"
# What a handle's poll may say; the first seven are core.train.live_run.State's values.
STATES = ("idle", "running", "stepping", "queued", "finished", "diverged", "failed", BUILDING, LOST, CLOSED)
ACTIVE_STATES = ("running", "stepping", "queued")
KINDS = ("steps", "epochs", "hparams")  # the three lists of Trainer.history, as records travel

_EXPERIMENT = re.compile(r"[a-z][a-z0-9_]*")
_CORE_MODULE = re.compile(r"core(\.[a-z_][a-z0-9_]*)+")
_PUBLIC_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class RunGone(RuntimeError):
    """A command reached a run that is closed or lost (its worker died)."""


# ------------------------------------------------------------------ naming code
@functools.cache
def experiment_names() -> tuple[str, ...]:
    """The modules of core.experiments that build runs: those whose source
    defines a top-level `build` (read, not imported: naming a module in a spec
    must not run it)."""
    import core.experiments

    names = []
    for m in pkgutil.iter_modules(core.experiments.__path__):
        path = Path(m.module_finder.path) / f"{m.name}.py"
        if m.ispkg or not _EXPERIMENT.fullmatch(m.name) or not path.is_file():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.FunctionDef) and n.name == "build" for n in tree.body):
            names.append(m.name)
    return tuple(sorted(names))


def experiment_module(name: str):
    """core.experiments.<name>, when `name` is one of its modules with a build();
    ValueError otherwise. The name is checked against the package's own list
    before anything is imported, so a spec can never import another module."""
    if not isinstance(name, str) or name not in experiment_names():
        raise ValueError(f"unknown experiment {name!r}: use one of {list(experiment_names())}")
    module = importlib.import_module(f"core.experiments.{name}")
    if not callable(getattr(module, "build", None)):
        raise ValueError(f"core.experiments.{name} has no build(cfg, data, *, seed, device)")
    return module


def check_ref(ref: str) -> tuple[str, str]:
    """(module, function) of "core.some.module:function", checked by its form
    only (nothing imported): a module under core., a public function name."""
    module, sep, name = ref.partition(":") if isinstance(ref, str) else ("", "", "")
    if not sep or not _CORE_MODULE.fullmatch(module) or not _PUBLIC_NAME.fullmatch(name):
        raise ValueError(f"{ref!r} is not 'core.<module>:<function>' (a public function of a module under core.)")
    return module, name


def resolve(ref: str) -> Callable:
    """The function `ref` names (see check_ref); only plain functions, never a
    class or another callable object, so a name cannot construct things."""
    module, name = check_ref(ref)
    fn = getattr(importlib.import_module(module), name, None)
    if not inspect.isfunction(fn):
        raise ValueError(f"{ref!r} is not a function")
    return fn


# ------------------------------------------------------------------- the spec
@dataclass(frozen=True)
class DataRef:
    """Data a worker loads itself: `fn` ("core.data.fashion_mnist:load_fashion_mnist")
    called with `kwargs`, once per worker process (cached), so many runs on one
    worker share one copy and nothing big crosses the pipe or the network."""

    fn: str
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self):
        check_ref(self.fn)
        object.__setattr__(self, "kwargs", tuple(sorted(dict(self.kwargs).items())))

    def load(self):
        return _load_data(self.fn, self.kwargs)


@functools.lru_cache(maxsize=4)
def _load_data(fn: str, kwargs: tuple) -> Any:
    return resolve(fn)(**dict(kwargs))


@dataclass(frozen=True, eq=False)
class Shared:
    """Data many runs share, named by its content (`key`, a checksum): an
    executor sends the value to a worker once and later specs carry only the
    key (`value` None), so the page's own copy of a data set (the real one, a
    stand-in, an upload) trains where the run lives without crossing the pipe
    with every run. Two Shared are equal when their keys are."""

    key: str
    value: Any = None

    def __eq__(self, other) -> bool:
        return isinstance(other, Shared) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def bare(self) -> Shared:
        return Shared(self.key)


class SharedCache:
    """The Shared data one worker holds, the last `size` keys used. The worker
    keeps the values; the executor keeps a twin of the same size fed the same
    specs in the same order, so it knows which keys it may send bare."""

    def __init__(self, size: int = 4):
        self.size = size
        self._values: dict[str, Any] = {}

    def _use(self, key: str, value: Any) -> Any:
        self._values[key] = self._values.pop(key, value)
        while len(self._values) > self.size:
            del self._values[next(iter(self._values))]
        return self._values[key]

    def outgoing(self, spec: RunSpec) -> RunSpec:
        """The executor's side: `spec` as it goes to the worker, its Shared data
        bare when the worker has it already."""
        if not isinstance(spec.data, Shared):
            return spec
        known = spec.data.key in self._values
        self._use(spec.data.key, True)
        return dataclasses.replace(spec, data=spec.data.bare()) if known else spec

    def incoming(self, spec: RunSpec) -> RunSpec:
        """The worker's side: `spec` with its Shared data's value filled in."""
        if not isinstance(spec.data, Shared):
            return spec
        if spec.data.value is None and spec.data.key not in self._values:
            return spec  # load_data says so: the run fails with that, the worker goes on
        value = self._use(spec.data.key, spec.data.value)
        return dataclasses.replace(spec, data=Shared(spec.data.key, value))


@dataclass(frozen=True)
class RunSpec:
    """What a worker builds: `core.experiments.<experiment>.build(cfg, data,
    seed=seed, device=device)`. `data` is the data itself (pickled to the
    worker with every run), a DataRef, or None for experiments that draw their
    own. num_cpus / num_gpus are what the run asks of a Ray node (default one
    CPU, and one GPU when the device is CUDA); the local executor ignores them.
    `init`: a state_dict every trainer starts from instead of the seed's
    initial weights (an uploaded model; see checkpoints.start_from), None for
    the seed's own."""

    experiment: str
    cfg: Any  # a Config, or {name: Config} for runs trained side by side (a preset)
    seed: int = 0
    device: str = "cpu"
    data: Any = None
    num_cpus: float = 1.0
    num_gpus: float | None = None
    init: Mapping[str, Any] | None = field(default=None, compare=False)

    def __post_init__(self):
        if not isinstance(self.experiment, str) or self.experiment not in experiment_names():
            raise ValueError(f"unknown experiment {self.experiment!r}: use one of {list(experiment_names())}")
        object.__setattr__(self, "device", str(self.device))

    @property
    def gpus(self) -> float:
        if self.num_gpus is not None:
            return float(self.num_gpus)
        return 1.0 if self.device.startswith("cuda") else 0.0


def load_data(spec: RunSpec) -> Any:
    """The spec's data, on the spec's device: a DataRef is loaded (once per
    process), a Shared's value taken (a worker fills it in from its own cache
    before building), anything else used as it is."""
    data = spec.data
    if isinstance(data, DataRef):
        data = data.load()
    elif isinstance(data, Shared):
        if data.value is None:
            raise ValueError(f"shared data {data.key} was never sent to this worker")
        data = data.value
    return on_device(data, spec.device)


def on_device(data: Any, device: str) -> Any:
    """`data` with every tensor in it on `device` (dataclasses, tuples, lists and
    dicts rebuilt around them); the same object when nothing had to move."""
    import dataclasses

    import torch

    if isinstance(data, torch.Tensor):
        return data if data.device == torch.device(device) else data.to(device)
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        moved = {f.name: on_device(getattr(data, f.name), device) for f in dataclasses.fields(data) if f.init}
        same = all(moved[n] is getattr(data, n) for n in moved)
        return data if same else dataclasses.replace(data, **moved)
    if isinstance(data, (tuple, list)):
        if data and isinstance(data[0], (int, float, str, bool)):
            return data  # a corpus of token ids, a list of labels: no tensors in there, and not worth a walk
        moved_items = [on_device(v, device) for v in data]
        if all(a is b for a, b in zip(moved_items, data)):
            return data
        return type(data)(moved_items) if not hasattr(data, "_fields") else type(data)(*moved_items)
    if isinstance(data, dict):
        moved_map = {k: on_device(v, device) for k, v in data.items()}
        return data if all(moved_map[k] is data[k] for k in data) else moved_map
    return data


def build_trainers(spec: RunSpec, data: Any = None) -> dict:
    """The spec's trainers by name ("" for an experiment that builds one; for a
    preset's {name: Config}, its names, joined with " · " to the names of an
    experiment that builds several). `data`: the spec's data already loaded."""
    from core.train.trainer import Trainer

    module = experiment_module(spec.experiment)
    if data is None:
        data = load_data(spec)
    configs = spec.cfg.items() if isinstance(spec.cfg, Mapping) else [("", spec.cfg)]
    trainers: dict = {}
    for name, cfg in configs:
        built = module.build(cfg, data, seed=spec.seed, device=spec.device)
        if isinstance(built, Trainer):
            trainers[name] = built
        else:
            trainers.update({" · ".join(p for p in (name, sub) if p): t for sub, t in built.items()})
    if spec.init is not None:
        from core.train.checkpoints import start_from

        for t in trainers.values():
            start_from(t, spec.init)
    return trainers


# ------------------------------------------------------------ what comes back
@dataclass
class Update:
    """What a worker sends about one run: the records since its last update
    (all of them, with `rewind`, after the history was cut back), the run's
    status, and a snapshot (without its history) when it took one. `seq` is
    the last command the run had applied."""

    rewind: bool = False
    steps: dict[str, list[dict]] = field(default_factory=dict)
    epochs: dict[str, list[dict]] = field(default_factory=dict)
    hparams: dict[str, list[dict]] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    snapshot: dict[str, dict] | None = None
    seq: int = 0


@dataclass(frozen=True)
class Poll:
    """A run as the page sees it after `poll(since)`.

    cursor: pass it as `since` next time. rewound: the history was cut back
    since `since` (reset, restore, a new run after the end): the lists then
    hold the whole history from the start, and the page replaces what it had
    (keeping the old curves as an overlay if it likes). steps / epochs /
    hparams: new records by trainer name. snapshot: only in state "lost", the
    last snapshot the executor took (with the history up to it)."""

    cursor: int
    rewound: bool
    steps: dict[str, list[dict]]
    epochs: dict[str, list[dict]]
    hparams: dict[str, list[dict]]
    state: str
    place: int = 0
    note: str = ""
    error: str = ""
    epoch: int = 0
    num_epochs: int = 0
    progress: float = 0.0
    names: tuple[str, ...] = ()  # the run's trainers, once built
    next_phase: str = "forward"  # the phase its step runs next (core.train.phases): forward between steps
    snapshot: dict[str, dict] | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    def losses(self, name: str = "") -> list[float]:
        return [r["loss"] for r in self.steps.get(name, [])]


class RunLog:
    """The page side's copy of a run's records, fed by Updates, read by polls.

    The cursor is one integer: entries are numbered from `base`, and a rewind
    moves `base` past every cursor handed out before it, so an old cursor
    (or 0, from a page that just came) gets the whole history again with
    `rewound`. The last snapshot is kept here, in the web process, so it
    survives the worker that took it."""

    def __init__(self, state: str = BUILDING):
        self.base = 0
        self.entries: list[tuple[str, str, dict]] = []  # (kind, trainer name, record)
        self.history: dict[str, dict[str, list[dict]]] = {}  # name -> kind -> records
        self.status: dict[str, Any] = {"state": state}
        self.snapshot: dict[str, dict] | None = None
        self.seq = 0

    @property
    def end(self) -> int:
        return self.base + len(self.entries)

    def ingest(self, update: Update) -> None:
        if update.rewind:
            self.base = self.end + 1
            self.entries, self.history = [], {}
        for kind in KINDS:
            for name, records in getattr(update, kind).items():
                self.history.setdefault(name, {k: [] for k in KINDS})[kind].extend(records)
                self.entries.extend((kind, name, r) for r in records)
        if update.status:
            self.status = dict(update.status)
        if update.snapshot is not None:
            self.snapshot = update.snapshot
        self.seq = max(self.seq, update.seq)

    def poll(self, since: int, **status: Any) -> Poll:
        """Records after `since`; `status` overrides what the worker last said."""
        rewound = not self.base <= since <= self.end
        new = self.entries if rewound else self.entries[since - self.base:]
        lists: dict[str, dict[str, list[dict]]] = {k: {} for k in KINDS}
        for kind, name, record in new:
            lists[kind].setdefault(name, []).append(record)
        values = {**self.status, **status}
        return Poll(cursor=self.end, rewound=rewound, **lists,
                    **{k: values[k] for k in ("state", "place", "note", "error", "epoch", "num_epochs", "progress",
                                              "next_phase", "snapshot") if k in values},
                    names=tuple(values.get("names", ())))

    def last_snapshot(self) -> dict[str, dict] | None:
        """The last snapshot with the records up to it (from this log), so a
        new run restored from it shows the curves the lost one had."""
        if self.snapshot is None:
            return None
        out = {}
        for name, snap in self.snapshot.items():
            records = self.history.get(name, {k: [] for k in KINDS})
            lengths = snap["history_lengths"]
            out[name] = {**snap, "history": {k: [dict(r) for r in records[k][:n]] for k, n in zip(KINDS, lengths)}}
        return out


# ------------------------------------------------------------- the protocols
@runtime_checkable
class RunHandle(Protocol):
    """What the page holds for one run. Commands are short: they return once
    the run has taken them (after at most the step in progress), so a pause
    has stopped the records when it returns. A run keeps training between
    polls; a handle that stops polling for the executor's lease is paused."""

    def start(self) -> None: ...

    def pause(self) -> None: ...

    def step(self) -> None: ...

    def reset(self) -> None: ...

    def continue_for(self, num_epochs: int) -> None: ...

    def set_live(self, values: Mapping[str, float]) -> None: ...

    def poll(self, since: int = 0) -> Poll: ...

    def probe(self, fn: str, **kwargs: Any) -> Any: ...

    def phase(self, examples: int = 2) -> dict[str, Any]: ...

    def snapshot(self) -> dict[str, dict]: ...

    def restore(self, snapshot: Mapping[str, Mapping]) -> None: ...

    def close(self) -> None: ...


def call_ref(ref: str, kwargs: Mapping[str, Any]) -> Any:
    """What a worker runs for `Executor.call`: the core function `ref` names
    (see resolve) on `kwargs`."""
    return resolve(ref)(**kwargs)


@runtime_checkable
class Executor(Protocol):
    def open(self, spec: RunSpec, *, group: str | None = None) -> RunHandle: ...

    def call(self, fn: str, /, *, gpus: float = 0, **kwargs: Any) -> Any:
        """fn(**kwargs) computed off the web process (a measurement that is
        not a run: the GPUs page's timings), `fn` a "core.module:function"
        name; `gpus` is what it needs of a Ray node."""
        ...

    def stats(self) -> dict[str, int]: ...

    def close(self) -> None: ...


def make_executor(**kwargs: Any) -> Executor:
    """A RayExecutor on PLAYGROUND_RAY_ADDRESS ("ray://head:10001", "auto", or
    host:port) when it is set, else a LocalExecutor; ray is imported only in
    the first case. Keyword arguments go to the executor."""
    address = os.environ.get("PLAYGROUND_RAY_ADDRESS", "").strip()
    if address:
        from core.train.ray_executor import RayExecutor

        return RayExecutor(address, **kwargs)
    from core.train.local_executor import LocalExecutor

    return LocalExecutor(**kwargs)
