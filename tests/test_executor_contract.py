"""One contract, two executors: what a page may count on from a RunHandle,
whether the run trains in a local worker process or in a Ray actor.

Every test compares values: losses bit for bit (==) with the bare trainer or
with another run, queue places exactly. The Ray variant runs where ray is
installed and PLAYGROUND_TEST_RAY_ADDRESS names a test cluster (`make
test-ray` starts a two-node one); elsewhere it is skipped, saying why, and
under CI with PLAYGROUND_TEST_RAY=1 its absence fails.

Executors are made once per module and kind (starting workers costs seconds);
each test closes the runs it opened, so the slots are free for the next."""
from __future__ import annotations

import io
import os
import signal
import time
import uuid
from dataclasses import replace

import pytest
import torch
from executor_support import (
    LONG,
    Watch,
    bare,
    dropout_spec,
    losses,
    ray_required,
    ray_unavailable,
    until,
    wd_spec,
)

from core.data.files import fingerprint
from core.train.runs import RunGone, RunHandle, RunSpec, Shared, build_trainers

LEASE = 2.0  # the lease of the one-slot executor: the lease test waits it out


@pytest.fixture(scope="module", params=["local", "ray"])
def kind(request):
    if request.param == "ray" and (why := ray_unavailable()):
        if ray_required():
            pytest.fail(why)
        pytest.skip(why)
    return request.param


@pytest.fixture(scope="module")
def executors(kind):
    """executors(capacity) -> an executor of this kind with that many slots
    (one made per capacity; the one-slot one has a short lease)."""
    made = {}

    def get(capacity: int):
        if capacity not in made:
            lease = LEASE if capacity == 1 else 4.0
            if kind == "local":
                from core.train.local_executor import LocalExecutor

                made[capacity] = LocalExecutor(capacity, lease_seconds=lease)
            else:
                from core.train.ray_executor import RayExecutor

                made[capacity] = RayExecutor(os.environ["PLAYGROUND_TEST_RAY_ADDRESS"], capacity=capacity,
                                             lease_seconds=lease, pool=f"test-{uuid.uuid4().hex[:8]}")
        return made[capacity]

    yield get
    for ex in made.values():
        if kind == "ray":
            ex.close(kill_pool=True)
        else:
            ex.close()


@pytest.fixture
def runs():
    """open(executor, spec, group) -> (handle, Watch); every run is closed after the test."""
    opened = []

    def open_(ex, spec: RunSpec, group: str | None = None):
        h = ex.open(spec, group=group if group is not None else uuid.uuid4().hex)
        opened.append(h)
        return h, Watch(h)

    yield open_
    for h in opened:
        h.close()


def done(p) -> bool:
    return p.state == "finished"


def build_ref(spec: RunSpec):
    """The spec's trainer, built here and not trained yet."""
    return build_trainers(spec)[""]


# ------------------------------------------------------------------ training
def test_start_trains_to_the_end_as_the_bare_trainer_does(executors, runs):
    h, w = runs(executors(2), wd_spec(30))
    assert isinstance(h, RunHandle)
    h.start()
    p = until(w, done)
    ref = bare(wd_spec(30))
    assert (p.epoch, p.num_epochs, p.progress) == (30, 30, 1.0)
    assert w.losses == losses(ref) and len(w.losses) == 30 * 4
    train = [r["train_loss"] for r in w.epochs]
    assert train == [r["train_loss"] for r in ref.history.epochs]
    assert train[-1] < train[0] / 10  # 20 examples, 200 inputs: the model memorises them


def test_pause_stops_the_records_and_start_continues(executors, runs):
    spec = wd_spec(LONG)
    h, w = runs(executors(2), spec)
    h.start()
    until(w, lambda p: p.epoch >= 3)
    h.pause()
    p = w.poll()
    assert p.state == "idle" and p.note == ""
    n = len(w.steps)
    time.sleep(0.5)
    p = w.poll()
    assert p.steps == {} and p.epochs == {} and len(w.steps) == n
    h.start()
    until(w, lambda p: len(w.steps) >= n + 40)
    h.pause()
    w.poll()
    ref = build_ref(spec)
    ref.advance(max_steps=len(w.steps))
    assert w.losses == losses(ref)


def test_step_trains_exactly_one_epoch(executors, runs):
    h, w = runs(executors(2), wd_spec(30))
    h.step()
    p = until(w, lambda p: p.state == "idle" and p.epoch >= 1)
    assert (p.epoch, len(w.steps), len(w.epochs)) == (1, 4, 1)
    h.step()
    p = until(w, lambda p: p.state == "idle" and p.epoch >= 2)
    assert (p.epoch, len(w.steps), len(w.epochs)) == (2, 8, 2)
    ref = build_ref(wd_spec(30))
    ref.advance(max_steps=8)
    assert w.losses == losses(ref)


def test_set_live_changes_the_learning_rate_mid_run(executors, runs):
    spec = wd_spec(LONG)
    h, w = runs(executors(2), spec)
    h.start()
    until(w, lambda p: p.epoch >= 2)
    h.set_live({"lr": 0.01})
    until(w, lambda p: len(w.hparams) == 1 and len(w.steps) >= w.hparams[0]["step"] + 20)
    h.pause()
    w.poll()
    (change,) = w.hparams
    assert change["name"] == "lr" and change["value"] == 0.01 and change["step"] >= 8
    seen = h.probe("core.train.readouts:hparams")[""]
    assert seen["now"]["lr"] == 0.01 and seen["changes"] == [change] and seen["step"] == len(w.steps)
    ref = build_ref(spec)
    ref.advance(max_steps=change["step"])
    ref.set_hparams(lr=0.01)
    ref.advance(max_steps=len(w.steps) - change["step"])
    assert w.losses == losses(ref)


def test_reset_replays_bit_for_bit(executors, runs):
    h, w = runs(executors(2), wd_spec(20))
    h.start()
    until(w, done)
    first = w.losses
    h.reset()
    p = w.poll()
    assert p.rewound and p.state == "idle" and p.epoch == 0 and w.steps == []
    h.start()
    until(w, done)
    assert w.losses == first == losses(bare(wd_spec(20)))


def test_probing_after_every_step_leaves_the_run_bit_identical(executors, runs):
    """Dropout draws its masks from the run's noise generator, and the probe
    runs the net in training mode (drawing masks too) after every step; the
    probe puts the generator back, so the losses are those of a run never probed."""
    ex = executors(2)
    probed, w = runs(ex, dropout_spec(6))
    outs = []
    for epoch in range(1, 7):
        probed.step()
        until(w, lambda p, e=epoch: p.state in ("idle", "finished") and p.epoch == e)
        a = probed.probe("core.train.readouts:outputs", n=8, train=True)[""]
        b = probed.probe("core.train.readouts:outputs", n=8, train=True)[""]
        assert (a == b).all()  # the same masks twice: the first probe put the generator back
        outs.append(a)
    assert len(w.steps) == 6
    assert not (outs[0] == outs[-1]).all()  # the probes saw the net change
    plain, v = runs(ex, dropout_spec(6))
    plain.start()
    until(v, done)
    assert w.losses == v.losses == losses(bare(dropout_spec(6)))


def test_phases_step_one_minibatch_and_start_finishes_the_step(executors, runs):
    """The phase command (core.train.phases) through the handle: forward,
    backward, update of a paused run, the poll naming the next phase and the
    step counted only after the update; Start finishes a step begun by phases,
    and the run ends bit for bit as the bare trainer's."""
    h, w = runs(executors(2), wd_spec(3))
    seen = []
    for _ in range(7):  # two whole steps, then a forward
        out = h.phase()
        p = w.poll()
        seen.append((out["trainers"][""]["phase"], p.next_phase, len(w.steps)))
    assert seen == [("forward", "backward", 0), ("backward", "update", 0), ("update", "forward", 1),
                    ("forward", "backward", 1), ("backward", "update", 1), ("update", "forward", 2),
                    ("forward", "backward", 2)]
    h.start()
    p = until(w, done)
    assert p.next_phase == "forward" and h.phase() == {"code": "done"}
    assert w.losses == losses(bare(wd_spec(3))) and len(w.losses) == 3 * 4


def test_snapshot_and_restore_resume_bit_for_bit(executors, runs):
    ex = executors(2)
    spec = wd_spec(LONG)
    a, w = runs(ex, spec)
    a.start()
    until(w, lambda p: p.epoch >= 5)
    a.pause()  # anywhere in an epoch
    w.poll()
    snap = a.snapshot()
    assert set(snap) == {""} and snap[""]["step"] == len(w.steps)
    buf = io.BytesIO()
    torch.save(snap, buf)  # plain values: loads with weights_only
    snap = torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    a.close()
    b, v = runs(ex, spec)
    b.restore(snap)  # taken once b is built (on Ray: once placed)
    p = until(v, lambda p: p.state != "building")
    assert p.state == "idle" and v.losses == w.losses  # the records came with the snapshot
    end = snap[""]["epoch"] + 5
    b.set_live({"num_epochs": end})
    b.start()
    until(v, done)
    assert v.losses == losses(bare(spec, num_epochs=end))


# -------------------------------------------------------------- sharing slots
def test_queue_places_are_first_come_first_served(executors, runs):
    ex = executors(1)
    (a, wa), (b, wb), (c, wc) = (runs(ex, wd_spec(LONG)) for _ in range(3))
    a.start()
    until(wa, lambda p: p.state == "running", wb, wc)
    b.start()
    c.start()
    pb = until(wb, lambda p: p.state == "queued", wa, wc)
    pc = until(wc, lambda p: p.state == "queued", wa, wb)
    assert (wa.poll().state, pb.place, pc.place) == ("running", 1, 2)
    assert ex.stats()["running"] == 1
    a.pause()
    until(wb, lambda p: p.state == "running", wa, wc)
    pc = until(wc, lambda p: p.place != 2, wa, wb)  # a waiting run learns its new place within a moment
    assert (wa.poll().state, pc.state, pc.place) == ("idle", "queued", 1)
    b.pause()
    until(wc, lambda p: p.state == "running", wa, wb)
    n = len(wa.steps)
    time.sleep(0.3)
    wa.poll()
    assert len(wa.steps) == n  # at most one run trains


def test_one_browser_trains_one_run_at_a_time(executors, runs):
    ex = executors(2)
    (x, wx), (y, wy) = runs(ex, wd_spec(LONG), "browser-1"), runs(ex, wd_spec(LONG), "browser-1")
    z, wz = runs(ex, wd_spec(LONG), "browser-2")
    x.start()
    until(wx, lambda p: p.state == "running", wy, wz)
    y.start()
    py = until(wy, lambda p: p.state == "queued", wx, wz)
    z.start()
    until(wz, lambda p: p.state == "running", wx, wy)  # a free slot: z goes past y
    assert (py.place, wy.poll().state, wy.last.place) == (1, "queued", 1)
    x.pause()
    until(wy, lambda p: p.state == "running", wx, wz)


def test_close_frees_the_slot_for_the_next_in_line(executors, runs):
    ex = executors(1)
    (a, wa), (b, wb) = runs(ex, wd_spec(LONG)), runs(ex, wd_spec(LONG))
    a.start()
    until(wa, lambda p: p.state == "running", wb)
    b.start()
    until(wb, lambda p: p.state == "queued", wa)
    t0 = time.monotonic()
    a.close()
    until(wb, lambda p: p.state == "running")
    took = time.monotonic() - t0
    print(f"\nslot freed by close: the next run trained {took:.3f} s later")
    assert took < LEASE  # handed on by the close, not by the lease running out
    assert a.poll().state == "closed"
    with pytest.raises(RunGone):
        a.start()


def test_a_page_that_stops_polling_finds_its_run_paused(executors, runs):
    ex = executors(1)
    (a, wa), (b, wb) = runs(ex, wd_spec(LONG)), runs(ex, wd_spec(LONG))
    a.start()
    until(wa, lambda p: p.state == "running" and p.epoch >= 1, wb)
    b.start()
    until(wb, lambda p: p.state == "queued", wa)
    t0 = time.monotonic()
    until(wb, lambda p: p.state == "running", timeout=LEASE + 10)  # only b polls now
    waited = time.monotonic() - t0
    assert LEASE - 0.5 <= waited <= LEASE + 1.5, waited  # the slot goes on within the lease (4 s on a server)
    p = wa.poll()
    assert (p.state, p.note) == ("idle", "slot_lost")
    n = len(wa.steps)
    time.sleep(0.3)
    wa.poll()
    assert len(wa.steps) == n  # paused, and kept: Start goes on from there
    a.start()
    assert until(wa, lambda p: p.state == "queued", wb).place == 1


# ------------------------------------------------------------- local workers
def test_two_trainings_never_share_a_worker_while_another_idles(kind, executors, runs):
    """Runs are placed by how many each worker hosts, so two that train can
    meet on one worker; the one let in then moves to the idle worker, mid-epoch,
    and trains on bit for bit: once when its Start finds a free slot, once
    when the dispatcher lets it in from the queue."""
    if kind != "local":
        pytest.skip("Ray places each run by its resources")
    ex = executors(2)
    specs = [wd_spec(LONG, seed=s) for s in range(3)]
    (a, wa), (b, wb), (c, wc) = (runs(ex, spec) for spec in specs)
    pid = {name: h.probe("core.train.readouts:process_id") for name, h in (("a", a), ("b", b), ("c", c))}
    assert pid["a"] == pid["c"] != pid["b"]  # a and c share the first worker, b has the second
    c.start()
    until(wc, lambda p: p.epoch >= 2, wa, wb)
    c.pause()  # anywhere in an epoch
    a.start()
    until(wa, lambda p: p.state == "running", wb, wc)
    c.start()  # a free slot, but c's worker trains a: c goes to b's idle worker first
    until(wc, lambda p: len(wc.steps) >= 8 + 40, wa, wb)
    assert (c.probe("core.train.readouts:process_id"), a.probe("core.train.readouts:process_id")) == \
        (pid["b"], pid["a"])
    b.start()  # now b and c share the second worker: c pauses, b trains, c waits in line
    c.pause()
    until(wb, lambda p: p.state == "running", wa, wc)
    c.start()
    e = until(wc, lambda p: p.state == "queued", wa, wb).epoch
    a.pause()  # the first worker idles: c, let in, goes back there
    until(wc, lambda p: p.state == "running" and p.epoch >= e + 2, wa, wb)
    assert c.probe("core.train.readouts:process_id") == pid["a"]
    c.pause()
    wc.poll()
    ref = build_ref(specs[2])
    ref.advance(max_steps=len(wc.steps))
    assert wc.losses == losses(ref)


# ---------------------------------------------------------- data and presets
def test_shared_data_and_a_preset_train_as_the_bare_trainers_do(executors, runs):
    """A preset's Configs ({name: Config}) train side by side in one run, and
    data sent as Shared (its value once per worker, then only its key) trains
    as the data itself does."""
    plain = dropout_spec(3)
    blob = Shared(fingerprint(plain.data), plain.data)
    cfgs = {"p = 0": replace(plain.cfg, dropout1=0.0, dropout2=0.0), "book": plain.cfg}
    ex = executors(2)
    (a, wa), (b, wb) = (runs(ex, replace(plain, cfg=cfgs, data=blob)) for _ in range(2))
    a.start()
    b.start()
    pa = until(wa, done)
    until(wb, done)
    assert pa.names == ("p = 0", "book")
    for name, cfg in cfgs.items():
        ref = bare(replace(plain, cfg=cfg))
        steps = {h: [r["loss"] for r in h.poll(0).steps[name]] for h in (a, b)}
        assert steps[a] == steps[b] == losses(ref), name
    assert len(set(steps[a])) > 1


# -------------------------------------------------------------------- local alone
def test_a_run_left_alone_is_evicted_and_comes_back_bit_for_bit(kind, runs):
    if kind != "local":
        pytest.skip("eviction is the local executor's (a Ray actor is its own process)")
    from core.train.local_executor import LocalExecutor

    spec = wd_spec(6)
    with LocalExecutor(1, evict_seconds=0.5) as ex:
        h, w = runs(ex, spec)
        h.step()
        p = until(w, lambda p: p.state == "idle" and p.epoch == 1)
        time.sleep(2.0)  # no poll, no command: the run leaves its worker
        assert ex.stats()["evicted"] == 1
        assert w.poll().epoch == 1 and ex.stats()["evicted"] == 1  # a poll reads what the web process kept
        h.set_live({"lr": 0.01})  # a command brings it back: weights, generators, the epoch it was in
        h.start()
        until(w, done)
        assert ex.stats()["evicted"] == 0
    ref = build_ref(spec)
    ref.advance(max_steps=4)
    ref.set_hparams(lr=0.01)
    ref.advance()
    assert w.losses == losses(ref) and p.epoch == 1


# -------------------------------------------------------------------- failure
def test_a_dead_worker_loses_its_runs_only_and_restore_resumes(kind, executors, runs):
    ex = executors(2)
    spec = wd_spec(LONG)
    (a, wa), (b, wb) = runs(ex, spec), runs(ex, wd_spec(LONG, seed=1))
    pid_a, pid_b = (h.probe("core.train.readouts:process_id") for h in (a, b))
    assert pid_a != pid_b and os.getpid() not in (pid_a, pid_b)
    a.start()
    b.start()
    until(wa, lambda p: p.epoch >= 5, wb)
    os.kill(pid_a, signal.SIGKILL)
    p = until(wa, lambda p: p.state == "lost", wb)
    snap = p.snapshot
    assert snap is not None and 5 <= snap[""]["epoch"] <= p.epoch
    with pytest.raises(RunGone):
        a.start()
    e = wb.poll().epoch
    until(wb, lambda p: p.state == "running" and p.epoch >= e + 3)  # the other run trains on
    if kind == "local":
        deadline = time.monotonic() + 60
        while len(ex.worker_pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(ex.worker_pids()) == 2 and pid_a not in ex.worker_pids()  # a new worker took its place
    c, wc = runs(ex, spec)
    c.restore(snap)
    until(wc, lambda p: p.state != "building")
    steps = snap[""]["step"]
    assert wc.losses == wa.losses[:steps]  # the records up to the snapshot came with it
    end = snap[""]["epoch"] + 3
    c.set_live({"num_epochs": end})
    c.start()
    until(wc, done)
    assert wc.losses == losses(bare(spec, num_epochs=end))


# ----------------------------------------------------------------- Ray alone
def test_call_computes_a_core_function_off_the_web_process(executors):
    ex = executors(2)
    info = ex.call("core.ops.devices:worker_info")
    assert info["pid"] != os.getpid() and info["threads"] >= 1
    mm = ex.call("core.ops.devices:time_matmul", n=64, device="cpu", budget=0.01, max_repeats=2)
    assert mm["n"] == 64 and mm["repeats"] >= 1 and mm["gflops"] == pytest.approx(2 * 64**3 / mm["seconds"] / 1e9)
    with pytest.raises(ValueError, match="core.<module>"):
        ex.call("os:system", command="true")  # only a public function of a module under core.
    with pytest.raises(TypeError):
        ex.call("core.ops.devices:gflops")  # its own error comes back to the caller


def test_runs_spread_over_the_cluster_nodes(kind, executors, runs):
    """Two runs of one CPU each on a cluster of two one-CPU nodes: Ray has to
    put them on different nodes."""
    if kind != "ray":
        pytest.skip("placement over nodes is Ray's")
    import ray

    nodes = [n for n in ray.nodes() if n["Alive"] and n["Resources"].get("CPU", 0) >= 1]
    if len(nodes) < 2:
        if os.environ.get("PLAYGROUND_TEST_RAY_NODES"):
            pytest.fail(f"the test cluster has {len(nodes)} node(s) with a CPU")
        pytest.skip("the test cluster has fewer than two nodes")
    ex = executors(2)
    spec = RunSpec("weight_decay", wd_spec(LONG).cfg, num_cpus=1)
    (a, wa), (b, wb) = runs(ex, spec), runs(ex, spec)
    where = {h.probe("core.train.ray_executor:node_id") for h in (a, b)}
    print(f"\nruns placed on nodes {sorted(where)}")
    assert len(where) == 2 and where <= {n["NodeID"] for n in nodes}
    a.start()
    b.start()
    until(wa, lambda p: p.epoch >= 3, wb)
    until(wb, lambda p: p.epoch >= 3, wa)
