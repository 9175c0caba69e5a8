"""Linear regression (book 3.1-3.5): the synthetic data, the book's loss and sgd,
scratch == concise, training at the book's settings, divergence, the pictures."""
from dataclasses import replace

import numpy as np
import pytest
import torch

from core.experiments import linear_regression as lr_
from core.experiments.linear_regression import BOOK, TRUE_B, TRUE_W
from core.train.trainer import squared_loss


def trained(seed=0, **settings):
    t = lr_.build(replace(BOOK, **settings), seed=seed)
    t.advance()
    return t


# ----------------------------------------------------------------------- data
def test_the_data_has_the_books_w_and_b():
    X, y = lr_.make_data(0)
    assert X.shape == (1000, 2) and y.shape == (1000, 1)
    assert abs(float(X.mean())) < 0.1 and abs(float(X.std()) - 1) < 0.05  # X ~ N(0, 1)
    noise = y.reshape(-1) - (X @ torch.tensor(TRUE_W) + TRUE_B)
    assert 0.009 < float(noise.std()) < 0.011  # eps ~ N(0, 0.01^2)
    w, b = lr_.least_squares(X, y)
    # the estimates' standard error is about 0.01 / sqrt(1000) = 3e-4
    assert w == pytest.approx(TRUE_W, abs=2e-3) and b == pytest.approx(TRUE_B, abs=2e-3)


def test_the_data_comes_from_the_seed_alone():
    state = torch.get_rng_state()
    a, b = lr_.make_data(3), lr_.make_data(3)
    assert torch.get_rng_state().equal(state)  # the global generator is never used
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(lr_.make_data(4)[0], a[0])
    noisy = lr_.make_data(3, noise=1.0)
    assert torch.equal(noisy[0], a[0]) and 0.9 < float((noisy[1] - a[1]).std()) < 1.1


# ----------------------------------------------------------- loss and update
@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_the_loss_and_the_update_are_the_books_formulas(impl):
    t = lr_.build(replace(BOOK, impl=impl), seed=0)
    w0, b0 = (v.clone() for v in lr_.get_w_b(t.net))
    fwd = t.forward()
    X, y = fwd.batch
    residual = X @ w0 + b0 - y.reshape(-1)
    assert X.shape == (BOOK.batch_size, 2)
    assert fwd.loss == pytest.approx(float((residual ** 2 / 2).mean()), rel=1e-6)  # (y_hat - y)^2 / 2, batch mean
    t.backward()
    t.update()
    w1, b1 = lr_.get_w_b(t.net)
    # the book's sgd: w <- w - lr * grad, with grad = X^T (Xw + b - y) / |B|
    grad_w, grad_b = X.T @ residual / len(X), residual.mean()
    assert torch.allclose(w1, w0 - BOOK.lr * grad_w, rtol=1e-6, atol=1e-8)
    assert torch.allclose(b1, b0 - BOOK.lr * grad_b, rtol=1e-6, atol=1e-8)


def test_the_gradient_is_torch_autograds():
    t = lr_.build(BOOK, seed=1)
    fwd = t.forward()
    t.backward()
    X, y = fwd.batch
    w = t.net.w.detach().clone().requires_grad_()
    b = t.net.b.detach().clone().requires_grad_()
    squared_loss(X @ w + b, y).mean().backward()
    assert torch.equal(t.net.w.grad, w.grad) and torch.equal(t.net.b.grad, b.grad)


def test_squared_loss_is_half_the_squared_error():
    y_hat, y = torch.tensor([[1.0], [2.0], [4.0]]), torch.tensor([0.0, 2.0, 1.0])
    assert squared_loss(y_hat, y).reshape(-1).tolist() == [0.5, 0.0, 4.5]
    out = lr_.ConciseLoss()(torch.nn.Identity(), (y_hat, y.reshape(-1, 1)))
    assert float(out.loss) == pytest.approx(5.0 / 3)  # mean of the same, through nn.MSELoss / 2


def test_the_initial_values_are_the_books():
    scratch, concise = lr_.build(BOOK, seed=0), lr_.build(replace(BOOK, impl="concise"), seed=0)
    assert isinstance(concise.net, torch.nn.Linear)
    assert torch.equal(scratch.net.w.reshape(-1), concise.net.weight.reshape(-1))
    assert float(lr_.get_w_b(scratch.net)[1]) == float(lr_.get_w_b(concise.net)[1]) == 0.0
    g = torch.Generator().manual_seed(0)
    ws = torch.cat([lr_.init_params(2, BOOK.sigma, g)[0] for _ in range(500)])
    assert abs(float(ws.std()) - 0.01) < 0.002 and abs(float(ws.mean())) < 0.002  # w ~ N(0, 0.01^2)


# ------------------------------------------------------------ scratch == concise
def test_scratch_and_concise_follow_the_same_path():
    """From one seed both see the same minibatches and start from the same w, b.
    They are equal up to float rounding, not bit for bit: nn.Linear computes
    X w^T + b in one addmm and torch's SGD adds -lr * grad in one fused step,
    where the scratch code rounds X @ w, then + b, and lr * grad, then -."""
    scratch, concise = trained(impl="scratch"), trained(impl="concise")
    assert len(scratch.history.steps) == len(concise.history.steps) == 300
    for a, b in zip(scratch.history.steps, concise.history.steps):
        for key in ("loss", "w1", "w2", "b"):
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-7), (a["step"], key)
    for a, b in zip(scratch.history.epochs, concise.history.epochs):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)


# ------------------------------------------------------------------ training
@pytest.mark.parametrize("seed", [0, 1])
def test_the_loss_falls_below_1e_3_within_3_epochs_at_the_books_settings(seed):
    t = trained(seed)
    first, last = t.history.steps[0]["loss"], t.history.epochs[-1]
    assert t.epoch == 3 and not t.diverged
    assert first > 1.0 and last["train_loss"] < 1e-3
    floor = lr_.noise_floor(BOOK.noise)  # 0.00005: all that is left is the noise
    assert floor / 2 < last["train_loss"] < 2 * floor
    # the errors, true minus learned, as the book prints them: a few 1e-4
    w, b = lr_.get_w_b(t.net)
    assert last["err_w1"] == TRUE_W[0] - float(w[0]) and last["err_b"] == TRUE_B - float(b[0])
    assert max(abs(last[k]) for k in ("err_w1", "err_w2", "err_b")) < 5e-3
    # each step record holds w and b after that step
    assert [t.history.steps[-1][k] for k in ("w1", "w2", "b")] == [*w.tolist(), float(b[0])]
    assert t.history.epochs[0]["train_loss"] > last["train_loss"]


def test_the_same_seed_replays_bit_for_bit_and_leaves_the_global_rng_alone():
    state = torch.get_rng_state()
    a, b = trained(5, impl="concise"), trained(5, impl="concise")
    assert torch.get_rng_state().equal(state)
    assert [r["loss"] for r in a.history.steps] == [r["loss"] for r in b.history.steps]
    assert [r["w1"] for r in a.history.steps] == [r["w1"] for r in b.history.steps]


def test_a_snapshot_holds_w_and_b():
    t = lr_.build(BOOK, seed=0)
    t.advance(max_steps=50)
    snap = t.snapshot()
    assert {"w", "b"} <= set(snap.net)
    t.advance()
    after = [r["loss"] for r in t.history.steps[50:]]
    t.restore(snap)
    t.advance()
    assert [r["loss"] for r in t.history.steps[50:]] == after


@pytest.mark.parametrize("lr", [3.0, 5.0])
def test_a_big_lr_diverges(lr):
    t = trained(lr=lr)
    assert t.diverged and t.epoch < BOOK.num_epochs
    losses = [r["loss"] for r in t.history.steps]
    assert not np.isfinite(losses[-1]) and losses[-2] > 100 * losses[0]  # it grew before it overflowed
    path = lr_.trajectory(t)
    assert lr_.left_at(path, *lr_.window()) is not None


def test_batch_size_and_lr_change_the_run():
    full = trained(batch_size=1000, num_epochs=3)  # plain gradient descent: one step an epoch
    assert len(full.history.steps) == 3
    assert full.history.epochs[-1]["train_loss"] > 1.0  # 3 steps of 0.03 get nowhere near
    quick = trained(lr=0.3)
    assert quick.history.epochs[0]["train_loss"] < 1e-3


# ------------------------------------------------------------------ pictures
def test_the_loss_surface_is_the_loss_of_the_model():
    X, y = lr_.make_data(0)
    w1s, w2s = np.linspace(-1, 4, 11), np.linspace(-5, 1, 7)
    L = lr_.loss_surface(X, y, 1.5, w1s, w2s)
    assert L.shape == (7, 11)
    for i, j in [(0, 0), (3, 6), (6, 10), (2, 9)]:
        w = torch.tensor([[w1s[j]], [w2s[i]]], dtype=torch.float64)
        direct = float(squared_loss(X.double() @ w + 1.5, y.double()).mean())
        assert L[i, j] == pytest.approx(direct, rel=1e-9)


def test_the_bottom_of_the_surface_is_the_least_squares_fit():
    X, y = lr_.make_data(0)
    w_ls, b_ls = lr_.least_squares(X, y)
    (a, b_), (c, d) = lr_.window()
    w1s, w2s = np.linspace(a, b_, 91), np.linspace(c, d, 91)
    L = lr_.loss_surface(X, y, b_ls, w1s, w2s)
    i, j = np.unravel_index(np.argmin(L), L.shape)
    step = w1s[1] - w1s[0]
    assert abs(w1s[j] - w_ls[0]) <= step and abs(w2s[i] - w_ls[1]) <= step
    at_ls = lr_.loss_surface(X, y, b_ls, [w_ls[0]], [w_ls[1]])[0, 0]
    assert at_ls <= L.min() and at_ls == pytest.approx(lr_.noise_floor(0.01), rel=0.2)
    assert a < 0 < b_ and c < 0 < d  # the window takes in the start near the origin


def test_the_path_is_the_step_records_from_the_initial_values():
    t = lr_.build(BOOK, seed=2)
    w0, b0 = (v.clone() for v in lr_.get_w_b(t.net))
    t.advance()
    path = lr_.trajectory(t)
    assert path["step"] == list(range(301))
    assert [path["w1"][0], path["w2"][0], path["b"][0]] == [*w0.tolist(), float(b0[0])]
    assert path["w1"][1:] == [r["w1"] for r in t.history.steps]
    assert lr_.left_at(path, *lr_.window()) is None
    short = lr_.trajectory(t, max_points=40)
    assert len(short["step"]) <= 42 and short["step"][-1] == 300 and short["w2"][-1] == path["w2"][-1]


def test_the_picture():
    t = trained(0)
    seen = lr_.picture({"": t}, grid=21, n_points=50)
    run = seen["runs"][""]
    w, b = lr_.get_w_b(t.net)
    assert run["w"] == w.tolist() and run["b"] == float(b[0]) and run["step"] == 300
    assert run["error"] == {"w": [TRUE_W[0] - float(w[0]), TRUE_W[1] - float(w[1])], "b": TRUE_B - float(b[0])}
    assert seen["log_loss"].shape == (21, 21) and seen["b_is_current"] and seen["b_surface"] == run["b"]
    assert seen["X"].shape == (50, 2) and seen["y"].shape == (50,)
    P = seen["plane"]
    assert P[3, 7] == pytest.approx(float(w[0]) * seen["x1"][7] + float(w[1]) * seen["x2"][3] + float(b[0]), rel=1e-6)
    # a trained w fits: the plane at each example is close to its y
    fit = seen["X"] @ np.array(run["w"]) + run["b"]
    assert np.abs(fit - seen["y"]).max() < 0.05
    gone = lr_.picture({"": trained(lr=5.0)}, grid=11)
    assert gone["runs"][""]["left_at"] is not None
    assert not gone["b_is_current"] and gone["b_surface"] == TRUE_B  # the surface stays the book's bowl
