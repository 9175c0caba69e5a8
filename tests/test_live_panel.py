"""The shared live-training panel, driven through the weight-decay page."""
from __future__ import annotations

import pytest
from apptest_support import live_charts, open_page, series_points, tick_until_stopped

from core.train.live_run import State
from core.train.slots import SlotPool
from playground import live
from playground.state import slot_pool

KEY = "weight_decay"
LAMBDA = "weight_decay.weight_decay"  # the page's widget key of the setting weight_decay


@pytest.fixture
def at():
    at = open_page("topics/weight_decay.py")
    yield at
    slot_pool().release(at.session_state["_sid"])


def state(at):
    return at.session_state[f"live:{KEY}"]


def press(at, name, wait=True):
    """Click a panel button; with `wait`, tick until the panel stops running."""
    at.button(key=f"{KEY}:{name}").click().run()
    assert not at.exception, at.exception
    if wait:
        tick_until_stopped(at)


def test_step_trains_exactly_one_epoch(at):
    press(at, "step")
    t = state(at).trainers[""]
    assert t.epoch == 1 and t.step == 4 and state(at).state == State.IDLE


def test_reset_replays_the_same_curve(at):
    press(at, "start")
    t = state(at).trainers[""]
    first = [r["loss"] for r in t.history.steps]
    assert len(first) == 400 and state(at).state == State.FINISHED
    press(at, "reset")
    assert t.step == 0 and state(at).state == State.IDLE
    press(at, "start")
    assert [r["loss"] for r in t.history.steps] == first


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
    t = state(at).trainers[""]
    w = t.net.weight.detach().clone()
    press(at, "more")  # +20 epochs of the same model, not a new run
    assert t.epoch == 120 and t.step == 480 and state(at).runs == []
    assert not bool((t.net.weight == w).all())


def test_lambda_change_mid_run_reaches_the_optimizer(at):
    press(at, "step")
    t = state(at).trainers[""]
    assert t.epoch == 1
    at.slider(key=LAMBDA).set_value(5.0).run()
    assert t.hparams["weight_decay"] == 5.0
    assert [g["weight_decay"] for g in t.optimizer.param_groups] == [5.0, 0.0]
    assert t.history.hparams == [{"step": 4, "name": "weight_decay", "value": 5.0}]
    assert at.query_params["weight_decay"] == "5"  # the URL has the new value
    press(at, "start")
    press(at, "start")  # the finished run was changed mid-run: it says so
    assert state(at).runs[-1].changed_mid_run
    assert state(at).trainers[""].hparams["weight_decay"] == 5.0  # the new run starts with the page's λ


def test_a_session_beyond_the_slots_waits_its_turn(at, monkeypatch):
    pool = SlotPool(1)  # a server with one slot, held by another session
    monkeypatch.setattr(live, "slot_pool", lambda: pool)
    assert pool.poll("other") == 0
    press(at, "start", wait=False)
    R = state(at)
    at.run()
    assert R.state == State.QUEUED and R.place == 1 and R.trainers[""].step == 0
    assert any("Queued: place 1" in m.value for m in at.info)
    pool.release("other")
    tick_until_stopped(at)
    assert R.trainers[""].done and R.state == State.FINISHED
    assert pool.snapshot()["running"] == 0  # given back when the run finished


def test_divergence_is_explained_on_the_page(at):
    R = state(at)
    t = R.trainers[""]
    t.set_hparams(lr=10.0)
    press(at, "start")
    assert t.diverged and R.state == State.DIVERGED
    assert any("NaN" in w.value for w in at.warning)


def test_compare_preset_trains_both_side_by_side_without_touching_the_widget(at):
    at.slider(key=LAMBDA).set_value(1.0).run()
    at.button(key=f"{KEY}:preset:Compare λ = 0 and λ = 3").click().run()
    tick_until_stopped(at)
    R = state(at)
    assert list(R.trainers) == ["λ = 0", "λ = 3"] and R.state == State.FINISHED
    assert at.slider(key=LAMBDA).value == 1.0  # the page's own setting is left alone
    plain, decayed = (t.history.epochs[-1]["w_norm"] for t in R.trainers.values())
    assert 10 < plain < 16 and decayed < 0.7
    names = series_points(live_charts(at)["Loss"])
    assert names["λ = 0 · test"] == names["λ = 3 · test"] == 100
    at.slider(key=LAMBDA).set_value(2.0).run()  # a page change: back to one run, the preset's kept for overlays
    assert list(R.trainers) == [""] and [r.label for r in R.runs] == ["Compare λ = 0 and λ = 3"]
