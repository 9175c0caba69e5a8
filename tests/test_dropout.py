"""Dropout: the book's function, the generator-driven module and the dropout MLP."""
import math

import pytest
import torch

from core.models.mlp import Dropout, DropoutMLP, dropout_layer, dropout_mlp
from core.train.trainer import Batches, Supervised, Trainer


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_zeroes_about_p_and_scales_survivors(p):
    g = torch.Generator().manual_seed(0)
    X = torch.rand(100_000, generator=torch.Generator().manual_seed(1)) + 0.5
    Y = dropout_layer(X, p, generator=g)
    dropped = (Y == 0).float().mean().item()
    assert abs(dropped - p) < 0.01  # std of the fraction is ~0.0016
    kept = Y != 0
    assert torch.allclose(Y[kept], X[kept] / (1 - p))
    # the expectation is kept: E[Y] = E[X]
    assert abs(Y.mean().item() - X.mean().item()) < 0.02


def test_dropout_edge_probabilities_and_validation():
    X = torch.arange(16, dtype=torch.float32).reshape(2, 8)
    assert torch.equal(dropout_layer(X, 0.0), X)
    Y = dropout_layer(X, 1.0)
    assert torch.equal(Y, torch.zeros_like(X)) and not torch.isnan(Y).any()
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError):
            dropout_layer(X, bad)
        with pytest.raises(ValueError):
            Dropout(bad)


def test_book_example_rows():
    """The book's check: p=0 keeps X, p=1 zeros it, p=0.5 doubles the kept entries."""
    X = torch.arange(16, dtype=torch.float32).reshape(2, 8)
    Y = dropout_layer(X, 0.5, generator=torch.Generator().manual_seed(3))
    assert set(torch.unique(Y / torch.where(X == 0, 1.0, X)).tolist()) <= {0.0, 2.0}


def test_module_eval_is_identity_and_train_matches_function():
    X = torch.randn(64, 32, generator=torch.Generator().manual_seed(0))
    d = Dropout(0.3)
    d.generator = torch.Generator().manual_seed(7)
    Y = d(X)
    expected = dropout_layer(X, 0.3, generator=torch.Generator().manual_seed(7))
    assert torch.equal(Y, expected)
    assert d.last_mask.dtype == torch.bool and torch.equal(d.last_mask, expected != 0)
    assert torch.equal(d.last_input, X)
    d.eval()
    assert torch.equal(d(X), X) and d.last_mask is None
    d.train()
    d.p = 0.0
    assert torch.equal(d(X), X) and bool(d.last_mask.all())
    d.p = 1.0
    assert torch.equal(d(X), torch.zeros_like(X)) and not bool(d.last_mask.any())


def test_module_uses_its_generator_not_the_global_rng():
    X = torch.ones(1000)
    a, b = Dropout(0.5), Dropout(0.5)
    a.generator = torch.Generator().manual_seed(42)
    b.generator = torch.Generator().manual_seed(42)
    state = torch.get_rng_state()
    ya1, ya2 = a(X), a(X)
    yb1, yb2 = b(X), b(X)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(ya1, yb1) and torch.equal(ya2, yb2)
    assert not torch.equal(ya1, ya2)  # the generator advances
    c = Dropout(0.5, seed=5)  # no generator handed in: its own, seeded
    assert torch.equal(c(X), Dropout(0.5, seed=5)(X))
    assert torch.equal(torch.get_rng_state(), state)


def test_dropout_mlp_structure_and_init():
    net = dropout_mlp(num_inputs=20, num_outputs=3, num_hiddens1=64, num_hiddens2=32)(torch.Generator().manual_seed(0))
    assert isinstance(net, DropoutMLP)
    assert [type(m).__name__ for m in net] == ["Flatten", "Linear", "ReLU", "Dropout", "Linear", "ReLU",
                                              "Dropout", "Linear"]
    assert [d.p for d in net.dropouts] == [0.2, 0.5]
    w = torch.cat([net.hidden1.weight.flatten(), net.hidden2.weight.flatten(), net.output.weight.flatten()])
    assert abs(w.std().item() - 0.01) < 0.001 and abs(w.mean().item()) < 0.001
    assert all(float(m.bias.detach().abs().sum()) == 0 for m in (net.hidden1, net.hidden2, net.output))
    same = dropout_mlp(num_inputs=20, num_outputs=3, num_hiddens1=64, num_hiddens2=32)(torch.Generator().manual_seed(0))
    assert torch.equal(net.hidden1.weight, same.hidden1.weight)
    X = torch.randn(8, 4, 5)
    assert net(X).shape == (8, 3)
    h1, h2 = net.hidden_activations()
    m1, m2 = net.masks()
    assert h1.shape == m1.shape == (8, 64) and h2.shape == m2.shape == (8, 32)
    assert bool((h1 >= 0).all())  # post-ReLU
    net.set_dropout(0.0, 1.0)
    net(X)
    assert bool(net.masks()[0].all()) and not bool(net.masks()[1].any())
    with pytest.raises(ValueError):
        dropout_mlp(dropout1=2.0)


def _blobs(n, seed, num_inputs=20, num_classes=3):
    g = torch.Generator().manual_seed(seed)
    centres = 2.0 * torch.randn(num_classes, num_inputs, generator=torch.Generator().manual_seed(99))
    y = torch.randint(0, num_classes, (n,), generator=g)
    return centres[y] + torch.randn(n, num_inputs, generator=g), y


def test_dropout_mlp_learns_with_the_trainer_and_replays():
    X, y = _blobs(300, 0)
    Xt, yt = _blobs(150, 1)
    net_fn = dropout_mlp(num_inputs=20, num_outputs=3, num_hiddens1=64, num_hiddens2=64)

    def run():
        t = Trainer(net_fn, Batches(X, y, batch_size=30), test=Batches(Xt, yt, batch_size=150, shuffle=False),
                    objective=Supervised("cross_entropy", accuracy=True), lr=0.5, num_epochs=8, seed=0)
        t.advance()
        return t

    t = run()
    first, last = t.history.epochs[0], t.history.epochs[-1]
    assert first["train_loss"] > 0.9 * math.log(3)  # starts near chance
    assert last["train_loss"] < 0.3 and last["test_metric"] > 0.9
    # the trainer handed its noise generator to both dropout layers, so a replay is identical
    assert all(d.generator is t.gen_noise for d in t.net.dropouts)
    assert [r["loss"] for r in run().history.steps] == [r["loss"] for r in t.history.steps]
