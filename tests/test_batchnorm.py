"""Batch normalization from scratch against nn.BatchNorm, and the book's (BN-)LeNet."""
import math

import pytest
import torch
from torch import nn

from core.models.batchnorm import BatchNorm, batch_norm, bn_stats, record_preactivations
from core.models.lenet import layer_shapes, lenet
from core.train.probe import forward_probe
from core.train.trainer import Batches, Supervised, Trainer

TOL = {"atol": 1e-5, "rtol": 1e-5}


def _pair(num_features, num_dims, seed=0):
    """A scratch BatchNorm and a builtin one with the same random gamma and beta."""
    ours = BatchNorm(num_features, num_dims)
    ref = nn.BatchNorm2d(num_features) if num_dims == 4 else nn.BatchNorm1d(num_features)
    g = torch.Generator().manual_seed(seed)
    gamma, beta = 1 + 0.5 * torch.randn(num_features, generator=g), torch.randn(num_features, generator=g)
    with torch.no_grad():
        ours.gamma.copy_(gamma.reshape(ours.gamma.shape))
        ours.beta.copy_(beta.reshape(ours.beta.shape))
        ref.weight.copy_(gamma)
        ref.bias.copy_(beta)
    return ours, ref


@pytest.mark.parametrize("num_dims,shape", [(4, (8, 3, 5, 6)), (2, (16, 7))])
def test_scratch_matches_builtin(num_dims, shape):
    ours, ref = _pair(shape[1], num_dims)
    g = torch.Generator().manual_seed(1)
    for step in range(5):
        X = 3.0 * torch.randn(shape, generator=g) + step  # the statistics drift
        assert torch.allclose(ours(X), ref(X), **TOL)
        assert torch.allclose(ours.moving_mean.reshape(-1), ref.running_mean, **TOL)
        assert torch.allclose(ours.moving_var.reshape(-1), ref.running_var, **TOL)
    ours.eval(), ref.eval()
    X = torch.randn(shape, generator=g)
    assert torch.allclose(ours(X), ref(X), **TOL)
    assert torch.allclose(ours(X[:1]), ref(X[:1]), **TOL)  # one example is fine in eval mode


def test_gradients_match_builtin():
    ours, ref = _pair(4, 4)
    X = torch.randn(6, 4, 3, 3, generator=torch.Generator().manual_seed(2))
    X1, X2 = X.clone().requires_grad_(), X.clone().requires_grad_()
    w = torch.randn(6, 4, 3, 3, generator=torch.Generator().manual_seed(3))
    (ours(X1) * w).sum().backward()
    (ref(X2) * w).sum().backward()
    assert torch.allclose(X1.grad, X2.grad, atol=1e-5)
    assert torch.allclose(ours.gamma.grad.reshape(-1), ref.weight.grad, atol=1e-5)
    assert torch.allclose(ours.beta.grad.reshape(-1), ref.bias.grad, atol=1e-5)


def test_formulas_and_the_books_biased_running_var():
    X = torch.tensor([[1.0, 10.0], [3.0, 20.0], [5.0, 60.0]])  # per feature: mean 3, 30; biased var 8/3, 1400/3
    gamma, beta = torch.ones(2), torch.zeros(2)
    mm, mv = torch.zeros(2), torch.ones(2)
    Y, m1, v1 = batch_norm(X, gamma, beta, mm, mv, eps=0.0, momentum=0.1, training=True)
    assert torch.allclose(Y[:, 0], torch.tensor([-2.0, 0.0, 2.0]) / math.sqrt(8 / 3))
    assert torch.allclose(Y.mean(0), torch.zeros(2), atol=1e-6)
    assert torch.allclose(m1, torch.tensor([0.3, 3.0]))  # 0.9 * 0 + 0.1 * mean
    assert torch.allclose(v1, torch.tensor([0.9 + 0.1 * 4.0, 0.9 + 0.1 * 700.0]))  # unbiased: 8/2, 1400/2
    _, _, v_book = batch_norm(X, gamma, beta, mm, mv, eps=0.0, momentum=0.1, training=True,
                              unbiased_running_var=False)
    assert torch.allclose(v_book, torch.tensor([0.9 + 0.1 * 8 / 3, 0.9 + 0.1 * 1400 / 3]))
    # prediction mode uses the moving statistics, whatever the batch
    Y, m2, v2 = batch_norm(X, gamma + 1, beta + 1, m1, v1, eps=1e-5, momentum=0.1, training=False)
    assert torch.allclose(Y, 2 * (X - m1) / torch.sqrt(v1 + 1e-5) + 1)
    assert torch.equal(m2, m1) and torch.equal(v2, v1)
    # training=None decides like the book: by whether grad is enabled
    with torch.no_grad():
        _, m3, _ = batch_norm(X, gamma, beta, mm, mv, eps=1e-5, momentum=0.1)
    assert torch.equal(m3, mm)
    _, m4, _ = batch_norm(X, gamma, beta, mm, mv, eps=1e-5, momentum=0.1)
    assert torch.allclose(m4, m1)


def test_module_eval_uses_running_stats_and_book_mode():
    bn = BatchNorm(3, 2, unbiased_running_var=False)
    X = torch.randn(10, 3, generator=torch.Generator().manual_seed(4))
    bn(X)
    assert torch.allclose(bn.moving_var.reshape(-1), 0.9 + 0.1 * X.var(0, unbiased=False))
    assert torch.allclose(bn.last_mean, X.mean(0)) and torch.allclose(bn.last_var, X.var(0, unbiased=False))
    bn.eval()
    expected = (X - bn.moving_mean) / torch.sqrt(bn.moving_var + 1e-5)
    before = bn.moving_mean.clone()
    assert torch.allclose(bn(X), expected, atol=1e-6)
    assert torch.equal(bn.moving_mean, before)
    assert {n for n, _ in bn.named_buffers()} == {"moving_mean", "moving_var"}


def _num_params(net):
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("bn", [None, "scratch", "builtin"])
def test_lenet_shapes_and_init(bn):
    net = lenet(bn)(torch.Generator().manual_seed(0))
    X = torch.randn(4, 1, 28, 28)
    assert net(X).shape == (4, 10)
    table = layer_shapes(net)
    convs = [shape for name, _, shape in table if name in ("act1", "pool1", "act2", "pool2", "flatten",
                                                            "act3", "act4", "fc3")]
    assert convs == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (400,), (120,), (84,), (10,)]
    assert _num_params(net) == 61706 + (0 if bn is None else 2 * (6 + 16 + 120 + 84))
    fc1 = net.fc1.weight.detach()
    bound = math.sqrt(6 / (400 + 120))
    assert float(fc1.abs().max()) <= bound and abs(float(fc1.std()) - bound / math.sqrt(3)) < 0.005
    assert all(float(m.bias.detach().abs().sum()) == 0 for m in net if isinstance(m, (nn.Linear, nn.Conv2d)))
    same = lenet(bn)(torch.Generator().manual_seed(0))
    assert torch.equal(same.conv1.weight, net.conv1.weight)
    assert [n for n, _ in net.named_children()][:4] == (["conv1", "act1", "pool1", "conv2"] if bn is None
                                                       else ["conv1", "bn1", "act1", "pool1"])
    with pytest.raises(ValueError):
        lenet("other")
    with pytest.raises(ValueError):
        lenet(activation="gelu!")


def test_scratch_and_builtin_lenet_start_the_same():
    plain = lenet(None)(torch.Generator().manual_seed(0))
    for kind in ("scratch", "builtin"):
        net = lenet(kind)(torch.Generator().manual_seed(0))
        assert torch.equal(net.fc3.weight, plain.fc3.weight)  # BN adds no random draws


def test_preactivations_and_bn_stats():
    net = lenet("builtin")(torch.Generator().manual_seed(0))
    X = torch.randn(32, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    stats = bn_stats(net)
    assert [s["name"] for s in stats] == ["bn1", "bn2", "bn3", "bn4"]
    assert [len(s["gamma"]) for s in stats] == [6, 16, 120, 84]
    assert stats[0]["batch_mean"] is None and torch.equal(stats[0]["running_var"], torch.ones(6))
    pre = record_preactivations(net, X)  # a probe: running statistics are put back
    assert {k: tuple(v.shape) for k, v in pre.items()} == {
        "act1": (32, 6, 28, 28), "act2": (32, 16, 10, 10), "act3": (32, 120), "act4": (32, 84)}
    assert torch.equal(bn_stats(net)[0]["running_mean"], torch.zeros(6))
    assert bn_stats(net)[2]["batch_var"] is None  # the probe's batch statistics are not left behind
    # after BN (gamma 1, beta 0) each feature of the batch has mean 0 and variance var / (var + eps)
    v = forward_probe(net, X, train=True, capture=["bn3"]).inputs["bn3"].var(0, unbiased=False)
    a3 = pre["act3"]
    assert torch.allclose(a3.mean(0), torch.zeros(120), atol=1e-5)
    assert torch.allclose(a3.var(0, unbiased=False), v / (v + 1e-5), atol=1e-4)
    assert not a3.requires_grad and a3.device.type == "cpu"
    # a real training forward: batch statistics recorded, running ones moved by momentum 0.1
    net.train()
    conv1_out = net.conv1(X).detach()
    net(X)
    s = bn_stats(net)[0]
    assert torch.allclose(s["batch_mean"], conv1_out.mean(dim=(0, 2, 3)), atol=1e-6)
    assert torch.allclose(s["batch_var"], conv1_out.var(dim=(0, 2, 3), unbiased=False), atol=1e-6)
    assert torch.allclose(s["running_mean"], 0.1 * s["batch_mean"], atol=1e-6)
    m = conv1_out.numel() // 6
    assert torch.allclose(s["running_var"], 0.9 + 0.1 * s["batch_var"] * m / (m - 1), atol=1e-6)
    # the scratch net reports the same things
    scratch = lenet("scratch")(torch.Generator().manual_seed(0))
    scratch(X)
    s2 = bn_stats(scratch)[0]
    assert s2["kind"] == "scratch" and torch.allclose(s2["running_var"], s["running_var"], atol=1e-5)
    # plain LeNet: pre-activations without BN, no BN layers
    plain = lenet(None)(torch.Generator().manual_seed(0))
    assert bn_stats(plain) == [] and set(record_preactivations(plain, X)) == {"act1", "act2", "act3", "act4"}


def _bars(n, seed):
    """1x28x28 images: class 0 a horizontal bar, class 1 a vertical bar, at a random place, plus noise."""
    g = torch.Generator().manual_seed(seed)
    X = 0.1 * torch.randn(n, 1, 28, 28, generator=g)
    y = torch.randint(0, 2, (n,), generator=g)
    pos = torch.randint(4, 24, (n,), generator=g)
    for i in range(n):
        p = int(pos[i])
        if y[i] == 0:
            X[i, 0, p - 2:p + 2, 4:24] += 1.0
        else:
            X[i, 0, 4:24, p - 2:p + 2] += 1.0
    return X, y


def test_bn_lenet_learns_faster_than_plain_lenet_at_lr_1():
    X, y = _bars(320, 0)
    Xt, yt = _bars(128, 1)

    def run(bn):
        t = Trainer(lenet(bn), Batches(X, y, batch_size=32), test=Batches(Xt, yt, batch_size=128, shuffle=False),
                    objective=Supervised("cross_entropy", accuracy=True), lr=1.0, num_epochs=4, seed=0)
        t.advance()
        return t

    plain, bn, scratch = run(None), run("builtin"), run("scratch")
    # scratch and builtin BN train alike for the first steps
    assert [r["loss"] for r in scratch.history.steps[:5]] == pytest.approx(
        [r["loss"] for r in bn.history.steps[:5]], abs=1e-3)
    bn_last, plain_last = bn.history.epochs[-1], plain.history.epochs[-1]
    assert bn_last["train_loss"] < 0.1 and bn_last["test_metric"] > 0.85
    assert bn_last["train_loss"] < 0.2 * plain_last["train_loss"]  # sigmoid LeNet stalls near ln 2


def test_probe_leaves_dropout_noise_alone():
    from core.models.mlp import dropout_mlp
    net = dropout_mlp(num_inputs=12, num_hiddens1=16, num_hiddens2=16)(torch.Generator().manual_seed(0))
    for d in net.dropouts:
        d.generator = torch.Generator().manual_seed(9)  # one shared generator, like the trainer's
    net.dropout2.generator = net.dropout1.generator
    X = torch.randn(5, 12, generator=torch.Generator().manual_seed(1))
    state = net.dropout1.generator.get_state()
    pre = record_preactivations(net, X)
    assert set(pre) == {"relu1", "relu2"} and pre["relu1"].shape == (5, 16)
    assert torch.equal(net.dropout1.generator.get_state(), state)
