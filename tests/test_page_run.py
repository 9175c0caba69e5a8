"""PageRun: a run as the page holds it, on a real LocalExecutor (the run trains
in a worker process; the page keeps the records and the overlays)."""
from __future__ import annotations

import gc
import os
import signal
import time

import pytest
from executor_support import LONG, bare, losses, wd_spec

from core.train.local_executor import LocalExecutor
from core.train.page_run import PageRun


@pytest.fixture(scope="module")
def ex():
    with LocalExecutor(2) as ex:
        yield ex


def wait(R: PageRun, pred, timeout: float = 60.0) -> PageRun:
    deadline = time.monotonic() + timeout
    while True:
        R.refresh()
        if pred(R):
            return R
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout} s: state {R.state}, epoch {R.epoch}")
        time.sleep(0.02)


def page_losses(R: PageRun, name: str = "") -> list[float]:
    return [r["loss"] for r in R.history(name)["steps"]]


def test_a_run_trains_in_the_worker_as_the_bare_trainer_does(ex):
    R = PageRun(ex, group="a")
    R.load(wd_spec(10), label="λ=0")
    wait(R, lambda R: not R.building)
    assert R.names == [""] and R.state == "idle" and not R.started
    R.start()
    wait(R, lambda R: R.state == "finished")
    assert page_losses(R) == losses(bare(wd_spec(10)))
    assert (R.epoch, R.num_epochs, R.progress) == (10, 10, 1.0)
    R.close()


def test_a_new_run_after_the_end_keeps_the_old_curves_and_a_reset_drops_them(ex):
    R = PageRun(ex, group="b")
    R.load(wd_spec(5), label="first")
    R.start()
    wait(R, lambda R: R.state == "finished")
    first = page_losses(R)
    R.start()  # after the end: a new run from the same initial weights; the finished one is archived
    wait(R, lambda R: R.state == "finished")
    assert [r.label for r in R.runs] == ["first"] and not R.runs[0].stopped
    assert [r["loss"] for r in R.runs[0].steps[""]] == first == page_losses(R)
    R.reset()
    assert R.steps == 0 and R.state == "idle" and len(R.runs) == 1  # an unfinished run is not kept
    R.load(wd_spec(5, weight_decay=3.0), label="λ=3")  # new settings: the old run stays as an overlay
    assert [r.label for r in R.runs] == ["first"]  # the reset run had no epoch: nothing to keep
    R.close()


def test_live_settings_are_sent_once_each(ex):
    R = PageRun(ex, group="c")
    R.load(wd_spec(LONG))
    R.step()
    wait(R, lambda R: R.state == "idle" and R.epoch == 1)
    for _ in range(3):  # the page pushes its live settings at every rerun
        R.set_live({"weight_decay": 2.0, "num_epochs": LONG})
    R.refresh()
    assert R.history()["hparams"] == [{"step": 4, "name": "weight_decay", "value": 2.0}]
    assert R.changed_mid_run
    R.close()


def test_a_lost_run_restarts_from_its_last_snapshot(ex):
    spec = wd_spec(LONG)
    R = PageRun(ex, group="d")
    R.load(spec)
    R.start()
    wait(R, lambda R: R.epoch >= 4)
    os.kill(R.probe("core.train.readouts:process_id"), signal.SIGKILL)
    wait(R, lambda R: R.state == "lost")
    assert R.lost_snapshot is not None and 1 <= R.lost_epoch <= R.epoch
    before = page_losses(R)
    assert R.restart()
    wait(R, lambda R: R.state == "idle")
    assert R.epoch >= 1 and R.steps > 0
    assert page_losses(R) == before[:R.steps]  # the curves up to the snapshot came back with it
    R.set_live({"num_epochs": R.epoch + 2})
    R.start()
    wait(R, lambda R: R.state == "finished")
    assert page_losses(R) == losses(bare(spec, num_epochs=R.epoch))  # and it trained on bit for bit
    R.close()


def test_a_dropped_page_closes_its_run(ex):
    R = PageRun(ex, group="e")
    R.load(wd_spec(5))
    wait(R, lambda R: not R.building)
    opened = ex.stats()["runs"]
    del R
    gc.collect()
    assert ex.stats()["runs"] == opened - 1
