"""The shared live-training panel, driven through the weight-decay page."""
from __future__ import annotations

import pytest
from apptest_support import open_page, tick_until_stopped

from core.train.slots import SlotPool
from playground import live
from playground.state import slot_pool

KEY = "weight_decay"


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
    assert t.epoch == 1 and t.step == 4 and not state(at).running


def test_reset_replays_the_same_curve(at):
    press(at, "start")
    t = state(at).trainers[""]
    first = [r["loss"] for r in t.history.steps]
    assert len(first) == 400
    press(at, "reset")
    assert t.step == 0 and not state(at).running
    press(at, "start")
    assert [r["loss"] for r in t.history.steps] == first


def test_a_finished_run_is_overlaid_and_clear_forgets_it(at):
    press(at, "start")
    assert state(at).runs == []  # the current run is drawn as current, not twice
    press(at, "start")  # a new run: the finished one is kept for comparison
    assert [r["label"] for r in state(at).runs] == ["λ=0"]
    press(at, "clear")
    assert state(at).runs == []


def test_lambda_change_mid_run_reaches_the_optimizer(at):
    press(at, "step")
    t = state(at).trainers[""]
    assert t.epoch == 1
    at.slider(key="lambd").set_value(5.0).run()
    assert t.hparams["weight_decay"] == 5.0
    assert [g["weight_decay"] for g in t.optimizer.param_groups] == [5.0, 0.0]
    assert t.history.hparams == [{"step": 4, "name": "weight_decay", "value": 5.0}]
    press(at, "start")
    assert "changed mid-run" not in str(state(at).runs)
    press(at, "start")  # the finished run was changed mid-run: its label says so
    assert "changed mid-run" in state(at).runs[-1]["label"]


def test_a_session_beyond_the_slots_waits_its_turn(at, monkeypatch):
    pool = SlotPool(1)  # a server with one slot, held by another session
    monkeypatch.setattr(live, "slot_pool", lambda: pool)
    assert pool.poll("other") == 0
    press(at, "start", wait=False)
    S = state(at)
    at.run()
    assert S.running and S.trainers[""].step == 0
    assert "Queued" in S.message
    assert any("Queued" in m.value for m in at.info)
    pool.release("other")
    tick_until_stopped(at)
    assert S.trainers[""].done and not S.message
    assert pool.snapshot()["running"] == 0  # given back when the run finished


def test_divergence_is_explained_on_the_page(at, monkeypatch):
    S = state(at)
    t = S.trainers[""]
    t.set_hparams(lr=10.0)
    press(at, "start")
    assert t.diverged and not S.running
    assert any("NaN" in w.value for w in at.warning)


def test_compare_preset_trains_both_and_overlays_the_first(at):
    at.button(key=f"{KEY}:preset:Compare λ = 0 and λ = 3").click().run()
    tick_until_stopped(at)
    S = state(at)
    assert [r["label"] for r in S.runs] == ["λ=0"]
    assert S.run_label == "λ=3" and S.trainers[""].done and not S.queue
    assert at.slider(key="lambd").value == 3.0
    assert 10 < S.runs[0]["epochs"][""][-1]["w_norm"] < 16
    assert S.trainers[""].history.epochs[-1]["w_norm"] < 0.7
