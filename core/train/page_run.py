"""A run as a page holds it: the handle of a run that trains in a worker (an
executor's: `core.train.runs`), and the records the page draws, kept here in
the web process.

`PageRun` answers the questions and takes the buttons of `LiveRun` (state,
epoch, progress; start, pause, step, reset, +epochs, live settings), so the
panel reads the same whichever process trains. Every call is short: a command
returns once the worker has taken it, `refresh()` never waits for a worker.
What it adds to the handle:

- the records by trainer name (`history(name)`), replaced when the worker
  cut its history back (reset, a new run) and kept for overlays
  (`runs`, LiveRun's `ArchivedRun`) when a run is replaced;
- live settings sent only when they changed, so a page's rerun costs no
  round trip to the worker;
- a lost run (its worker died): `restart()` opens it again from the last
  snapshot the executor took, curves included;
- a handle closed when the page's state is dropped (the session ended), so a
  run whose student left frees its worker's memory.

Like LiveRun it returns states and codes; words for a person are the page's.
"""
from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Mapping
from typing import Any

from core.train.live_run import ACTIVE, ENDED, ArchivedRun, State
from core.train.runs import BUILDING, KINDS, LOST, Executor, Poll, RunGone, RunSpec


def _close(handle) -> None:
    with contextlib.suppress(Exception):  # the executor or its worker is gone already
        handle.close()


class PageRun:
    """See the module docstring. `group`: the slot group (one browser)."""

    def __init__(self, executor: Executor, *, group: str | None = None, max_runs: int = 8):
        self.executor, self.group, self.max_runs = executor, group, max_runs
        self.lock = threading.RLock()  # one command or refresh at a time (a session's reruns may overlap)
        self.handle = None
        self.spec: RunSpec | None = None
        self.records: dict[str, dict[str, list[dict]]] = {}  # trainer name -> kind -> records
        self.runs: list[ArchivedRun] = []
        self.label, self.key, self.follows_page = "", None, True
        self.live: dict[str, Any] = {}  # live settings as last sent
        self.status: dict[str, Any] = {"state": BUILDING}
        self.lost_snapshot: dict | None = None
        self._cursor = 0
        self._finalizer = None
        self.generation = 0  # counts the handles opened: names the current run (an id() may be reused)

    # ---------------------------------------------------------------- set-up
    def load(self, spec: RunSpec, *, label: str = "", key: Any = None, follows_page: bool = True) -> None:
        """A new current run built from `spec` in a worker; the old one is
        archived for overlays when it has a finished epoch, and closed."""
        with self.lock:
            self._archive()
            self._drop_handle()
            self.spec, self.label, self.key, self.follows_page = spec, label, key, follows_page
            self._open(spec)

    def _open(self, spec: RunSpec) -> None:
        self.handle = self.executor.open(spec, group=self.group)
        self.generation += 1
        self._finalizer = weakref.finalize(self, _close, self.handle)
        self.records, self.live, self.lost_snapshot, self._cursor = {}, {}, None, 0
        self.status = {"state": BUILDING}
        self.refresh()

    def wait_built(self, timeout: float) -> bool:
        """Refresh until the worker has built the run (or `timeout` seconds):
        whether it is built. A page that waits a moment draws its buttons once,
        instead of redrawing them while a click may be on its way."""
        deadline = time.monotonic() + timeout
        while self.building and time.monotonic() < deadline:
            time.sleep(0.02)
            self.refresh()
        return not self.building

    def _drop_handle(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # closes the handle, once
            self._finalizer = None
        self.handle = None

    def refresh(self) -> Poll | None:
        """Take in what the worker did since the last refresh."""
        with self.lock:
            if self.handle is None:
                return None
            poll = self.handle.poll(self._cursor)
            if poll.rewound:
                self.records = {}
            for kind in KINDS:
                for name, new in getattr(poll, kind).items():
                    self._lists(name)[kind].extend(new)
            self._cursor = poll.cursor
            self.status = {k: getattr(poll, k) for k in ("state", "place", "note", "error", "epoch", "num_epochs",
                                                         "progress", "names", "next_phase")}
            if poll.state == LOST and poll.snapshot is not None:
                self.lost_snapshot = poll.snapshot
            return poll

    def _lists(self, name: str) -> dict[str, list[dict]]:
        return self.records.setdefault(name, {k: [] for k in KINDS})

    # ---------------------------------------------------------------- buttons
    def _do(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """A command to the worker, then a refresh; a run lost meanwhile stays
        lost (the page offers to restart it) instead of raising."""
        with self.lock:
            if self.handle is None:
                return None
            try:
                return getattr(self.handle, name)(*args, **kwargs)
            except (RunGone, TimeoutError):
                return None
            finally:
                self.refresh()

    def start(self) -> None:
        """Run to the last epoch; after the end of a run, a new run from the
        same initial weights (this side keeps the finished one's curves)."""
        with self.lock:
            if self.state in ENDED:
                self._archive()
            self._do("start")

    def step(self) -> None:
        """One more epoch, then pause; after divergence or a failure, a new run's first epoch."""
        with self.lock:
            if self.state in (State.DIVERGED, State.FAILED):
                self._archive()
            self._do("step")

    def pause(self) -> None:
        self._do("pause")

    def reset(self) -> None:
        """Back to the same initial weights; the unfinished run is dropped, not kept."""
        self._do("reset")

    def continue_for(self, num_epochs: int) -> None:
        self._do("continue_for", int(num_epochs))

    def set_live(self, values: Mapping[str, Any]) -> None:
        """Send the live settings that changed since they were last sent."""
        with self.lock:
            changed = {k: v for k, v in values.items() if self.live.get(k, object()) != v}
            if changed and self.handle is not None:
                self.live.update(changed)
                self._do("set_live", changed)

    def probe(self, fn: str, **kwargs: Any) -> Any:
        """fn(trainers, **kwargs) in the worker, between two steps (see RunHost.probe)."""
        with self.lock:
            return self.handle.probe(fn, **kwargs)

    def phase(self, examples: int = 2) -> dict[str, Any] | None:
        """The next phase of a paused run (RunHost.phase); None when the run is gone."""
        return self._do("phase", examples=examples)

    def snapshot(self) -> dict[str, dict]:
        with self.lock:
            return self.handle.snapshot()

    def restore(self, snapshot: Mapping[str, Mapping]) -> None:
        """Every trainer back to `snapshot`; the worker forgets the page's live
        settings, so they are sent again at the next set_live."""
        with self.lock:
            self.handle.restore(snapshot)
            self.live = {}
            self.refresh()

    def restart(self) -> bool:
        """A lost run again, in a new worker, from the last snapshot taken
        before it was lost (or from the start when there was none)."""
        with self.lock:
            if self.spec is None or self.state != LOST:
                return False
            snapshot = self.lost_snapshot
            self._drop_handle()
            self._open(self.spec)
            if snapshot is not None:
                self.handle.restore(snapshot)
                self.refresh()
            return True

    def branch(self, at: str, label: str | None = None) -> bool:
        """A new run from the point `at` of this run's timeline (core.train.timeline:
        the trainers restored from its snapshots: weights, optimizer, generators,
        the records up to it); this run is archived (drawn faded) and closed.
        The new run waits for Start; the page's live settings are sent again at
        its next set_live. False when there is no run, LookupError when the
        point is gone."""
        with self.lock:
            if self.handle is None or self.spec is None:
                return False
            snapshot = self.handle.probe("core.train.timeline:branch", at=at)
            self._archive(unfinished_epoch=True)  # kept even before its first epoch ends
            self.records = {}
            self.load(self.spec, label=self.label if label is None else label, key=self.key,
                      follows_page=self.follows_page)
            self.handle.restore(snapshot)
            self.live = {}
            self.refresh()
            return True

    def clear_runs(self) -> None:
        self.runs.clear()

    def close(self) -> None:
        with self.lock:
            self._drop_handle()

    # ------------------------------------------------------------- questions
    @property
    def state(self) -> str:
        return self.status.get("state", BUILDING)

    @property
    def place(self) -> int:
        return int(self.status.get("place") or 0)

    @property
    def note(self) -> str:
        return self.status.get("note") or ""

    @property
    def error(self) -> str:
        return self.status.get("error") or ""

    @property
    def epoch(self) -> int:
        return int(self.status.get("epoch") or 0)

    @property
    def num_epochs(self) -> int:
        return int(self.status.get("num_epochs") or 0)

    @property
    def progress(self) -> float:
        return float(self.status.get("progress") or 0.0)

    @property
    def next_phase(self) -> str:
        """The phase the run's step runs next: "forward" between two steps."""
        return self.status.get("next_phase") or "forward"

    @property
    def lost_epoch(self) -> int:
        """The epoch a restart goes on from (that of the last snapshot of a lost run)."""
        snaps = (self.lost_snapshot or {}).values()
        return min((int(snap["epoch"]) for snap in snaps), default=0)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def building(self) -> bool:
        return self.state == BUILDING

    @property
    def names(self) -> list[str]:
        """The trainers' names ("" for a run of one), once the worker has built them."""
        return list(self.status.get("names") or self.records)

    def history(self, name: str = "") -> dict[str, list[dict]]:
        """{"steps", "epochs", "hparams"} records of one trainer, as Trainer.history holds them."""
        return self.records.get(name) or {k: [] for k in KINDS}

    @property
    def steps(self) -> int:
        """Minibatches trained so far, summed over the trainers."""
        return sum(len(r["steps"]) for r in self.records.values())

    @property
    def started(self) -> bool:
        return self.steps > 0

    @property
    def changed_mid_run(self) -> bool:
        return any(r["hparams"] for r in self.records.values())

    # -------------------------------------------------------------- internals
    def _archive(self, unfinished_epoch: bool = False) -> None:
        if not any(r["epochs"] or (unfinished_epoch and r["steps"]) for r in self.records.values()):
            return
        self.runs.append(ArchivedRun(
            label=self.label,
            epochs={name: list(r["epochs"]) for name, r in self.records.items()},
            steps={name: list(r["steps"]) for name, r in self.records.items()},
            changed_mid_run=self.changed_mid_run,
            stopped=self.state != State.FINISHED,
        ))
        del self.runs[:-self.max_runs]


__all__ = ["PageRun"]
