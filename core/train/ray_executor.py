"""Runs trained by Ray actors, on whichever node of a Ray cluster has room.

`RayExecutor(address)` makes every run a Ray actor asking for the RunSpec's
resources (num_cpus, default 1; num_gpus, default 1 on a CUDA device, else 0),
so Ray places it on any node with that much free; a GPU node joins the cluster
and CUDA runs land there. The actor hosts the run (`core.train.host.RunHost`,
the same as a local worker's) and trains it in a thread of its own, a turn at
a time under a lock that every call takes too, so a probe or a snapshot never
lands inside a step.

The slots are shared by every web replica: one named, detached actor in the
namespace "d2l-playground" holds a `SlotPool` (`capacity` slots, default
PLAYGROUND_SLOTS, else the CPUs of the cluster when the first replica
connects; one slot per group). The first replica to connect creates it and
fixes its capacity; the others find it by name. A run's actor asks it for its place every
ASK_SECONDS while it wants to train; a run whose handle has not polled for
`lease_seconds` is paused (note "slot_lost") and lets go of its slot; a run
whose actor died loses its slot when the pool's lease runs out.

The handle keeps the records and the last snapshot in the web process (a
`RunLog`), fed by each poll. An actor that died (its node went away, it was
killed, out of memory) makes the handle's poll say "lost" with that snapshot.
A command given before Ray has placed the actor is kept and sent, in order,
once it is up (the poll says "building" meanwhile).

ray is imported only here, and only when a RayExecutor is made: the web
process without PLAYGROUND_RAY_ADDRESS never loads it. The code must be
importable on every node (the same image, or PYTHONPATH): Ray pickles the
actor classes by reference.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import threading
import time
import uuid
from collections.abc import Mapping
from contextlib import contextmanager, suppress
from typing import Any

from core.train.runs import BUILDING, CLOSED, LOST, Poll, RunGone, RunLog, RunSpec, Shared, Update, call_ref, check_ref
from core.train.slots import LEASE_SECONDS, SlotPool

NAMESPACE = "d2l-playground"
TURN_SECONDS = 0.05
ASK_SECONDS = 0.25  # how often a run that wants to train asks the pool (and renews its lease there)
POLL_WAIT = 0.5  # the most a poll waits for the actor's answer before returning what it has
COMMAND_TIMEOUT = 60.0
SHARED_KEPT = 4  # shared data sets kept in the object store


def _ray():
    try:
        import ray
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("RayExecutor needs ray: pip install -r requirements-ray.txt") from err
    return ray


def node_id(trainers) -> str:
    """A probe: the Ray node the run's actor lives on."""
    return _ray().get_runtime_context().get_node_id()


class SlotActor:
    """The cluster's one SlotPool, as an actor (see the module docstring)."""

    def __init__(self, capacity: int, lease_seconds: float):
        self.pool = SlotPool(capacity, lease_seconds=lease_seconds)

    def poll(self, sid: str, group: str | None = None) -> int:
        return self.pool.poll(sid, group)

    def release(self, sid: str) -> None:
        self.pool.release(sid)

    def snapshot(self) -> dict:
        return self.pool.snapshot()


class RunActor:
    """One run in a Ray actor: a RunHost, a training thread, a lock."""

    def __init__(self, spec: RunSpec, rid: str, group: str | None, pool, lease_seconds: float,
                 turn_seconds: float):
        import torch

        from core.train.host import RunHost

        torch.set_num_threads(max(1, int(spec.num_cpus)))
        if isinstance(spec.data, Shared) and isinstance(spec.data.value, _ray().ObjectRef):
            spec = dataclasses.replace(spec, data=Shared(spec.data.key, _ray().get(spec.data.value)))
        self.rid, self.group, self.pool = rid, group, pool
        self.lease_seconds, self.turn_seconds = lease_seconds, turn_seconds
        self.host = RunHost(spec, owner=rid, group=group)
        self.lock, self._count = threading.Lock(), threading.Lock()
        self.waiting = 0  # calls waiting for the lock: the training thread lets them in
        self.seen = time.monotonic()
        self.seq = 0
        self.asked = 0.0
        self.stopped = False
        self.wake = threading.Event()
        threading.Thread(target=self._loop, name="playground-run", daemon=True).start()

    def ready(self) -> bool:
        return True

    def command(self, name: str, kwargs: dict) -> tuple[bool, Any, Update]:
        """A command from the handle: (ok, value or exception, update)."""
        with self._locked():
            self.seen = time.monotonic()
            self.seq += 1
            if name in ("start", "step"):
                kwargs = {**kwargs, "place": self._ask()}
            try:
                ok, value = True, self.host.command(name, self.seq, **kwargs)
            except Exception as err:  # noqa: BLE001 - goes back to the caller
                ok, value = False, err
            self._release_if_stopped()
            update = self.host.collect()
        self.wake.set()
        return ok, value, update

    def poll(self) -> Update:
        with self._locked():
            self.seen = time.monotonic()
            return self.host.collect()

    def close(self) -> None:
        with self._locked():
            self.stopped = True
            _ray().get(self.pool.release.remote(self.rid))
        self.wake.set()

    # -------------------------------------------------------------- internals
    @contextmanager
    def _locked(self):
        """The run's lock; the training thread sees that a call waits for it."""
        with self._count:
            self.waiting += 1
        self.lock.acquire()
        with self._count:
            self.waiting -= 1
        try:
            yield
        finally:
            self.lock.release()

    def _ask(self) -> int:
        """The run's place from the pool (under the lock, so a pause cannot
        slip between the answer and its use and leave a slot taken)."""
        self.asked = time.monotonic()
        return _ray().get(self.pool.poll.remote(self.rid, self.group))

    def _release_if_stopped(self) -> None:
        if self.host.take_released():
            self.pool.release.remote(self.rid)

    def _loop(self) -> None:
        while not self.stopped:
            trained = False
            with self._locked():
                if self.stopped:
                    return
                if self.host.wants and time.monotonic() - self.seen > self.lease_seconds:
                    self.seq += 1  # the page went away: pause, keep the run, free the slot
                    self.host.command("pause", self.seq, note="slot_lost")
                    self._release_if_stopped()
                elif self.host.wants:
                    if time.monotonic() - self.asked >= ASK_SECONDS or not self.host.trainable:
                        self.seq += 1
                        self.host.command("place", self.seq, place=self._ask())
                    if self.host.trainable:
                        try:
                            self.host.turn(self.turn_seconds)
                        finally:
                            self._release_if_stopped()
                        trained = True
            if not trained:
                self.wake.wait(ASK_SECONDS if self.host.wants else 0.5)
                self.wake.clear()
            while self.waiting:  # a command or a poll is waiting: let it in before the next turn
                time.sleep(0.0005)


@functools.cache
def _actor_classes():
    ray = _ray()
    return ray.remote(RunActor), ray.remote(SlotActor)


@functools.cache
def _call_task():
    return _ray().remote(call_ref)


class RayExecutor:
    """See the module docstring. `pool` names the shared slot pool (replicas
    of one deployment use the same name); `runtime_env` goes to ray.init."""

    def __init__(self, address: str, *, capacity: int | None = None, lease_seconds: float = LEASE_SECONDS,
                 pool: str = "playground", turn_seconds: float = TURN_SECONDS,
                 command_timeout: float = COMMAND_TIMEOUT, runtime_env: dict | None = None):
        ray = _ray()
        if not ray.is_initialized():
            ray.init(address=address, namespace=NAMESPACE, log_to_driver=False, runtime_env=runtime_env)
        run_cls, slot_cls = _actor_classes()
        if capacity is None:  # PLAYGROUND_SLOTS, else the CPUs of the nodes that have joined by now
            env = os.environ.get("PLAYGROUND_SLOTS")
            capacity = int(env) if env else max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.pool_name = f"slots:{pool}"
        self.pool = slot_cls.options(name=self.pool_name, namespace=NAMESPACE, get_if_exists=True,
                                     lifetime="detached", num_cpus=0).remote(int(capacity), lease_seconds)
        self.lease_seconds, self.turn_seconds, self.command_timeout = lease_seconds, turn_seconds, command_timeout
        self._run_cls = run_cls
        self._handles: list[RayHandle] = []
        self._shared: dict[str, Any] = {}  # Shared key -> ObjectRef
        self._lock = threading.Lock()

    def open(self, spec: RunSpec, *, group: str | None = None) -> RayHandle:
        """A new actor for `spec`; Ray places it where its resources fit."""
        if not isinstance(spec, RunSpec):
            raise TypeError("open() takes a RunSpec")
        rid = f"run-{uuid.uuid4().hex[:12]}"
        if isinstance(spec.data, Shared) and spec.data.value is not None:
            spec = dataclasses.replace(spec, data=Shared(spec.data.key, self._put(spec.data)))
        env_cpus = os.environ.get("PLAYGROUND_RAY_RUN_CPUS", "").strip()
        num_cpus = float(env_cpus) if env_cpus else spec.num_cpus  # the deployment's say, over the spec's
        actor = self._run_cls.options(num_cpus=num_cpus, num_gpus=spec.gpus, max_concurrency=4,
                                      max_restarts=0).remote(spec, rid, group, self.pool, self.lease_seconds,
                                                             self.turn_seconds)
        handle = RayHandle(self, actor, rid, group)
        with self._lock:
            self._handles = [h for h in self._handles if not h.gone] + [handle]
        return handle

    def _put(self, shared: Shared):
        """The object-store copy of shared data, put once per key (the last
        SHARED_KEPT keys): every actor of a run on it reads that one copy."""
        with self._lock:
            ref = self._shared.pop(shared.key, None)
            if ref is None:
                ref = _ray().put(shared.value)
            self._shared[shared.key] = ref
            while len(self._shared) > SHARED_KEPT:
                del self._shared[next(iter(self._shared))]
            return ref

    def call(self, fn: str, /, *, gpus: float = 0, **kwargs: Any) -> Any:
        """fn(**kwargs) as a Ray task where one CPU (and `gpus`) is free (see Executor.call)."""
        check_ref(fn)
        task = _call_task().options(num_cpus=1, num_gpus=gpus, max_retries=0)
        return _ray().get(task.remote(fn, dict(kwargs)), timeout=self.command_timeout)

    def stats(self) -> dict[str, int]:
        return _ray().get(self.pool.snapshot.remote(), timeout=self.command_timeout)

    def close(self, kill_pool: bool = False) -> None:
        """Close every run opened here; `kill_pool` also ends the shared pool
        (tests; a deployment keeps it for the other replicas)."""
        with self._lock:
            handles, self._handles = self._handles, []
        for h in handles:
            h.close()
        if kill_pool:
            _ray().kill(self.pool)

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class RayHandle:
    """A run in a Ray actor (see runs.RunHandle)."""

    def __init__(self, executor: RayExecutor, actor, rid: str, group: str | None = None):
        self._ex, self._actor, self.id, self.group = executor, actor, rid, group
        self._log = RunLog()
        self._ready_ref = actor.ready.remote()
        self._ready = False
        self._deferred: list[tuple[str, dict]] = []  # commands given before the actor was up
        self._pending = None  # a poll sent and not yet answered
        self._asked = 0.0  # when the handle last asked the pool for a deferred start's place
        self._lock = threading.RLock()
        self.gone = ""

    # ----------------------------------------------------------- the protocol
    def start(self) -> None:
        self._command("start")

    def pause(self) -> None:
        self._command("pause")

    def step(self) -> None:
        self._command("step")

    def reset(self) -> None:
        self._command("reset")

    def continue_for(self, num_epochs: int) -> None:
        self._command("continue_for", num_epochs=int(num_epochs))

    def set_live(self, values: Mapping[str, float]) -> None:
        self._command("set_live", values=dict(values))

    def restore(self, snapshot: Mapping[str, Mapping]) -> None:
        self._command("restore", snapshot=dict(snapshot))

    def probe(self, fn: str, **kwargs: Any) -> Any:
        check_ref(fn)
        return self._command("probe", wait=True, fn=fn, kwargs=kwargs)

    def phase(self, examples: int = 2) -> dict[str, Any]:
        return self._command("phase", wait=True, examples=int(examples))

    def snapshot(self) -> dict[str, dict]:
        return self._command("snapshot", wait=True)

    def poll(self, since: int = 0) -> Poll:
        ray = _ray()
        with self._lock:
            if not self.gone and self._up(0.0):
                try:
                    if self._pending is None:
                        self._pending = self._actor.poll.remote()
                    done, _ = ray.wait([self._pending], timeout=POLL_WAIT)
                    if done:
                        update, self._pending = self._get(self._pending), None
                        self._log.ingest(update)
                except RunGone:
                    pass
            if self.gone == LOST:
                return self._log.poll(since, state=LOST, place=0, snapshot=self._log.last_snapshot())
            if self.gone == CLOSED:
                return self._log.poll(since, state=CLOSED, place=0)
            if not self._ready:
                if self._deferred and time.monotonic() - self._asked >= ASK_SECONDS:
                    self._hold_place()  # renews the lease on the place
                return self._log.poll(since, state=BUILDING)
            return self._log.poll(since)

    def close(self) -> None:
        ray = _ray()
        with self._lock:
            if self.gone:
                self.gone = self.gone if self.gone == LOST else CLOSED
                return
            self.gone = CLOSED
            # the actor lets go of its slot itself, so its loop cannot take it again; one
            # not up yet has no loop, one dead cannot answer: the pool's release below suffices
            if self._ready:
                with suppress(Exception):
                    ray.get(self._actor.close.remote(), timeout=2.0)
            self._ex.pool.release.remote(self.id)
            ray.kill(self._actor, no_restart=True)

    # -------------------------------------------------------------- internals
    def _up(self, timeout: float) -> bool:
        """Whether the actor is placed and built (then the deferred commands go)."""
        if not self._ready:
            done, _ = _ray().wait([self._ready_ref], timeout=timeout)
            if not done:
                return False
            self._get(self._ready_ref)
            self._ready = True
            deferred, self._deferred = self._deferred, []
            for name, kwargs in deferred:
                self._send(name, kwargs)
        return True

    def _command(self, name: str, wait: bool = False, **kwargs: Any) -> Any:
        with self._lock:
            if self.gone:
                raise RunGone(f"the run is {self.gone}")
            if not self._up(self._ex.command_timeout if wait else 0.0):
                if wait:
                    raise TimeoutError(f"{name}: the run's actor was not placed in {self._ex.command_timeout} s")
                self._deferred.append((name, kwargs))
                self._hold_place()
                return None
            return self._send(name, kwargs)

    def _hold_place(self) -> None:
        """While the actor is not up, the handle keeps the run's place in the
        queue for the deferred commands: a Start joins the queue when it is
        clicked (first come, first served), not when the actor comes up."""
        ray = _ray()
        wants = False
        for name, _ in self._deferred:
            wants = name in ("start", "step") or (wants and name not in ("pause", "reset", "restore"))
        if wants:
            self._asked = time.monotonic()
            ray.get(self._ex.pool.poll.remote(self.id, self.group), timeout=self._ex.command_timeout)
        else:
            self._ex.pool.release.remote(self.id)

    def _send(self, name: str, kwargs: dict) -> Any:
        if self._pending is not None:  # an earlier poll's records come first
            update, self._pending = self._get(self._pending), None
            self._log.ingest(update)
        ok, value, update = self._get(self._actor.command.remote(name, kwargs))
        self._log.ingest(update)
        if not ok:
            raise value
        return value

    def _get(self, ref):
        ray = _ray()
        try:
            return ray.get(ref, timeout=self._ex.command_timeout)
        except ray.exceptions.GetTimeoutError as err:
            raise TimeoutError(f"no answer from the run's actor in {self._ex.command_timeout} s") from err
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as err:
            self.gone, self._pending = LOST, None
            raise RunGone("the run's actor died") from err
