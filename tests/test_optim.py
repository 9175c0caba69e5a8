"""Optimizers by name: the book's scratch ones against torch's built-ins, and live hyperparameters."""
import pytest
import torch
from torch import nn

from core.train.optim import (
    OPTIMIZERS,
    AdagradScratch,
    AdamScratch,
    MomentumScratch,
    RMSPropScratch,
    SGDScratch,
    default_hparams,
    hparam_names,
    make_optimizer,
)
from core.train.trainer import Batches, Trainer


def _problem(seed=0):
    """A small regression net and data: two layers, so every update equation meets
    gradients of different sizes; weight decay on the first layer only."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(32, 4, generator=g)
    y = torch.sin(X.sum(dim=1, keepdim=True))
    net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=g))
    return net, X, y


def _train(make, steps=25, weight_decay=0.0):
    net, X, y = _problem()
    opt = make([{"params": net[0].parameters(), "weight_decay": weight_decay},
                {"params": net[2].parameters(), "weight_decay": 0.0}])
    for _ in range(steps):
        opt.zero_grad()
        ((net(X) - y) ** 2).mean().backward()
        opt.step()
    return torch.cat([p.detach().reshape(-1) for p in net.parameters()])


def _moved(params):
    net, _, _ = _problem()
    return float((params - torch.cat([p.detach().reshape(-1) for p in net.parameters()])).abs().max())


# scratch (the book's equations) vs the built-in computing the same update; eps is set so the two
# place it alike: the book adds it inside the square root, torch outside, which a tiny eps hides
PAIRS = {
    "sgd": (lambda g: SGDScratch(g, lr=0.1), lambda g: torch.optim.SGD(g, lr=0.1)),
    "momentum": (lambda g: MomentumScratch(g, lr=0.05, momentum=0.9),
                 lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9)),
    "adagrad": (lambda g: AdagradScratch(g, lr=0.1, eps=1e-12),
                lambda g: torch.optim.Adagrad(g, lr=0.1, eps=1e-12)),
    "rmsprop": (lambda g: RMSPropScratch(g, lr=0.01, gamma=0.9, eps=1e-12),
                lambda g: torch.optim.RMSprop(g, lr=0.01, alpha=0.9, eps=1e-12)),
    "adam": (lambda g: AdamScratch(g, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8),
             lambda g: torch.optim.Adam(g, lr=0.01, betas=(0.9, 0.999), eps=1e-8)),
}


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_scratch_matches_builtin(name, weight_decay):
    scratch, builtin = PAIRS[name]
    ours, theirs = _train(scratch, weight_decay=weight_decay), _train(builtin, weight_decay=weight_decay)
    assert _moved(ours) > 1e-2  # the parameters really moved
    assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_pairs_differ_when_they_should():
    # the comparison can fail: momentum 0.9 is not momentum 0.5, Adam is not SGD
    a = _train(lambda g: MomentumScratch(g, lr=0.05, momentum=0.9))
    b = _train(lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.5))
    assert not torch.allclose(a, b, rtol=1e-3)
    assert not torch.allclose(_train(PAIRS["adam"][0]), _train(PAIRS["sgd"][0]), rtol=1e-3)


def test_first_steps_by_hand():
    # one parameter w = 1 with loss w^2 / 2: g = w
    def run(opt_cls, steps, **kw):
        w = nn.Parameter(torch.tensor([1.0]))
        opt = opt_cls([w], **kw)
        for _ in range(steps):
            opt.zero_grad()
            (w ** 2 / 2).sum().backward()
            opt.step()
        return float(w.detach())

    assert run(SGDScratch, 1, lr=0.1) == pytest.approx(0.9)
    # momentum: v1 = 1, w1 = 0.9; v2 = 0.5 * 1 + 0.9 = 1.4, w2 = 0.9 - 0.14 = 0.76
    assert run(MomentumScratch, 2, lr=0.1, momentum=0.5) == pytest.approx(0.76)
    # adagrad: s = 1, w = 1 - 0.1 * 1 / sqrt(1 + 0) = 0.9
    assert run(AdagradScratch, 1, lr=0.1, eps=0.0) == pytest.approx(0.9)
    # rmsprop: s = 0.1 * 1, w = 1 - 0.01 / sqrt(0.1)
    assert run(RMSPropScratch, 1, lr=0.01, gamma=0.9, eps=0.0) == pytest.approx(1 - 0.01 / 0.1 ** 0.5)
    # adam, first step: v_hat = g, s_hat = g^2, so w = 1 - lr * 1 / (1 + eps)
    assert run(AdamScratch, 1, lr=0.01, eps=0.0) == pytest.approx(0.99)


def test_factory_names_and_defaults():
    assert set(OPTIMIZERS) == {"sgd", "momentum", "adagrad", "rmsprop", "adam", "sgd_scratch", "momentum_scratch",
                               "adagrad_scratch", "rmsprop_scratch", "adam_scratch"}
    net, _, _ = _problem()
    for name in OPTIMIZERS:
        opt = make_optimizer(name, net.parameters(), lr=0.01)
        assert opt.param_groups[0]["lr"] == 0.01
        assert set(hparam_names(name)) <= set(opt.param_groups[0])
    assert make_optimizer("momentum", net.parameters()).param_groups[0]["momentum"] == 0.9
    assert make_optimizer("sgd", net.parameters()).param_groups[0]["momentum"] == 0
    assert default_hparams("adam", lr=0.5, betas=[0.8, 0.9])["betas"] == (0.8, 0.9)
    with pytest.raises(ValueError, match="no hyperparameter 'momentum'"):
        default_hparams("adam", momentum=0.9)
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lbfgs", net.parameters())


def _trainer(optimizer, **kw):
    net, X, y = _problem()

    def net_fn(gen):
        n, _, _ = _problem()
        return n

    return Trainer(net_fn, Batches(X, y, batch_size=8), optimizer=optimizer, num_epochs=3, **kw)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_trainer_trains_with_every_optimizer(name):
    t = _trainer(name, lr=0.01)
    t.advance()
    ep = t.history.epochs
    assert len(ep) == 3 and ep[-1]["train_loss"] < ep[0]["train_loss"]


def test_trainer_hparams_by_optimizer():
    t = _trainer("momentum", lr=0.05, hparams={"momentum": 0.5})
    assert t.hparams == {"lr": 0.05, "weight_decay": 0.0, "momentum": 0.5}
    assert t.optimizer.param_groups[0]["momentum"] == 0.5
    with pytest.raises(ValueError):
        _trainer("sgd", hparams={"momentum": 0.9})  # plain SGD has none: use "momentum"


@pytest.mark.parametrize("name,changes", [
    ("momentum", {"momentum": 0.0}),
    ("adam", {"betas": (0.5, 0.9), "eps": 1e-3}),
    ("rmsprop", {"alpha": 0.5}),
    ("adagrad", {"eps": 1e-2}),
    ("adam_scratch", {"beta1": 0.5, "beta2": 0.9}),
    ("rmsprop_scratch", {"gamma": 0.5}),
])
def test_set_hparams_mid_run_reaches_the_optimizer_at_the_next_step(name, changes):
    """set_hparams after 5 steps trains as if the optimizer's groups had been given the new
    values by hand at that point, and differently from a run that keeps the old ones."""
    t, by_hand, plain = (_trainer(name, lr=0.01) for _ in range(3))
    for run in (t, by_hand, plain):
        run.advance(max_steps=5)
    t.set_hparams(**changes)
    for g in by_hand.optimizer.param_groups:
        g.update(changes)
    for run in (t, by_hand, plain):
        run.advance(max_steps=5)
    after = [[r["loss"] for r in run.history.steps[5:]] for run in (t, by_hand, plain)]
    assert after[0] == after[1] and after[0] != after[2]
    assert [r["loss"] for r in t.history.steps[:6]] == [r["loss"] for r in plain.history.steps[:6]]
    assert t.hparams == {**plain.hparams, **changes}
    assert [(h["name"], h["step"]) for h in t.history.hparams] == [(k, 5) for k in changes]


def test_unknown_hparam_changes_nothing():
    t = _trainer("adam", lr=0.01)
    with pytest.raises(ValueError, match="momentum"):
        t.set_hparams(lr=0.5, momentum=0.9)
    assert t.hparams["lr"] == 0.01 and t.optimizer.param_groups[0]["lr"] == 0.01
