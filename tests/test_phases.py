"""Stepping one minibatch by phases (core.train.phases, RunHost.phase): a run
stepped forward / backward / update is bit for bit the run advanced by whole
steps; the gradients are autograd's on the same minibatch (and the closed form
for linear regression); Δ is −lr·grad for plain SGD; LeNet's activations have
the book's shapes and equal its feature maps; the host's command refuses a
training run and Start finishes a step begun by phases."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from core.data.fashion_mnist import FashionMNIST, load_fashion_mnist
from core.experiments import dropout as dropout_exp
from core.experiments import lenet as lenet_exp
from core.experiments import linear_regression as linreg
from core.experiments import mlp as mlp_exp
from core.train.host import RunHost
from core.train.phases import histogram, leaf_modules, run_phase, summary
from core.train.runs import RunSpec


@pytest.fixture(scope="module")
def fashion():
    data = load_fashion_mnist(allow_download=False)
    return FashionMNIST(data.X_train[:512], data.y_train[:512], data.X_test[:64], data.y_test[:64])


def small_linreg(**changes):
    return replace(linreg.BOOK, **{"num_examples": 50, "batch_size": 10, "num_epochs": 2, **changes})


def by_phases(trainer, steps: int) -> list[dict]:
    out = []
    for _ in range(steps * 3):
        out.append(run_phase(trainer))
    return out


def same_run(a, b) -> None:
    sa, sb = a.snapshot(history=True), b.snapshot(history=True)
    for k in sa.net:
        assert torch.equal(sa.net[k], sb.net[k]), k
    for g in ("gen_init", "gen_data", "gen_noise"):
        assert torch.equal(getattr(sa, g), getattr(sb, g)), g
    assert (sa.step, sa.epoch, sa.batch_in_epoch) == (sb.step, sb.epoch, sb.batch_in_epoch)
    strip = lambda h: [{k: v for k, v in r.items() if k not in ("elapsed", "examples_per_sec")} for r in h]  # noqa: E731
    assert strip(sa.history["steps"]) == strip(sb.history["steps"])
    assert strip(sa.history["epochs"]) == strip(sb.history["epochs"])


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_linear_regression_by_phases_is_the_run_by_whole_steps(impl):
    cfg = small_linreg(impl=impl)
    a, b = linreg.build(cfg, seed=3), linreg.build(cfg, seed=3)
    seen = by_phases(a, 7)  # 5 steps an epoch: over an epoch's end
    b.advance(max_steps=7)
    same_run(a, b)
    assert [s["phase"] for s in seen[:4]] == ["forward", "backward", "update", "forward"]
    assert [s["next"] for s in seen[:3]] == ["backward", "update", "forward"]
    assert [s["step"] for s in seen if s["phase"] == "update"] == list(range(1, 8))
    assert [s["loss"] for s in seen if s["phase"] == "update"] == [r["loss"] for r in b.history.steps]
    assert [s["epoch_ended"] for s in seen if s["phase"] == "update"] == [False] * 4 + [True, False, False]
    # and a step begun by phases is finished by advance (Start), counting as one
    run_phase(a), run_phase(a)
    a.advance(max_steps=3)
    b.advance(max_steps=3)
    same_run(a, b)


def test_dropout_mlp_by_phases_draws_the_same_masks(fashion):
    """The forward hooks copy outputs and nothing else: the dropout masks (from
    the run's noise generator) and the data order are the whole-step run's."""
    cfg = replace(dropout_exp.BOOK, num_epochs=2)
    a, b = dropout_exp.build(cfg, fashion, seed=1), dropout_exp.build(cfg, fashion, seed=1)
    by_phases(a, 3)  # 2 steps an epoch
    b.advance(max_steps=3)
    same_run(a, b)


def test_linear_regression_gradients_are_the_closed_form_and_delta_is_minus_lr_grad():
    cfg = small_linreg(lr=0.03)
    t = linreg.build(cfg, seed=0)
    w0, b0 = (p.detach().clone() for p in (t.net.w, t.net.b))
    fwd = run_phase(t)
    # the minibatch: the first of the epoch's permutation from the data generator (seed + 1)
    X, y = linreg.make_data(0, cfg.num_examples, cfg.noise)
    idx = torch.randperm(cfg.num_examples, generator=torch.Generator().manual_seed(1))[:cfg.batch_size]
    X, y = X[idx], y[idx]
    err = X @ w0 + b0 - y.reshape(-1, 1)
    assert fwd["loss"] == pytest.approx(float((err ** 2 / 2).mean()), rel=1e-6)
    np.testing.assert_array_equal(fwd["input"]["values"], X[:2].numpy())
    np.testing.assert_array_equal(fwd["y_hat"], (X[:2] @ w0 + b0).numpy())
    assert [layer["name"] for layer in fwd["layers"]] == ["net"] and fwd["layers"][0]["shape"] == [1]
    back = run_phase(t)
    grads = {g["name"]: g for g in back["grads"]}
    # d/dw mean((Xw + b - y)^2 / 2) = X^T err / n, d/db = mean(err)
    np.testing.assert_allclose(grads["w"]["values"], (X.T @ err / len(X)).numpy(), rtol=1e-5)
    np.testing.assert_allclose(grads["b"]["values"], err.mean().reshape(1, 1).numpy(), rtol=1e-5)
    assert grads["w"]["shape"] == [2, 1] and grads["w"]["hist"] is None
    assert back["norm"] == pytest.approx(float(torch.cat([t.net.w.grad.reshape(-1), t.net.b.grad]).norm()), rel=1e-6)
    up = run_phase(t)
    deltas = {d["name"]: d for d in up["deltas"]}
    assert up["plain_sgd"] and up["lr"] == 0.03 and deltas["w"]["lr"] == 0.03 and up["step"] == 1
    # the book's sgd: w <- w - lr * grad, so Δ is (w - lr·grad) - w as float32 computes it...
    np.testing.assert_array_equal(deltas["w"]["values"], ((w0 - 0.03 * t.net.w.grad) - w0).numpy())
    # ... which is -lr·grad exactly where w was 0 (b starts at 0), and within w's last place elsewhere
    assert deltas["b"]["sgd"]["exact"] and deltas["b"]["sgd"]["max_diff"] == 0.0
    np.testing.assert_array_equal(deltas["b"]["values"], (-0.03 * t.net.b.grad).reshape(1, 1).numpy())
    assert deltas["w"]["sgd"]["max_diff"] <= deltas["w"]["sgd"]["max_ulp"] < 1e-7


def test_mlp_update_is_minus_lr_grad_for_torch_sgd(fashion):
    cfg = replace(mlp_exp.BOOK, num_hiddens=32, lr=0.3)
    t = mlp_exp.build(cfg, fashion, seed=0)
    before = {n: p.detach().clone() for n, p in t.net.named_parameters()}
    run_phase(t), run_phase(t)
    grads = {n: p.grad.clone() for n, p in t.net.named_parameters()}
    up = run_phase(t)
    assert up["plain_sgd"] and [d["name"] for d in up["deltas"]] == ["hidden1.weight", "hidden1.bias",
                                                                     "output.weight", "output.bias"]
    for d in up["deltas"]:
        assert d["lr"] == 0.3 and d["sgd"]["max_diff"] <= d["sgd"]["max_ulp"], d["name"]
        delta = dict(t.net.named_parameters())[d["name"]].detach() - before[d["name"]]
        assert d["norm"] == pytest.approx(float(delta.double().norm()), rel=1e-12)
        assert d["norm"] == pytest.approx(0.3 * float(grads[d["name"]].double().norm()), rel=1e-5)
    big = up["deltas"][0]  # 784 x 32: a histogram of all 25,088 numbers
    assert big["values"] is None and sum(big["hist"]["counts"]) == 784 * 32 and len(big["hist"]["edges"]) == 41
    assert up["deltas"][1]["values"].shape == (1, 32)  # small: whole
    # with momentum, Δ is no longer -lr·grad and the page is told so
    t2 = mlp_exp.build(cfg, fashion, seed=0)
    t2.optimizer.param_groups[0]["momentum"] = 0.9
    by_phases(t2, 1)
    assert "sgd" not in by_phases(t2, 1)[-1]["deltas"][0] and not by_phases(t2, 1)[-1]["plain_sgd"]


def test_lenet_activations_have_the_books_shapes_and_grads_are_autograds(fashion):
    t = lenet_exp.build(lenet_exp.BOOK, fashion, seed=0)
    fresh = lenet_exp.lenet_net(False)(torch.Generator().manual_seed(0))
    fwd = run_phase(t)
    shapes = {layer["name"]: tuple(layer["shape"]) for layer in fwd["layers"]}
    assert shapes == {"conv1": (6, 28, 28), "act1": (6, 28, 28), "pool1": (6, 14, 14), "conv2": (16, 10, 10),
                      "act2": (16, 10, 10), "pool2": (16, 5, 5), "flatten": (400,), "fc1": (120,), "act3": (120,),
                      "fc2": (84,), "act4": (84,), "fc3": (10,)}
    assert [layer["name"] for layer in fwd["layers"]] == [n for n, _ in leaf_modules(t.net)]
    assert fwd["batch_size"] == 256 and fwd["input"]["shape"] == [1, 28, 28]
    # the recorded C1 of the first example is the page's feature map of that image (same weights)
    X, y = t.last_forward.batch
    maps = lenet_exp.forward_maps(fresh, X[0])["maps"]
    act1 = next(layer for layer in fwd["layers"] if layer["name"] == "act1")
    assert act1["values"].shape == (2, 6, 28, 28)
    np.testing.assert_allclose(act1["values"][0], maps["C1"], rtol=1e-5, atol=1e-6)
    assert act1["norms"][0] == pytest.approx(float(np.linalg.norm(maps["C1"])), rel=1e-5)
    back = run_phase(t)
    loss = torch.nn.functional.cross_entropy(fresh(X), y)
    auto = dict(zip([n for n, _ in fresh.named_parameters()], torch.autograd.grad(loss, list(fresh.parameters()))))
    for g in back["grads"]:
        a = auto[g["name"]]
        assert g["shape"] == list(a.shape) and g["norm"] == pytest.approx(float(a.double().norm()), rel=1e-5)
        if a.numel() <= 256:  # conv1's 6x1x5x5 weight, the biases: whole
            whole = a.reshape(1, -1) if a.dim() < 2 else a.reshape(a.shape[0], -1)
            np.testing.assert_allclose(g["values"], whole.numpy(), rtol=1e-4, atol=1e-7)
        else:
            assert g["values"] is None and sum(g["hist"]["counts"]) == a.numel()
    assert {g["name"] for g in back["grads"] if g["values"] is not None} == {
        "conv1.weight", "conv1.bias", "conv2.bias", "fc1.bias", "fc2.bias", "fc3.bias"}


def test_summaries_are_small():
    big = summary(torch.arange(10_000, dtype=torch.float32))
    assert big["values"] is None and big["hist"]["counts"] == [250] * 40 and big["numel"] == 10_000
    assert big["min"] == 0 and big["max"] == 9999 and big["norm"] == pytest.approx(float(np.sqrt(
        (np.arange(10_000, dtype=np.float64) ** 2).sum())))
    h = histogram(torch.tensor([1.0, float("nan"), float("inf"), 1.0]))
    assert h["nonfinite"] == 2 and sum(h["counts"]) == 2
    assert summary(None)["norm"] is None


def test_the_host_steps_a_paused_run_by_phases_and_start_finishes_the_step():
    spec = RunSpec("linear_regression", small_linreg(), seed=2)
    host = RunHost(spec)
    assert host.status()["next_phase"] == "forward"
    out = host.command("phase", 1)
    assert out["code"] == "ok" and out["trainers"][""]["phase"] == "forward"
    assert host.status()["next_phase"] == "backward" and not host.collect().steps
    host.command("phase", 2), host.command("phase", 3)
    u = host.collect()
    assert host.status()["next_phase"] == "forward" and [r["step"] for r in u.steps[""]] == [1]
    assert u.snapshot is not None and u.snapshot[""]["step"] == 1  # a step boundary again: snapshot taken
    host.command("phase", 4)  # half a step: no snapshot, no export
    assert host.collect().snapshot is None
    with pytest.raises(ValueError):
        host.command("export", 5)
    host.command("start", 6, place=0)  # trains: the step begun by phases is finished first
    assert host.command("phase", 7) == {"code": "running"}
    for _ in range(1000):
        if not host.trainable:
            break
        host.turn(0.01)
    whole = linreg.build(small_linreg(), seed=2)
    whole.advance()
    assert [r["loss"] for r in host.collect().steps[""]] == [r["loss"] for r in whole.history.steps[1:]]
    assert host.status()["state"] == "finished" and host.command("phase", 8) == {"code": "done"}


def test_the_last_update_finishes_the_run_and_a_diverging_update_says_so():
    host = RunHost(RunSpec("linear_regression", small_linreg(num_epochs=1), seed=0))
    for i in range(15):
        host.command("phase", i + 1)
    assert host.status()["state"] == "finished" and host.command("phase", 20) == {"code": "done"}
    host = RunHost(RunSpec("linear_regression", small_linreg(lr=5.0, batch_size=1), seed=0))
    for i in range(300):
        out = host.command("phase", i + 1)
        if out["code"] != "ok":
            break
    assert out == {"code": "ended"} and host.status()["state"] == "diverged"
