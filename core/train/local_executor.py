"""Runs trained by a pool of worker processes on this machine.

`LocalExecutor(num_workers)` starts `num_workers` processes (the "spawn"
context: a fresh interpreter, safe with CUDA and with the web server's
threads). Each hosts the runs handed to it (`core.train.host.RunHost`) and
loops: take every pending command, then give each run that holds a slot one
turn of about `turn_seconds`, send what happened, repeat; with nothing to
train it sleeps on its pipe. A run thus trains on between the page's polls,
and everything that touches a run happens in its worker's one thread, so a
probe never lands inside a step.

The web process keeps, per run, the records and the last snapshot (a
`RunLog`, fed by a reader thread per worker), so `poll` never waits for a
worker. Commands wait for the worker's answer: when `pause()` returns, the
run has stopped and its last records are in the log. Sends happen outside
the executor's lock, so a worker busy sending a big update never blocks a
thread that holds it.

Fair sharing, as the in-process panel had it: a `SlotPool` of `capacity`
slots (default `num_workers`), first come, first served, one slot per group
(a browser); a dispatcher thread asks the pool for every run that wants to
train, tells the workers the places, and pauses (note "slot_lost") a run
whose handle has not polled for `lease_seconds`, so its slot goes on. A new
run goes to the worker with the fewest runs; a run let into a slot whose
worker already trains more runs than another worker does moves there first
(exported between two steps with its snapshot and LiveRun's state, adopted
by the other worker, bit for bit), so the trainings spread over the workers.

A run left alone (no poll and no command) for `evict_seconds` while it does
not train (paused, finished) is evicted: exported from its worker like a move
and kept here, in the web process, as that export (weights, optimizer,
generators, LiveRun's state); its worker's memory is free. The next command
(a Start, a probe) adopts it into a worker first, bit for bit; polls read the
records kept here and do not bring it back.

A worker that dies (SIGKILL, the out-of-memory killer) is noticed by its
pipe closing: its runs say "lost" with their last snapshot, their slots go
on, and a fresh worker takes its place; the other workers' runs go on.
"""
from __future__ import annotations

import atexit
import contextlib
import itertools
import multiprocessing as mp
import os
import pickle
import queue
import sys
import threading
import time
import traceback
import types
import weakref
from collections.abc import Mapping
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from core.train.device import default_slots
from core.train.runs import (
    ACTIVE_STATES,
    BUILDING,
    CLOSED,
    LOST,
    Poll,
    RunGone,
    RunLog,
    RunSpec,
    SharedCache,
    Update,
    call_ref,
    check_ref,
)
from core.train.slots import LEASE_SECONDS, SlotPool

TURN_SECONDS = 0.05  # training between two looks at the pipe: a command waits at most this (plus a step)
COMMAND_TIMEOUT = 60.0  # a command's answer (a probe may evaluate a net; a build may read data)
DISPATCH_SECONDS = 0.1  # how often the dispatcher re-asks the slot pool and checks leases
EVICT_SECONDS = 600.0  # a run not training and left alone this long leaves its worker (PLAYGROUND_EVICT_SECONDS)


def _dumps(msg) -> bytes:
    return pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)


def _send(conn: Connection, msg) -> None:
    # plain pickle, not multiprocessing's: torch registers reductions there that
    # move tensors through shared memory, which a killed worker would leak
    conn.send_bytes(_dumps(msg))


def _recv(conn: Connection):
    return pickle.loads(conn.recv_bytes())


# ------------------------------------------------------------------ the worker
def _worker_main(conn: Connection, threads: int, turn_seconds: float) -> None:
    """A worker process: see the module docstring. Messages in:
    ("open", rid, spec, group), ("do", rid, req, seq, name, kwargs) (req None:
    no answer wanted), ("call", req, fn, kwargs) (a core function, not a run's),
    ("close", rid), None (stop). Messages out: ("update", rid, Update) and
    ("reply", req, ok, value, rid, Update) (rid and Update None for a call)."""
    import torch

    from core.train.host import RunHost
    from core.train.live_run import State

    torch.set_num_threads(max(1, threads))
    hosts: dict[str, RunHost] = {}
    shared = SharedCache()  # the executor's twin says which data it may send bare
    parent = mp.parent_process()

    def handle(msg) -> bool:
        kind = msg[0]
        if kind == "open":
            _, rid, spec, group = msg
            hosts[rid] = RunHost(shared.incoming(spec), owner=rid, group=group)
            _send(conn, ("update", rid, hosts[rid].collect()))
        elif kind == "adopt":
            _, rid, spec, group, exported = msg
            hosts[rid] = RunHost.adopt(shared.incoming(spec), exported, owner=rid, group=group)
            _send(conn, ("update", rid, hosts[rid].collect()))
        elif kind == "close":
            hosts.pop(msg[1], None)
        elif kind == "call":
            _, req, fn, kwargs = msg
            try:
                ok, value = True, call_ref(fn, kwargs)
            except Exception as err:  # noqa: BLE001 - goes back to the caller
                ok, value = False, err
            try:
                _send(conn, ("reply", req, ok, value, None, None))
            except Exception as err:  # noqa: BLE001 - a result that cannot be pickled
                _send(conn, ("reply", req, False, RuntimeError(f"{type(err).__name__}: {err}"), None, None))
        elif kind == "do":
            _, rid, req, seq, name, kwargs = msg
            host = hosts.get(rid)
            try:
                if host is None:
                    raise RunGone(f"no run {rid} in this worker")
                ok, value = True, host.command(name, seq, **kwargs)
            except Exception as err:  # noqa: BLE001 - goes back to the caller
                ok, value = False, err
            update = host.collect() if host is not None else None
            if name == "export" and ok:
                del hosts[rid]  # it goes on in another worker
            if req is None:
                if update is not None:
                    _send(conn, ("update", rid, update))
                return True
            try:
                _send(conn, ("reply", req, ok, value, rid, update))
            except Exception as err:  # noqa: BLE001 - a probe that returned something unpicklable
                _send(conn, ("reply", req, False, RuntimeError(f"{type(err).__name__}: {err}"), rid, update))
        return True

    while True:
        trainable = [rid for rid, h in hosts.items() if h.trainable]
        ready = wait([conn], 0 if trainable else 1.0)
        try:
            while ready or conn.poll():
                ready = []
                msg = _recv(conn)
                if msg is None:
                    return
                handle(msg)
        except (EOFError, OSError):
            return  # the web process is gone
        if not trainable and parent is not None and not parent.is_alive():
            return
        for rid in [rid for rid, h in hosts.items() if h.trainable]:
            host = hosts[rid]
            try:
                host.turn(turn_seconds)
            except Exception:  # noqa: BLE001 - LiveRun catches the usual ones; anything else fails the run
                host.live.error = traceback.format_exc(limit=3)
                host.live.pause()
                host.live.state = State.FAILED
            _send(conn, ("update", rid, host.collect()))


# ------------------------------------------------------------- the web process
_STOP = object()
_MAIN_LOCK = threading.Lock()
_ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds core/
_OPEN: weakref.WeakSet = weakref.WeakSet()  # executors to close when the interpreter exits


@atexit.register
def _close_all() -> None:
    """Close every executor before multiprocessing's own exit handler kills the
    workers (which would otherwise look like deaths and start replacements)."""
    for ex in list(_OPEN):
        ex.close()


@contextlib.contextmanager
def _bare_main():
    """While a worker starts, `__main__` is an empty module: "spawn" would
    otherwise run the parent's main script again in the child (under Streamlit
    that is the app itself, which the script runner installs as __main__). The
    worker needs nothing from it: everything it runs is imported by name, from
    the project's root, which is put on the path the child gets (a test
    harness may have had it there only while a script ran)."""
    with _MAIN_LOCK:
        saved, bare = sys.modules.get("__main__"), types.ModuleType("__main__")
        sys.modules["__main__"] = bare
        added = _ROOT not in sys.path
        if added:
            sys.path.append(_ROOT)
        try:
            yield
        finally:
            if sys.modules.get("__main__") is bare:  # else a script run installed its own meanwhile
                sys.modules["__main__"] = saved
            if added:
                with contextlib.suppress(ValueError):
                    sys.path.remove(_ROOT)


class _Worker:
    """A worker process, its pipe, and an outbox: messages are queued under the
    executor's lock (so they leave in the order their sequence numbers were
    given) and sent by the worker's own sender thread, which holds no lock
    while a send waits for the worker to read."""

    def __init__(self, index: int, ctx, threads: int, turn_seconds: float):
        self.index = index
        ours, theirs = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(theirs, threads, turn_seconds), daemon=True,
                                   name=f"playground-worker-{index}")
        with _bare_main():
            self.process.start()
        theirs.close()  # only the child holds its end: its death closes our pipe
        self.conn = ours
        self.outbox: queue.SimpleQueue = queue.SimpleQueue()
        self.runs: set[str] = set()
        self.shared = SharedCache()  # twin of the worker's: post open/adopt under the executor's lock only
        self.alive = True
        threading.Thread(target=self._sender, name=f"playground-send-{index}", daemon=True).start()

    def post(self, msg) -> None:
        self.outbox.put(msg)

    def _sender(self) -> None:
        while True:
            msg = self.outbox.get()
            if msg is _STOP:
                return
            try:
                _send(self.conn, msg)
            except (OSError, ValueError):  # a dead worker: its reader says so
                return


class _Run:
    def __init__(self, rid: str, spec: RunSpec, group: str | None, worker: _Worker, now: float):
        self.rid, self.spec, self.group, self.worker = rid, spec, group, worker
        self.log = RunLog()
        self.seen = now  # the handle's last call: the lease
        self.seq = 0  # last sequence number given to a command or a place
        self.wants = False  # started or stepping: asks the slot pool
        self.want_seq = 0  # the seq of the command that made it want
        self.place_sent: int | None = None
        self.busy = 0  # commands in flight: the handle is waiting for one, so its lease holds
        self.move_lock = threading.RLock()  # held by a command or a move: a command never goes to a run in transit
        self.moving = False
        self.exported: dict | None = None  # while evicted: what its worker exported, adopted again on use
        self.gone = ""  # LOST or CLOSED


class _Reply:
    def __init__(self, worker: _Worker):
        self.worker = worker
        self.event = threading.Event()
        self.ok, self.value = False, None


class LocalExecutor:
    """See the module docstring. `threads`: torch threads per worker (default
    PLAYGROUND_THREADS, else cores / workers)."""

    def __init__(self, num_workers: int | None = None, *, capacity: int | None = None,
                 lease_seconds: float = LEASE_SECONDS, threads: int | None = None,
                 turn_seconds: float = TURN_SECONDS, command_timeout: float = COMMAND_TIMEOUT,
                 evict_seconds: float | None = None):
        self.num_workers = int(num_workers or default_slots())
        if self.num_workers < 1:
            raise ValueError("num_workers must be at least 1")
        env = os.environ.get("PLAYGROUND_THREADS")
        self.threads = int(threads or (int(env) if env else max(1, (os.cpu_count() or 1) // self.num_workers)))
        self.lease_seconds, self.turn_seconds, self.command_timeout = lease_seconds, turn_seconds, command_timeout
        env_evict = os.environ.get("PLAYGROUND_EVICT_SECONDS")
        self.evict_seconds = float(evict_seconds if evict_seconds is not None else
                                   env_evict if env_evict else EVICT_SECONDS)
        # the dispatcher asks the pool for every waiting run, so the pool's own lease never runs out
        self.slots = SlotPool(capacity or self.num_workers, lease_seconds=max(lease_seconds, 10 * DISPATCH_SECONDS))
        self._ctx = mp.get_context("spawn")
        self._lock = threading.RLock()
        self._runs: dict[str, _Run] = {}
        self._replies: dict[int, _Reply] = {}
        self._req = itertools.count(1)
        self._rid = itertools.count(1)
        self._closed = False
        self._wake = threading.Event()
        self._workers: list[_Worker] = []
        for i in range(self.num_workers):
            self._add_worker(i)
        self._dispatcher = threading.Thread(target=self._dispatch, name="playground-dispatch", daemon=True)
        self._dispatcher.start()
        _OPEN.add(self)

    # ------------------------------------------------------------ public API
    def open(self, spec: RunSpec, *, group: str | None = None) -> LocalHandle:
        """A new run built from `spec` on the worker with the fewest runs; the
        handle's poll says "building" until the worker has built it."""
        if not isinstance(spec, RunSpec):
            raise TypeError("open() takes a RunSpec")
        with self._lock:
            if self._closed:
                raise RunGone("the executor is closed")
            alive = [w for w in self._workers if w.alive]
            if not alive:
                raise RunGone("no worker is alive (replacements are starting)")
            worker = min(alive, key=lambda w: (len(w.runs), w.index))
            rid = f"run-{next(self._rid)}"
            run = self._runs[rid] = _Run(rid, spec, group, worker, time.monotonic())
            worker.runs.add(rid)
            worker.post(("open", rid, worker.shared.outgoing(spec), group))
        return LocalHandle(self, run)

    def call(self, fn: str, /, *, gpus: float = 0, **kwargs: Any) -> Any:
        """fn(**kwargs) in the worker with the fewest trainings, between their
        turns (see Executor.call); its exception is raised here."""
        check_ref(fn)
        with self._lock:
            def training(w: _Worker) -> int:
                return sum(1 for r in self._runs.values() if r.worker is w and r.wants)

            worker = min(self._workers, key=training)
            req = next(self._req)
            reply = self._replies[req] = _Reply(worker)
            worker.post(("call", req, fn, dict(kwargs)))
        if not reply.event.wait(self.command_timeout):
            with self._lock:
                self._replies.pop(req, None)
            raise TimeoutError(f"{fn}: no answer from the worker in {self.command_timeout} s")
        if not reply.ok:
            raise reply.value
        return reply.value

    def stats(self) -> dict[str, int]:
        """Trainings holding a slot, waiting, the capacity, live workers, runs
        open and runs evicted (kept here as exports, in no worker)."""
        with self._lock:
            return {**self.slots.snapshot(), "workers": sum(w.alive for w in self._workers),
                    "runs": len(self._runs), "evicted": sum(r.exported is not None for r in self._runs.values())}

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers if w.alive]

    def close(self) -> None:
        """Stop the workers (their runs are dropped)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            workers = list(self._workers)
            for run in self._runs.values():
                run.gone = run.gone or CLOSED
            for w in workers:
                w.post(None)
                w.post(_STOP)
        self._wake.set()
        for w in workers:
            w.process.join(timeout=5)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(timeout=5)
        self._fail_replies(RunGone("the executor is closed"))

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ the handle's
    def _poll(self, run: _Run, since: int) -> Poll:
        with self._lock:
            run.seen = time.monotonic()
            if run.gone == LOST:
                return run.log.poll(since, state=LOST, place=0, snapshot=run.log.last_snapshot())
            if run.gone == CLOSED:
                return run.log.poll(since, state=CLOSED, place=0)
            return run.log.poll(since)

    def _do(self, run: _Run, name: str, **kwargs: Any) -> Any:
        """Send a command to the run's worker and wait for its answer. A Start
        or Step that gets a slot at once first moves the run to the worker
        with the fewest trainings when its own has more (see _move)."""
        with run.move_lock:
            if run.exported is not None:
                self._revive(run)
            if name in ("start", "step"):
                with self._lock:
                    granted = not run.gone and not run.moving and not (run.wants and run.place_sent == 0) and \
                        self.slots.poll(run.rid, run.group) == 0
                    target = self._better_worker(run) if granted else None
                    if target is not None:
                        run.moving = True
                if target is not None:
                    self._move(run, target)
            return self._do_here(run, name, **kwargs)

    def _do_here(self, run: _Run, name: str, **kwargs: Any) -> Any:
        with self._lock:
            run.seen = time.monotonic()
            if run.gone:
                raise RunGone(f"the run is {run.gone}")
            run.seq += 1
            if name in ("start", "step"):
                kwargs["place"] = self.slots.poll(run.rid, run.group)
                run.wants, run.want_seq, run.place_sent = True, run.seq, kwargs["place"]
            elif name in ("pause", "reset", "restore"):
                self._unwant(run)
            req = next(self._req)
            reply = self._replies[req] = _Reply(run.worker)
            run.worker.post(("do", run.rid, req, run.seq, name, kwargs))
            run.busy += 1
        self._wake.set()
        try:
            answered = reply.event.wait(self.command_timeout)
        finally:
            with self._lock:
                run.busy -= 1
                run.seen = time.monotonic()
                if not answered:
                    self._replies.pop(req, None)
        if not answered:
            raise TimeoutError(f"{name}: no answer from the worker in {self.command_timeout} s")
        if not reply.ok:
            raise reply.value
        return reply.value

    def _close_run(self, run: _Run) -> None:
        with run.move_lock, self._lock:
            self._runs.pop(run.rid, None)
            if run.gone:
                run.gone = run.gone if run.gone == LOST else CLOSED
                return
            run.gone = CLOSED
            self._unwant(run)
            run.worker.runs.discard(run.rid)
            run.worker.post(("close", run.rid))
            self._wake.set()

    # -------------------------------------------------------------- internals
    def _better_worker(self, run: _Run) -> _Worker | None:
        """Under the lock, for a run just let in: a live worker training fewer
        runs than the run's own does (not counting the run), or None. Placing
        by the number of runs hosted keeps the counts level, not the trainings:
        two runs that train may share a worker while another idles."""
        def training(w: _Worker) -> int:
            return sum(1 for rid in w.runs if (r := self._runs.get(rid)) is not None and r is not run
                       and not r.gone and r.wants and r.place_sent == 0)

        alive = [w for w in self._workers if w.alive]
        if not run.worker.alive or not alive:
            return None
        best = min(alive, key=lambda w: (training(w), len(w.runs), w.index))
        return best if training(best) < training(run.worker) else None

    def _move(self, run: _Run, target: _Worker) -> None:
        """Carry the run to `target` (under run.move_lock, not the executor's
        lock): the old worker exports it between two steps and drops it (the
        records so far come with the answer), the new one adopts it from the
        export (snapshot with history, LiveRun's state), bit for bit. If the
        old worker dies meanwhile the run is lost as any run of that worker."""
        try:
            exported = self._do_here(run, "export")
        except Exception:  # noqa: BLE001 - the worker died, or the run cannot be exported: it stays
            with self._lock:
                run.moving = False
            return
        with self._lock:
            run.moving = False  # only now: a place decided meanwhile must go to the new worker
            if run.gone:
                return
            run.worker.runs.discard(run.rid)
            if not target.alive:  # died meanwhile: back where it came from, if that one lives
                target = run.worker if run.worker.alive else target
            target.runs.add(run.rid)
            run.worker = target
            target.post(("adopt", run.rid, target.shared.outgoing(run.spec), run.group, exported))
            if run.wants:  # its place, decided now, goes with it
                run.seq += 1
                run.place_sent = self.slots.poll(run.rid, run.group)
                target.post(("do", run.rid, None, run.seq, "place", {"place": run.place_sent}))
        self._wake.set()

    def _evict(self, run: _Run) -> None:
        """Export a run left alone out of its worker (under run.move_lock, not
        the executor's lock); it stays open here as its export."""
        with run.move_lock:
            with self._lock:
                if not self._evictable(run, time.monotonic()):
                    return
                run.moving = True
            try:
                exported = self._do_here(run, "export")
            except Exception:  # noqa: BLE001 - the worker died or the run cannot be exported: it stays
                with self._lock:
                    run.moving = False
                return
            with self._lock:
                run.moving = False
                if not run.gone:
                    run.worker.runs.discard(run.rid)
                    exported.pop("timeline", None)  # not kept in the web process: it starts again at the revival
                    run.exported = exported

    def _evictable(self, run: _Run, now: float) -> bool:
        """Under the lock: open, in a worker, not training, nothing in flight, left alone long enough."""
        return (not run.gone and run.exported is None and not run.wants and not run.busy and not run.moving
                and run.worker.alive and now - run.seen > self.evict_seconds
                and run.log.status.get("state") in ("idle", "finished")
                and run.log.status.get("next_phase", "forward") == "forward")  # a step half done by phases stays

    def _revive(self, run: _Run) -> None:
        """Under run.move_lock: an evicted run back into the worker with the fewest runs."""
        with self._lock:
            if run.gone or run.exported is None:
                return
            alive = [w for w in self._workers if w.alive]
            if not alive:
                raise RunGone("no worker is alive (replacements are starting)")
            worker = min(alive, key=lambda w: (len(w.runs), w.index))
            worker.runs.add(run.rid)
            run.worker = worker
            worker.post(("adopt", run.rid, worker.shared.outgoing(run.spec), run.group, run.exported))
            run.exported = None

    def _add_worker(self, index: int) -> None:
        worker = _Worker(index, self._ctx, self.threads, self.turn_seconds)
        if index < len(self._workers):
            self._workers[index] = worker
        else:
            self._workers.append(worker)
        threading.Thread(target=self._read, args=(worker,), name=f"playground-read-{index}", daemon=True).start()

    def _unwant(self, run: _Run) -> None:
        """Under the lock: the run no longer asks for a slot."""
        run.wants, run.place_sent = False, None
        self.slots.release(run.rid)

    def _read(self, worker: _Worker) -> None:
        """The worker's messages, in order: records into the logs, answers to
        the waiting callers. Ends when the pipe closes: a dead worker."""
        while True:
            try:
                msg = _recv(worker.conn)
            except Exception:  # noqa: BLE001 - EOF, a broken pipe, a message that cannot be read
                break
            if msg[0] == "update":
                self._ingest(msg[1], msg[2])
            elif msg[0] == "reply":
                _, req, ok, value, rid, update = msg
                if update is not None:
                    self._ingest(rid, update)
                with self._lock:
                    reply = self._replies.pop(req, None)
                if reply is not None:
                    reply.ok, reply.value = ok, value
                    reply.event.set()
        self._lost(worker)

    def _ingest(self, rid: str, update: Update) -> None:
        with self._lock:
            run = self._runs.get(rid)
            if run is None or run.gone:
                return
            run.log.ingest(update)
            state = update.status.get("state")
            if run.wants and state not in ACTIVE_STATES and update.seq >= run.want_seq:
                self._unwant(run)  # finished, diverged, failed, or a Step's epoch done: the slot goes on
                self._wake.set()

    def _lost(self, worker: _Worker) -> None:
        """The worker's pipe closed: its runs are lost, a new worker takes its place."""
        with self._lock:
            worker.alive = False
            worker.post(_STOP)
            for rid in list(worker.runs):
                run = self._runs.get(rid)
                if run is not None and not run.gone:
                    run.gone = LOST
                    self._unwant(run)
            worker.runs.clear()
            closing = self._closed
        self._fail_replies(RunGone("the run's worker died"), worker)
        self._wake.set()
        worker.process.join(timeout=5)
        worker.conn.close()
        with self._lock:
            if not closing and not self._closed:
                self._add_worker(worker.index)

    def _fail_replies(self, err: Exception, worker: _Worker | None = None) -> None:
        with self._lock:
            pending = [(req, r) for req, r in self._replies.items() if worker is None or r.worker is worker]
            for req, _ in pending:
                del self._replies[req]
        for _, reply in pending:
            reply.ok, reply.value = False, err
            reply.event.set()

    def _dispatch(self) -> None:
        """Every DISPATCH_SECONDS, or when woken: leases first (an expired run
        is paused and lets go of its slot), then the places of every run that
        wants to train, in the order they asked."""
        while True:
            self._wake.wait(DISPATCH_SECONDS)
            self._wake.clear()
            with self._lock:
                if self._closed:
                    return
                now = time.monotonic()
                waiting = [r for r in self._runs.values() if r.wants and not r.gone]
                for run in waiting:
                    if now - run.seen > self.lease_seconds and not run.busy:
                        self._unwant(run)  # the page went away: pause, keep the run, free the slot
                        run.seq += 1
                        run.worker.post(("do", run.rid, None, run.seq, "pause", {"note": "slot_lost"}))
                moves = []
                for run in waiting:
                    if not run.wants or run.moving:
                        continue
                    place = self.slots.poll(run.rid, run.group)
                    if place == run.place_sent:
                        continue
                    if place == 0 and (target := self._better_worker(run)) is not None:
                        run.moving = True  # let in, but to another worker: the place goes after the move
                        moves.append((run, target))
                        continue
                    run.seq += 1
                    run.place_sent = place
                    run.worker.post(("do", run.rid, None, run.seq, "place", {"place": place}))
                evict = [r for r in self._runs.values() if self._evictable(r, now)]
            for run, target in moves:  # each waits for its old worker's export: not in this thread
                threading.Thread(target=self._move_and_release, args=(run, target), daemon=True,
                                 name="playground-move").start()
            for run in evict:
                threading.Thread(target=self._evict, args=(run,), daemon=True, name="playground-evict").start()

    def _move_and_release(self, run: _Run, target: _Worker) -> None:
        with run.move_lock:  # after a command in flight for this run, if any
            with self._lock:
                if run.gone or not run.wants:  # paused or closed while waiting: stays where it is
                    run.moving = False
                    return
            self._move(run, target)


class LocalHandle:
    """A run in a LocalExecutor's worker (see runs.RunHandle)."""

    def __init__(self, executor: LocalExecutor, run: _Run):
        self._ex, self._run = executor, run

    @property
    def id(self) -> str:
        return self._run.rid

    def start(self) -> None:
        self._ex._do(self._run, "start")

    def pause(self) -> None:
        self._ex._do(self._run, "pause")

    def step(self) -> None:
        self._ex._do(self._run, "step")

    def reset(self) -> None:
        self._ex._do(self._run, "reset")

    def continue_for(self, num_epochs: int) -> None:
        self._ex._do(self._run, "continue_for", num_epochs=int(num_epochs))

    def set_live(self, values: Mapping[str, float]) -> None:
        self._ex._do(self._run, "set_live", values=dict(values))

    def poll(self, since: int = 0) -> Poll:
        return self._ex._poll(self._run, since)

    def probe(self, fn: str, **kwargs: Any) -> Any:
        check_ref(fn)
        return self._ex._do(self._run, "probe", fn=fn, kwargs=kwargs)

    def phase(self, examples: int = 2) -> dict[str, Any]:
        return self._ex._do(self._run, "phase", examples=int(examples))

    def snapshot(self) -> dict[str, dict]:
        return self._ex._do(self._run, "snapshot")

    def restore(self, snapshot: Mapping[str, Mapping]) -> None:
        self._ex._do(self._run, "restore", snapshot=dict(snapshot))

    def close(self) -> None:
        self._ex._close_run(self._run)


__all__ = ["BUILDING", "LocalExecutor", "LocalHandle"]
