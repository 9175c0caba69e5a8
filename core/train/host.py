"""One run inside a worker (a local worker process or a Ray actor).

A `RunHost` wraps the panel's own state machine, `LiveRun`, so a run behaves
the same in a worker as in the page: start, pause, step, continue, live
settings, reset, new run after the end. What changes is who decides the slot:
the executor does (a shared `SlotPool`), and tells the host the run's place
through a `Gate` that LiveRun asks at each tick like any slot pool. Places
carry a sequence number, so one that was overtaken on the way is ignored.

The worker is single-threaded per run (the Ray actor takes a lock), so a
command, a probe or a snapshot lands between two ticks, never inside a step.
After each command and each turn the worker collects an `Update`: the records
the trainers appended since the last one (all of them, with `rewind`, when the
history was cut back: reset, restore, a new run), the status, and a snapshot
(without history: the page side has the records) whenever an epoch ended since
the last one or the run stopped having trained since the last one. The
snapshot is taken at the end of the turn, a step boundary at or after the
epoch's end, so a lost worker costs at most the steps since then.
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from core.train import health
from core.train.live_run import ACTIVE, LiveRun, State
from core.train.runs import KINDS, RunSpec, Update, build_trainers, load_data, resolve
from core.train.timeline import Timeline
from core.train.trainer import Snapshot

NOT_TOLD = 1  # the place of a run whose executor has not decided yet: waiting


class Gate:
    """The slot pool LiveRun sees in a worker: the place the executor decided."""

    def __init__(self):
        self.place, self.seq, self.released = NOT_TOLD, -1, False

    def set(self, place: int, seq: int) -> bool:
        if seq <= self.seq:
            return False
        self.place, self.seq = int(place), seq
        return True

    def poll(self, owner: str, group: str | None = None) -> int:
        return self.place

    def release(self, owner: str) -> None:
        self.released = True


class RunHost:
    """See the module docstring. A spec that fails to build gives a host in
    state failed with the error (a page shows it like any failed run)."""

    def __init__(self, spec: RunSpec, *, owner: str = "", group: str | None = None):
        self.spec, self.gate = spec, Gate()
        self.live = LiveRun(slots=self.gate, owner=owner, group=group, max_runs=1)
        self.seq = 0  # last command applied
        self._sent: dict[str, tuple[int, int, int, int]] = {}  # name -> (id(history), steps, epochs, hparams)
        self._rewind = False  # cut back since the last update: the next one carries everything
        self._snap_epochs: dict[str, int] = {}
        self._dirty = False  # trained or changed since the last snapshot
        self.data = None
        self.timeline: Timeline | None = None  # snapshots to scrub and branch from (core.train.timeline)
        try:
            self.data = load_data(spec)
            self.live.load(build_trainers(spec, self.data))
            for t in self.live.trainers.values():  # the page's Health panel: per-layer records, divergence
                health.attach(t)
            self.timeline = Timeline(self.live.trainers)
        except Exception as err:  # noqa: BLE001 - a bad config, data that does not fit, out of memory
            self.live.error = f"{type(err).__name__}: {err}"
            self.live.state = State.FAILED
        self._dirty = bool(self.live.trainers)

    # -------------------------------------------------------------- questions
    @property
    def trainable(self) -> bool:
        """Wants to train and holds a slot: the worker gives it turns."""
        return self.live.state in ACTIVE and self.gate.place == 0

    @property
    def wants(self) -> bool:
        return self.live.state in ACTIVE

    def take_released(self) -> bool:
        """Whether the run gave its slot back since the last call (it stopped)."""
        released, self.gate.released = self.gate.released, False
        return released

    def status(self) -> dict[str, Any]:
        L = self.live
        return {"state": str(L.state), "place": L.place if L.state == State.QUEUED else 0, "note": L.note,
                "error": L.error, "epoch": L.epoch, "num_epochs": L.num_epochs, "progress": L.progress,
                "names": list(L.trainers),
                "next_phase": next(iter(L.trainers.values())).phase if L.trainers else "forward"}

    # --------------------------------------------------------------- commands
    def command(self, name: str, seq: int = 0, **kwargs: Any) -> Any:
        """Apply one command (a method below, by name) and return its result."""
        if name not in COMMANDS:
            raise ValueError(f"unknown command {name!r}")
        self.seq = max(self.seq, seq)
        if not self.live.trainers and name not in ("probe", "snapshot", "pause", "export"):
            return None  # the build failed: the run stays failed, with its error
        if name in PLACED:
            kwargs["seq"] = seq
        return getattr(self, name)(**kwargs)

    def start(self, place: int, seq: int) -> None:
        self.gate.set(place, seq)
        self.live.start()
        self._settle()

    def step(self, place: int, seq: int) -> None:
        self.gate.set(place, seq)
        self.live.step()
        self._settle()

    def place(self, place: int, seq: int) -> None:
        if self.gate.set(place, seq):
            self._settle()

    def export(self) -> dict[str, Any]:
        """Everything needed to carry the run into another worker, between two
        steps: each trainer's snapshot with its history, its end and initial
        hyperparameters (set_live, continue_for), and what LiveRun keeps beside
        the trainers (its mode, a Step's target epoch, the page's live values).
        The worker drops the run once exported, so it cannot train on here."""
        L = self.live
        return {
            "snapshot": self.snapshot(),
            "trainers": {name: {"num_epochs": t.num_epochs, "initial_hparams": dict(t.initial_hparams)}
                         for name, t in L.trainers.items()},
            # LiveRun's own fields, private ones included: the run must go on exactly as it was
            "live": {"state": str(L.state), "mode": str(L._mode), "target_epoch": L._target_epoch,
                     "live": dict(L.live), "note": L.note, "error": L.error, "place": L.place},
            "seq": self.seq, "gate_seq": self.gate.seq,
            "timeline": self.timeline.export() if self.timeline is not None else None,
        }

    @classmethod
    def adopt(cls, spec: RunSpec, exported: Mapping[str, Any], *, owner: str = "",
              group: str | None = None) -> RunHost:
        """A host built from `spec` and put back to what `export` returned; its
        records count as sent (the page side has them) and it waits for a place."""
        host = cls(spec, owner=owner, group=group)
        L = host.live
        for name, t in L.trainers.items():
            t.restore(Snapshot.from_dict(dict(exported["snapshot"][name])))
            t.num_epochs = exported["trainers"][name]["num_epochs"]
            t.initial_hparams = dict(exported["trainers"][name]["initial_hparams"])
        live = exported["live"]
        L.state, L._mode, L._target_epoch = State(live["state"]), State(live["mode"]), live["target_epoch"]
        L.live, L.note, L.error, L.place = dict(live["live"]), live["note"], live["error"], live["place"]
        host.seq, host.gate.seq = exported["seq"], exported["gate_seq"]
        if host.timeline is not None and exported.get("timeline") is not None:
            host.timeline.adopt(exported["timeline"])
        host._sent = {name: (id(t.history), *t.history.lengths()) for name, t in L.trainers.items()}
        host._snap_epochs = {name: t.epoch for name, t in L.trainers.items()}
        host._dirty = False
        return host

    def _settle(self) -> None:
        """Show a new place at once: a run told to wait says queued (a tick
        without a slot trains nothing); a run let in trains its first step now,
        so the page sees it running without waiting for the worker's next turn."""
        if self.live.state in ACTIVE:
            self.live.tick(0.0)
            self._dirty = True

    def pause(self, note: str = "") -> None:
        """Pause; `note` says why when the executor paused it (LiveRun's codes:
        "slot_lost" when the page stopped polling for the lease)."""
        if self.live.state in ACTIVE and note:
            self.live.note = note
        self.live.pause()

    def reset(self) -> None:
        self.live.reset()
        self._rewind = self._dirty = True

    def continue_for(self, num_epochs: int) -> None:
        self.live.continue_for(num_epochs)

    def set_live(self, values: Mapping[str, float]) -> None:
        self.live.set_live(values)
        self._dirty = True

    def probe(self, fn: str, kwargs: Mapping[str, Any]) -> Any:
        """fn(trainers, **kwargs) between steps; the function is looked up by
        name (core modules only), never sent. A function with a parameter
        `data` gets the run's data there (what its build got, on its device),
        one with a parameter `timeline` the run's Timeline (core.train.timeline)."""
        target = resolve(fn)
        kwargs = dict(kwargs)
        parameters = inspect.signature(target).parameters
        if "data" in parameters:
            kwargs["data"] = self.data
        if "timeline" in parameters:
            kwargs["timeline"] = self.timeline
        return self.live.probe(lambda trainers: target(trainers, **kwargs))

    def phase(self, examples: int = 2) -> dict[str, Any]:
        """Run the next phase (forward, backward, update) of every trainer of a
        paused run (core.train.phases): {"code": "ok", "trainers": {name: what
        it computed}}, or a code alone: "running" (a run that trains takes no
        phases), "done" (no epochs left), "ended" (diverged or failed), "error"
        (with `error`, e.g. out of memory). Start finishes a step begun here."""
        from core.train.phases import run_phase

        L = self.live
        with L.lock:
            if L.state in ACTIVE:
                return {"code": "running"}
            if L.state in (State.DIVERGED, State.FAILED):
                return {"code": "ended"}
            if all(t.phase == "forward" and t.done for t in L.trainers.values()):
                return {"code": "done"}
            try:
                out = {name: run_phase(t, examples=examples) for name, t in L.trainers.items()
                       if not (t.phase == "forward" and t.done)}
            except (RuntimeError, ValueError) as err:
                return {"code": "error", "error": f"{type(err).__name__}: {err}"}
            finally:
                self._dirty = True
            if any(t.diverged for t in L.trainers.values()):
                L.state = State.DIVERGED
            elif L.all_done and all(t.phase == "forward" for t in L.trainers.values()):
                L.state = State.FINISHED
        return {"code": "ok", "trainers": out}

    def snapshot(self) -> dict[str, dict]:
        """Every trainer's Snapshot.to_dict(), with its history."""
        return {name: t.snapshot(history=True).to_dict() for name, t in self.live.trainers.items()}

    def restore(self, snapshot: Mapping[str, Mapping]) -> None:
        """Pause and put every trainer back to `snapshot` (same names as this
        run's trainers). The page's live values are forgotten: the snapshot's
        hyperparameters hold, and the page's next set_live applies its own."""
        names = set(self.live.trainers)
        if set(snapshot) != names:
            raise ValueError(f"the snapshot has trainers {sorted(snapshot)}, this run {sorted(names)}")
        self.live.pause()
        for name, t in self.live.trainers.items():
            t.restore(Snapshot.from_dict(dict(snapshot[name])))
        self.live.live = {}
        self.live.error = ""
        self.live.state = State.FINISHED if self.live.all_done else State.IDLE
        self._rewind = self._dirty = True

    # ----------------------------------------------------------------- a turn
    def turn(self, budget_seconds: float) -> None:
        """Train for about `budget_seconds` (LiveRun.tick) when it holds a slot."""
        if self.trainable:
            self.live.tick(budget_seconds)
            self._dirty = True

    def collect(self) -> Update:
        """What happened since the last collect (see the module docstring)."""
        trainers = self.live.trainers
        rewind = self._rewind or any(
            name in self._sent and (self._sent[name][0] != id(t.history)
                                    or any(now < then for now, then in zip(t.history.lengths(), self._sent[name][1:])))
            for name, t in trainers.items())
        update = Update(rewind=rewind, status=self.status(), seq=self.seq)
        for name, t in trainers.items():
            start = (0, 0, 0) if rewind or name not in self._sent else self._sent[name][1:]
            for kind, begin in zip(KINDS, start):
                records = getattr(t.history, kind)
                if len(records) > begin:
                    getattr(update, kind)[name] = [dict(r) for r in records[begin:]]
            self._sent[name] = (id(t.history), *t.history.lengths())
        self._rewind = False
        epochs = {name: t.epoch for name, t in trainers.items()}
        if self._dirty and (epochs != self._snap_epochs or self.live.state not in ACTIVE):
            try:
                update.snapshot = {name: t.snapshot().to_dict() for name, t in trainers.items()}
                self._snap_epochs, self._dirty = epochs, False
            except ValueError:  # a step that failed half-way: keep the last good snapshot
                pass
        return update


PLACED = ("start", "step", "place")  # commands that carry the place the executor decided
COMMANDS = ("start", "step", "place", "pause", "reset", "continue_for", "set_live", "probe", "snapshot", "restore",
            "export", "phase")
