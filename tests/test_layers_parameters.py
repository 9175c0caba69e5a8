"""Layers, modules and parameters (book 6.1-6.5): the inspector's counts, shapes
and statistics against the book's formulas and torch, the initializers'
distributions, lazy layers, the tied layer's gradient, the custom layers."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from core.experiments import layers_parameters as lp
from core.models import builders


def linear_count(n_in: int, n_out: int) -> int:
    return (n_in + 1) * n_out


# ------------------------------------------------------------------ the inspector
def test_inspect_counts_shapes_and_statistics_of_the_books_mlp():
    net, X = lp.build_net("mlp", seed=0)
    info = lp.inspect(net, X)
    assert info["total"] == linear_count(20, 256) + linear_count(256, 10) == 7946
    assert [(r["name"], r["shape"], r["count"]) for r in info["parameters"]] == [
        ("hidden.weight", (256, 20), 5120), ("hidden.bias", (256,), 256),
        ("out.weight", (10, 256), 2560), ("out.bias", (10,), 10)]
    rows = {r["name"]: r for r in info["modules"]}
    assert rows[""]["class"] == "MLP" and rows[""]["outputs"] == [(2, 10)] and info["output"] == (2, 10)
    assert rows["hidden"]["outputs"] == [(2, 256)] and rows["hidden"]["params"] == 5376
    assert rows["out"]["depth"] == 1 and rows[""]["params"] == 0
    params = dict(net.named_parameters())
    for r in info["parameters"]:
        p = params[r["name"]].detach().double()
        assert r["mean"] == pytest.approx(float(p.mean()), rel=1e-12, abs=1e-15)
        assert r["std"] == pytest.approx(float(p.std(unbiased=False)), rel=1e-12)
        assert (r["min"], r["max"]) == (float(p.min()), float(p.max()))


def test_inspect_leaves_parameters_mode_and_the_global_random_stream_alone():
    net, X = lp.build_net("lenet", seed=3)
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    rng = torch.get_rng_state()
    info = lp.inspect(net, X)
    assert net.training and all(m.training for m in net.modules())
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert info["output"] == (2, 10)
    shapes = {r["name"]: r["outputs"][0] for r in info["modules"] if r["outputs"]}
    assert shapes["conv1"] == (2, 6, 28, 28) and shapes["pool2"] == (2, 16, 5, 5) and shapes["fc1"] == (2, 120)
    assert info["total"] == (6 * 25 + 6) + (16 * 6 * 25 + 16) + linear_count(400, 120) + linear_count(120, 84) \
        + linear_count(84, 10)


def test_a_tied_layer_is_one_set_of_parameters_used_twice():
    net, X = lp.build_net("tied", seed=0)
    info = lp.inspect(net, X)
    assert info["total"] == linear_count(4, 8) + linear_count(8, 8) + linear_count(8, 1) == 121
    assert sum(p.numel() for p in net.parameters()) == 121
    shared = next(r for r in info["parameters"] if r["name"] == "2.weight")
    assert shared["also"] == ["4.weight"]
    rows = {r["name"]: r for r in info["modules"]}
    assert rows["4"]["same_as"] == "2" and rows["2"]["same_as"] is None
    assert rows["2"]["outputs"] == [(2, 8), (2, 8)]  # a hook on the shared module fires at both uses
    dot = lp.module_dot(info)
    assert "(called 2×)" in dot and 'label="4 (same module)"' in dot and "style=dashed" in dot


def test_fixed_hidden_mlp_reuses_its_linear_and_holds_a_constant():
    net, X = lp.build_net("fixed_hidden", seed=0)
    info = lp.inspect(net, X)
    rows = {r["name"]: r for r in info["modules"]}
    assert rows["linear"]["outputs"] == [(2, 20), (2, 20)]
    assert info["output"] == () and info["total"] == linear_count(20, 20)
    assert info["constants"] == [{"name": "rand_weight", "shape": (20, 20)}]
    with torch.no_grad():
        y = net(X)
    assert y.shape == () and abs(float(y)) <= 20  # the loop halves until sum |X| <= 1 (of 40 entries)


def test_nested_modules_have_dotted_names_down_the_tree():
    net, X = lp.build_net("chimera", seed=0)
    info = lp.inspect(net, X)
    names = [r["name"] for r in info["parameters"]]
    assert names[:2] == ["0.net.0.weight", "0.net.0.bias"] and "2.linear.weight" in names
    depth = {r["name"]: r["depth"] for r in info["modules"]}
    assert depth["0.net.2"] == 3 and depth["0"] == 1 and depth[""] == 0
    assert info["total"] == (linear_count(20, 64) + linear_count(64, 32) + linear_count(32, 16)
                             + linear_count(16, 20) + linear_count(20, 20))
    dot = lp.module_dot(info, "chimera")
    for r in info["modules"]:
        assert f"{r['name'] or 'chimera'}: {r['class']}" in dot


@pytest.mark.parametrize("key", list(lp.NETS))
def test_every_net_is_seeded_and_runs_on_its_sample_input(key):
    rng = torch.get_rng_state()
    a, X = lp.build_net(key, seed=5)
    b, X2 = lp.build_net(key, seed=5)
    c, _ = lp.build_net(key, seed=6)
    assert torch.equal(torch.get_rng_state(), rng)  # no draw from the global generator
    assert torch.equal(X, X2) and tuple(X.shape) == lp.NETS[key].input_shape
    pa, pb, pc = (list(n.parameters()) for n in (a, b, c))
    assert all(torch.equal(p, q) for p, q in zip(pa, pb))
    assert not all(torch.equal(p, q) for p, q in zip(pa, pc))
    assert lp.inspect(a, X)["output"] is not None


def test_the_config_offers_every_net_and_initializer():
    from core.experiments import schema

    controls = schema.controls(lp.Config)
    assert controls["net"].options == tuple(lp.NETS) and controls["init"].options == tuple(lp.INITS)
    assert lp.Config().num_inputs == 20 and lp.Config().batch_size == 2  # the book's X = torch.rand(2, 20)


def test_format_shape():
    assert lp.format_shape((2, 256)) == "2 × 256" and lp.format_shape(()) == "scalar"
    assert lp.format_shape(None) == "?" and lp.format_shape(((2, 3), (4,))) == "(2 × 3, 4)"


# ------------------------------------------------------------------ initializers
def _linear(n_in=256, n_out=20, seed=0):
    return builders.torch_default_init_(nn.Linear(n_in, n_out), torch.Generator().manual_seed(seed))


def test_pytorchs_default_drawn_from_a_generator_keeps_its_bound():
    net = _linear(256, 64)
    bound = 1 / math.sqrt(256)
    for p in (net.weight.detach(), net.bias.detach()):
        assert float(p.abs().max()) <= bound and float(p.abs().max()) > 0.9 * bound


def test_my_init_zeroes_about_half_and_keeps_the_rest_between_5_and_10():
    net = lp.initialize(_linear(256, 20), "my_init", torch.Generator().manual_seed(1))
    w = net.weight.detach()
    zeros = float((w == 0).double().mean())
    assert abs(zeros - 0.5) < 0.04  # 5120 weights: the standard error is 0.007
    kept = w[w != 0].abs()
    assert float(kept.min()) >= 5 and float(kept.max()) <= 10
    assert lp.weight_histograms(net)[0]["zeros"] == pytest.approx(zeros)


def test_xavier_stays_inside_its_bound_and_fills_it():
    net = lp.initialize(_linear(256, 20), "xavier", torch.Generator().manual_seed(2))
    bound = math.sqrt(6 / (256 + 20))
    assert lp.xavier_bound(net.weight) == pytest.approx(bound)
    w = net.weight.detach()
    top = float(w.abs().max())
    assert top <= bound and top > 0.99 * bound
    assert float(w.var()) == pytest.approx(bound ** 2 / 3, rel=0.06)  # U(-a, a): variance a²/3


def test_constant_normal_and_zeros_are_the_books():
    gen = torch.Generator().manual_seed(0)
    net = lp.initialize(_linear(), "constant", gen)
    assert torch.equal(net.weight, torch.ones(20, 256)) and torch.equal(net.bias, torch.zeros(20))
    net = lp.initialize(_linear(), "normal", gen)
    w = net.weight.detach()
    assert float(w.std()) == pytest.approx(0.01, rel=0.05) and abs(float(w.mean())) < 1e-3
    assert torch.equal(net.bias, torch.zeros(20))
    net = lp.initialize(_linear(), "zeros", gen)
    assert not net.weight.any() and not net.bias.any()
    hist = lp.weight_histograms(net)[0]
    assert hist["counts"].tolist() == [256 * 20] and hist["zeros"] == 1.0


def test_initializers_are_seeded_and_default_leaves_the_net_alone():
    for scheme in ("normal", "xavier", "my_init"):
        a = lp.initialize(_linear(), scheme, torch.Generator().manual_seed(4))
        b = lp.initialize(_linear(), scheme, torch.Generator().manual_seed(4))
        assert torch.equal(a.weight, b.weight)
    net = _linear()
    w = net.weight.clone()
    assert torch.equal(lp.initialize(net, "default", torch.Generator()).weight, w)
    with pytest.raises(ValueError):
        lp.initialize(net, "ones", torch.Generator())


def test_initializers_reach_every_weight_matrix_of_a_net_and_the_histograms_count_them():
    net, _ = lp.build_net("lenet", "constant", seed=0)
    hists = lp.weight_histograms(net)
    assert [h["name"] for h in hists] == ["conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight", "fc3.weight"]
    assert all(bool((m.weight == 1).all()) for _, m in lp.weights(net))
    net, _ = lp.build_net("my_linear", "xavier", seed=0)  # MyLinear's own (in, out) weight too
    for h, (_, m) in zip(lp.weight_histograms(net, bins=10), lp.weights(net)):
        assert int(h["counts"].sum()) == m.weight.numel() and len(h["edges"]) == 11
        assert float(m.weight.detach().abs().max()) <= h["xavier_bound"]


# ---------------------------------------------------- deferred initialization
@pytest.mark.parametrize("num_inputs", [1, 7, 20])
def test_lazy_shapes_appear_after_the_first_batch_and_equal_the_eager_nets(num_inputs):
    d = lp.lazy_demo(num_inputs, seed=0)
    assert [r["shape"] for r in d["before"]["parameters"]] == [None] * 4
    assert d["before"]["uninitialized"] == 4 and d["before"]["total"] == 0
    after = [r["shape"] for r in d["after"]["parameters"]]
    assert after == [r["shape"] for r in d["eager"]["parameters"]] == [(256, num_inputs), (256,), (10, 256), (10,)]
    assert d["after"]["uninitialized"] == 0 and d["after"]["total"] == linear_count(num_inputs, 256) + 2570
    for p, q in zip(d["net"].parameters(), d["eager_net"].parameters()):  # drawn from the same seed, the same way
        assert torch.equal(p, q)
    assert d["after"]["output"] == (2, 10)


# ------------------------------------------------------------- tied parameters
def test_the_shared_layers_gradient_is_the_sum_of_both_uses():
    d = lp.shared_demo(seed=0, batch_size=32)
    assert d["same_object"] and d["same_storage"] and all(d["book_check"])
    assert d["loss"] == d["untied_loss"]  # untying keeps the values
    torch.testing.assert_close(d["grad"], d["use1"] + d["use2"], rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(d["bias_grad"], d["bias_use1"] + d["bias_use2"], rtol=1e-6, atol=1e-7)
    assert d["max_diff"] < 1e-6
    assert d["use1"].abs().sum() > 0 and d["use2"].abs().sum() > 0
    assert not torch.allclose(d["grad"], d["use1"]) and not torch.allclose(d["grad"], d["use2"])


@pytest.mark.parametrize("batch_size", [2, 32])
def test_each_uses_contribution_is_the_chain_rule_by_hand(batch_size):
    d = lp.shared_demo(seed=1, batch_size=batch_size)
    net, X = d["net"], d["X"]
    W0, b0, W, b, W6 = net[0].weight, net[0].bias, net[2].weight, net[2].bias, net[6].weight
    with torch.no_grad():
        h1 = F.relu(X @ W0.T + b0)
        z2 = h1 @ W.T + b
        h2 = F.relu(z2)
        z4 = h2 @ W.T + b
        g4 = W6.expand(X.shape[0], -1) * (z4 > 0)  # dL/dz4 for L = sum(net(X))
        g2 = (g4 @ W) * (z2 > 0)  # dL/dz2
        torch.testing.assert_close(d["use2"], g4.T @ h2)  # the use at 4 sees h2
        torch.testing.assert_close(d["use1"], g2.T @ h1)  # the use at 2 sees h1


# ---------------------------------------------------------------- custom layers
def test_centered_layer_has_mean_zero():
    d = lp.centered_demo(seed=0)
    assert d["y"].tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0]  # the book's output
    assert d["Y"].shape == (4, 128) and abs(d["mean"]) < 1e-6 and abs(d["pre_mean"]) > 1e-4


def test_my_linear_equals_f_linear_with_the_same_weights_and_learns():
    d = lp.my_linear_demo(seed=0)
    assert d["weight"].shape == (5, 3) and d["bias"].shape == (3,)
    torch.testing.assert_close(d["out"], d["ref"])
    assert d["max_diff"] < 1e-6 and bool((d["out"] >= 0).all())
    assert d["net_out"].shape == (2, 1)
    layer = builders.MyLinear(5, 3, gen=torch.Generator().manual_seed(0))
    layer(torch.ones(2, 5) * 3).sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
