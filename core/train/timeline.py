"""A run's timeline: snapshots its worker keeps while it trains, to scrub and to branch from.

A `Timeline` watches the trainers of one run (`Trainer.on_boundary`, called
between two steps, never inside one) and keeps a full `Trainer.snapshot()` of
every trainer at these points:

- where the run starts: step 0, or the state a reset or a restore put it in;
- every epoch's end;
- within an epoch of n minibatches, K - 1 evenly spaced points, K the largest
  power of two with K <= PER_EPOCH and K <= n / 8 (so an epoch of 4 minibatches
  has only its end, one of 235 has 8 points: 1/8, 2/8, ... of the way).

A point is named by its place in epochs, an exact fraction (`3 + 4/8` is
"epoch 3.5"), so the trainers of a preset, trained a turn at a time each,
meet at the same points; a point is complete when every trainer has it.

Memory: a run's snapshots together hold at most `budget` bytes (tensor bytes,
`Snapshot.nbytes`; `PLAYGROUND_TIMELINE_MB`, default 64 MB). When a new
snapshot would go over it, the timeline is thinned: every other point is
dropped (those off the doubled stride), the first and the last always kept,
and from then on a point off the coarser stride is kept only while it is the
newest, so the points stay evenly spread and the last is always the latest.
A run whose two points do not fit at all keeps none (`over_budget`).

What the page asks, as probes named "core.train.timeline:<fn>" (they get the
timeline through RunHost.probe):

- `points`: the complete points (their place, step and epoch) and the bytes held;
- `probe_at`: another probe computed with the point's weights put into the
  nets (and the point's step and epoch counters), the run's own put back
  afterwards: the run is left bit for bit as it was;
- `branch`: the point's snapshots with the history up to them, for a new run
  that restores them (`PageRun.branch`).
"""
from __future__ import annotations

import inspect
import math
import os
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from core.train.runs import resolve
from core.train.trainer import Snapshot, Trainer

DEFAULT_MB = 64.0
PER_EPOCH = 8  # at most this many points per epoch (its end included)
ENV = "PLAYGROUND_TIMELINE_MB"


def budget_bytes(environ: Mapping[str, str] | None = None) -> int:
    """The per-run budget from PLAYGROUND_TIMELINE_MB (a number of megabytes,
    1 MB = 2**20 bytes; 0 turns timelines off); the default when unset or not
    a finite number >= 0."""
    text = (os.environ if environ is None else environ).get(ENV, "").strip()
    try:
        mb = float(text) if text else DEFAULT_MB
    except ValueError:
        mb = DEFAULT_MB
    if not math.isfinite(mb) or mb < 0:
        mb = DEFAULT_MB
    return int(mb * 2**20)


def per_epoch(n: int) -> int:
    """K: the points an epoch of n minibatches gets (its end included)."""
    k = 1
    while k * 2 <= PER_EPOCH and k * 2 * 8 <= n:
        k *= 2
    return k


def label(place: Fraction) -> str:
    """'epoch 3.5' for the place 7/2 (at most 3 decimals)."""
    return f"epoch {float(place):.3f}".rstrip("0").rstrip(".")


class Timeline:
    """See the module docstring. `trainers`: the run's, by name; they are
    watched from now on (their `on_boundary`) and their current state is the
    first point."""

    def __init__(self, trainers: Mapping[str, Trainer], budget: int | None = None):
        self.budget = budget_bytes() if budget is None else int(budget)
        self.names = tuple(trainers)
        self.points: dict[Fraction, dict[str, Snapshot]] = {}
        self.nbytes = 0
        self.stride = 1  # points are taken where place / unit is a multiple of this
        self.thinned = 0  # how many times the timeline was thinned
        self.over_budget = False
        self.sizes: dict[str, int] = {}  # the last snapshot's bytes, by trainer
        ks = [per_epoch(_length(t)) for t in trainers.values()]
        self.unit = Fraction(1, min(ks)) if ks else Fraction(1)
        for name, t in trainers.items():
            t.on_boundary = self._watcher(name)
            self._take(name, t, _place(t))

    # ------------------------------------------------------------- watching
    def _watcher(self, name: str):
        def on_boundary(t: Trainer, event: str) -> None:
            if event == "step":
                place = self._due(t)
                if place is not None:
                    self._take(name, t, place)
            else:  # reset, restore: the run's past is another one now; it starts again here
                self._forget(name)
                self._take(name, t, _place(t))
        return on_boundary

    def _due(self, t: Trainer) -> Fraction | None:
        """The place of the point this step ended on, if any (on the stride)."""
        if t.diverged:
            return None
        b = t.batch_in_epoch
        if b == 0:
            place = Fraction(t.epoch)
        else:
            n = _length(t)
            k = per_epoch(n)
            js = [j for j in range(1, k) if round(j * n / k) == b]
            if not js:
                return None
            place = t.epoch + Fraction(js[0], k)
        if not self._on_stride(place) and self.points and place < max(self.points):
            return None  # a point dropped by thinning (another trainer went past it)
        return place

    def _on_stride(self, place: Fraction) -> bool:
        index = place / self.unit
        return index.denominator == 1 and index.numerator % self.stride == 0

    def _forget(self, name: str) -> None:
        """Drop `name`'s snapshots (a reset or restore made them another run's);
        the points left empty go, and the stride starts afresh once at most one
        point is left (the trainers of a preset are reset one after the other)."""
        for place in list(self.points):
            snap = self.points[place].pop(name, None)
            if snap is not None:
                self.nbytes -= snap.nbytes
            if not self.points[place]:
                del self.points[place]
        if len(self.points) <= 1:
            self.stride, self.thinned, self.over_budget = 1, 0, False

    def _take(self, name: str, t: Trainer, place: Fraction) -> None:
        if self.over_budget or self.budget <= 0 or t.diverged:
            return
        snap = t.snapshot()
        size = snap.nbytes
        self.sizes[name] = size
        point_bytes = sum(self.sizes.get(n, size) for n in self.names)
        if 2 * point_bytes > self.budget:  # not even the first and the last fit
            self.points.clear()
            self.nbytes, self.over_budget = 0, True
            return
        old = self.points.setdefault(place, {}).get(name)
        if old is not None:
            self.nbytes -= old.nbytes
        self.points[place][name] = snap
        self.nbytes += size
        self._tidy()
        while self.nbytes > self.budget and len(self.points) > 2:
            self.stride *= 2
            self.thinned += 1
            self._tidy()

    def _tidy(self) -> None:
        """Drop the points off the stride, never the first or the last: after the stride doubled,
        every other point; otherwise the last but one, when a newer point replaced it as the last."""
        places = sorted(self.points)
        for place in places[1:-1]:
            if not self._on_stride(place):
                for snap in self.points.pop(place).values():
                    self.nbytes -= snap.nbytes

    # ------------------------------------------------------------ questions
    def complete(self) -> list[Fraction]:
        """The places every trainer has a snapshot at, in order."""
        return [p for p in sorted(self.points) if all(n in self.points[p] for n in self.names)]

    def point(self, at: str | Fraction) -> dict[str, Snapshot]:
        """The snapshots of the complete point at `at` ("7/2", as `points` names it); LookupError when
        it is not (or no longer) there."""
        try:
            place = at if isinstance(at, Fraction) else Fraction(str(at))
        except (ValueError, ZeroDivisionError) as err:
            raise LookupError(f"no timeline point {at!r}") from err
        snaps = self.points.get(place)
        if snaps is None or any(n not in snaps for n in self.names):
            raise LookupError(f"no timeline point {at!r}")
        return snaps

    def export(self) -> dict[str, Any]:
        """Plain values (to carry the timeline with its run into another worker)."""
        return {"budget": self.budget, "stride": self.stride, "thinned": self.thinned, "over_budget": self.over_budget,
                "sizes": dict(self.sizes),
                "points": [(str(p), {n: s.to_dict() for n, s in snaps.items()}) for p, snaps in self.points.items()]}

    def adopt(self, exported: Mapping[str, Any]) -> None:
        """Put back what `export` returned (the trainers are already restored)."""
        self.budget, self.stride, self.thinned = exported["budget"], exported["stride"], exported["thinned"]
        self.over_budget, self.sizes = exported["over_budget"], dict(exported["sizes"])
        self.points = {Fraction(p): {n: Snapshot.from_dict(dict(s)) for n, s in snaps.items()}
                       for p, snaps in exported["points"]}
        self.nbytes = sum(s.nbytes for snaps in self.points.values() for s in snaps.values())


def _length(t: Trainer) -> int:
    try:
        return max(1, len(t.train))
    except TypeError:
        return 1


def _place(t: Trainer) -> Fraction:
    """Where the trainer is, in epochs (exact)."""
    return t.epoch + Fraction(t.batch_in_epoch, _length(t)) if t.batch_in_epoch else Fraction(t.epoch)


# ------------------------------------------------------------- the probes
def points(trainers: Mapping[str, Trainer], timeline: Timeline | None) -> dict[str, Any]:
    """The complete points, oldest first: {"at": "7/2", "epoch": 3.5, "step": the first trainer's step,
    "steps": {name: step}}, and the budget, the bytes held, how often it was thinned."""
    if timeline is None:
        return {"points": [], "budget": 0, "nbytes": 0, "thinned": 0, "over_budget": False, "point_bytes": 0}
    out = []
    for place in timeline.complete():
        snaps = timeline.point(place)
        steps = {n: snaps[n].step for n in timeline.names}
        out.append({"at": str(place), "epoch": float(place), "step": next(iter(steps.values()), 0), "steps": steps})
    return {"points": out, "budget": timeline.budget, "nbytes": timeline.nbytes, "thinned": timeline.thinned,
            "over_budget": timeline.over_budget, "point_bytes": sum(timeline.sizes.values()),
            "now": {n: t.step for n, t in trainers.items()}}


def probe_at(trainers: Mapping[str, Trainer], timeline: Timeline | None, data: Any = None, *, at: str, view: str,
             params: Mapping[str, Any] | None = None) -> Any:
    """The probe `view` (a "core.module:function" name, called as view(trainers, **params), with `data`
    when it takes it) computed at the timeline's point `at`: each net gets the point's weights and
    buffers (load_state_dict), each trainer its step and epoch counters; afterwards the run's own
    are put back, bit for bit. LookupError when the point is not there."""
    if timeline is None:
        raise LookupError("this run has no timeline")
    snaps = timeline.point(at)
    target = resolve(view)
    kwargs = dict(params or {})
    if "data" in inspect.signature(target).parameters:
        kwargs["data"] = data
    saved = {}
    try:
        for name, t in trainers.items():
            saved[name] = ({k: v.detach().clone() for k, v in t.net.state_dict().items()}, t.net.training,
                           t.step, t.epoch)
            t.net.load_state_dict(snaps[name].net)
            t.step, t.epoch = snaps[name].step, snaps[name].epoch
        return target(trainers, **kwargs)
    finally:
        for name, (state, training, step, epoch) in saved.items():
            t = trainers[name]
            t.net.load_state_dict(state)
            t.net.train(training)
            t.step, t.epoch = step, epoch


def branch(trainers: Mapping[str, Trainer], timeline: Timeline | None, *, at: str) -> dict[str, dict]:
    """{name: Snapshot.to_dict()} of the point `at`, each with the trainer's records up to it (what
    RunHost.restore takes to start a run from there)."""
    if timeline is None:
        raise LookupError("this run has no timeline")
    snaps = timeline.point(at)
    out = {}
    for name, t in trainers.items():
        snap = snaps[name]
        steps, epochs, hparams = snap.history_lengths
        h = t.history
        out[name] = {**snap.to_dict(), "history": {
            "steps": [dict(r) for r in h.steps[:steps]], "epochs": [dict(r) for r in h.epochs[:epochs]],
            "hparams": [dict(r) for r in h.hparams[:hparams]]}}
    return out
