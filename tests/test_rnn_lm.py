"""The book's vanilla RNN (sections 9.4-9.6): the scratch cell's equation, the
same function and gradients as nn.RNN given the same weights (both ways), the
language model and its experiment (core.experiments.rnn)."""
from __future__ import annotations

import statistics
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from core.experiments import rnn as ex
from core.models.rnn import RNNLM, RNNScratch, load_weights_into_builtin, load_weights_into_scratch, rnn_lm
from core.train.lm import perplexity


def _randomize(module, seed=1, scale=0.5):
    """Large weights and nonzero biases, so a wrong mapping cannot hide."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * scale)
    return module


def _inputs(num_steps=6, batch=3, num_inputs=5, seed=0):
    return torch.randn(num_steps, batch, num_inputs, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def stand_in():
    return ex.stand_in_corpus()


def test_rnn_step_is_the_books_equation():
    cell = _randomize(RNNScratch(5, 4))
    X = _inputs()
    H0 = torch.randn(3, 4, generator=torch.Generator().manual_seed(2))
    outputs, H = cell(X, H0, record=True)
    assert outputs.shape == (6, 3, 4) and H.shape == (3, 4)
    h = H0
    for t in range(6):  # H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h)
        h = torch.tanh(X[t] @ cell.W_xh + h @ cell.W_hh + cell.b_h)
        assert torch.allclose(outputs[t], h, atol=1e-6)
    assert torch.equal(outputs[-1], H) and torch.equal(cell.trace["H"], outputs.detach())


def test_scratch_init_is_the_books():
    cell = RNNScratch(28, 512, generator=torch.Generator().manual_seed(0))
    assert abs(float(cell.W_hh.detach().std()) - 0.01) < 0.001 and float(cell.b_h.detach().abs().sum()) == 0.0
    a, b = (rnn_lm(28, 16, "rnn", impl)(torch.Generator().manual_seed(3)) for impl in ("scratch", "scratch"))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    concise = rnn_lm(28, 16, "rnn", "concise")(torch.Generator().manual_seed(3))
    assert isinstance(concise.rnn, nn.RNN) and concise.kind == "rnn" and a.kind == "rnn" and a.scratch
    assert float(concise.rnn.weight_hh_l0.detach().abs().max()) <= 1 / 16 ** 0.5


def _outputs_and_grads(scratch: RNNScratch, builtin: nn.RNN, X, H0):
    out_s, H_s = scratch(X, H0)
    out_b, H_b = builtin(X, H0[None])
    w = torch.randn(out_s.shape, generator=torch.Generator().manual_seed(9))  # a loss that weighs every output
    (out_s * w).sum().backward()
    (out_b * w).sum().backward()
    return out_s, H_s, out_b, H_b[0]


def _check_same(scratch: RNNScratch, builtin: nn.RNN):
    X, H0 = _inputs(), torch.randn(3, 4, generator=torch.Generator().manual_seed(4))
    out_s, H_s, out_b, H_b = _outputs_and_grads(scratch, builtin, X, H0)
    assert torch.allclose(out_s, out_b, atol=1e-6) and torch.allclose(H_s, H_b, atol=1e-6)
    assert torch.allclose(scratch.W_xh.grad, builtin.weight_ih_l0.grad.T, atol=1e-5)
    assert torch.allclose(scratch.W_hh.grad, builtin.weight_hh_l0.grad.T, atol=1e-5)
    assert torch.allclose(scratch.b_h.grad, builtin.bias_ih_l0.grad, atol=1e-5)
    assert torch.allclose(scratch.b_h.grad, builtin.bias_hh_l0.grad, atol=1e-5)  # both biases add to A_t


def test_scratch_weights_in_nn_rnn_give_the_same_outputs_and_gradients():
    scratch = _randomize(RNNScratch(5, 4))
    builtin = load_weights_into_builtin(scratch)
    assert isinstance(builtin, nn.RNN) and float(builtin.bias_hh_l0.detach().abs().sum()) == 0.0
    _check_same(scratch, builtin)


def test_nn_rnn_weights_in_the_scratch_cell_give_the_same_outputs_and_gradients():
    builtin = _randomize(nn.RNN(5, 4), seed=3)
    scratch = load_weights_into_scratch(builtin)
    assert isinstance(scratch, RNNScratch)
    assert torch.allclose(scratch.b_h, builtin.bias_ih_l0 + builtin.bias_hh_l0)
    _check_same(scratch, builtin)
    with pytest.raises(ValueError, match="tanh"):
        load_weights_into_scratch(nn.RNN(5, 4, nonlinearity="relu"))


def test_language_models_agree_given_the_same_weights():
    """The whole RNNLM (one-hot input, cell, output layer): scratch and concise, same weights."""
    scratch = rnn_lm(7, 6, "rnn", "scratch")(torch.Generator().manual_seed(0))
    _randomize(scratch, seed=5)
    concise = RNNLM(load_weights_into_builtin(scratch.rnn), 7)
    concise.output.load_state_dict(scratch.output.state_dict())
    X = torch.randint(0, 7, (2, 9), generator=torch.Generator().manual_seed(1))
    (ls, Hs), (lc, Hc) = scratch(X), concise(X)
    assert ls.shape == (2, 9, 7) and Hc.shape == (1, 2, 6)
    assert torch.allclose(ls, lc, atol=1e-5) and torch.allclose(Hs, Hc[0], atol=1e-6)
    ls.logsumexp(-1).sum().backward()
    lc.logsumexp(-1).sum().backward()
    assert torch.allclose(scratch.output.weight.grad, concise.output.weight.grad, atol=1e-5)
    assert torch.allclose(scratch.rnn.W_hh.grad, concise.rnn.weight_hh_l0.grad.T, atol=1e-5)


def test_book_settings():
    b = ex.BOOK
    assert (b.impl, b.partition, b.num_hiddens, b.num_epochs, b.lr, b.batch_size, b.num_steps, b.grad_clip,
            b.max_tokens) == ("scratch", "sequential", 512, 500, 1.0, 32, 35, 1.0, 10_000)
    assert ex.BOOK_VALID_PERPLEXITY == {"scratch": 7.24, "concise": 7.19}
    assert ex.BOOK_TRAIN_PERPLEXITY[("scratch", "sequential")] == 1.0
    assert ex.BOOK_TRAIN_PERPLEXITY[("scratch", "random")] == 1.5


@pytest.mark.parametrize("impl, partition", [("scratch", "sequential"), ("concise", "random")])
def test_trainer_learns_the_stand_in(stand_in, impl, partition):
    corpus, vocab = stand_in
    t = ex.make_trainer(corpus, len(vocab), impl=impl, partition=partition, num_hiddens=32, num_epochs=100,
                        seed=3)
    assert t.train.random == (partition == "random") and t.objective.random == (partition == "random")
    t.advance(max_steps=40)
    losses = [r["loss"] for r in t.history.steps]
    assert statistics.fmean(losses[-8:]) < statistics.fmean(losses[:8])
    assert perplexity(losses[-1]) < len(vocab)  # better than guessing uniformly
    assert t.grad_clip == 1.0 and t.hparams["lr"] == 1.0


def test_same_seed_same_run(stand_in):
    corpus, vocab = stand_in
    runs = []
    for _ in range(2):
        t = ex.make_trainer(corpus, len(vocab), num_hiddens=16, partition="random", seed=11)
        t.advance(max_steps=6)
        runs.append(([r["loss"] for r in t.history.steps], t.net.state_dict()))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(v, runs[1][1][k]) for k, v in runs[0][1].items())


def test_look_generates_and_reads_hidden_states_without_touching_the_run(stand_in):
    corpus, vocab = stand_in
    trainers = {"scratch": ex.make_trainer(corpus, len(vocab), num_hiddens=16, seed=2),
                "nn.RNN": ex.make_trainer(corpus, len(vocab), impl="concise", num_hiddens=16, seed=2)}
    for t in trainers.values():
        t.advance(max_steps=4)
    gens = [t.gen_data.get_state().clone() for t in trainers.values()]
    params = [{k: v.clone() for k, v in t.net.state_dict().items()} for t in trainers.values()]
    seen = ex.look(trainers, (corpus, vocab), prefix="time ", state_text="the time", num_preds=20)
    assert set(seen) == {"scratch", "nn.RNN"}
    for (name, s), t, g, p in zip(seen.items(), trainers.values(), gens, params):
        assert s["text"].startswith("time ") and len(s["text"]) == len("time ") + 20
        H = s["states"]["trained"]["H"]
        assert H.shape == (8, 16) and np.all(np.abs(H) < 1)  # tanh
        assert "untrained" in s["states"]
        assert s["impl"] == ("concise" if name == "nn.RNN" else "scratch")
        assert torch.equal(t.gen_data.get_state(), g) and t.net.training
        assert all(torch.equal(v, p[k]) for k, v in t.net.state_dict().items())
    # the hidden states are the net's: the recurrence by hand on the scratch net
    net = trainers["scratch"].net
    ids = [vocab[c] for c in "the time"]
    h = torch.zeros(16)
    for i in ids:
        h = torch.tanh(net.rnn.W_xh[i] + h @ net.rnn.W_hh + net.rnn.b_h)
    assert np.allclose(seen["scratch"]["states"]["trained"]["H"][-1], h.detach().numpy(), atol=1e-6)


def test_page_defaults_are_smaller_than_the_books():
    assert ex.PAGE.num_hiddens < ex.BOOK.num_hiddens and ex.PAGE.num_epochs < ex.BOOK.num_epochs
    runs = ex.PRESETS[0].configs(ex.PAGE)
    assert {c.impl for c in runs.values()} == {"scratch", "concise"}
    assert replace(ex.PAGE, impl="concise") == runs["nn.RNN"]
