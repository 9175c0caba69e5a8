"""Numerical stability and initialization (book 5.4): the sigmoid's vanishing
gradient, the exploding product of random matrices, the initialization schemes'
variances, per-layer statistics through 50 layers, the chain rule against
autograd, symmetry under SGD, and the experiment's runs (seeded, undisturbed
by the live view)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from core.data.fashion_mnist import FashionMNIST
from core.experiments import initialization as ini
from core.ops.initialization import (
    INITS,
    SATURATED,
    deep_mlp,
    forward_backward,
    init_linear_,
    init_std,
    layer_stats,
    matrix_product,
    sigmoid_curve,
    symmetry_net,
    symmetry_run,
)


def images(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST-shaped inputs in [0, 1] and labels (the statistics depend on shapes and scale only)."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def small_data(n_train: int = 512, n_test: int = 128) -> FashionMNIST:
    X, y = images(n_train + n_test, seed=5)
    X = X * (y.float().reshape(-1, 1, 1, 1) + 1) / 10  # a learnable signal: brightness follows the class
    return FashionMNIST(X[:n_train], y[:n_train], X[n_train:], y[n_train:])


# ------------------------------------------------------------------ the sigmoid
def test_sigmoid_gradient_by_autograd_is_s_times_one_minus_s_and_vanishes():
    c = sigmoid_curve(-8, 8, 161)
    s = 1 / (1 + np.exp(-c["x"].astype(np.float64)))
    np.testing.assert_allclose(c["y"], s, rtol=1e-6)
    np.testing.assert_allclose(c["grad"], s * (1 - s), atol=1e-7)
    assert c["grad"].max() == pytest.approx(0.25, abs=1e-6) and abs(c["x"][c["grad"].argmax()]) < 1e-6
    far = np.abs(c["x"]) >= 6
    assert c["grad"][far].max() < 0.0025  # the book's point: away from 0 the gradient all but vanishes


# ------------------------------------------------------- a product of matrices
def test_the_running_product_of_100_gaussian_matrices_explodes_and_is_seeded():
    r = matrix_product(100, 4, seed=0)
    assert r["norms"].shape == (101,)
    expected = r["factors"][0]
    for k in range(1, 101):
        expected = expected @ r["factors"][k]
    np.testing.assert_allclose(r["last"], expected, rtol=1e-10)
    assert r["norms"][-1] == pytest.approx(np.linalg.norm(expected), rel=1e-10)
    assert np.linalg.norm(r["first"]) == pytest.approx(r["norms"][0])
    assert r["norms"][-1] > 1e15 and r["norms"][-1] / r["norms"][0] > 1e15  # the book's "explodes"
    # log-norm grows about linearly: each factor multiplies the norm by about the same amount on average
    logs = np.log10(r["norms"])
    slope = np.polyfit(np.arange(101), logs, 1)[0]
    assert 0.1 < slope < 0.4
    again = matrix_product(100, 4, seed=0)
    assert np.array_equal(again["norms"], r["norms"])
    assert not np.array_equal(matrix_product(100, 4, seed=1)["norms"], r["norms"])


def test_a_small_scale_makes_the_product_vanish_instead():
    r = matrix_product(100, 4, seed=0, std=0.25)
    assert r["norms"][-1] < 1e-20


# ------------------------------------------------------------------ the schemes
def test_init_stds_are_the_books_formulas():
    assert init_std("zero", 784, 256) == 0
    assert init_std("normal_001", 784, 256) == 0.01
    assert init_std("normal_1", 784, 256) == 1
    assert init_std("xavier", 784, 256) == pytest.approx(math.sqrt(2 / (784 + 256)))
    assert init_std("he", 784, 256) == pytest.approx(math.sqrt(2 / 784))
    with pytest.raises(ValueError):
        init_std("uniform", 1, 1)


@pytest.mark.parametrize("scheme,n_in,n_out", [("xavier", 784, 256), ("xavier", 256, 256), ("he", 784, 256),
                                               ("he", 256, 64), ("normal_001", 300, 200)])
def test_sampled_variances_equal_the_formulas_within_sampling_error(scheme, n_in, n_out):
    layer = torch.nn.Linear(n_in, n_out)
    init_linear_(layer, scheme, torch.Generator().manual_seed(0))
    w = layer.weight.detach().double()
    var = {"xavier": 2 / (n_in + n_out), "he": 2 / n_in, "normal_001": 1e-4}[scheme]
    n = w.numel()
    se = var * math.sqrt(2 / (n - 1))  # standard error of a Gaussian sample variance
    assert abs(float(w.var()) - var) < 4 * se
    assert abs(float(w.mean())) < 4 * math.sqrt(var / n)
    assert torch.equal(layer.bias.detach(), torch.zeros(n_out))


def test_zero_init_is_all_zero_and_the_generator_alone_decides_the_weights():
    net = deep_mlp(3, 32, "tanh", "zero")(torch.Generator().manual_seed(0))
    assert all(float(p.detach().abs().sum()) == 0 for p in net.parameters())
    a = deep_mlp(3, 32, "tanh", "he")(torch.Generator().manual_seed(7))
    torch.manual_seed(123)  # the global RNG plays no part
    b = deep_mlp(3, 32, "tanh", "he")(torch.Generator().manual_seed(7))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert [n for n, _ in a.named_children()] == ["flatten", "linear1", "act1", "linear2", "act2", "linear3", "act3",
                                                  "output"]


# ------------------------------------------------------------- the chain rule
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("init", ["xavier", "he", "normal_1"])
def test_the_chain_rule_equals_autograd(activation, init):
    net = deep_mlp(4, 24, activation, init, num_inputs=784)(torch.Generator().manual_seed(3)).double()
    X, y = images(16, seed=1)
    X = X.double()
    fb = forward_backward(net, X, y)
    loss = F.cross_entropy(net(X), y)
    loss.backward()
    assert float(fb["loss"]) == pytest.approx(float(loss.detach()), rel=1e-12)
    for layer, dW, db in zip(net.linears, fb["dW"], fb["db"]):
        torch.testing.assert_close(dW, layer.weight.grad, rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(db, layer.bias.grad, rtol=1e-9, atol=1e-12)
    # dl/dh of each hidden layer, against autograd's on the activations themselves
    hs = []
    h = X.reshape(len(X), -1)
    for layer, a in zip(net.hidden, [m for n, m in net.named_children() if n.startswith("act")]):
        h = a(layer(h))
        h.retain_grad()
        hs.append(h)
    F.cross_entropy(net.output(h), y).backward()
    for mine, theirs in zip(fb["dh"], hs):
        torch.testing.assert_close(mine, theirs.grad, rtol=1e-9, atol=1e-12)


def test_forward_backward_leaves_the_net_and_its_grads_alone():
    net = deep_mlp(3, 16, "tanh", "xavier")(torch.Generator().manual_seed(0))
    before = [p.detach().clone() for p in net.parameters()]
    layer_stats(net, *images(8))
    assert all(p.grad is None for p in net.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))


# --------------------------------------------------- 50 layers, per scheme
@pytest.fixture(scope="module")
def deep_tanh():
    X, y = images(64, seed=2)
    return {init: layer_stats(deep_mlp(50, 256, "tanh", init)(torch.Generator().manual_seed(0)), X, y)
            for init in INITS}


def test_xavier_tanh_keeps_the_activation_scale_within_a_factor_across_50_layers(deep_tanh):
    std = np.array(deep_tanh["xavier"]["act_std"])
    assert len(std) == 50 and np.all(std > 0)
    assert std.max() / std.min() < 10
    assert max(deep_tanh["xavier"]["saturated"]) < 0.05  # tanh stays in its linear part
    g = np.array(deep_tanh["xavier"]["grad_norm"])
    assert g.max() / g.min() < 10  # and the gradients neither vanish nor explode


def test_n01_saturates_and_its_gradients_explode_toward_the_input(deep_tanh):
    s = deep_tanh["normal_1"]
    assert min(s["act_std"]) > 0.9  # every layer's tanh pinned near ±1
    assert min(s["saturated"][1:]) > 0.8  # φ'(z) < 0.05 for most units
    g = s["grad_norm"]
    assert g[0] / g[-1] > 1e10  # the first layer's gradient is products of large matrices


def test_small_normal_vanishes_and_zero_is_dead(deep_tanh):
    std = deep_tanh["normal_001"]["act_std"]
    assert std[0] > 0.05 and std[-1] < 1e-30  # each layer multiplies the scale by about 0.01 * sqrt(256)
    assert all(b < a for a, b in zip(std[:20], std[1:20]))
    assert max(deep_tanh["normal_001"]["grad_norm"][:-1]) < 1e-20
    z = deep_tanh["zero"]
    assert max(z["act_std"]) == 0 and max(z["grad_norm"][:-1]) == 0 and z["grad_zero"][0] == 1.0
    assert z["loss"] == pytest.approx(math.log(10), rel=1e-6)  # uniform predictions


def test_relu_wants_he_not_xavier():
    X, y = images(64, seed=2)
    he = layer_stats(deep_mlp(50, 256, "relu", "he")(torch.Generator().manual_seed(0)), X, y)["act_std"]
    xa = layer_stats(deep_mlp(50, 256, "relu", "xavier")(torch.Generator().manual_seed(0)), X, y)["act_std"]
    assert max(he) / min(he) < 10
    assert xa[-1] / xa[0] < 1e-3  # Xavier halves the variance at every ReLU: it vanishes


def test_histograms_are_fractions_of_the_values():
    X, y = images(32)
    s = layer_stats(deep_mlp(2, 64, "tanh", "xavier")(torch.Generator().manual_seed(0)), X, y, bins=20)
    for hist in s["act_hist"] + s["grad_hist"]:
        assert len(hist["edges"]) == 21 and len(hist["fraction"]) == 20
    assert s["act_hist"][0]["fraction"].sum() == pytest.approx(1.0)
    assert s["act_hist"][0]["edges"][0] == -1 and s["act_hist"][0]["edges"][-1] == 1
    assert s["grad_hist"][0]["fraction"].sum() + s["grad_zero"][0] == pytest.approx(1.0)
    assert SATURATED == 0.05


# ------------------------------------------------------------------- symmetry
@pytest.fixture(scope="module")
def sym_data():
    d = small_data(512, 16)
    return d.X_train, d.y_train


def test_equal_initial_weights_stay_equal_under_sgd(sym_data):
    r = symmetry_run(*sym_data, "equal", steps=60)
    assert np.all(r["diff"] == 0) and np.all(r["out_diff"] == 0)  # bit for bit: the two units are one
    assert np.array_equal(r["w"][0], r["w"][1])
    assert not np.all(r["w"][0] == r["w"][0][0])  # the weights moved (from all 0.001), together
    assert np.abs(r["w"][0] - 0.001).max() > 1e-3


@pytest.mark.parametrize("case", ["random", "dropout"])
def test_random_weights_or_dropout_break_the_symmetry(sym_data, case):
    r = symmetry_run(*sym_data, case, steps=60)
    assert r["diff"][-1] > 1e-3 and not np.array_equal(r["w"][0], r["w"][1])
    if case == "dropout":
        assert r["diff"][0] == 0  # it started symmetric


def test_symmetry_nets_start_as_described():
    eq = symmetry_net("equal", c=0.001)
    assert torch.all(eq.hidden.weight == 0.001)
    assert torch.equal(eq.output.weight[:, 0], eq.output.weight[:, 1])
    rnd = symmetry_net("random")
    assert not torch.equal(rnd.hidden.weight[0], rnd.hidden.weight[1])
    with pytest.raises(ValueError):
        symmetry_net("other")


# -------------------------------------------------------------- the experiment
def test_build_trains_and_records_the_gradient_norms_and_is_seeded():
    data = small_data(2048, 128)
    cfg = ini.Config(num_layers=3, num_hiddens=32, num_epochs=2)
    a, b = ini.build(cfg, data, seed=4), ini.build(cfg, data, seed=4)
    a.advance(max_steps=6)
    b.advance(max_steps=6)
    la, lb = [r["loss"] for r in a.history.steps], [r["loss"] for r in b.history.steps]
    assert la == lb and len(la) == 6
    rec = a.history.steps[-1]
    assert rec["grad_norm/linear1"] > 0 and rec["grad_norm/output"] > 0
    a.advance()
    assert a.done and a.history.epochs[-1]["train_loss"] < a.history.epochs[0]["train_loss"] + 1e-9
    assert a.history.steps[-1]["loss"] < a.history.steps[0]["loss"]
    c = ini.build(cfg, data, seed=5)
    c.advance(max_steps=1)
    assert c.history.steps[0]["loss"] != la[0]


def test_the_zero_init_run_learns_only_the_output_bias():
    data = small_data()
    t = ini.build(ini.Config(init="zero", num_layers=3, num_hiddens=16, num_epochs=1), data, seed=0)
    t.advance()
    assert all(float(layer.weight.detach().abs().sum()) == 0 for layer in t.net.hidden)
    assert all(r["grad_norm/linear1"] == 0 for r in t.history.steps)
    assert float(t.net.output.bias.detach().abs().sum()) > 0


def test_initial_stats_are_those_of_the_runs_net_before_its_first_step():
    data = small_data()
    cfg = ini.Config(num_layers=4, num_hiddens=32, init="he")
    X, y = ini.stats_batch(data)
    before = ini.initial_stats(cfg, X, y, seed=9)
    assert set(before) == set(INITS)
    t = ini.build(cfg, data, seed=9)
    live = ini.layer_view({"": t}, data)[""]
    assert live["act_std"] == before["he"]["act_std"] and live["grad_norm"] == before["he"]["grad_norm"]
    assert live["step"] == 0


def test_the_live_view_never_changes_the_run():
    data = small_data()
    cfg = ini.Config(num_layers=3, num_hiddens=32, num_epochs=1, activation="sigmoid")
    quiet, probed = ini.build(cfg, data, seed=1), ini.build(cfg, data, seed=1)
    quiet.advance(max_steps=8)
    views = []
    for _ in range(8):
        views.append(ini.layer_view({"run": probed}, data, size=16)["run"])
        probed.advance(max_steps=1)
    assert [r["loss"] for r in quiet.history.steps] == [r["loss"] for r in probed.history.steps]
    assert all(torch.equal(p, q) for p, q in zip(quiet.net.parameters(), probed.net.parameters()))
    assert views[0]["act_std"] != views[-1]["act_std"]  # the picture follows the training


def test_presets_train_the_five_schemes():
    (preset,) = ini.PRESETS
    cfgs = preset.configs(ini.Config(num_layers=7))
    assert [c.init for c in cfgs.values()] == list(INITS)
    assert all(c.num_layers == 7 for c in cfgs.values())


def test_a_diverging_setting_is_reported_as_diverged_not_raised():
    data = small_data()
    t = ini.build(ini.Config(init="normal_1", activation="relu", num_layers=30, num_hiddens=64, num_epochs=1),
                  data, seed=0)
    t.advance(max_steps=3)
    assert t.diverged and t.done
