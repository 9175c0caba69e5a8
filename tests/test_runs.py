"""The parts of the executors that need no worker: specs and names, the page
side's record log and its cursor, the run host a worker drives, and that
ray stays unimported unless PLAYGROUND_RAY_ADDRESS asks for it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from executor_support import bare, dropout_spec, losses, wd_spec

from core.experiments import weight_decay
from core.train.host import RunHost
from core.train.runs import (
    DataRef,
    RunLog,
    RunSpec,
    Update,
    check_ref,
    experiment_module,
    experiment_names,
    resolve,
)

ROOT = Path(__file__).resolve().parents[1]


# -------------------------------------------------------------------- naming
def test_the_experiments_are_the_modules_with_a_build():
    names = experiment_names()
    assert {"weight_decay", "dropout", "batch_norm", "gru_lstm", "seq2seq"} <= set(names)
    spec = RunSpec("weight_decay", weight_decay.BOOK)
    assert (spec.device, spec.num_cpus, spec.gpus) == ("cpu", 1.0, 0.0)
    assert RunSpec("weight_decay", weight_decay.BOOK, device="cuda").gpus == 1.0


@pytest.mark.parametrize("name", ["os", "../weight_decay", "core.experiments.weight_decay", "Weight_decay", "",
                                  "weight_decay.os", "nonexistent"])
def test_a_spec_names_only_an_experiment_module(name):
    with pytest.raises(ValueError, match="unknown experiment"):
        RunSpec(name, weight_decay.BOOK)


def test_a_module_without_build_is_no_experiment():
    with pytest.raises(ValueError, match="unknown experiment"):
        experiment_module("schema")  # schema.py and classifier.py build nothing
    with pytest.raises(ValueError, match="unknown experiment"):
        RunSpec("classifier", weight_decay.BOOK)


@pytest.mark.parametrize("ref", ["os:system", "core.train.readouts", "core.train.readouts:_private",
                                 "core.train.readouts:outputs.__globals__", "corex.a:b", "core..a:b",
                                 "core.train.readouts:os", "core.train.trainer:Trainer",
                                 "core.train.readouts:nothing_here", "builtins:eval"])
def test_probes_and_loaders_are_functions_of_core_modules(ref):
    with pytest.raises((ValueError, ModuleNotFoundError)):
        resolve(ref)


def test_a_well_formed_reference_resolves():
    from core.train import readouts

    assert check_ref("core.train.readouts:outputs") == ("core.train.readouts", "outputs")
    assert resolve("core.train.readouts:outputs") is readouts.outputs


def test_a_data_ref_loads_once_per_process():
    ref = DataRef("core.data.fashion_mnist:stand_in_fashion_mnist", (("n_train", 20), ("n_test", 10)))
    assert ref.load() is ref.load() and ref.load().X_train.shape == (20, 1, 28, 28)
    assert DataRef("core.data.fashion_mnist:stand_in_fashion_mnist", {"n_test": 10, "n_train": 20}) == ref
    with pytest.raises(ValueError):
        DataRef("pickle:loads")


# ------------------------------------------------------------------- the log
def test_the_cursor_gives_each_record_once_and_a_rewind_everything():
    log = RunLog()
    assert log.poll(0).state == "building"
    log.ingest(Update(steps={"": [{"loss": 1.0}, {"loss": 0.5}]}, status={"state": "running", "epoch": 0}))
    p = log.poll(0)
    assert (p.rewound, p.losses(), p.state) == (False, [1.0, 0.5], "running")
    log.ingest(Update(steps={"": [{"loss": 0.25}]}, epochs={"": [{"epoch": 1}]}))
    q = log.poll(p.cursor)
    assert (q.losses(), q.epochs, q.cursor) == ([0.25], {"": [{"epoch": 1}]}, p.cursor + 2)
    assert log.poll(q.cursor).steps == {}
    log.ingest(Update(rewind=True, steps={"": [{"loss": 9.0}]}, status={"state": "idle"}))
    r = log.poll(q.cursor)
    assert (r.rewound, r.losses(), r.state) == (True, [9.0], "idle")
    assert log.poll(0).rewound and log.poll(10**6).rewound  # a cursor from elsewhere: everything again
    assert log.poll(r.cursor).steps == {} and not log.poll(r.cursor).rewound


def test_the_last_snapshot_comes_with_the_records_up_to_it():
    log = RunLog()
    steps = [{"step": i, "loss": float(i)} for i in range(1, 6)]
    log.ingest(Update(steps={"": steps[:3]}, snapshot={"": {"step": 3, "history_lengths": (3, 0, 0)}}))
    log.ingest(Update(steps={"": steps[3:]}))
    snap = log.last_snapshot()
    assert snap[""]["history"] == {"steps": steps[:3], "epochs": [], "hparams": []} and snap[""]["step"] == 3


# ------------------------------------------------------------------ the host
def drive(host: RunHost, budget: float = 0.01, max_turns: int = 10_000) -> None:
    for _ in range(max_turns):
        if not host.trainable:
            return
        host.turn(budget)
    raise AssertionError("still training")


def test_the_host_trains_only_with_a_slot_and_says_so():
    host = RunHost(wd_spec(5))
    host.command("start", 1, place=2)
    assert host.status()["state"] == "queued" and host.status()["place"] == 2 and not host.trainable
    host.command("place", 2, place=0)
    assert host.trainable
    drive(host)
    u = host.collect()
    assert u.status["state"] == "finished" and host.take_released() and not host.take_released()
    assert [r["loss"] for r in u.steps[""]] == losses(bare(wd_spec(5)))
    assert u.snapshot is not None and u.snapshot[""]["epoch"] == 5
    assert host.collect().snapshot is None  # nothing new since


def test_a_stale_place_is_ignored():
    host = RunHost(wd_spec(5))
    host.command("start", 3, place=0)
    host.command("place", 2, place=1)  # decided before the start's place: overtaken
    assert host.trainable


def test_reset_and_restore_rewind_the_records():
    host = RunHost(wd_spec(5))
    host.command("step", 1, place=0)
    drive(host)
    first = host.collect()
    assert not first.rewind and len(first.steps[""]) == 4
    snap = host.command("snapshot")
    host.command("reset")
    u = host.collect()
    assert u.rewind and u.steps == {} and u.status["epoch"] == 0
    host.command("restore", snapshot=snap)
    u = host.collect()
    assert u.rewind and u.steps[""] == first.steps[""] and u.status["state"] == "idle"


def test_the_host_pauses_for_the_lease_with_live_runs_code():
    host = RunHost(wd_spec(100))
    host.command("start", 1, place=0)
    host.turn(0.0)
    host.command("pause", 2, note="slot_lost")
    assert (host.status()["state"], host.status()["note"]) == ("idle", "slot_lost")
    host.command("pause", 3, note="slot_lost")  # not running: nothing to say
    host.command("start", 4, place=0)
    assert host.status()["note"] == ""


def test_an_exported_run_goes_on_bit_for_bit_in_another_host():
    spec = wd_spec(3)
    old = RunHost(spec)
    old.command("set_live", 1, values={"lr": 0.01})
    old.command("start", 2, place=0)
    old.turn(0.0)  # a few steps: mid-epoch
    sent = old.collect()
    exported = old.command("export", 3)
    new = RunHost.adopt(spec, exported)
    u = new.collect()
    assert (u.steps, u.rewind, u.snapshot, u.status["state"]) == ({}, False, None, "running")  # nothing twice
    new.command("place", 4, place=0)
    drive(new)
    rest = new.collect().steps[""]
    ref = bare(spec, num_epochs=0)
    ref.set_hparams(lr=0.01)
    ref.num_epochs = 3
    ref.advance()
    assert [r["loss"] for r in sent.steps[""] + rest] == losses(ref)
    new.command("reset")  # the page's live lr survives the move
    assert new.live.trainers[""].hparams["lr"] == 0.01


def test_a_spec_that_cannot_be_built_gives_a_failed_run():
    spec = RunSpec("dropout", dropout_spec().cfg)  # no data
    host = RunHost(spec)
    status = host.collect().status
    assert status["state"] == "failed" and "AttributeError" in status["error"]
    host.command("start", 1, place=0)
    assert not host.trainable


def test_a_careless_probe_would_change_the_run():
    """What test_executor_contract's probe test guards against: a forward in
    training mode outside Trainer.probe draws dropout masks from the run's
    noise generator, and the run's losses change."""
    spec = dropout_spec(3)
    t = bare(spec, num_epochs=0)
    X = t.train.tensors[0][:8]
    for _ in range(3):
        t.num_epochs += 1
        t.advance()
        t.net.train()
        t.net(X)  # careless
    assert losses(t) != losses(bare(spec))


def test_probe_through_the_host_calls_the_named_function():
    host = RunHost(wd_spec(5))
    assert host.command("probe", fn="core.train.readouts:process_id", kwargs={}) == os.getpid()
    with pytest.raises(ValueError):
        host.command("probe", fn="os:getpid", kwargs={})


# --------------------------------------------------------------- no ray here
BLOCKED = """
import sys
attempts = []


class Spy:  # sees every attempt to import ray, even one inside a try
    def find_spec(self, name, path=None, target=None):
        if name == "ray" or name.startswith("ray."):
            attempts.append(name)
        return None


sys.meta_path.insert(0, Spy())
import importlib, pkgutil, core.train
for m in pkgutil.iter_modules(core.train.__path__):
    importlib.import_module("core.train." + m.name)
from core.train.runs import make_executor
ex = make_executor(num_workers=1)
print(type(ex).__name__)
ex.close()
assert attempts == [] and "ray" not in sys.modules, attempts
"""


def test_without_a_ray_address_ray_is_never_imported():
    env = {k: v for k, v in os.environ.items() if k != "PLAYGROUND_RAY_ADDRESS"}
    result = subprocess.run([sys.executable, "-c", BLOCKED], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["LocalExecutor"]


def test_a_ray_address_without_ray_says_what_to_install():
    code = "import sys; sys.modules['ray'] = None\nfrom core.train.runs import make_executor\nmake_executor()"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "PLAYGROUND_RAY_ADDRESS": "auto"},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "ImportError: RayExecutor needs ray: pip install -r requirements-ray.txt")


def test_on_device_moves_every_tensor_and_leaves_the_rest_alone():
    from dataclasses import dataclass

    import torch

    from core.train.runs import on_device

    @dataclass
    class Data:
        X: torch.Tensor
        labels: list

    corpus = [3, 1, 4, 1, 5]
    data = (Data(torch.ones(2, 3), ["a", "b"]), corpus, {"y": torch.zeros(2)})
    assert on_device(data, "cpu") is data  # nothing to move: the same object
    moved = on_device(data, "meta")
    assert moved[0].X.device.type == "meta" and moved[0].X.shape == (2, 3) and moved[2]["y"].device.type == "meta"
    assert moved[1] is corpus and moved[0].labels is data[0].labels  # token ids are not walked
    assert data[0].X.device.type == "cpu"  # the original is untouched
