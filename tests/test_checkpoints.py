"""Saved models: a finished run is kept once per settings, read back with
weights_only, and a later session starts from it with the same model and curves."""
from __future__ import annotations

import os

import pytest
import torch
from apptest_support import open_page, tick_until_stopped

from core.experiments import weight_decay as wd
from core.train import checkpoints


def test_save_load_restore_gives_the_same_model_and_history(tmp_path):
    t = wd.make_trainer(3.0, seed=1, num_epochs=20)
    t.advance()
    path = checkpoints.path_for("weight_decay", {"cfg": {"weight_decay": 3.0}, "seed": 1}, tmp_path)
    checkpoints.save(path, {"": t})
    raw = torch.load(path, weights_only=True)  # plain values only
    assert raw["format"] == checkpoints.FORMAT
    fresh = wd.make_trainer(3.0, seed=1, num_epochs=20)
    checkpoints.restore({"": fresh}, checkpoints.load(path))
    assert fresh.epoch == 20 and fresh.done
    assert torch.equal(fresh.net.weight, t.net.weight)
    assert fresh.history.epochs == t.history.epochs and fresh.history.steps == t.history.steps
    fresh.num_epochs = t.num_epochs = 25  # and it trains on exactly like the original would
    t.advance()
    fresh.advance()
    assert [r["loss"] for r in fresh.history.steps] == [r["loss"] for r in t.history.steps]


def test_the_name_follows_everything_the_run_was_built_from(tmp_path):
    a = checkpoints.path_for("dropout", {"cfg": {"dropout1": 0.2}, "context": {"seed": 0}}, tmp_path)
    assert a == checkpoints.path_for("dropout", {"context": {"seed": 0}, "cfg": {"dropout1": 0.2}}, tmp_path)
    assert a != checkpoints.path_for("dropout", {"cfg": {"dropout1": 0.2}, "context": {"seed": 1}}, tmp_path)
    assert checkpoints.path_for("../../etc", {}, tmp_path).parent == tmp_path  # no way out of the folder


def test_a_damaged_or_foreign_file_is_refused(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(checkpoints.CheckpointError):
        checkpoints.load(bad)
    torch.save({"format": 99}, bad)
    with pytest.raises(checkpoints.CheckpointError):
        checkpoints.load(bad)
    t = wd.make_trainer(0.0, num_epochs=1)
    checkpoints.save(bad, {"a": t})
    with pytest.raises(checkpoints.CheckpointError):
        checkpoints.restore({"b": t}, checkpoints.load(bad))


def test_a_finished_page_run_is_offered_to_the_next_session(models_dir):
    at = open_page("topics/weight_decay.py", {"num_epochs": "20"})
    assert not [b for b in at.button if b.key == "weight_decay:saved"]
    at.button(key="weight_decay:start").click().run()
    tick_until_stopped(at)
    first = at.session_state["live:weight_decay"]
    assert first.epoch == 20 and len(list(models_dir.glob("weight_decay-*.pt"))) == 1

    other = open_page("topics/weight_decay.py", {"num_epochs": "20"})  # another student, same settings
    other.button(key="weight_decay:saved").click().run()
    assert not other.exception, other.exception
    R = other.session_state["live:weight_decay"]
    assert R.state == "finished" and R.history()["epochs"] == first.history()["epochs"]
    assert R.probe("core.train.readouts:process_id") != os.getpid()  # loaded into a worker, not here
    ours, theirs = R.snapshot()[""]["net"], first.snapshot()[""]["net"]
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)

    elsewhere = open_page("topics/weight_decay.py", {"num_epochs": "30"})  # other settings: nothing offered
    assert not [b for b in elsewhere.button if b.key == "weight_decay:saved"]


def test_a_damaged_saved_model_says_so_and_the_page_still_trains(models_dir):
    at = open_page("topics/weight_decay.py", {"num_epochs": "10"})
    at.button(key="weight_decay:start").click().run()
    tick_until_stopped(at)
    (path,) = models_dir.glob("weight_decay-*.pt")
    path.write_bytes(b"\x00" * 100)
    other = open_page("topics/weight_decay.py", {"num_epochs": "10"})
    other.button(key="weight_decay:saved").click().run()
    assert not other.exception, other.exception
    assert any("could not be used" in w.value for w in other.warning)
    assert other.session_state["live:weight_decay"].steps == 0
