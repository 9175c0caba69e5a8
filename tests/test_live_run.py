"""The live run's state machine, with plain pytest (no Streamlit)."""
from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

from core.train.live_run import LiveRun, State
from core.train.slots import SlotPool
from core.train.trainer import Batches, Trainer


def make_trainer(seed=0, num_epochs=3, lr=0.1):
    g = torch.Generator().manual_seed(42)
    X = torch.randn(64, 3, generator=g)
    y = X @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1

    def net_fn(gen):
        net = nn.Linear(3, 1)
        with torch.no_grad():
            net.weight.normal_(0, 0.1, generator=gen)
            net.bias.zero_()
        return net

    return Trainer(net_fn, Batches(X, y, batch_size=16), lr=lr, num_epochs=num_epochs, seed=seed)


def run_until_still(R: LiveRun, budget=10.0, max_ticks=100):
    for _ in range(max_ticks):
        if not R.active:
            return
        R.tick(budget)
    raise AssertionError("still active")


def test_start_runs_to_the_end_and_finishes():
    R = LiveRun()
    R.load(make_trainer(), label="a")
    assert R.state == State.IDLE and not R.started
    R.start()
    assert R.state == State.RUNNING
    run_until_still(R)
    assert R.state == State.FINISHED and R.epoch == 3 and R.progress == 1.0


def test_step_stops_at_the_end_of_the_epoch():
    R = LiveRun()
    R.load(make_trainer())
    R.step()
    R.tick(0.0)  # a budget of 0 s still trains one minibatch
    assert R.state == State.STEPPING and R.trainers[""].step == 1
    run_until_still(R)
    assert R.state == State.IDLE and R.epoch == 1 and R.trainers[""].step == 4


def test_pause_and_start_continue_where_the_run_was():
    plain = make_trainer()
    plain.advance()
    R = LiveRun()
    R.load(make_trainer())
    R.start()
    R.trainers[""].advance(max_steps=5)  # as if ticks had run
    R.pause()
    assert R.state == State.IDLE
    R.start()
    run_until_still(R)
    assert [r["loss"] for r in R.trainers[""].history.steps] == [r["loss"] for r in plain.history.steps]


def test_new_run_after_the_end_archives_and_replays():
    R = LiveRun()
    R.load(make_trainer(), label="lr=0.1")
    R.start()
    run_until_still(R)
    first = [r["loss"] for r in R.trainers[""].history.steps]
    R.start()  # after the end: a new run, the finished one archived
    assert [r.label for r in R.runs] == ["lr=0.1"] and not R.runs[0].stopped
    run_until_still(R)
    assert [r["loss"] for r in R.trainers[""].history.steps] == first


def test_continue_for_keeps_the_model_and_adds_epochs():
    R = LiveRun()
    R.load(make_trainer())
    R.start()
    run_until_still(R)
    w = R.trainers[""].net.weight.detach().clone()
    R.continue_for(2)
    assert R.state == State.IDLE and R.num_epochs == 5
    R.start()
    run_until_still(R)
    assert R.epoch == 5 and R.runs == [] and not torch.equal(w, R.trainers[""].net.weight)
    with pytest.raises(ValueError):
        R.continue_for(0)


def test_step_after_the_end_trains_one_more_epoch():
    R = LiveRun()
    R.load(make_trainer(num_epochs=1))
    R.start()
    run_until_still(R)
    R.step()
    run_until_still(R)
    assert R.epoch == 2 and R.state in (State.IDLE, State.FINISHED)


def test_live_settings_reach_the_trainer_only_when_they_change():
    R = LiveRun()
    R.load(make_trainer())
    R.set_live({"lr": 0.05, "num_epochs": 3})
    t = R.trainers[""]
    assert t.hparams["lr"] == 0.05 and not t.history.hparams  # before the first step: a fresh start with it
    R.step()
    run_until_still(R)
    R.set_live({"lr": 0.05, "num_epochs": 3})  # unchanged: nothing recorded
    assert t.history.hparams == []
    R.set_live({"lr": 0.2, "num_epochs": 3})
    assert t.history.hparams == [{"step": 4, "name": "lr", "value": 0.2}]
    R.set_live({"lr": 0.2, "num_epochs": 1})  # fewer epochs than done: the run has ended
    assert R.state == State.FINISHED
    R.set_live({"lr": 0.2, "num_epochs": 4})
    assert R.state == State.IDLE and not R.all_done


def test_reset_drops_the_unfinished_run():
    R = LiveRun()
    R.load(make_trainer())
    R.step()
    run_until_still(R)
    R.reset()
    assert R.trainers[""].step == 0 and R.runs == [] and R.state == State.IDLE


def test_loading_a_new_run_archives_one_with_a_finished_epoch():
    R = LiveRun()
    R.load(make_trainer(), label="a")
    R.load(make_trainer(), label="b")
    assert R.runs == []  # nothing trained: nothing to keep
    R.step()
    run_until_still(R)
    R.load(make_trainer(), label="c")
    assert [(r.label, r.stopped) for r in R.runs] == [("b", True)]
    assert R.runs[0].final[""]["epoch"] == 1


def test_divergence_and_failure_stop_and_say_so():
    R = LiveRun()
    R.load(make_trainer(lr=1e6))
    R.start()
    run_until_still(R)
    assert R.state == State.DIVERGED

    class Broken(nn.Module):
        def forward(self, X):
            raise RuntimeError("out of memory")

    R.load(Trainer(lambda g: Broken(), Batches(torch.zeros(4, 1), torch.zeros(4, 1), batch_size=2)))
    R.start()
    R.tick(1.0)
    assert R.state == State.FAILED and "out of memory" in R.error


def test_queue_waits_for_a_slot_and_gives_it_back():
    pool = SlotPool(1)
    assert pool.poll("other") == 0
    R = LiveRun(slots=pool, owner="me")
    R.load(make_trainer())
    R.start()
    R.tick(1.0)
    assert R.state == State.QUEUED and R.place == 1 and R.trainers[""].step == 0
    pool.release("other")
    R.tick(0.0)
    assert R.state == State.RUNNING and R.trainers[""].step >= 1
    R.pause()
    assert pool.snapshot()["running"] == 0  # paused: the slot is free for others
    R.start()
    run_until_still(R)
    assert R.state == State.FINISHED and pool.snapshot()["running"] == 0


def test_a_tab_away_too_long_is_paused_not_lost():
    clock = [0.0]
    pool = SlotPool(1, lease_seconds=4.0, clock=lambda: clock[0])
    R = LiveRun(slots=pool, owner="me")
    R.load(make_trainer(num_epochs=50))
    R.start()
    R.tick(0.0)
    steps = R.trainers[""].step
    assert R.state == State.RUNNING and steps >= 1
    clock[0] = 10.0  # the tab stalled; another session polls and takes the slot
    assert pool.poll("other") == 0
    R.tick(0.0)
    assert R.state == State.IDLE and R.note == "slot_lost" and R.trainers[""].step == steps
    assert pool.poll("me") == 1  # (the panel only polls while active; this is the queue's view)
    pool.release("me")
    pool.release("other")
    R.start()
    R.tick(0.0)
    assert R.state == State.RUNNING and R.note == "" and R.trainers[""].step > steps  # resumes where it was


def test_side_by_side_trainers_share_the_budget_and_finish_together():
    R = LiveRun()
    R.load({"a": make_trainer(seed=0), "b": make_trainer(seed=1)})
    R.start()
    run_until_still(R)
    assert R.state == State.FINISHED and all(t.epoch == 3 for t in R.trainers.values())


def test_a_probe_never_lands_inside_a_tick():
    """Two threads: one ticks, one probes; the probe sees whole steps only
    (the step counter never changes while the probe holds the lock)."""
    R = LiveRun()
    R.load(make_trainer(num_epochs=200))
    R.start()
    seen = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set() and R.active:
            R.tick(0.005)

    th = threading.Thread(target=ticker)
    th.start()
    try:
        for _ in range(50):
            def look(trainers):
                t = trainers[""]
                before = t.step
                torch.mm(torch.randn(64, 64), torch.randn(64, 64))  # take a little time
                return before, t.step

            seen.append(R.probe(look))
    finally:
        stop.set()
        th.join()
    assert all(a == b for a, b in seen)
