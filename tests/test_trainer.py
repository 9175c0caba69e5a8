"""The training engine: determinism, resumability, resets and live hyperparameters."""
import math

import pytest
import torch
from torch import nn

from core.train.trainer import Batches, Supervised, Trainer, squared_loss


def _regression(n=64, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    w = torch.arange(1.0, d + 1)
    y = X @ w + 0.5 + 0.01 * torch.randn(n, generator=g)
    return X, y.reshape(-1, 1)


class NoisyNet(nn.Module):
    """A net that draws from its `generator`, like the playground's dropout."""

    def __init__(self, g):
        super().__init__()
        self.lin = nn.Linear(5, 1)
        with torch.no_grad():
            self.lin.weight.normal_(0, 1, generator=g)
            self.lin.bias.zero_()
        self.generator = None

    def forward(self, X):
        if self.training:
            mask = (torch.rand(X.shape, generator=self.generator) > 0.2).float() / 0.8
            X = X * mask
        return self.lin(X)


def _linear(num_inputs, num_outputs):
    def net_fn(gen):
        net = nn.Linear(num_inputs, num_outputs)
        with torch.no_grad():
            net.weight.normal_(0, 0.1, generator=gen)
            net.bias.zero_()
        return net

    return net_fn


def make_trainer(seed=0, num_epochs=4, lr=0.05, net_fn=NoisyNet, **kw):
    X, y = _regression()
    Xt, yt = _regression(seed=1)
    return Trainer(net_fn, Batches(X, y, batch_size=8), test=Batches(Xt, yt, batch_size=16, shuffle=False),
                   lr=lr, num_epochs=num_epochs, seed=seed, **kw)


def losses(trainer):
    return [r["loss"] for r in trainer.history.steps]


def test_same_seed_gives_bit_identical_trajectory():
    a, b = make_trainer(seed=3), make_trainer(seed=3)
    a.advance()
    b.advance()
    assert losses(a) == losses(b)
    assert len(losses(a)) == 4 * 8
    c = make_trainer(seed=4)
    c.advance()
    assert losses(c) != losses(a)


def test_chunks_equal_one_go():
    one, chunked = make_trainer(), make_trainer()
    one.advance()
    sizes = [1, 3, 5, 2, 7, 100]
    for s in sizes:
        chunked.advance(max_steps=s)
    assert chunked.done
    assert losses(one) == losses(chunked)
    assert [r["test_loss"] for r in one.history.epochs] == [r["test_loss"] for r in chunked.history.epochs]


def test_time_budget_stops_and_resumes():
    t = make_trainer(num_epochs=50)
    new = t.advance(max_seconds=0.0)  # at least one step
    assert len([r for r in new if "loss" in r]) == 1
    t.advance(max_seconds=0.05)
    assert not t.done or t.step == 50 * 8
    while not t.done:
        t.advance(max_seconds=0.05)
    assert t.step == 400 and t.epoch == 50 and t.progress == 1.0


def test_reset_replays_exactly():
    t = make_trainer()
    first_weights = [p.detach().clone() for p in t.net.parameters()]
    t.advance()
    run1 = losses(t)
    t.reset()
    assert all(torch.equal(a, b) for a, b in zip(first_weights, t.net.parameters()))
    assert t.step == 0 and t.history.steps == []
    t.advance()
    assert losses(t) == run1


def test_mid_run_lr_change_is_applied_next_step():
    t = make_trainer()
    t.advance(max_steps=5)
    t.set_hparams(lr=0.0)
    before = [p.detach().clone() for p in t.net.parameters()]
    t.advance(max_steps=3)
    assert all(torch.equal(a, b) for a, b in zip(before, t.net.parameters()))
    assert t.history.hparams == [{"step": 5, "name": "lr", "value": 0.0}]
    t.set_hparams(lr=0.05)
    t.advance(max_steps=1)
    assert not all(torch.equal(a, b) for a, b in zip(before, t.net.parameters()))


def test_weight_decay_change_only_touches_decay_groups():
    def groups(net):
        return [{"params": [net.lin.weight]}, {"params": [net.lin.bias], "decay": False}]

    t = make_trainer(param_groups=groups)
    t.set_hparams(weight_decay=3.0)
    assert [g["weight_decay"] for g in t.optimizer.param_groups] == [3.0, 0.0]
    with pytest.raises(ValueError):
        t.set_hparams(momentum=0.9)


def test_loss_falls_and_epoch_records_are_complete():
    t = make_trainer(num_epochs=10, extras={"w_norm": lambda net: net.lin.weight.norm().item()})
    t.advance()
    ep = t.history.epochs
    assert len(ep) == 10
    assert ep[-1]["train_loss"] < ep[0]["train_loss"] / 5
    assert ep[-1]["test_loss"] < ep[0]["test_loss"] / 5
    for r in ep:
        assert r["examples_per_sec"] > 0 and r["elapsed"] > 0 and r["w_norm"] > 0
    assert [r["elapsed"] for r in ep] == sorted(r["elapsed"] for r in ep)
    xs, ys = t.history.series("test_loss")
    assert xs == list(range(1, 11)) and len(ys) == 10


def test_advance_epoch_and_progress():
    t = make_trainer(num_epochs=3)
    t.advance(max_steps=3)
    assert 0 < t.progress < 1 / 3
    t.advance_epoch()
    assert t.epoch == 1 and t.step == 8
    t.advance_epoch()
    assert t.epoch == 2 and t.step == 16


def test_accuracy_metric_on_classification():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 2, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long()

    def net_fn(gen):
        net = nn.Linear(2, 2)
        with torch.no_grad():
            net.weight.normal_(0, 0.01, generator=gen)
        return net

    t = Trainer(net_fn, Batches(X, y, batch_size=20), test=Batches(X, y, batch_size=50, shuffle=False),
                objective=Supervised("cross_entropy", accuracy=True), lr=0.5, num_epochs=5)
    t.advance()
    last = t.history.epochs[-1]
    assert 0.9 < last["train_metric"] <= 1.0 and 0.9 < last["test_metric"] <= 1.0


def test_squared_loss_is_the_books():
    y_hat = torch.tensor([[1.0], [3.0]])
    y = torch.tensor([2.0, 3.0])
    assert torch.equal(squared_loss(y_hat, y), torch.tensor([[0.5], [0.0]]))


def test_bad_arguments_are_refused():
    X, y = _regression()
    with pytest.raises(ValueError):
        Batches(X, y[:3], batch_size=4)
    with pytest.raises(ValueError):
        Batches(X, y, batch_size=0)
    with pytest.raises(ValueError):
        Trainer(NoisyNet, Batches(X, y, batch_size=8), optimizer="lbfgs")
    assert math.isclose(make_trainer(num_epochs=0).progress, 1.0)


def test_divergence_stops_the_run():
    t = make_trainer(lr=50.0, num_epochs=20)
    t.advance()
    assert t.diverged and t.done and t.epoch < 20
    assert not math.isfinite(t.history.steps[-1]["loss"])
    t.reset()
    assert not t.diverged


# ------------------------------------------------------------------ phases
def test_phases_run_in_order_and_say_what_comes_next():
    t = make_trainer()
    assert t.phase == "forward"
    for wrong in (t.backward, t.update):
        with pytest.raises(ValueError, match=r"next phase is forward\(\)"):
            wrong()
    fwd = t.forward()
    assert t.phase == "backward" and fwd is t.last_forward
    X, y = fwd.batch
    assert X.shape == (8, 5) and fwd.y_hat.shape == (8, 1)  # Supervised keeps y_hat
    with pytest.raises(ValueError, match=r"forward\(\) called when the step's next phase is backward"):
        t.forward()
    with pytest.raises(ValueError, match="between steps"):
        t.snapshot()
    t.backward()
    assert t.phase == "update" and all(p.grad is not None for p in t.net.parameters())
    assert t.step == 0 and t.history.steps == []
    new = t.update()
    assert t.phase == "forward" and t.step == 1
    assert new == [t.history.steps[0]] and new[0]["loss"] == fwd.loss


def test_a_step_by_phases_is_bit_identical_to_advance():
    fast, phased = make_trainer(), make_trainer()
    fast.advance()
    while not phased.done:
        fwd = phased.forward()
        assert fwd.loss == fwd.loss  # reading the loss for a picture changes nothing
        phased.backward()
        phased.update()
    assert losses(fast) == losses(phased) and len(losses(fast)) == 32
    assert [r["test_loss"] for r in fast.history.epochs] == [r["test_loss"] for r in phased.history.epochs]
    assert all(torch.equal(a, b) for a, b in zip(fast.net.parameters(), phased.net.parameters()))
    with pytest.raises(ValueError, match="done"):
        phased.forward()


def test_advance_finishes_a_step_begun_by_phases():
    one, mixed = make_trainer(), make_trainer()
    one.advance(max_steps=12)
    mixed.advance(max_steps=3)
    mixed.forward()
    mixed.advance(max_steps=1)  # the rest of step 4
    assert mixed.step == 4 and mixed.phase == "forward"
    mixed.forward()
    mixed.backward()
    assert mixed.step_once()[0]["step"] == 5
    mixed.advance(max_steps=7)
    assert losses(one) == losses(mixed)


def test_supervised_keeps_y_hat_for_pictures():
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(40, 2, generator=g), torch.randint(0, 3, (40,), generator=g)
    t = Trainer(_linear(2, 3), Batches(X, y, batch_size=10), objective=Supervised("cross_entropy"))
    fwd = t.forward()
    assert torch.equal(fwd.y_hat, t.net(fwd.batch[0]).detach()) and not fwd.y_hat.requires_grad


# --------------------------------------------------------------- callbacks
def test_callbacks_see_each_event_and_add_to_records():
    seen = []
    t = make_trainer(num_epochs=2)
    t.add_callback("after_forward", lambda tr, r: seen.append(("fwd", tr.phase, r["loss"])))
    t.add_callback("after_backward", lambda tr, r: {"grad_w": float(tr.net.lin.weight.grad.norm())})
    t.add_callback("step_end", lambda tr, r: seen.append(("end", tr.step, r["loss"])))
    t.add_callback("epoch_end", lambda tr, r: {"twice": 2 * r["train_loss"]})
    with pytest.raises(ValueError, match="unknown event"):
        t.add_callback("on_train_batch_end", lambda tr, r: None)
    t.advance()
    assert seen[:2] == [("fwd", "backward", None), ("end", 1, t.history.steps[0]["loss"])]
    assert len(seen) == 2 * 16
    assert all(r["grad_w"] > 0 for r in t.history.steps)
    assert all(r["twice"] == 2 * r["train_loss"] for r in t.history.epochs)
    plain = make_trainer(num_epochs=2)
    plain.advance()
    assert losses(plain) == losses(t)  # callbacks that only look change nothing


def test_extras_are_epoch_end_callbacks():
    def w_norm(net):
        return net.lin.weight.norm().item()

    t = make_trainer(num_epochs=2, extras={"w_norm": w_norm})
    t.advance_epoch()
    assert t.history.epochs[0]["w_norm"] == w_norm(t.net)
    assert "w_norm" in t.extras


# ------------------------------------------------------------------- clock
class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def tick(self, trainer, record):  # an after_forward callback: every step takes 0.1 s
        self.now += 0.1


def test_time_budget_on_an_injected_clock():
    """The budget is checked before each step and a step is never cut: with 0.1 s steps,
    steps start at 0, 0.1, 0.2, 0.3 s (< 0.35), so max_seconds=0.35 runs exactly 4."""
    clock = FakeClock()
    t = make_trainer(num_epochs=3, clock=clock)
    t.add_callback("after_forward", clock.tick)
    t.advance(max_seconds=0.35)
    assert t.step == 4 and t.elapsed == pytest.approx(0.4)
    t.advance(max_seconds=0.25)  # steps start at 0, 0.1, 0.2
    assert t.step == 7
    t.advance(max_seconds=0.0)  # at least one step
    assert t.step == 8 and t.epoch == 1
    t.advance(max_steps=100)
    ep = t.history.epochs
    # 64 examples an epoch in 8 steps of 0.1 s; evaluation takes no time on this clock
    assert [r["examples_per_sec"] for r in ep] == pytest.approx([80.0] * 3)
    assert [r["elapsed"] for r in ep] == pytest.approx([0.8, 1.6, 2.4])


def test_time_budget_with_step_phases_counts_only_the_phases():
    clock = FakeClock()
    t = make_trainer(num_epochs=1, clock=clock)
    t.forward()
    clock.now += 5.0  # a page drawing a picture between phases
    t.backward()
    clock.now += 5.0
    t.update()
    assert t.elapsed == 0.0  # the fake clock did not move during the phases


# ------------------------------------------------------------------ batches
def test_batch_transform_resizes_on_the_fly():
    from core.train.trainer import Resize

    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(10, 1, 28, 28, generator=g), torch.arange(10)
    data = Batches(X, y, batch_size=4, transform=Resize(56))
    batches = list(data.epoch(torch.Generator().manual_seed(1)))
    assert [tuple(b[0].shape) for b in batches] == [(4, 1, 56, 56), (4, 1, 56, 56), (2, 1, 56, 56)]
    assert torch.equal(torch.sort(torch.cat([b[1] for b in batches])).values, y)  # labels untouched
    first = batches[0]
    want = nn.functional.interpolate(X[first[1]], size=56, mode="bilinear", align_corners=False)
    assert torch.equal(first[0], want)
    # nearest-neighbour doubling repeats every pixel 2x2
    near = next(Batches(X, y, batch_size=3, shuffle=False, transform=Resize((56, 56), "nearest")).epoch())
    assert torch.equal(near[0][:, :, ::2, ::2], X[:3]) and torch.equal(near[0][:, :, 1::2, 1::2], X[:3])
    # any callable: here one that centres the images
    centred = next(Batches(X, y, batch_size=10, transform=lambda X, y: (X - X.mean(), y)).epoch())
    assert abs(float(centred[0].mean())) < 1e-6


def test_epoch_from_is_the_tail_of_epoch():
    X, y = _regression(n=30)
    data = Batches(X, y, batch_size=4)
    whole = list(data.epoch(torch.Generator().manual_seed(5)))
    tail = list(data.epoch_from(torch.Generator().manual_seed(5), 3))
    assert len(whole) == 8 and len(tail) == 5
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(whole[3:], tail))


# --------------------------------------------------- metrics and protocols
def test_accuracy_counts_argmax_matches():
    from core.train.metrics import accuracy

    y_hat = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.0, 0.6, 0.4]])
    y = torch.tensor([1, 0, 1, 2])  # argmax 1, 0, 2, 1: the first two match
    assert accuracy.batch_sum(y_hat, y) == 2.0  # the book's accuracy() counts
    assert accuracy(y_hat, y) == 0.5


def test_log_rmse_by_hand():
    from core.train.metrics import log_rmse

    y_hat = torch.tensor([[100.0], [0.5], [250.0]])  # 0.5 is clamped to 1
    y = torch.tensor([[200.0], [2.0], [250.0]])
    errors = [math.log(100 / 200), math.log(1 / 2), 0.0]
    want = math.sqrt(sum(e * e for e in errors) / 3)
    assert log_rmse(y_hat, y) == pytest.approx(want, rel=1e-6)
    assert log_rmse.batch_sum(y_hat, y) == pytest.approx(2 * math.log(2) ** 2, rel=1e-6)


def test_perplexity_by_hand():
    from core.train.metrics import perplexity

    # two tokens over a vocabulary of 2: p(right) = softmax(logits)
    logits = torch.tensor([[[0.0, math.log(3.0)], [0.0, 0.0]]])  # p = 3/4 for token 1, 1/2 for token 0
    Y = torch.tensor([[1, 0]])
    mean_ce = -(math.log(0.75) + math.log(0.5)) / 2
    assert perplexity(logits, Y) == pytest.approx(math.exp(mean_ce), rel=1e-6)
    assert perplexity.count(logits, Y) == 2


def test_epoch_metric_is_the_metric_over_all_examples():
    """log_rmse of an epoch is sqrt of the mean over every example, not the mean of batch values."""
    from core.train.metrics import log_rmse

    g = torch.Generator().manual_seed(0)
    X = torch.rand(30, 3, generator=g) + 1
    y = 10 * X.sum(dim=1, keepdim=True)
    t = Trainer(_linear(3, 1), Batches(X, y, batch_size=7),
                test=Batches(X, y, batch_size=30, shuffle=False),
                objective=Supervised("squared", metric="log_rmse"), lr=0.0, num_epochs=1)
    t.advance()
    rec = t.history.epochs[0]
    with torch.no_grad():
        whole = log_rmse(t.net(X), y)
    assert rec["train_metric"] == pytest.approx(whole, rel=1e-6)  # lr 0: the same net all epoch
    assert rec["test_metric"] == pytest.approx(whole, rel=1e-6)
    assert t.metric.name == "log_rmse"


def test_supervised_metric_forms():
    from core.train.metrics import accuracy, log_rmse

    assert Supervised(accuracy=True).metric is accuracy and Supervised(accuracy=True).accuracy
    assert Supervised(metric=log_rmse).metric is log_rmse and not Supervised(metric=log_rmse).accuracy
    assert Supervised().metric is None
    own = Supervised(metric=lambda y_hat, y: float((y_hat.argmax(1) == y).sum()))
    y_hat, y = torch.tensor([[0.0, 1.0], [1.0, 0.0]]), torch.tensor([1, 1])
    assert own.metric.batch_sum(y_hat, y) == 1.0 and own.metric(y_hat, y) == 0.5
    with pytest.raises(ValueError, match="unknown metric"):
        Supervised(metric="bleu")


def test_protocols_declare_the_parts():
    from core.train.lm import LMObjective, SeqBatches
    from core.train.protocols import DataSource, HasState, Measures, Objective, Seekable, StartsEpochs

    lm = LMObjective()
    assert isinstance(lm, Objective) and isinstance(lm, StartsEpochs) and isinstance(lm, HasState)
    assert isinstance(lm, Measures) and lm.metric is None
    sup = Supervised()
    assert isinstance(sup, Measures) and not isinstance(sup, StartsEpochs) and not isinstance(sup, HasState)
    X, y = _regression()
    for data in (Batches(X, y, batch_size=8), SeqBatches(list(range(100)), 2, 5)):
        assert isinstance(data, DataSource) and isinstance(data, Seekable)
    with pytest.raises(TypeError, match="epoch"):
        Trainer(NoisyNet, [(X, y)])
    with pytest.raises(TypeError, match="objective"):
        Trainer(NoisyNet, Batches(X, y, batch_size=8), objective="squared")


def test_progress_between_epochs():
    t = make_trainer(num_epochs=4)
    t.advance_epoch()
    assert t.progress == 0.25 and t.steps_left_in_epoch == 8
    t.advance(max_steps=2)
    assert t.progress == pytest.approx((1 + 2 / 8) / 4) and t.steps_left_in_epoch == 6
