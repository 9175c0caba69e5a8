"""The timeline a run's worker keeps (core.train.timeline): where it takes
snapshots, the memory budget and its thinning, probes at a point that leave the
run bit for bit as it was, and a branch from a point that replays the original
run bit for bit (in a worker, through the executor and the page's PageRun)."""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest
import torch
from executor_support import SMALL_CPU, Watch, until, wd_spec

from core.data.fashion_mnist import stand_in_fashion_mnist
from core.experiments import dropout
from core.train import timeline as tl
from core.train.local_executor import LocalExecutor
from core.train.page_run import PageRun
from core.train.runs import RunSpec, build_trainers
from core.train.trainer import Snapshot


def mlp_spec(num_epochs: int = 2, n: int = 256, batch_size: int = 4, seed: int = 0) -> RunSpec:
    """The dropout MLP, narrowed, on n stand-in images in minibatches of 4: 64 steps an epoch."""
    cfg = dropout.Config(num_epochs=num_epochs, batch_size=batch_size, num_hiddens1=16, num_hiddens2=16)
    return RunSpec("dropout", cfg, seed=seed, data=stand_in_fashion_mnist(n, 32), num_cpus=SMALL_CPU)


def trainer(spec: RunSpec):
    return build_trainers(spec)[""]


def losses(records) -> list[float]:
    return [r["loss"] for r in records]


# ------------------------------------------------------------------ the policy
def test_points_per_epoch_are_bounded_and_evenly_spaced():
    assert [tl.per_epoch(n) for n in (1, 4, 15, 16, 31, 32, 63, 64, 235, 10_000)] == [1, 1, 1, 2, 2, 4, 4, 8, 8, 8]
    t = trainer(mlp_spec())
    timeline = tl.Timeline({"": t})
    t.advance(max_steps=64 + 20)  # one epoch and 20 steps of the next
    places = timeline.complete()
    assert places == [Fraction(j, 8) for j in range(0, 8 + 3)]  # 0, 1/8, ..., 1, 9/8, 10/8
    assert [timeline.point(p)[""].step for p in places] == [8 * j for j in range(11)]
    assert tl.label(Fraction(7, 2)) == "epoch 3.5" and tl.label(Fraction(3)) == "epoch 3"
    # a snapshot is the trainer's whole state at that step: a fresh trainer restored there goes on identically
    fresh = trainer(mlp_spec())
    fresh.advance(max_steps=16)
    snap, want = timeline.point("2/8")[""], fresh.snapshot()
    assert all(torch.equal(snap.net[k], want.net[k]) for k in want.net)
    assert torch.equal(snap.gen_noise, want.gen_noise) and snap.batch_in_epoch == want.batch_in_epoch == 16


def test_the_budget_env_is_checked():
    assert tl.budget_bytes({}) == 64 * 2**20
    assert tl.budget_bytes({tl.ENV: "1.5"}) == int(1.5 * 2**20)
    assert tl.budget_bytes({tl.ENV: "0"}) == 0
    for bad in ("lots", "-3", "nan", "inf"):
        assert tl.budget_bytes({tl.ENV: bad}) == 64 * 2**20


def test_the_budget_is_never_exceeded_and_the_first_and_last_points_stay():
    t = trainer(wd_spec(num_epochs=100))  # 4 steps an epoch: a point at each epoch's end
    size = t.snapshot().nbytes
    budget = 6 * size + size // 2
    timeline = tl.Timeline({"": t}, budget=budget)
    held = []
    while not t.done:
        t.advance(max_steps=1)
        held.append(timeline.nbytes)
        places = sorted(timeline.points)
        assert timeline.nbytes <= budget
        assert timeline.nbytes == sum(s.nbytes for p in places for s in timeline.points[p].values())
        assert places[0] == 0  # the start
        if t.batch_in_epoch == 0:
            assert places[-1] == t.epoch  # the epoch just ended
    assert timeline.thinned >= 3 and max(held) > budget - 2 * size  # it filled up, and was thinned more than once
    places = sorted(timeline.points)
    assert places[-1] == 100 and 4 <= len(places) <= 6
    # evenly spread: every point but the last on the final stride
    assert all(p % timeline.stride == 0 for p in places[:-1])
    assert len({b - a for a, b in zip(places[:-2], places[1:-1])}) == 1


def test_a_run_whose_two_points_do_not_fit_keeps_none():
    t = trainer(wd_spec(num_epochs=3))
    timeline = tl.Timeline({"": t}, budget=t.snapshot().nbytes)
    t.advance()
    assert timeline.over_budget and timeline.points == {} and timeline.nbytes == 0
    info = tl.points({"": t}, timeline)
    assert info["points"] == [] and info["over_budget"]


def test_reset_and_restore_start_the_timeline_again():
    t = trainer(mlp_spec())
    timeline = tl.Timeline({"": t})
    t.advance(max_steps=40)
    snap = timeline.point("3/8")[""]
    t.restore(snap)
    assert timeline.complete() == [Fraction(3, 8)] and timeline.point("3/8")[""].step == 24
    t.advance(max_steps=8)
    assert timeline.complete() == [Fraction(3, 8), Fraction(4, 8)]
    t.reset()
    assert timeline.complete() == [0] and timeline.stride == 1
    with pytest.raises(LookupError):
        timeline.point("1/2")
    with pytest.raises(LookupError):
        timeline.point("not a number")


# ------------------------------------------------------------- probes at a point
def picture_at(trainers, timeline, data, at):
    return tl.probe_at(trainers, timeline, data, at=at, view="core.experiments.dropout:picture",
                       params={"probe": 3, "eval_mode": False, "seed": 5})


def test_a_probe_at_a_point_equals_a_fresh_trainer_restored_there_and_changes_nothing():
    spec = mlp_spec()
    t, data = trainer(spec), spec.data
    timeline = tl.Timeline({"": t})
    t.advance(max_steps=64 + 24)
    before = t.snapshot()
    for at in ("0", "3/8", "1", "11/8"):
        got = picture_at({"": t}, timeline, data, at)
        fresh = trainer(spec)
        fresh.restore(timeline.point(at)[""])
        want = dropout.picture({"": fresh}, data, probe=3, eval_mode=False, seed=5)
        assert got["step"] == want["step"] == timeline.point(at)[""].step
        for key in ("h", "mask"):
            assert all(torch.equal(a, b) for a, b in zip(got["res"][key], want["res"][key]))
    now = dropout.picture({"": t}, data, probe=3, eval_mode=False, seed=5)
    assert not torch.equal(now["res"]["h"][0], picture_at({"": t}, timeline, data, "0")["res"]["h"][0])
    after = t.snapshot()
    assert all(torch.equal(before.net[k], after.net[k]) for k in before.net) and after.step == before.step
    # the run goes on exactly like one never probed
    t.advance()
    untouched = trainer(spec)
    untouched.advance()
    assert losses(t.history.steps) == losses(untouched.history.steps)


# -------------------------------------------------- in a worker, through the executor
@pytest.fixture(scope="module")
def ex():
    with LocalExecutor(1, threads=1) as executor:
        yield executor


def test_scrubbed_and_probed_mid_run_the_run_continues_bit_for_bit():
    """Through the RunHost a worker drives: a Step, the points, probes at two of them, then on to the end."""
    from core.train.host import RunHost

    spec = mlp_spec(num_epochs=2)
    host = RunHost(spec)
    host.step(place=0, seq=1)  # one epoch, then pause
    while host.live.state != "idle":
        host.turn(0.05)
    info = host.probe("core.train.timeline:points", {})
    assert [p["at"] for p in info["points"]] == [str(Fraction(j, 8)) for j in range(9)]
    assert [p["step"] for p in info["points"]] == [8 * j for j in range(9)]
    assert info["budget"] == 64 * 2**20 and 0 < info["nbytes"] < info["budget"] and info["thinned"] == 0
    for at in ("0", "1/2"):
        got = host.probe("core.train.timeline:probe_at", {"at": at, "view": "core.experiments.dropout:picture",
                                                         "params": {"probe": 1}})
        assert got["step"] == int(Fraction(at) * 64)
    host.start(place=0, seq=2)
    while host.live.state != "finished":
        host.turn(0.05)
    bare = trainer(spec)
    bare.advance()
    assert losses(host.live.trainers[""].history.steps) == losses(bare.history.steps) and bare.step == 2 * 64


def test_a_branch_from_a_point_replays_the_original_bit_for_bit(ex):
    spec = mlp_spec(num_epochs=3)
    R = PageRun(ex)
    try:
        R.load(spec, label="original", key="k")
        R.start()
        until(Watch(R.handle), lambda p: p.state == "finished")
        R.refresh()
        original = R.history("")
        info = R.probe("core.train.timeline:points")
        at = info["points"][len(info["points"]) // 2]  # mid-run: epoch 1.5, step 96
        assert (at["at"], at["step"]) == ("3/2", 96)
        assert R.branch(at["at"], label="from epoch 1.5")
        assert len(R.runs) == 1 and R.runs[0].label == "original" and not R.runs[0].stopped
        assert R.label == "from epoch 1.5" and R.state == "idle" and R.epoch == 1
        assert R.history("")["steps"] == original["steps"][:96]  # the records up to the point
        assert R.history("")["epochs"] == original["epochs"][:1]
        R.start()
        until(Watch(R.handle), lambda p: p.state == "finished")
        R.refresh()
        branched = R.history("")
        assert losses(branched["steps"]) == losses(original["steps"])  # after the point too, bit for bit
        assert [e["test_loss"] for e in branched["epochs"]] == [e["test_loss"] for e in original["epochs"]]
        # the branch's own timeline starts at the point
        assert R.probe("core.train.timeline:points")["points"][0]["at"] == "3/2"
        with pytest.raises(LookupError):
            R.branch("1/3")
    finally:
        R.close()


def test_the_timeline_moves_with_its_run_between_workers():
    from core.train.host import RunHost

    spec = replace(mlp_spec(num_epochs=2), num_cpus=SMALL_CPU)
    host = RunHost(spec)
    host.start(place=0, seq=1)
    while host.live.state == "running":
        host.turn(0.05)
    exported = host.export()
    moved = RunHost.adopt(spec, exported)
    assert moved.timeline.complete() == host.timeline.complete() == [Fraction(j, 8) for j in range(17)]
    a, b = host.timeline.point("5/8")[""], moved.timeline.point("5/8")[""]
    assert isinstance(b, Snapshot) and all(torch.equal(a.net[k], b.net[k]) for k in a.net)
    assert moved.timeline.nbytes == host.timeline.nbytes


def test_a_preset_s_trainers_meet_at_the_same_points_and_reset_together():
    """Two trainers trained a turn at a time each: a point is complete only once both have it;
    a reset of both (one after the other) starts the timeline and its stride afresh."""
    spec = wd_spec(num_epochs=40)
    a, b = trainer(spec), trainer(replace(spec, cfg=replace(spec.cfg, weight_decay=3.0)))
    size = a.snapshot().nbytes
    timeline = tl.Timeline({"a": a, "b": b}, budget=30 * size)
    a.advance(max_steps=4 * 10)
    assert timeline.complete() == [0]  # b has not reached epoch 1 yet
    b.advance(max_steps=4 * 7)
    assert timeline.complete() == [Fraction(e) for e in range(8)]
    a.advance(), b.advance()
    assert timeline.thinned >= 1 and timeline.nbytes <= 30 * size and timeline.complete()[-1] == 40
    a.reset(), b.reset()
    assert timeline.complete() == [0] and timeline.stride == 1 and timeline.thinned == 0
