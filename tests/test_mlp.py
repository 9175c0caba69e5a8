"""Multilayer perceptrons (book 5.1-5.2): the activations and their derivatives
(autograd against the closed forms), the 2-D toy data, the book's MLP and the
toy MLP, and the pictures the page shows (computed from the net, leaving the
run alone)."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from torch import nn

from core.data import toy2d
from core.data.fashion_mnist import stand_in_fashion_mnist
from core.experiments import mlp, mlp_toy
from core.ops import activations

NAMES = list(activations.NAMES)


# ---------------------------------------------------------------- activations
@pytest.mark.parametrize("name", NAMES)
def test_autograd_derivative_equals_the_closed_form(name):
    x = torch.arange(-800, 801, dtype=torch.float64) / 100  # includes 0 exactly
    assert float(x[800]) == 0.0
    auto = activations.autograd_derivative(name, x)
    closed = activations.closed_form_derivative(name, x)
    assert torch.allclose(auto, closed, rtol=0, atol=1e-12), float((auto - closed).abs().max())
    assert activations.curves([name])[name]["max_gap"] < 1e-12


@pytest.mark.parametrize("name", NAMES)
def test_closed_form_derivative_is_the_slope(name):
    x = torch.tensor([-3.0, -1.2, -0.3, 0.4, 1.1, 2.5], dtype=torch.float64)  # away from the kink at 0
    h = 1e-6
    f = activations.FUNCTIONS[name]
    central = (f(x + h) - f(x - h)) / (2 * h)
    assert torch.allclose(activations.closed_form_derivative(name, x), central, atol=1e-8)


def test_the_books_values():
    x = torch.tensor([-2.0, 0.0, 3.0], dtype=torch.float64)
    assert activations.FUNCTIONS["relu"](x).tolist() == [0.0, 0.0, 3.0]
    assert activations.autograd_derivative("relu", x).tolist() == [0.0, 0.0, 1.0]  # 0 at 0, as the book says
    assert float(activations.closed_form_derivative("sigmoid", torch.zeros(1))) == 0.25  # its largest
    assert float(activations.closed_form_derivative("tanh", torch.zeros(1))) == 1.0
    assert activations.FUNCTIONS["leaky_relu"](x).tolist() == pytest.approx([-2 * activations.LEAKY_SLOPE, 0, 3])
    gelu = activations.FUNCTIONS["gelu"](torch.tensor([1.0], dtype=torch.float64))
    assert float(gelu) == pytest.approx(1.0 * 0.5 * (1 + math.erf(1 / math.sqrt(2))))
    for name in NAMES:  # the layer computes the function
        assert torch.equal(activations.module(name)(x), activations.FUNCTIONS[name](x))
    with pytest.raises(ValueError):
        activations.module("swish")


# ------------------------------------------------------------------- toy data
@pytest.mark.parametrize("dataset", list(toy2d.DATASETS))
def test_toy_data_is_seeded_balanced_and_inside_the_plane(dataset):
    state = torch.get_rng_state()
    X, y = toy2d.make(dataset, 400, 0.1, torch.Generator().manual_seed(3))
    X2, y2 = toy2d.make(dataset, 400, 0.1, torch.Generator().manual_seed(3))
    X3, _ = toy2d.make(dataset, 400, 0.1, torch.Generator().manual_seed(4))
    assert torch.equal(torch.get_rng_state(), state)  # the global generator is never used
    assert torch.equal(X, X2) and torch.equal(y, y2) and not torch.equal(X, X3)
    assert X.shape == (400, 2) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.bincount(y).tolist() == [200, 200]
    assert float(X.abs().max()) < toy2d.DOMAIN


def test_noiseless_moons_lie_on_their_circles():
    X, y = toy2d.two_moons(200, 0.0, torch.Generator().manual_seed(0))
    P = X.double() / toy2d.MOON_SCALE + torch.tensor([0.5, 0.25], dtype=torch.float64)
    upper, lower = P[y == 0], P[y == 1]
    assert torch.allclose(upper.norm(dim=1), torch.ones(len(upper), dtype=torch.float64), atol=1e-6)
    assert bool((upper[:, 1] >= -1e-6).all())
    assert torch.allclose((lower - torch.tensor([1.0, 0.5], dtype=torch.float64)).norm(dim=1),
                          torch.ones(len(lower), dtype=torch.float64), atol=1e-6)


def test_noiseless_spiral_arms_are_half_a_turn_apart():
    X, y = toy2d.spiral(200, 0.0, torch.Generator().manual_seed(0))
    assert torch.allclose(X[y == 1], -X[y == 0], atol=1e-5)  # the second arm: the first turned by pi
    r = X[y == 0].norm(dim=1)
    assert torch.allclose(r, torch.arange(100) * toy2d.SPIRAL_RADIUS / 100, atol=1e-5)


def test_grid_runs_along_x_first():
    xs, points = toy2d.grid(5, 2.0)
    assert xs.tolist() == [-2, -1, 0, 1, 2]
    assert points[:5, 0].tolist() == xs.tolist() and points[:5, 1].tolist() == [-2.0] * 5
    assert points.reshape(5, 5, 2)[3, 1].tolist() == [-1.0, 1.0]  # row 3 is y = 1, column 1 is x = -1


# ----------------------------------------------------------------------- nets
def test_the_books_net_and_its_initialisation_from_the_runs_generator():
    state = torch.get_rng_state()
    net = mlp.mlp(784, [256], 10, "relu", sigma=0.01)(torch.Generator().manual_seed(0))
    again = mlp.mlp(784, [256], 10, "relu", sigma=0.01)(torch.Generator().manual_seed(0))
    assert torch.equal(torch.get_rng_state(), state)
    assert [n for n, _ in net.named_children()] == ["flatten", "hidden1", "act1", "output"]
    assert net.hidden1.weight.shape == (256, 784) and net.output.weight.shape == (10, 256)
    assert isinstance(net.act1, nn.ReLU)
    W1, b1 = net.hidden1.weight.detach(), net.hidden1.bias.detach()
    assert abs(float(W1.std()) - 0.01) < 5e-4 and float(b1.abs().max()) == 0
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), again.parameters()))
    toy = mlp.mlp(2, [16, 16, 16], 2, "tanh", sigma=None, flatten=False)(torch.Generator().manual_seed(0))
    assert [n for n, _ in toy.named_children()][-2:] == ["act3", "output"]
    bound = 1 / math.sqrt(16)
    W2, b2 = toy.hidden2.weight.detach(), toy.hidden2.bias.detach()
    assert float(W2.abs().max()) <= bound and float(b2.abs().max()) > 0


def test_hidden_outputs_are_the_nets_own_arithmetic():
    net = mlp.mlp(2, [8, 8], 2, "gelu", sigma=None, flatten=False)(torch.Generator().manual_seed(1))
    X = torch.randn(50, 2, generator=torch.Generator().manual_seed(2))
    pre, post, out = mlp.hidden_outputs(net, X)
    assert torch.equal(out, net(X))
    assert torch.allclose(pre[0], X @ net.hidden1.weight.T + net.hidden1.bias)
    assert torch.equal(post[0], nn.functional.gelu(pre[0])) and post[1].shape == (50, 8)


@pytest.fixture(scope="module")
def small_fmnist():
    data = stand_in_fashion_mnist(n_train=1200, n_test=300)
    return data


def test_the_book_mlp_learns_and_replays_bit_for_bit(small_fmnist):
    cfg = dataclasses.replace(mlp.BOOK, num_epochs=2)
    assert (mlp.BOOK.num_hiddens, mlp.BOOK.lr, mlp.BOOK.batch_size, mlp.BOOK.num_epochs,
            mlp.BOOK.activation) == (256, 0.1, 256, 10, "relu")
    a = mlp.build(cfg, small_fmnist, seed=5)
    a.advance()
    b = mlp.build(cfg, small_fmnist, seed=5)
    b.advance()
    la, lb = [r["loss"] for r in a.history.steps], [r["loss"] for r in b.history.steps]
    assert la == lb and len(la) == 2 * math.ceil(1200 / 256)
    assert np.mean(la[-3:]) < np.mean(la[:3])
    with pytest.raises(ValueError):
        mlp.build(cfg, None)


def test_gradient_flow_marks_off_relus_and_saturated_sigmoids():
    z = torch.tensor([-5.0, -0.1, 0.1, 5.0])
    assert mlp.gradient_flow("relu", z).tolist() == [True, True, False, False]
    assert mlp.gradient_flow("sigmoid", torch.tensor([-8.0, 0.0, 1.0, 8.0])).tolist() == [True, False, False, True]
    assert mlp.gradient_flow("leaky_relu", z).tolist() == [False] * 4  # 0.1 of the slope still flows


def test_the_fmnist_picture_reads_the_net_and_leaves_the_run_alone(small_fmnist):
    cfg = dataclasses.replace(mlp.BOOK, num_epochs=1, num_hiddens=64)
    quiet = mlp.build(cfg, small_fmnist, seed=1)
    quiet.advance()
    t = mlp.build(cfg, small_fmnist, seed=1)
    t.advance(max_steps=2)
    seen = mlp.picture({"": t}, small_fmnist, units=16, images=100)
    t.advance()
    assert [r["loss"] for r in t.history.steps] == [r["loss"] for r in quiet.history.steps]
    assert seen["weights"].shape == (16, 28, 28) and seen["num_hiddens"] == 64 and seen["step"] == 2
    assert seen["activation"] == "relu"
    net = mlp.build(cfg, small_fmnist, seed=1).net  # the initial net: blocked = share of z <= 0
    z = small_fmnist.X_test[:100].reshape(100, -1) @ net.hidden1.weight.T.detach() + net.hidden1.bias.detach()
    first = mlp.picture({"x": mlp.build(cfg, small_fmnist, seed=1)}, small_fmnist, images=100)
    assert first["blocked"] == pytest.approx(float((z <= 0).float().mean()))
    assert first["dead"] == int((z <= 0).all(0).sum())


# ------------------------------------------------------------------------ toy
def test_the_toy_learns_the_moons():
    cfg = mlp_toy.Config(dataset="moons", num_hiddens=8, num_layers=2, num_epochs=60)
    t = mlp_toy.build(cfg, seed=0)
    t.advance()
    first, last = t.history.epochs[0], t.history.epochs[-1]
    assert last["train_loss"] < first["train_loss"] / 3
    assert last["test_metric"] > 0.95


def test_the_toy_replays_bit_for_bit_and_draws_its_data_from_the_seed():
    cfg = mlp_toy.Config(num_epochs=3)
    a, b, c = mlp_toy.build(cfg, seed=7), mlp_toy.build(cfg, seed=7), mlp_toy.build(cfg, seed=8)
    for t in (a, b, c):
        t.advance()
    assert [r["loss"] for r in a.history.steps] == [r["loss"] for r in b.history.steps]
    assert not torch.equal(a.train.tensors[0], c.train.tensors[0])
    X_train, y_train, X_test, y_test = mlp_toy.make_data(cfg, 7)
    assert torch.equal(a.train.tensors[0], X_train) and torch.equal(a.test.tensors[1], y_test)
    assert len(X_train) == cfg.num_train and len(X_test) == cfg.num_test


def test_the_boundary_view_is_the_nets_and_leaves_the_run_alone():
    cfg = mlp_toy.Config(dataset="moons", num_hiddens=4, num_layers=2, num_epochs=5)
    quiet = mlp_toy.build(cfg, seed=3)
    quiet.advance()
    t = mlp_toy.build(cfg, seed=3)
    views = []
    while not t.done:
        t.advance(max_steps=3)
        views.append(mlp_toy.boundary({"": t}, grid=21, unit_grid=11))
    assert [r["loss"] for r in t.history.steps] == [r["loss"] for r in quiet.history.steps]
    assert all(torch.equal(p, q) for p, q in zip(t.net.parameters(), quiet.net.parameters()))
    seen = views[-1]
    net = t.net
    _, points = toy2d.grid(21)
    with torch.no_grad():
        prob = torch.softmax(net(points), 1)[:, 1].reshape(21, 21).numpy()
        first_layer = torch.relu(points @ net.hidden1.weight.T + net.hidden1.bias)
    assert np.array_equal(seen["prob"], prob)
    _, upoints = toy2d.grid(11)
    with torch.no_grad():
        unit0 = torch.relu(upoints @ net.hidden1.weight.T + net.hidden1.bias)[:, 0].reshape(11, 11)
    assert np.allclose(seen["units"][0][0], unit0.numpy(), atol=1e-6)
    assert first_layer.shape == (441, 4)
    assert [u.shape for u in seen["units"]] == [(4, 11, 11), (4, 11, 11)] and seen["widths"] == [4, 4]
    assert seen["test_acc"] == pytest.approx(t.evaluate(t.test)[1])
    assert seen["train_acc"] == pytest.approx(t.evaluate(t.train)[1])
    assert seen["finite"] and seen["step"] == t.step


def test_the_boundary_view_shows_at_most_max_units():
    t = mlp_toy.build(mlp_toy.Config(num_hiddens=32, num_layers=1), seed=0)
    seen = mlp_toy.boundary({"": t}, grid=11, unit_grid=7, max_units=8)
    assert seen["units"][0].shape == (8, 7, 7) and seen["widths"] == [32]


def test_a_huge_lr_kills_the_relus_and_a_small_one_does_not(small_fmnist):
    cfg = dataclasses.replace(mlp.BOOK, num_hiddens=64, num_epochs=1)
    for lr, dead in ((0.1, 0), (10.0, 58)):
        t = mlp.build(dataclasses.replace(cfg, lr=lr), small_fmnist, seed=0)
        assert mlp.picture({"": t}, small_fmnist, images=300)["dead"] == 0
        t.advance(max_steps=8)
        seen = mlp.picture({"": t}, small_fmnist, images=300)
        assert (seen["dead"] >= dead) if lr > 1 else (seen["dead"] == 0), (lr, seen["dead"])


def test_the_boundary_view_says_when_the_net_is_not_finite():
    t = mlp_toy.build(mlp_toy.Config(num_hiddens=4, num_layers=1), seed=0)
    assert mlp_toy.boundary({"": t}, grid=5, unit_grid=5)["finite"]
    with torch.no_grad():
        t.net.output.bias[0] = float("nan")
    assert not mlp_toy.boundary({"": t}, grid=5, unit_grid=5)["finite"]


def test_a_huge_lr_stalls_the_toy_near_chance():
    t = mlp_toy.build(mlp_toy.Config(lr=10.0, num_epochs=20), seed=0)
    t.advance()
    assert not t.diverged and t.history.epochs[-1]["train_metric"] < 0.65
