"""The health panel's numbers (core.train.health): per-layer statistics equal to
hand computations, a run with them trains bit for bit as one without, and a
diverging run is diagnosed (step, layer, lr) and rewound to a good snapshot."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from core.experiments import weight_decay
from core.models.mlp import dropout_mlp
from core.train import health
from core.train.host import RunHost
from core.train.live_run import State
from core.train.runs import RunSpec
from core.train.trainer import Batches, Snapshot, Supervised, Trainer


def _data(n=24, d=4, classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, classes, (n,), generator=g)


def _two_layers(gen):
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                m.weight.normal_(0, 0.5, generator=gen)
                m.bias.normal_(0, 0.5, generator=gen)
    return net


def _run(net_fn=_two_layers, data=None, callbacks=(), **kw):
    X, y = data if data is not None else _data()
    return Trainer(net_fn, Batches(X, y, batch_size=8), objective=Supervised("cross_entropy"),
                   callbacks=callbacks, **{"lr": 0.5, "num_epochs": 2, "seed": 0, **kw})


def test_recorded_steps_thin_out_by_doubling_the_interval():
    steps = [s for s in range(1, 60) if health.recorded(s, every=5, cap=3)]
    assert steps == [1, 6, 11, 16, 26, 36, 46]  # 3 at 5, 3 at 10, then at 20 ...
    assert [s for s in range(0, 8) if health.recorded(s, every=1, cap=100)] == list(range(1, 8))


def test_per_layer_norms_equal_hand_computations_on_a_two_layer_net():
    seen = {}

    def keep_batch(trainer, record):
        seen.setdefault(record["step"], {})["X"] = trainer.last_forward.batch[0].clone()

    def keep_grads_and_weights(trainer, record):  # after Health's own after_backward: the same gradients
        seen[record["step"]]["grad"] = {n: p.grad.clone() for n, p in trainer.net.named_parameters()}
        seen[record["step"]]["before"] = {n: p.detach().clone() for n, p in trainer.net.named_parameters()}

    def keep_after(trainer, record):
        seen[record["step"]]["after"] = {n: p.detach().clone() for n, p in trainer.net.named_parameters()}

    t = _run(callbacks=[("after_forward", keep_batch), ("after_backward", keep_grads_and_weights),
                        ("step_end", keep_after)])
    health.attach(t, every=2, min_seconds=0)
    t.advance()
    assert len(t.history.steps) == 6
    recs = {r["step"]: r[health.KEY] for r in t.history.steps if health.KEY in r}
    assert sorted(recs) == [1, 3, 5]
    for step, rec in recs.items():
        s = seen[step]
        grads = s["grad"]
        assert rec["grad"] == {"0": {"weight": float(torch.linalg.vector_norm(grads["0.weight"])),
                                     "bias": float(torch.linalg.vector_norm(grads["0.bias"]))},
                               "2": {"weight": float(torch.linalg.vector_norm(grads["2.weight"])),
                                     "bias": float(torch.linalg.vector_norm(grads["2.bias"]))}}
        for layer in ("0", "2"):
            before = torch.cat([s["before"][f"{layer}.weight"].reshape(-1), s["before"][f"{layer}.bias"]])
            after = torch.cat([s["after"][f"{layer}.weight"].reshape(-1), s["after"][f"{layer}.bias"]])
            assert rec["update"][layer] == pytest.approx(float((after - before).norm() / before.norm()), rel=1e-6)
        # the forward of the recorded step, redone by hand with the weights it used
        W1, b1, W2, b2 = (s["before"][k] for k in ("0.weight", "0.bias", "2.weight", "2.bias"))
        h = s["X"] @ W1.T + b1
        out = torch.relu(h) @ W2.T + b2
        assert rec["act"]["0"] == pytest.approx(float(h.pow(2).mean().sqrt()), rel=1e-6)
        assert rec["act"]["2"] == pytest.approx(float(out.pow(2).mean().sqrt()), rel=1e-6)
        assert rec["dead"] == {"0": float((torch.relu(h) == 0).all(dim=0).float().mean())}  # only layer 0 has a ReLU
    assert health.series(t.history.steps, "grad")["0"][1] == [
        pytest.approx(math.hypot(*recs[s]["grad"]["0"].values())) for s in (1, 3, 5)]


def test_dead_fraction_is_exact_on_a_constructed_batch():
    def net_fn(gen):
        net = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 1))
        with torch.no_grad():
            net[0].weight.copy_(torch.tensor([[1.0, 0], [-1, 0], [0, 1], [0, -1], [1, 1]]))
            net[0].bias.copy_(torch.tensor([0.0, 0, 0, 0, -10]))
            net[2].weight.fill_(0.1)
        return net

    X = torch.tensor([[1.0, 1.0], [2.0, -1.0]])  # unit 1 (−x1) and unit 4 (x1 + x2 − 10) are 0 on both
    t = Trainer(net_fn, Batches(X, torch.zeros(2, 1), batch_size=2), lr=0.01, num_epochs=1)
    health.attach(t)  # the first step is always recorded
    t.advance()
    assert t.history.steps[0][health.KEY]["dead"] == {"0": pytest.approx(2 / 5, abs=1e-7)}


def _mlp(gen):
    return dropout_mlp(num_inputs=4, num_outputs=3, num_hiddens1=16, num_hiddens2=8, dropout1=0.3, dropout2=0.5)(gen)


def test_a_run_with_health_trains_bit_for_bit_as_one_without():
    """Dropout masks drawn from the run's generator, pictures (probes) between
    steps while the hooks wait for their step: nothing moves the run."""
    def run(with_health):
        t = _run(_mlp, data=_data(64), num_epochs=3)
        if with_health:
            health.attach(t, every=1, min_seconds=0)
        losses = []
        while not t.done:
            losses += [r["loss"] for r in t.advance(max_steps=1) if "loss" in r and "train_loss" not in r]
            with t.probe(train=True):  # a picture's forward between two steps
                t.net(_data(5)[0])
        return t, losses

    plain, losses = run(False)
    watched, watched_losses = run(True)
    assert watched_losses == losses and len(losses) == 24
    assert all(torch.equal(a, b) for a, b in zip(plain.net.state_dict().values(), watched.net.state_dict().values()))
    recs = [r[health.KEY] for r in watched.history.steps]
    assert len(recs) == 24 and all(set(r) == set(health.STATS) for r in recs)
    assert set(recs[0]["act"]) == {"hidden1", "hidden2", "output"} and set(recs[0]["dead"]) == {"hidden1", "hidden2"}


def test_a_diverging_run_names_the_step_the_layer_and_the_lr():
    cfg = weight_decay.Config(lr=10.0)
    t = weight_decay.build(cfg, seed=0)
    h = health.attach(t, min_seconds=0)
    t.advance()
    assert t.diverged and not math.isfinite(t.history.steps[-1]["loss"])
    found = t.history.steps[-1][health.DIVERGENCE]
    assert health.divergence(t.history.steps) == found
    assert found["step"] == t.step == len(t.history.steps)
    assert all(math.isfinite(r["loss"]) for r in t.history.steps[:-1])
    assert found["lr"] == 10.0 and found["layer"] == "net"
    # the weights that step used were finite, and so were the outputs: the squared error overflowed
    assert found["kind"] == "loss" and found["loss"] == "inf" and 1e19 < found["max_abs"] < 3.5e38
    # the last good snapshot is the last recorded step before the blow-up: its loss within 10x of the lowest
    losses = [r["loss"] for r in t.history.steps]
    good = [r["step"] for r in t.history.steps if health.KEY in r
            and r["loss"] <= health.GOOD_LOSS_FACTOR * min(losses[:r["step"]])]
    assert h.good is not None and h.good.step == good[-1] < t.step


def test_the_first_non_finite_output_parameter_or_gradient_is_named():
    def net_fn(gen):
        net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2), nn.Linear(2, 1))
        with torch.no_grad():
            for m in net:
                if isinstance(m, nn.Linear):
                    m.weight.fill_(1.0)
                    m.bias.zero_()
        return net

    X = torch.ones(4, 2)
    t = Trainer(net_fn, Batches(X, torch.zeros(4, 1), batch_size=4, shuffle=False), lr=0.0, num_epochs=5)
    health.attach(t)
    t.advance(max_steps=1)
    with torch.no_grad():
        t.net[2].weight.fill_(1e38)  # layer 2's output overflows: 2 · 2e38
    t.advance(max_steps=1)
    assert t.history.steps[-1][health.DIVERGENCE] | {"max_abs": None} == {
        "step": 2, "lr": 0.0, "layer": "2", "kind": "output", "tensor": "", "max_abs": None, "loss": "inf"}

    def parameter_run(with_grad: bool):
        t = Trainer(net_fn, Batches(X, torch.zeros(4, 1), batch_size=4, shuffle=False), lr=0.1, num_epochs=5)
        health.attach(t)
        t.advance(max_steps=1)
        with torch.no_grad():
            t.net[2].bias[0] = math.nan
            if with_grad:
                t.net[2].bias.grad[0] = math.inf  # the gradient that made the weights (the step before)
        t.advance(max_steps=1)
        return t.history.steps[-1][health.DIVERGENCE]

    assert parameter_run(False) | {} == {"step": 2, "lr": 0.1, "layer": "2", "kind": "parameter", "tensor": "bias",
                                         "max_abs": None, "loss": "nan"}
    assert parameter_run(True)["kind"] == "gradient"


def test_rewind_puts_a_diverged_run_back_to_its_last_good_snapshot():
    host = RunHost(RunSpec("weight_decay", weight_decay.Config(lr=10.0), seed=0))
    t = host.live.trainers[""]
    host.collect()
    host.command("start", seq=1, place=0)
    while host.live.state == State.RUNNING:
        host.turn(0.5)
    assert host.live.state == State.DIVERGED
    diverged_at = t.step
    host.collect()
    snaps = host.probe("core.train.health:last_good", {})
    good = Snapshot.from_dict(snaps[""])
    assert 0 < good.step < diverged_at and not good.diverged
    host.restore(snaps)
    assert host.live.state == State.IDLE and t.step == good.step and not t.diverged
    assert len(t.history.steps) == good.step and health.divergence(t.history.steps) is None
    assert all(bool(torch.isfinite(p).all()) for p in t.net.parameters())
    update = host.collect()
    assert update.rewind and len(update.steps[""]) == good.step
    # lower lr and go on: the run trains on with finite losses from the rewound step
    t.set_hparams(lr=0.003)
    t.advance(max_steps=8)
    assert t.step == good.step + 8 and all(math.isfinite(r["loss"]) for r in t.history.steps)
