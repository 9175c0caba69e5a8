"""The shared live-training panel, driven through the weight-decay page: the
page holds a handle, the run trains in a worker process of the executor."""
from __future__ import annotations

import time

import pytest
from apptest_support import find_widget, live_charts, open_page, series_points, tick_until, tick_until_stopped

from core.train.live_run import State
from core.train.local_executor import LocalExecutor
from core.train.runs import RunGone
from playground import live

KEY = "weight_decay"
LAMBDA = "weight_decay.weight_decay"  # the page's widget key of the setting weight_decay


@pytest.fixture
def at():
    at = open_page("topics/weight_decay.py")
    yield at
    state(at).close()


def state(at):
    return at.session_state[f"live:{KEY}"]


def losses(R, name: str = "") -> list[float]:
    return [r["loss"] for r in R.history(name)["steps"]]


def press(at, name, wait=True):
    """Click a panel button; with `wait`, tick until the panel stops running."""
    at.button(key=f"{KEY}:{name}").click().run()
    assert not at.exception, at.exception
    if wait:
        tick_until_stopped(at)


def test_step_trains_exactly_one_epoch(at):
    press(at, "step")
    R = state(at)
    assert R.epoch == 1 and len(R.history()["steps"]) == 4 and R.state == State.IDLE


def test_the_run_trains_in_a_worker_not_in_the_web_process(at):
    import os

    R = state(at)
    assert R.probe("core.train.readouts:process_id") != os.getpid()
    press(at, "start", wait=False)
    time.sleep(1.0)  # no rerun meanwhile: the run trains on by itself
    R.refresh()
    assert R.steps > 0


def test_reset_replays_the_same_curve(at):
    press(at, "start")
    R = state(at)
    first = losses(R)
    assert len(first) == 400 and R.state == State.FINISHED
    press(at, "reset")
    assert R.steps == 0 and R.state == State.IDLE
    press(at, "start")
    assert losses(R) == first


def test_a_finished_run_is_overlaid_and_clear_forgets_it(at):
    press(at, "start")
    assert state(at).runs == []  # the current run is drawn as current, not twice
    assert [b.label for b in at.button if b.key == f"{KEY}:start"] == ["Start a new run"]  # inside "New run"
    assert any(p.proto.popover.label == "New run" for p in at.get("popover"))
    press(at, "start")  # a new run: the finished one is kept for comparison
    assert [r.label for r in state(at).runs] == ["λ=0"]
    assert any(e.label == "Final figures of each run" for e in at.expander)
    press(at, "clear")
    assert state(at).runs == []


def test_more_epochs_keep_the_trained_model(at):
    press(at, "start")
    R = state(at)
    w = R.probe("core.train.readouts:param_norms")[""]
    press(at, "more")  # +20 epochs of the same model, not a new run
    assert R.epoch == 120 and R.steps == 480 and R.runs == []
    assert R.probe("core.train.readouts:param_norms")[""] != w


def test_lambda_change_mid_run_reaches_the_optimizer(at):
    press(at, "step")
    R = state(at)
    assert R.epoch == 1
    at.slider(key=LAMBDA).set_value(5.0).run()
    seen = R.probe("core.train.readouts:hparams")[""]
    assert seen["now"]["weight_decay"] == 5.0
    assert seen["changes"] == [{"step": 4, "name": "weight_decay", "value": 5.0}]
    assert R.history()["hparams"] == seen["changes"]  # the page has the record too
    assert at.query_params["weight_decay"] == "5"  # the URL has the new value
    press(at, "start")
    press(at, "start")  # the finished run was changed mid-run: it says so
    assert R.runs[-1].changed_mid_run
    assert R.probe("core.train.readouts:hparams")[""]["now"]["weight_decay"] == 5.0  # the new run starts with it


def test_a_session_beyond_the_slots_waits_its_turn(monkeypatch):
    ex = LocalExecutor(1, capacity=1)  # a server with one slot, held by another session
    monkeypatch.setattr(live, "executor", lambda: ex)
    try:
        at = open_page("topics/weight_decay.py")
        R = state(at)
        tick_until(at, lambda at: not R.building)  # the worker has started and built the run
        assert ex.slots.poll("other") == 0
        press(at, "start", wait=False)
        tick_until(at, lambda at: ex.slots.poll("other") == 0 and R.state == State.QUEUED)  # "other" keeps its lease
        assert R.place == 1 and R.steps == 0
        assert any("Queued: place 1" in m.value for m in at.info)
        ex.slots.release("other")
        tick_until_stopped(at)
        assert R.state == State.FINISHED and R.epoch == 100
        assert ex.stats()["running"] == 0  # given back when the run finished
    finally:
        ex.close()


def test_divergence_is_explained_on_the_page(at):
    state(at).set_live({"lr": 10.0})  # as a live lr setting would: the run starts with it
    press(at, "start")
    assert state(at).state == State.DIVERGED
    assert any("NaN" in w.value for w in at.warning)


def test_compare_preset_trains_both_side_by_side_without_touching_the_widget(at):
    at.slider(key=LAMBDA).set_value(1.0).run()
    at.button(key=f"{KEY}:preset:Compare λ = 0 and λ = 3").click().run()
    tick_until_stopped(at)
    R = state(at)
    assert R.names == ["λ = 0", "λ = 3"] and R.state == State.FINISHED
    assert at.slider(key=LAMBDA).value == 1.0  # the page's own setting is left alone
    plain, decayed = (R.history(name)["epochs"][-1]["w_norm"] for name in R.names)
    assert 10 < plain < 16 and decayed < 0.7
    names = series_points(live_charts(at)["Loss"])
    assert names["λ = 0 · test"] == names["λ = 3 · test"] == 100
    at.slider(key=LAMBDA).set_value(2.0).run()  # a page change: back to one run, the preset's kept for overlays
    assert R.names == [""] and [r.label for r in R.runs] == ["Compare λ = 0 and λ = 3"]


def test_no_workers_is_said_on_the_page_and_the_rest_still_draws(monkeypatch):
    def gone():
        raise RunGone("no worker is alive (replacements are starting)")

    monkeypatch.setattr(live, "executor", gone)
    at = open_page("topics/weight_decay.py")
    assert not at.exception, at.exception
    assert any("Training is not available" in e.value and "no worker is alive" in e.value for e in at.error)
    assert at.latex and find_widget(at, "weight_decay", KEY) is not None  # the maths and the controls are there


def test_a_killed_worker_is_said_on_the_page_and_restart_goes_on_from_the_snapshot():
    import os
    import signal

    at = open_page("topics/weight_decay.py", {"num_epochs": "1000"})
    R = state(at)
    press(at, "start", wait=False)
    tick_until(at, lambda at: R.epoch >= 3)
    os.kill(R.probe("core.train.readouts:process_id"), signal.SIGKILL)
    tick_until(at, lambda at: R.state == "lost")
    assert any("worker process training this run stopped" in w.value for w in at.warning)
    assert at.button(key=f"{KEY}:restart").label == "Restart"
    epoch, step = R.lost_epoch, R.lost_snapshot[""]["step"]  # taken at a step boundary at or after an epoch's end
    assert epoch >= 1 and step >= 4 * epoch
    press(at, "restart", wait=False)
    tick_until(at, lambda at: R.state == "idle")
    assert R.epoch == epoch and R.steps == step  # the curves up to the snapshot came back
    press(at, "start", wait=False)
    tick_until(at, lambda at: R.epoch >= epoch + 2)  # and it trains on in a new worker
    R.close()
