"""Deep RNNs (10.3): the stacked scratch net, nn.GRU/nn.LSTM(num_layers) in
the language model, per-layer hidden states, the experiment's set-up."""
from __future__ import annotations

import statistics
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from core.experiments import deep_rnn as dr
from core.experiments.gru_lstm import stand_in_corpus
from core.models.rnn import StackedScratch, builtin_layer, layer_states, rnn_lm, stack_into_builtin


@pytest.fixture(scope="module")
def stand_in():
    return stand_in_corpus()


def _spread(module: nn.Module, seed: int = 0) -> None:
    """Weights large enough that every layer matters (the book's N(0, 0.01²) is nearly linear)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0, 0.4, generator=gen)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
@pytest.mark.parametrize("impl", ["scratch", "concise"])
@pytest.mark.parametrize("num_layers", [1, 2, 3, 4])
def test_output_and_state_shapes(kind, impl, num_layers):
    net = rnn_lm(10, 6, kind=kind, impl=impl, num_layers=num_layers)(torch.Generator().manual_seed(0))
    X = torch.randint(0, 10, (3, 7), generator=torch.Generator().manual_seed(1))
    logits, state = net(X)
    assert logits.shape == (3, 7, 10)
    assert net.num_layers == num_layers
    if impl == "concise":
        H = state[0] if kind == "lstm" else state
        assert H.shape == (num_layers, 3, 6)
    elif num_layers > 1:
        assert len(state) == num_layers
    states = layer_states(net, [0, 1, 2, 3, 4], _Ids())
    assert states.shape == (num_layers, 5, 6)


class _Ids:
    """A vocabulary whose tokens are their own indices."""

    idx_to_token = [str(i) for i in range(10)]

    def __getitem__(self, token):
        return int(token)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_scratch_stack_equals_the_builtin_deep_rnn(kind):
    """H^(l)_t = φ(H^(l-1)_t W_xh^(l) + H^(l)_{t-1} W_hh^(l) + b^(l)) is what nn.GRU/nn.LSTM(num_layers=3) computes."""
    stack = StackedScratch(5, 8, 3, kind=kind, generator=torch.Generator().manual_seed(0), reset_after=True)
    _spread(stack)
    deep = stack_into_builtin(stack)
    assert deep.num_layers == 3
    X = torch.randn(9, 2, 5, generator=torch.Generator().manual_seed(2))
    out, states = stack(X)
    out_builtin, state_builtin = deep(X)
    torch.testing.assert_close(out, out_builtin, atol=1e-6, rtol=1e-5)
    if kind == "gru":
        torch.testing.assert_close(torch.stack(states), state_builtin, atol=1e-6, rtol=1e-5)
    else:
        torch.testing.assert_close(torch.stack([h for h, _ in states]), state_builtin[0], atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(torch.stack([c for _, c in states]), state_builtin[1], atol=1e-6, rtol=1e-5)


def test_each_layer_reads_the_layer_below():
    """The stack by hand: layer 2 run alone on layer 1's outputs gives the stack's output."""
    stack = StackedScratch(4, 6, 2, kind="gru", generator=torch.Generator().manual_seed(3))
    _spread(stack, 1)
    X = torch.randn(5, 1, 4, generator=torch.Generator().manual_seed(4))
    out, _ = stack(X, record=True)
    first, _ = stack.rnns[0](X)
    second, _ = stack.rnns[1](first)
    torch.testing.assert_close(out, second)
    torch.testing.assert_close(stack.layer_outputs[0], first.detach())


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_layer_states_end_in_what_the_output_reads(impl):
    net = rnn_lm(10, 8, kind="lstm", impl=impl, num_layers=3)(torch.Generator().manual_seed(5))
    _spread(net.rnn, 2)
    tokens = [3, 1, 4, 1, 5, 9, 2, 6]
    states = layer_states(net, tokens, _Ids())
    top = net.rnn(net.one_hot(torch.tensor([tokens])), net.begin_state(1))[0][:, 0]
    np.testing.assert_allclose(states[-1], top.detach().numpy(), atol=1e-6)
    assert not np.allclose(states[0], states[1])  # the layers differ


def test_builtin_layer_draws_no_random_numbers():
    rnn = nn.GRU(4, 5, num_layers=2)
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    layer = builtin_layer(rnn, 1)
    torch.testing.assert_close(torch.rand(3), expected)
    torch.testing.assert_close(layer.weight_hh_l0, rnn.weight_hh_l1)


def test_book_settings():
    b = dr.BOOK
    assert (b.cell, b.impl, b.num_layers, b.num_hiddens, b.lr, b.num_epochs, b.batch_size, b.num_steps,
            b.grad_clip, b.max_tokens) == ("lstm", "concise", 2, 256, 2.0, 500, 32, 35, 1.0, 10_000)
    assert [c.num_layers for c in dr.PRESETS[0].configs(dr.PAGE).values()] == [1, 2, 3, 4]


@pytest.mark.parametrize("impl", ["concise", "scratch"])
def test_deep_net_learns_the_stand_in(stand_in, impl):
    cfg = replace(dr.PAGE, impl=impl, num_layers=2, num_hiddens=16, max_tokens=0)
    t = dr.build(cfg, stand_in, seed=3)
    t.advance(max_steps=16)
    losses = [r["loss"] for r in t.history.steps]
    assert statistics.fmean(losses[-4:]) < statistics.fmean(losses[:4]) - 0.2
    assert t.net.num_layers == 2 and t.hparams["lr"] == 2.0


def test_seeded_runs_are_identical_and_the_view_changes_nothing(stand_in):
    cfg = replace(dr.PAGE, num_layers=3, num_hiddens=16, max_tokens=0, impl="concise")
    a, b = dr.build(cfg, stand_in, seed=7), dr.build(cfg, stand_in, seed=7)
    a.advance(max_steps=3)
    seen = dr.look({"3 layers": a}, stand_in, prefix="time ", text="the time")
    b.advance(max_steps=3)
    a.advance(max_steps=3)
    dr.look({"3 layers": a}, stand_in, prefix="time ", text="the time")
    b.advance(max_steps=3)
    for (k, v), w in zip(a.net.state_dict().items(), b.net.state_dict().values()):
        assert torch.equal(v, w), k
    assert [r["loss"] for r in a.history.steps] == [r["loss"] for r in b.history.steps]
    row = seen["runs"][0]
    assert row["num_layers"] == 3 and row["states"].shape == (3, len("the time"), 16)
    assert row["text"].startswith("time ") and len(row["text"]) == len("time ") + 50


def test_depth_table_reads_each_runs_last_epoch(stand_in):
    trainers = {f"{n}": dr.build(replace(dr.PAGE, num_layers=n, num_hiddens=16, max_tokens=0), stand_in, seed=0)
                for n in (1, 2)}
    for t in trainers.values():
        t.advance_epoch()
    rows = dr.depth_table(trainers)
    assert [r["num_layers"] for r in rows] == [1, 2]
    for r, t in zip(rows, trainers.values()):
        assert r["perplexity"] == pytest.approx(float(np.exp(t.history.epochs[-1]["train_loss"])))
        assert r["valid_perplexity"] == pytest.approx(float(np.exp(t.history.epochs[-1]["test_loss"])))
