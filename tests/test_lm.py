"""Language-model data, the stateful objective, and a short training run."""
import itertools
import math

import pytest
import torch
from torch import nn

from core.data.vocab import Vocab
from core.models.rnn import predict, rnn_lm
from core.train.lm import LMObjective, SeqBatches, perplexity
from core.train.trainer import Trainer


def test_sequential_batches_continue_each_row():
    data = SeqBatches(list(range(35)), batch_size=2, num_steps=5)
    assert len(data) == 3 and data.num_examples == 30
    batches = list(data.epoch(None))  # offset 0
    assert len(batches) == 3
    X0, _ = batches[0]
    assert X0.tolist() == [[0, 1, 2, 3, 4], [17, 18, 19, 20, 21]]
    for (X, Y), (X2, _) in itertools.pairwise(batches):
        assert X.dtype == torch.int64 and X.shape == (2, 5)
        assert torch.equal(Y, X + 1)
        assert torch.equal(X2[:, 0], X[:, -1] + 1)  # the next minibatch goes on where this one stopped


def test_sequential_offset_comes_from_the_generator():
    data = SeqBatches(list(range(100)), batch_size=2, num_steps=5)
    firsts = []
    for seed in range(30):
        X, _ = next(iter(data.epoch(torch.Generator().manual_seed(seed))))
        firsts.append(int(X[0, 0]))
    assert set(firsts) <= set(range(6)) and len(set(firsts)) > 3
    a = [X.tolist() for X, _ in data.epoch(torch.Generator().manual_seed(7))]
    b = [X.tolist() for X, _ in data.epoch(torch.Generator().manual_seed(7))]
    assert a == b


def test_random_batches_are_shuffled_disjoint_subsequences():
    data = SeqBatches(list(range(35)), batch_size=2, num_steps=5, random=True)
    assert len(data) == 3
    batches = list(data.epoch(torch.Generator().manual_seed(0)))
    starts = []
    for X, Y in batches:
        assert torch.equal(Y, X + 1)
        assert torch.equal(X - X[:, :1], torch.arange(5).expand(2, 5))  # contiguous runs
        starts += X[:, 0].tolist()
    offset = starts[0] % 5
    assert all(s % 5 == offset for s in starts) and len(set(starts)) == len(starts)
    assert starts != sorted(starts) or offset  # shuffled (seed 0) or shifted
    orders = {tuple(int(X[0, 0]) for X, _ in data.epoch(torch.Generator().manual_seed(s))) for s in range(10)}
    assert len(orders) > 3
    ordered = [X[:, 0].tolist() for X, _ in data.epoch(None)]
    assert ordered == [[0, 5], [10, 15], [20, 25]]


def test_too_short_corpus_is_refused():
    with pytest.raises(ValueError):
        SeqBatches(list(range(10)), batch_size=2, num_steps=5)


def _net_and_batches():
    net = rnn_lm(10, 8, "gru", sigma=0.3)(torch.Generator().manual_seed(0))
    data = SeqBatches(torch.randint(0, 10, (200,), generator=torch.Generator().manual_seed(1)), 4, 6)
    return net, list(data.epoch(None))


def test_objective_carries_and_detaches_the_state():
    net, (b1, b2, *_) = _net_and_batches()
    obj = LMObjective()
    obj.start_epoch()
    out1 = obj(net, b1)
    assert out1.n == 24 and out1.metric_sum is None
    assert obj.state.requires_grad
    logits, state = net(b1[0])
    assert torch.isclose(out1.loss, nn.functional.cross_entropy(logits.reshape(-1, 10), b1[1].reshape(-1)))
    out2 = obj(net, b2)
    logits2, _ = net(b2[0], state.detach())
    expected = nn.functional.cross_entropy(logits2.reshape(-1, 10), b2[1].reshape(-1))
    assert torch.isclose(out2.loss, expected)
    out2.loss.backward()  # would fail through a freed graph if the state were not detached
    obj.start_epoch()
    assert obj.state is None


def test_random_partitioning_restarts_the_state():
    net, (b1, b2, *_) = _net_and_batches()
    obj = LMObjective(random=True)
    obj(net, b1)
    out2 = obj(net, b2)
    logits2, _ = net(b2[0])
    assert torch.isclose(out2.loss, nn.functional.cross_entropy(logits2.reshape(-1, 10), b2[1].reshape(-1)))


def test_perplexity():
    assert perplexity(0.0) == 1.0
    assert math.isclose(perplexity(math.log(28)), 28)
    assert perplexity(1e4) == math.inf


def test_engine_clipping_is_the_books_grad_clipping():
    def book_grad_clipping(params, theta):
        norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
        if norm > theta:
            for p in params:
                p.grad[:] *= theta / norm

    grads = []
    for clip in ("book", "torch"):
        net, (b1, *_) = _net_and_batches()
        obj = LMObjective()
        obj(net, b1).loss.mul(50).backward()
        params = [p for p in net.parameters()]
        if clip == "book":
            book_grad_clipping(params, 1.0)
        else:
            nn.utils.clip_grad_norm_(params, 1.0)
        grads.append(torch.cat([p.grad.reshape(-1) for p in params]))
    assert torch.allclose(grads[0], grads[1], atol=1e-6)
    assert math.isclose(float(grads[0].norm()), 1.0, rel_tol=1e-5)


def _train(seed=0, kind="gru", impl="scratch", random=False, num_epochs=15, max_steps=None):
    text = "the time machine " * 50
    vocab = Vocab(list(text))
    data = SeqBatches(vocab[list(text)], batch_size=8, num_steps=10, random=random)
    t = Trainer(rnn_lm(len(vocab), 32, kind, impl), data, objective=LMObjective(random),
                optimizer="sgd", lr=4.0, grad_clip=1.0, num_epochs=num_epochs, seed=seed)
    t.advance(max_steps=max_steps)
    return t, vocab


def test_gru_language_model_learns_the_tiny_corpus():
    t, vocab = _train()
    assert len(vocab) == 10  # <unk> and 9 characters
    ppl = [perplexity(r["train_loss"]) for r in t.history.epochs]
    assert ppl[0] > 5 and ppl[-1] < 1.2
    assert predict("the t", 20, t.net, vocab).startswith("the time machine the")
    losses = [r["loss"] for r in t.history.steps]
    again, _ = _train(max_steps=25)  # same seed: the same first 25 losses, bit for bit
    assert [r["loss"] for r in again.history.steps] == losses[:25]
    other, _ = _train(seed=1, max_steps=25)
    assert [r["loss"] for r in other.history.steps] != losses[:25]


def test_concise_lstm_with_random_partitioning_learns_too():
    t, vocab = _train(kind="lstm", impl="concise", random=True)
    assert perplexity(t.history.epochs[-1]["train_loss"]) < 1.5
    assert predict("the t", 10, t.net, vocab) == "the time machin"


def test_holdout_keeps_the_end_of_the_text_for_validation():
    from core.train.lm import VALID_TOKENS, holdout

    corpus = list(range(100_000))
    train, valid = holdout(corpus)
    assert len(valid) == VALID_TOKENS == 5_000
    assert train + valid == corpus  # disjoint, nothing lost, validation is the end
    short = list(range(1_000))
    train, valid = holdout(short)
    assert len(valid) == 200 and train[-1] + 1 == valid[0]  # at most a fifth


def test_valid_batches_fit_a_short_part_and_give_up_on_a_tiny_one():
    from core.train.lm import valid_batches

    data = valid_batches(list(range(200)), batch_size=32, num_steps=35)
    assert data.batch_size == 4  # (200 - 35 - 1) // 35 rows of 35 steps
    X, Y = next(iter(data.epoch(None)))
    assert X.shape == (4, 35) and torch.equal(Y, X + 1)
    assert valid_batches(list(range(60)), batch_size=32, num_steps=35) is None
