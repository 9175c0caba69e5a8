"""A probe looks inside a net mid-run and leaves the run exactly as it was."""
import pytest
import torch

from core.models.batchnorm import bn_stats
from core.models.lenet import lenet
from core.models.mlp import dropout_mlp
from core.train.probe import forward_probe, probe
from core.train.trainer import Batches, Supervised, Trainer


def _images(n=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def _vectors(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 12, generator=g), torch.randint(0, 3, (n,), generator=g)


NETS = {
    "lenet_builtin_bn": (lambda: lenet("builtin"), _images),
    "lenet_scratch_bn": (lambda: lenet("scratch"), _images),
    "dropout_mlp": (lambda: dropout_mlp(num_inputs=12, num_outputs=3, num_hiddens1=16, num_hiddens2=16,
                                        dropout1=0.3, dropout2=0.5), _vectors),
}


def _run(kind, probe_fn=None, num_epochs=2):
    make, data = NETS[kind]
    X, y = data()
    Xt, yt = data(seed=1)  # evaluation reads the running statistics of batch norm
    t = Trainer(make(), Batches(X, y, batch_size=16), test=Batches(Xt[:32], yt[:32], batch_size=32, shuffle=False),
                objective=Supervised("cross_entropy", accuracy=True), lr=0.1, num_epochs=num_epochs, seed=3)
    if probe_fn is not None:
        t.add_callback("step_end", lambda tr, r: probe_fn(tr, X[:8]))
    t.advance()
    return t


def _careless(trainer, X):
    """What a probe must not be: a training-mode forward that leaves its traces."""
    trainer.net.train()
    with torch.no_grad():
        trainer.net(X)


def _careful(trainer, X):
    with probe(trainer.net, train=True, capture=[name for name, _ in trainer.net.named_children()]) as p:
        trainer.net(X)
    assert p.outputs  # it did see the inside


@pytest.mark.parametrize("kind", sorted(NETS))
def test_probing_after_every_step_changes_nothing(kind):
    def trace(t):
        return [r["loss"] for r in t.history.steps], [r["test_loss"] for r in t.history.epochs]

    plain = _run(kind)
    probed = _run(kind, _careful)
    assert len(trace(plain)[0]) == 2 * len(plain.train)
    assert trace(probed) == trace(plain)
    for (_, a), (_, b) in zip(plain.net.state_dict().items(), probed.net.state_dict().items()):
        assert torch.equal(a, b)
    # and the test can tell: a careless probe moves running statistics (so the test loss, read
    # in eval mode) or draws dropout noise (so the training losses)
    careless = _run(kind, _careless)
    assert trace(careless) != trace(plain)


def test_buffers_generators_modes_and_attributes_are_put_back():
    net = lenet("builtin")(torch.Generator().manual_seed(0))
    X, _ = _images(8)
    net.train()
    net(X)  # now every BN layer has running statistics and a last batch
    net.bn2.eval()  # a mixed mode the probe must keep
    buffers = {k: v.clone() for k, v in net.named_buffers()}
    last = {name: (m.last_mean, m.last_var) for name, m in net.named_modules() if hasattr(m, "last_mean")}
    g = torch.Generator().manual_seed(7)
    g_state = g.get_state()
    with probe(net, train=True, generators=[g]):
        net(X[:4] + 1)
        torch.rand(3, generator=g)
        assert all(m.training for m in net.modules())
    assert all(torch.equal(v, buffers[k]) for k, v in net.named_buffers())
    assert torch.equal(g.get_state(), g_state)
    assert not net.bn2.training and net.bn1.training
    for name, (mean, var) in last.items():
        m = net.get_submodule(name)
        assert m.last_mean is mean and m.last_var is var
    # the scratch BatchNorm assigns new buffer tensors: the originals come back
    scratch = lenet("scratch")(torch.Generator().manual_seed(0))
    before = {k: v for k, v in scratch.named_buffers()}
    values = {k: v.clone() for k, v in before.items()}
    with probe(scratch, train=True):
        scratch(X)
        assert any(v is not before[k] for k, v in scratch.named_buffers())
    assert all(v is before[k] and torch.equal(v, values[k]) for k, v in scratch.named_buffers())


def test_dropout_generator_attributes_and_last_mask_are_put_back():
    net = dropout_mlp(num_inputs=12, num_hiddens1=16, num_hiddens2=16)(torch.Generator().manual_seed(0))
    run_gen = torch.Generator().manual_seed(9)
    for d in net.dropouts:
        d.generator = run_gen
    X, _ = _vectors(5)
    net(X)
    masks, state = net.masks(), run_gen.get_state()
    with probe(net, train=True):
        net(X)
        assert net.masks()[0] is not masks[0]
    assert torch.equal(run_gen.get_state(), state) and net.masks()[0] is masks[0]
    # seed=: a picture generator of its own, the same masks every time, the run's generator untouched
    pictures = []
    for _ in range(2):
        with probe(net, train=True, seed=4, capture=["dropout1"]) as p:
            net(X)
            assert net.dropout1.generator is not run_gen and net.dropout1.generator is net.dropout2.generator
        pictures.append(p.outputs["dropout1"])
    assert torch.equal(pictures[0], pictures[1]) and net.dropout1.generator is run_gen
    assert torch.equal(run_gen.get_state(), state)


def test_capture_returns_inputs_and_outputs():
    net = lenet("builtin")(torch.Generator().manual_seed(0))
    X, _ = _images(6)
    result = forward_probe(net, X, train=False, capture=["conv1", "act3", "fc3"])
    net.eval()
    with torch.no_grad():
        conv1 = net.conv1(X)
        want = net(X)
    assert torch.equal(result.inputs["conv1"], X) and torch.equal(result.outputs["conv1"], conv1)
    assert torch.equal(result.output, want) and torch.equal(result.outputs["fc3"], want)
    assert torch.equal(result.outputs["act3"], torch.sigmoid(result.inputs["act3"]))
    assert not result.output.requires_grad
    with pytest.raises(KeyError, match="conv9"), probe(net, capture=["conv9"]):
        pass


def test_body_errors_still_put_back_and_hooks_are_removed():
    net = lenet("builtin")(torch.Generator().manual_seed(0))
    X, _ = _images(8)
    rm = net.bn1.running_mean.clone()
    with pytest.raises(RuntimeError, match="boom"), probe(net, train=True, capture=["bn1"]):
        net(X)
        raise RuntimeError("boom")
    assert torch.equal(net.bn1.running_mean, rm) and not net.bn1._forward_hooks


def test_trainer_probe_keeps_the_runs_generators():
    X, y = _vectors()
    t = Trainer(NETS["dropout_mlp"][0](), Batches(X, y, batch_size=16),
                objective=Supervised("cross_entropy"), lr=0.1, num_epochs=1)
    t.advance(max_steps=2)
    states = [g.get_state() for g in (t.gen_init, t.gen_data, t.gen_noise)]
    stats = bn_stats(t.net)
    with t.probe(train=True) as p:
        t.net(X[:4])
        torch.randn(2, generator=t.gen_init)
    assert p.inputs == {} and stats == []
    assert all(torch.equal(g.get_state(), s) for g, s in zip((t.gen_init, t.gen_data, t.gen_noise), states))
