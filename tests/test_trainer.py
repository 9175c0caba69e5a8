"""The training engine: determinism, resumability, resets and live hyperparameters."""
import math

import pytest
import torch
from torch import nn

from core.train.trainer import Batches, Supervised, Trainer, squared_loss


def _regression(n=64, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    w = torch.arange(1.0, d + 1)
    y = X @ w + 0.5 + 0.01 * torch.randn(n, generator=g)
    return X, y.reshape(-1, 1)


class NoisyNet(nn.Module):
    """A net that draws from its `generator`, like the playground's dropout."""

    def __init__(self, g):
        super().__init__()
        self.lin = nn.Linear(5, 1)
        with torch.no_grad():
            self.lin.weight.normal_(0, 1, generator=g)
            self.lin.bias.zero_()
        self.generator = None

    def forward(self, X):
        if self.training:
            mask = (torch.rand(X.shape, generator=self.generator) > 0.2).float() / 0.8
            X = X * mask
        return self.lin(X)


def make_trainer(seed=0, num_epochs=4, lr=0.05, net_fn=NoisyNet, **kw):
    X, y = _regression()
    Xt, yt = _regression(seed=1)
    return Trainer(net_fn, Batches(X, y, batch_size=8), test=Batches(Xt, yt, batch_size=16, shuffle=False),
                   lr=lr, num_epochs=num_epochs, seed=seed, **kw)


def losses(trainer):
    return [r["loss"] for r in trainer.history.steps]


def test_same_seed_gives_bit_identical_trajectory():
    a, b = make_trainer(seed=3), make_trainer(seed=3)
    a.advance()
    b.advance()
    assert losses(a) == losses(b)
    assert len(losses(a)) == 4 * 8
    c = make_trainer(seed=4)
    c.advance()
    assert losses(c) != losses(a)


def test_chunks_equal_one_go():
    one, chunked = make_trainer(), make_trainer()
    one.advance()
    sizes = [1, 3, 5, 2, 7, 100]
    for s in sizes:
        chunked.advance(max_steps=s)
    assert chunked.done
    assert losses(one) == losses(chunked)
    assert [r["test_loss"] for r in one.history.epochs] == [r["test_loss"] for r in chunked.history.epochs]


def test_time_budget_stops_and_resumes():
    t = make_trainer(num_epochs=50)
    new = t.advance(max_seconds=0.0)  # at least one step
    assert len([r for r in new if "loss" in r]) == 1
    t.advance(max_seconds=0.05)
    assert not t.done or t.step == 50 * 8
    while not t.done:
        t.advance(max_seconds=0.05)
    assert t.step == 400 and t.epoch == 50 and t.progress == 1.0


def test_reset_replays_exactly():
    t = make_trainer()
    first_weights = [p.detach().clone() for p in t.net.parameters()]
    t.advance()
    run1 = losses(t)
    t.reset()
    assert all(torch.equal(a, b) for a, b in zip(first_weights, t.net.parameters()))
    assert t.step == 0 and t.history.steps == []
    t.advance()
    assert losses(t) == run1


def test_mid_run_lr_change_is_applied_next_step():
    t = make_trainer()
    t.advance(max_steps=5)
    t.set_hparams(lr=0.0)
    before = [p.detach().clone() for p in t.net.parameters()]
    t.advance(max_steps=3)
    assert all(torch.equal(a, b) for a, b in zip(before, t.net.parameters()))
    assert t.history.hparams == [{"step": 5, "name": "lr", "value": 0.0}]
    t.set_hparams(lr=0.05)
    t.advance(max_steps=1)
    assert not all(torch.equal(a, b) for a, b in zip(before, t.net.parameters()))


def test_weight_decay_change_only_touches_decay_groups():
    def groups(net):
        return [{"params": [net.lin.weight]}, {"params": [net.lin.bias], "decay": False}]

    t = make_trainer(param_groups=groups)
    t.set_hparams(weight_decay=3.0)
    assert [g["weight_decay"] for g in t.optimizer.param_groups] == [3.0, 0.0]
    with pytest.raises(ValueError):
        t.set_hparams(momentum=0.9)


def test_loss_falls_and_epoch_records_are_complete():
    t = make_trainer(num_epochs=10, extras={"w_norm": lambda net: net.lin.weight.norm().item()})
    t.advance()
    ep = t.history.epochs
    assert len(ep) == 10
    assert ep[-1]["train_loss"] < ep[0]["train_loss"] / 5
    assert ep[-1]["test_loss"] < ep[0]["test_loss"] / 5
    for r in ep:
        assert r["examples_per_sec"] > 0 and r["elapsed"] > 0 and r["w_norm"] > 0
    assert [r["elapsed"] for r in ep] == sorted(r["elapsed"] for r in ep)
    xs, ys = t.history.series("test_loss")
    assert xs == list(range(1, 11)) and len(ys) == 10


def test_advance_epoch_and_progress():
    t = make_trainer(num_epochs=3)
    t.advance(max_steps=3)
    assert 0 < t.progress < 1 / 3
    t.advance_epoch()
    assert t.epoch == 1 and t.step == 8
    t.advance_epoch()
    assert t.epoch == 2 and t.step == 16


def test_accuracy_metric_on_classification():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 2, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long()

    def net_fn(gen):
        net = nn.Linear(2, 2)
        with torch.no_grad():
            net.weight.normal_(0, 0.01, generator=gen)
        return net

    t = Trainer(net_fn, Batches(X, y, batch_size=20), test=Batches(X, y, batch_size=50, shuffle=False),
                objective=Supervised("cross_entropy", accuracy=True), lr=0.5, num_epochs=5)
    t.advance()
    last = t.history.epochs[-1]
    assert 0.9 < last["train_metric"] <= 1.0 and 0.9 < last["test_metric"] <= 1.0


def test_squared_loss_is_the_books():
    y_hat = torch.tensor([[1.0], [3.0]])
    y = torch.tensor([2.0, 3.0])
    assert torch.equal(squared_loss(y_hat, y), torch.tensor([[0.5], [0.0]]))


def test_bad_arguments_are_refused():
    X, y = _regression()
    with pytest.raises(ValueError):
        Batches(X, y[:3], batch_size=4)
    with pytest.raises(ValueError):
        Batches(X, y, batch_size=0)
    with pytest.raises(ValueError):
        Trainer(NoisyNet, Batches(X, y, batch_size=8), optimizer="rmsprop")
    assert math.isclose(make_trainer(num_epochs=0).progress, 1.0)


def test_divergence_stops_the_run():
    t = make_trainer(lr=50.0, num_epochs=20)
    t.advance()
    assert t.diverged and t.done and t.epoch < 20
    assert not math.isfinite(t.history.steps[-1]["loss"])
    t.reset()
    assert not t.diverged
