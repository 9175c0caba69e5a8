"""The life of a live run, as a small state machine with no UI in it.

A page's panel holds one `LiveRun`: the trainer(s) of the current run (several
train side by side), the finished runs kept for overlays, and one state:

    idle ──start──> running ──(all epochs done)──> finished
      │               │  ^                              │
      │             pause│ │slot frees                  ├─continue_for(n)─> idle
      │               v  │                              └─start──> running (a new run)
      │              idle queued <──(no free slot at a tick)── running / stepping
      │                                 (a slot lost while away: idle, the run kept)
      └──step──> stepping ──(epoch done)──> idle
    running / stepping ──(loss not finite)──> diverged;  ──(error)──> failed

Training happens only in `tick(budget)`, under `lock`, so a picture that reads
the model (`probe(fn)`, same lock) never lands inside a step. The server's
slots are asked at every tick; a run that leaves running gives its slot back.
Words for a person are the page's: this module returns states and codes.
"""
from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.train.trainer import Trainer


class State(enum.StrEnum):
    IDLE = "idle"  # not started, paused, or a Step finished
    RUNNING = "running"
    STEPPING = "stepping"  # running until the next epoch ends
    QUEUED = "queued"  # wants to run, waiting for a server slot
    FINISHED = "finished"
    DIVERGED = "diverged"
    FAILED = "failed"


ACTIVE = (State.RUNNING, State.STEPPING, State.QUEUED)
ENDED = (State.FINISHED, State.DIVERGED, State.FAILED)


@dataclass
class ArchivedRun:
    """A finished (or stopped) run kept for overlays."""

    label: str
    epochs: dict[str, list[dict]]  # trainer name -> epoch records
    steps: dict[str, list[dict]]  # trainer name -> step records
    changed_mid_run: bool = False
    stopped: bool = False  # archived before it finished

    @property
    def final(self) -> dict[str, dict]:
        """Trainer name -> its last epoch record."""
        return {name: records[-1] for name, records in self.epochs.items() if records}


class LiveRun:
    """See the module docstring. `slots` is anything with poll(owner) -> place
    (0: holds a slot) and release(owner); None trains without asking."""

    def __init__(self, *, slots=None, owner: str = "", group: str | None = None, max_runs: int = 8):
        self.slots, self.owner, self.group, self.max_runs = slots, owner, group, max_runs
        self.lock = threading.RLock()
        self.trainers: dict[str, Trainer] = {}
        self.runs: list[ArchivedRun] = []
        self.state = State.IDLE
        self.place = 0  # place in the server's queue while QUEUED
        self.error = ""  # what stopped a FAILED run
        self.label = ""  # the current run's settings, as a legend label
        self.key: Any = None  # what the run was built from (the panel compares it)
        self.follows_page = True  # False for a preset's runs: page changes start a new run instead
        self.live: dict[str, float] = {}
        self.note = ""  # why the run last stopped by itself: "slot_lost" (the tab was away too long)
        self._mode = State.RUNNING
        self._target_epoch: int | None = None
        self._held = False  # held a server slot at the last tick

    # ---------------------------------------------------------------- set-up
    def load(self, trainers: Trainer | Mapping[str, Trainer], *, label: str = "", key: Any = None,
             follows_page: bool = True) -> None:
        """A new current run; the old one is archived for overlays when it has
        at least one finished epoch."""
        with self.lock:
            self._stop(State.IDLE)
            self._archive()
            self.trainers = dict(trainers) if isinstance(trainers, Mapping) else {"": trainers}
            self.label, self.key, self.follows_page, self.error = label, key, follows_page, ""
            self.live = {}

    def set_live(self, values: Mapping[str, float]) -> None:
        """Push the page's live settings: each one that changed since the last
        push reaches every trainer (at its next minibatch; before the first
        step a run starts afresh with it). `num_epochs` moves the end."""
        with self.lock:
            for name, value in values.items():
                if self.live.get(name) == value:
                    continue
                self.live[name] = value
                for t in self.trainers.values():
                    if name == "num_epochs":
                        t.num_epochs = int(value)
                    elif name in t.hparams:
                        if not t.started:
                            t.initial_hparams[name] = float(value)
                            t.reset()
                        elif not t.done:
                            t.set_hparams(**{name: value})
                        else:  # a new run (Start after the end) takes it
                            t.initial_hparams[name] = float(value)
            if self.state == State.FINISHED and not self.all_done:
                self.state = State.IDLE  # more epochs now: Start continues
            elif self.state in (State.IDLE, *ACTIVE) and self.all_done and self.started:
                self._stop(State.FINISHED)

    # ---------------------------------------------------------------- buttons
    def start(self) -> None:
        """Run to the last epoch; after the end of a run, a new run from the
        same initial weights (the finished one is archived)."""
        with self.lock:
            if self.state in ENDED:
                self.new_run()
            if self.state not in ACTIVE:
                self._mode, self._target_epoch = State.RUNNING, None
                self.state, self.note = State.RUNNING, ""

    def step(self) -> None:
        """Train one more epoch, then stop; after the end of a run, one epoch more."""
        with self.lock:
            if self.state == State.FINISHED:
                self.continue_for(1)
            elif self.state in ENDED:
                self.new_run()
            self._mode = State.STEPPING
            self._target_epoch = max(t.epoch for t in self.trainers.values()) + 1
            self.state, self.note = State.STEPPING, ""

    def continue_for(self, num_epochs: int) -> None:
        """Keep the trained model and add epochs (a finished run is not lost)."""
        with self.lock:
            if num_epochs < 1:
                raise ValueError("num_epochs must be at least 1")
            for t in self.trainers.values():
                t.num_epochs = max(t.num_epochs, t.epoch) + int(num_epochs)
            if self.state in ENDED:
                self.state = State.IDLE

    def restored(self) -> None:
        """The trainers were put back to a saved state: finished if that state
        had reached the last epoch, else idle (Start goes on from it)."""
        with self.lock:
            self._stop(State.FINISHED if self.all_done else State.IDLE)
            self.error, self.note = "", ""

    def pause(self) -> None:
        with self.lock:
            if self.state in ACTIVE:
                self._stop(State.IDLE)

    def reset(self) -> None:
        """Back to the same initial weights; the unfinished run is dropped, not kept."""
        with self.lock:
            self._stop(State.IDLE)
            self._reset_trainers()
            self.error = ""

    def new_run(self) -> None:
        """Archive the current run and start again from the initial weights."""
        with self.lock:
            self._stop(State.IDLE)
            self._archive()
            self._reset_trainers()
            self.error = ""

    def clear_runs(self) -> None:
        self.runs.clear()

    def close(self) -> None:
        """Give the slot back (the page is gone)."""
        with self.lock:
            self._stop(State.IDLE if self.state in ACTIVE else self.state)

    # ------------------------------------------------------------------ ticks
    def tick(self, budget_seconds: float) -> bool:
        """Train for about `budget_seconds` when the run wants to and holds a
        slot. Returns whether the state changed (the page redraws its buttons)."""
        with self.lock:
            before = self.state
            if self.state not in ACTIVE:
                return False
            place = self.slots.poll(self.owner, self.group) if self.slots is not None else 0
            if place and self._held:  # the slot went to others while this tab was away: pause, keep the run
                self._stop(State.IDLE)
                self.note = "slot_lost"
                return True
            if place:
                self.state, self.place = State.QUEUED, place
                return self.state != before
            self.state, self.place, self._held = self._mode, 0, True
            todo = [t for t in self.trainers.values() if not t.done and
                    (self._target_epoch is None or t.epoch < self._target_epoch)]
            try:
                for t in todo:
                    share = budget_seconds / len(todo)
                    if self._target_epoch is None:
                        t.advance(max_seconds=share)
                    else:  # Step: never past the end of the epoch
                        t.advance(max_seconds=share, max_steps=t.steps_left_in_epoch)
            except (RuntimeError, ValueError) as err:  # out of memory, shapes from odd settings
                self.error = str(err)
                self._stop(State.FAILED)
                return True
            trainers = self.trainers.values()
            if any(t.diverged for t in trainers):
                self._stop(State.DIVERGED)
            elif all(t.done for t in trainers):
                self._stop(State.FINISHED)
            elif self._target_epoch is not None and all(t.done or t.epoch >= self._target_epoch for t in trainers):
                self._stop(State.IDLE)
            return self.state != before

    def probe(self, fn: Callable[[dict[str, Trainer]], Any]) -> Any:
        """fn(trainers) between steps, never inside one."""
        with self.lock:
            return fn(self.trainers)

    # ------------------------------------------------------------- questions
    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def started(self) -> bool:
        return any(t.started for t in self.trainers.values())

    @property
    def all_done(self) -> bool:
        return bool(self.trainers) and all(t.done for t in self.trainers.values())

    @property
    def epoch(self) -> int:
        return min((t.epoch for t in self.trainers.values()), default=0)

    @property
    def num_epochs(self) -> int:
        return max((t.num_epochs for t in self.trainers.values()), default=0)

    @property
    def progress(self) -> float:
        return min((t.progress for t in self.trainers.values()), default=0.0)

    @property
    def changed_mid_run(self) -> bool:
        return any(t.history.hparams for t in self.trainers.values())

    # -------------------------------------------------------------- internals
    def _stop(self, state: State) -> None:
        if self.state in ACTIVE and self.slots is not None:
            self.slots.release(self.owner)
        self.state, self.place, self._target_epoch, self._held = state, 0, None, False

    def _reset_trainers(self) -> None:
        for t in self.trainers.values():
            t.initial_hparams.update({k: float(v) for k, v in self.live.items() if k in t.initial_hparams})
            t.reset()
            if "num_epochs" in self.live:
                t.num_epochs = int(self.live["num_epochs"])

    def _archive(self) -> None:
        if not any(t.history.epochs for t in self.trainers.values()):
            return
        self.runs.append(ArchivedRun(
            label=self.label,
            epochs={name: list(t.history.epochs) for name, t in self.trainers.items()},
            steps={name: list(t.history.steps) for name, t in self.trainers.items()},
            changed_mid_run=self.changed_mid_run,
            stopped=not self.all_done,
        ))
        del self.runs[:-self.max_runs]
