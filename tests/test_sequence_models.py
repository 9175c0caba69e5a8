"""Sequence models (book section 9.1): the book's data, features, MLP, training
and the three kinds of prediction, checked against the book's code and
definitions."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from core.experiments import sequence_models as sm

SMALL = dataclasses.replace(sm.BOOK, num_epochs=2)  # for the reproducibility test


@pytest.fixture(scope="module")
def trained():  # the book's 5 epochs (under a second)
    t = sm.build(seed=0)
    t.advance()
    return t


def test_the_books_data_and_features():
    x = sm.make_data(3)
    assert x.shape == (1000,)
    g = torch.Generator().manual_seed(1003)  # the book's line, with the run's generator
    time = torch.arange(1, 1001, dtype=torch.float32)
    assert torch.equal(x, torch.sin(0.01 * time) + torch.normal(0, 0.2, (1000,), generator=g))
    assert torch.equal(x, sm.make_data(3)) and not torch.equal(x, sm.make_data(4))
    noise = x - torch.sin(0.01 * time)
    assert abs(float(noise.std()) - 0.2) < 0.02
    tau = 4
    features, labels = sm.features_labels(x, tau)
    book = torch.zeros((1000 - tau, tau))  # the book's loop
    for i in range(tau):
        book[:, i] = x[i: 1000 - tau + i]
    assert torch.equal(features, book) and torch.equal(labels, x[tau:].reshape(-1, 1))


def test_build_has_the_books_model_data_split_and_optimizer():
    t = sm.build(seed=0)
    Xtr, ytr = t.train.tensors
    Xte, _ = t.test.tensors
    assert Xtr.shape == (600, 4) and ytr.shape == (600, 1) and Xte.shape == (1000 - 4 - 600, 4)
    assert t.train.batch_size == 16 and t.train.shuffle
    shapes = [tuple(p.shape) for p in t.net.parameters()]
    assert shapes == [(10, 4), (10,), (1, 10), (1,)]
    assert isinstance(t.net[1], torch.nn.ReLU)
    w1 = t.net[0].weight
    bound = (6 / (4 + 10)) ** 0.5  # Xavier uniform
    assert float(w1.detach().abs().max()) <= bound and float(w1.detach().abs().max()) > 0.5 * bound
    assert t.optimizer_name == "adam" and t.hparams["lr"] == 0.01 and t.num_epochs == 5
    assert torch.equal(sm.series_of(t), sm.make_data(0))


def test_the_loss_is_the_books_mse_and_falls_toward_the_noise_floor(trained):
    first, last = trained.history.epochs[0], trained.history.epochs[-1]
    X, y = trained.train.tensors
    with torch.no_grad():
        mse = float(((trained.net(X) - y) ** 2).mean())  # the book's evaluate_loss with nn.MSELoss
    assert last["train_loss"] == pytest.approx(mse, rel=1e-5)
    steps = [r["loss"] for r in trained.history.steps]
    assert sum(steps[-10:]) < sum(steps[:10])
    assert sm.NOISE_FLOOR < last["train_loss"] < 0.07 and last["train_loss"] <= first["train_loss"]


def test_same_seed_same_run_bit_for_bit():
    a, b = sm.build(SMALL, seed=5), sm.build(SMALL, seed=5)
    a.advance(max_steps=20)
    b.advance(max_steps=20)
    assert [r["loss"] for r in a.history.steps] == [r["loss"] for r in b.history.steps]
    assert all(torch.equal(p, q) for p, q in zip(a.net.parameters(), b.net.parameters()))
    c = sm.build(SMALL, seed=6)
    assert not torch.equal(c.net[0].weight, sm.build(SMALL, seed=5).net[0].weight)


def test_one_step_is_the_net_on_the_features(trained):
    x = sm.series_of(trained)
    features, _ = sm.features_labels(x, 4)
    with torch.no_grad():
        assert torch.equal(sm.one_step(trained.net, x, 4), trained.net(features).reshape(-1))


def test_multi_step_feeds_back_its_own_predictions_only(trained):
    x, tau, n_train = sm.series_of(trained), 4, 600
    preds = sm.multi_step(trained.net, x, tau, n_train)
    start = n_train + tau
    assert torch.equal(preds[:start], x[:start])
    with torch.no_grad():  # each value from the tau before it, as the book's loop
        for i in (start, start + 1, start + 10, 999):
            assert preds[i] == trained.net(preds[i - tau: i].reshape(1, -1)).reshape(())
    perturbed = x.clone()
    perturbed[start:] += torch.linspace(-5, 5, 1000 - start)  # data beyond the start never read
    assert torch.equal(sm.multi_step(trained.net, perturbed, tau, n_train), preds)
    perturbed[start - 1] += 1.0  # the last datum it may read does change it
    assert not torch.equal(sm.multi_step(trained.net, perturbed, tau, n_train)[start:], preds[start:])
    tail = preds[-50:]  # the recursion settles to a constant
    assert float(tail.max() - tail.min()) < 1e-3


def test_k_step_for_k_1_is_one_step_and_uses_k_minus_1_own_predictions(trained):
    x, tau = sm.series_of(trained), 4
    feats = sm.k_step(trained.net, x, tau)
    rows = 1000 - tau - 64 + 1
    assert feats.shape == (rows, tau + 64)
    one = sm.one_step(trained.net, x, tau)
    assert torch.allclose(feats[:, tau], one[:rows], atol=1e-6)
    times = sm.k_step_times(tau, 1)
    assert times[0] == tau + 1 and len(times) == rows  # x_5 predicted from x_1..x_4
    k = 16
    r = 100  # row r predicts x at time r + tau + k from data up to time r + tau
    later = x.clone()
    later[r + tau:] = 0.0
    assert torch.equal(sm.k_step(trained.net, later, tau)[r, tau + k - 1], feats[r, tau + k - 1])
    assert int(sm.k_step_times(tau, k)[r]) == r + tau + k


def test_predictions_view_errors_grow_with_k_and_leave_the_run_alone(trained):
    before = trained.snapshot()
    gens = [g.get_state() for g in (trained.gen_init, trained.gen_data, trained.gen_noise)]
    p = sm.predictions({"run": trained})
    assert all(torch.equal(g.get_state(), s) for g, s in zip((trained.gen_init, trained.gen_data,
                                                               trained.gen_noise), gens))
    assert all(torch.equal(a, b) for a, b in zip(before.net.values(), trained.net.state_dict().values()))
    assert p["tau"] == 4 and p["start"] == 604 and len(p["one_step"]) == 996
    err = p["mse_k_step"]
    assert len(err) == 64 and err[0] < err[3] < err[15] < err[63]
    assert p["mse_one_step"] < 0.08 < p["mse_multi_step"]  # compounding errors
    x, feats = sm.series_of(trained), sm.k_step(trained.net, sm.series_of(trained), 4)
    for k in (1, 4, 16, 64):
        times, preds = sm.k_series(p, k)
        assert np.array_equal(times, sm.k_step_times(4, k).numpy()) and np.array_equal(preds, feats[:, 4 + k - 1])
        assert err[k - 1] == pytest.approx(sm.mse(torch.as_tensor(preds), x[times - 1]), rel=1e-5)
