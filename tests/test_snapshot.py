"""snapshot() / restore(): a rewound run continues bit for bit as the uninterrupted one."""
import dataclasses
import pickle

import pytest
import torch

from core.data.vocab import Vocab
from core.models.lenet import lenet
from core.models.mlp import dropout_mlp
from core.models.rnn import rnn_lm
from core.train.lm import LMObjective, SeqBatches
from core.train.metrics import perplexity
from core.train.trainer import Batches, Snapshot, Supervised, Trainer

NUM_EPOCHS = 3


def dropout_run(optimizer="momentum"):
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(80, 12, generator=g), torch.randint(0, 3, (80,), generator=g)
    Xt, yt = torch.randn(40, 12, generator=g), torch.randint(0, 3, (40,), generator=g)
    net_fn = dropout_mlp(num_inputs=12, num_outputs=3, num_hiddens1=32, num_hiddens2=32, dropout1=0.3, dropout2=0.5)
    return Trainer(net_fn, Batches(X, y, batch_size=16), test=Batches(Xt, yt, batch_size=40, shuffle=False),
                   objective=Supervised("cross_entropy", accuracy=True), optimizer=optimizer, lr=0.1,
                   num_epochs=NUM_EPOCHS, seed=1)


def lm_run(random=False):
    text = "the time machine by h g wells " * 12
    vocab = Vocab(list(text))
    corpus = vocab[list(text)]
    return Trainer(rnn_lm(len(vocab), 16, "gru"), SeqBatches(corpus, 4, 8, random=random),
                   test=SeqBatches(corpus[:120], 2, 8), objective=LMObjective(random, metric=perplexity),
                   optimizer="sgd", lr=2.0, grad_clip=1.0, num_epochs=NUM_EPOCHS, seed=2)


def bn_run(batch_norm="builtin"):
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(48, 1, 28, 28, generator=g), torch.randint(0, 10, (48,), generator=g)
    # evaluation reads the running statistics, so the test loss checks they were restored
    return Trainer(lenet(batch_norm), Batches(X, y, batch_size=16), test=Batches(X[:32], y[:32], batch_size=32),
                   objective=Supervised("cross_entropy", accuracy=True), optimizer="adam", lr=0.01,
                   num_epochs=NUM_EPOCHS, seed=3)


RUNS = {
    "dropout_mlp": dropout_run,
    "lm_sequential": lm_run,
    "lm_random": lambda: lm_run(random=True),
    "bn_lenet": bn_run,
    "bn_lenet_scratch": lambda: bn_run("scratch"),
}


def trace(t):
    """Everything a run computes that does not depend on the wall clock."""
    return ([r["loss"] for r in t.history.steps],
            [(r["train_loss"], r["train_metric"], r["test_loss"], r["test_metric"]) for r in t.history.epochs])


@pytest.fixture(scope="module")
def references():
    out = {}
    for name, make in RUNS.items():
        t = make()
        t.advance()
        out[name] = trace(t)
    return out


@pytest.mark.parametrize("name", RUNS)
def test_restore_replays_the_uninterrupted_run(name, references):
    ref = references[name]
    t = RUNS[name]()
    t.advance_epoch()
    at_epoch = t.snapshot()
    t.advance(max_steps=len(t.train) // 2 + 1)
    mid_epoch = t.snapshot()
    assert mid_epoch.epoch_start is not None and at_epoch.epoch_start is None
    assert 0 < mid_epoch.batch_in_epoch < len(t.train)
    t.advance()
    assert trace(t) == ref  # taking snapshots changes nothing
    for snap in (at_epoch, mid_epoch, at_epoch, mid_epoch):  # each one twice: restoring does not use it up
        t.restore(snap)
        assert (t.step, t.epoch, len(t.history.steps), len(t.history.epochs)) == (
            snap.step, snap.epoch, snap.step, snap.epoch)
        assert trace(t)[0] == ref[0][: snap.step]
        t.advance()
        assert trace(t) == ref


@pytest.mark.parametrize("name", RUNS)
def test_a_fresh_trainer_continues_from_a_snapshot(name, references, tmp_path):
    ref = references[name]
    t = RUNS[name]()
    t.advance(max_steps=len(t.train) + 2)
    snap = t.snapshot(history=True)
    path = tmp_path / "snap.pt"
    snap.save(path)
    loaded = Snapshot.load(path)  # torch.load(weights_only=True): plain values only
    fresh = RUNS[name]()
    fresh.restore(loaded)
    fresh.advance()
    assert trace(fresh) == ref
    # without the records, a fresh trainer still trains on identically; its history starts at the snapshot
    other = RUNS[name]()
    other.restore(pickle.loads(pickle.dumps(t.snapshot())))
    other.advance()
    assert [r["loss"] for r in other.history.steps] == ref[0][snap.step:]


def test_each_part_of_the_snapshot_matters():
    """The tests above can fail: drop a part of the snapshot and the replay goes elsewhere."""
    def replay(make, tamper):
        t = make()
        t.advance(max_steps=len(t.train) + 2)
        snap = tamper(t.snapshot())
        t.advance()
        ref = trace(t)[0]
        t.restore(snap)
        t.advance()
        return trace(t)[0] == ref

    def other_generator(seed):
        return torch.Generator().manual_seed(seed).get_state()

    assert replay(lm_run, lambda s: s)
    assert not replay(lm_run, lambda s: dataclasses.replace(s, objective={"state": None}))  # the carried state
    assert not replay(lm_run, lambda s: dataclasses.replace(s, epoch_start=other_generator(5)))  # the epoch's offset
    assert not replay(dropout_run, lambda s: dataclasses.replace(s, gen_noise=other_generator(5)))  # dropout masks
    assert not replay(dropout_run, lambda s: dataclasses.replace(s, batch_in_epoch=s.batch_in_epoch - 1))
    assert not replay(bn_run, lambda s: dataclasses.replace(s, optimizer=bn_run().optimizer.state_dict()))


def test_snapshot_contents_and_size():
    t = bn_run()
    t.advance(max_steps=2)
    snap = t.snapshot()
    weights = sum(v.numel() * v.element_size() for v in t.net.state_dict().values())
    adam = 2 * sum(p.numel() * 4 for p in t.net.parameters())  # exp_avg, exp_avg_sq
    assert weights + adam < snap.nbytes < weights + adam + 50_000  # plus generator states and Adam's steps
    assert snap.step == 2 and snap.batch_in_epoch == 2 and snap.sums[1] == 32
    assert snap.hparams == t.hparams and snap.objective is None
    # the copies are copies: training on does not change the snapshot
    w = snap.net["conv1.weight"].clone()
    state = next(iter(snap.optimizer["state"].values()))["exp_avg"].clone()
    t.advance(max_steps=2)
    assert torch.equal(snap.net["conv1.weight"], w)
    assert torch.equal(next(iter(snap.optimizer["state"].values()))["exp_avg"], state)


def test_hparams_changed_after_the_snapshot_are_undone():
    t = dropout_run()
    t.advance(max_steps=3)
    snap = t.snapshot()
    t.set_hparams(lr=0.5, momentum=0.1)
    t.advance(max_steps=2)
    t.restore(snap)
    assert t.hparams["lr"] == 0.1 and t.history.hparams == []
    assert [(g["lr"], g["momentum"]) for g in t.optimizer.param_groups] == [(0.1, 0.9)]


def test_a_snapshot_between_phases_is_refused_and_restore_drops_a_half_step():
    t = dropout_run()
    t.advance(max_steps=3)
    snap = t.snapshot()
    t.forward()
    t.backward()
    with pytest.raises(ValueError, match=r"update\(\) is still to run"):
        t.snapshot()
    t.restore(snap)
    assert t.phase == "forward" and t.last_forward is None
    t.advance(max_steps=1)
    ref = dropout_run()
    ref.advance(max_steps=4)
    assert trace(t) == trace(ref)


def test_evaluating_mid_epoch_keeps_the_lm_state():
    ref = lm_run()
    ref.advance(max_steps=7)
    t = lm_run()
    t.advance(max_steps=4)
    state = t.objective.state
    t.evaluate(t.test)
    assert all(torch.equal(a, b) for a, b in zip(t.objective.state, state))
    t.advance(max_steps=3)
    assert trace(t) == trace(ref)
    assert t.history.epochs == [] and ref.metric.name == "perplexity"
