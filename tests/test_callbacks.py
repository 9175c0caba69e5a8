"""Ready-made callbacks: values checked by hand, and a run with them trains as one without."""
import pytest
import torch
from torch import nn

from core.models.lenet import lenet
from core.train.callbacks import ActivationStats, GradNorms, WeightNorm
from core.train.trainer import Batches, Supervised, Trainer


def _images(n=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def _lenet_run(callbacks=(), num_epochs=2):
    X, y = _images()
    return Trainer(lenet("builtin"), Batches(X, y, batch_size=16), objective=Supervised("cross_entropy"),
                   lr=0.1, num_epochs=num_epochs, seed=0, callbacks=callbacks)


def test_weight_norm_is_the_extras_w_norm():
    def linear_run(**kw):
        g = torch.Generator().manual_seed(0)
        X = torch.randn(20, 30, generator=g)
        y = X[:, :1] + 0.1
        def net_fn(gen):
            net = nn.Linear(30, 1)
            with torch.no_grad():
                net.weight.normal_(0, 1, generator=gen)
                net.bias.zero_()
            return net

        return Trainer(net_fn, Batches(X, y, batch_size=5), lr=0.01, weight_decay=3.0, num_epochs=3, **kw)

    cb = WeightNorm("weight")
    old = linear_run(extras={"w_norm": lambda net: net.weight.norm().item()})
    new = linear_run(callbacks=[(cb.event, cb)])
    old.advance()
    new.advance()
    norms = [r["w_norm"] for r in new.history.epochs]
    assert norms == [r["w_norm"] for r in old.history.epochs] and norms[-1] < norms[0]  # decay shrinks w
    assert norms[-1] == float(new.net.weight.detach().norm())
    with pytest.raises(AttributeError):
        WeightNorm("fc9.weight")(new, {})


def test_grad_norms_per_layer_by_hand():
    seen = {}

    def keep_grads(trainer, record):  # runs after GradNorms, at the same event
        seen[record["step"]] = {n: p.grad.clone() for n, p in trainer.net.named_parameters()}

    cb = GradNorms()
    t = _lenet_run([(cb.event, cb), ("after_backward", keep_grads)])
    t.advance()
    rec = t.history.steps[-1]
    grads = seen[rec["step"]]
    layers = ["conv1", "bn1", "conv2", "bn2", "fc1", "bn3", "fc2", "bn4", "fc3"]
    assert sorted(k for k in rec if k.startswith("grad_norm/")) == sorted(f"grad_norm/{n}" for n in layers)
    for layer in layers:
        want = (grads[f"{layer}.weight"].pow(2).sum() + grads[f"{layer}.bias"].pow(2).sum()).sqrt()
        assert rec[f"grad_norm/{layer}"] == pytest.approx(float(want), rel=1e-5)
    only = GradNorms(["fc3"], prefix="g:")(t, {})
    assert list(only) == ["g:fc3"] and only["g:fc3"] == pytest.approx(rec["grad_norm/fc3"], rel=1e-6)


def test_grad_norms_are_taken_before_clipping():
    cb = GradNorms(["fc3"])
    X, y = _images()
    t = Trainer(lenet(None), Batches(X, y, batch_size=16), objective=Supervised("cross_entropy"),
                lr=0.1, num_epochs=1, grad_clip=1e-4, callbacks=[(cb.event, cb)])
    t.advance(max_steps=1)
    clipped = float(t.net.fc3.weight.grad.norm())
    assert t.history.steps[0]["grad_norm/fc3"] > 10 * clipped


def test_activation_stats_on_the_probe_batch_by_hand():
    X_probe, _ = _images(8, seed=5)
    cb = ActivationStats(X_probe, ["act1", "fc3"])
    t = _lenet_run([(cb.event, cb)])
    t.advance_epoch()
    rec = t.history.epochs[0]
    t.net.eval()
    with torch.no_grad():
        logits = t.net(X_probe)
        act1 = t.net.act1(t.net.bn1(t.net.conv1(X_probe)))
    assert rec["act_mean/fc3"] == pytest.approx(float(logits.mean()), rel=1e-5)
    assert rec["act_std/fc3"] == pytest.approx(float(logits.std(unbiased=False)), rel=1e-5)
    assert rec["act_mean/act1"] == pytest.approx(float(act1.mean()), rel=1e-5)
    assert 0 < rec["act_std/act1"] < 0.5  # sigmoid outputs
    default = ActivationStats(X_probe)(t, {})
    assert len(default) == 2 * len(list(t.net.children()))


def test_a_run_with_every_callback_trains_as_one_without():
    X_probe, _ = _images(8, seed=5)
    cbs = [WeightNorm("fc1.weight", "fc1_norm"), GradNorms(), ActivationStats(X_probe, train=True)]
    plain, watched = _lenet_run(), _lenet_run([(cb.event, cb) for cb in cbs])
    plain.advance()
    watched.advance()
    assert [r["loss"] for r in watched.history.steps] == [r["loss"] for r in plain.history.steps]
    assert all(torch.equal(a, b) for a, b in zip(plain.net.state_dict().values(), watched.net.state_dict().values()))
    assert "fc1_norm" in watched.history.epochs[-1] and "act_std/bn1" in watched.history.epochs[-1]


def test_activation_stats_of_a_recurrent_layer_use_its_outputs():
    from core.models.rnn import rnn_lm
    from core.train.lm import LMObjective, SeqBatches

    X = torch.randint(0, 10, (2, 5), generator=torch.Generator().manual_seed(1))
    t = Trainer(rnn_lm(10, 8, "lstm", "concise"), SeqBatches(list(range(10)) * 5, 2, 5), objective=LMObjective())
    stats = ActivationStats(X, ["rnn"])(t, {})
    with torch.no_grad():
        outputs, _ = t.net.rnn(t.net.one_hot(X))
    assert isinstance(t.net.rnn, nn.LSTM)
    assert stats["act_mean/rnn"] == pytest.approx(float(outputs.mean()), rel=1e-5)
