"""Bidirectional RNNs (10.4): shapes, what the output at step t may read, the
fill-in-the-blank data, learning and seeded reproducibility."""
from __future__ import annotations

import statistics
from dataclasses import replace

import pytest
import torch

from core.experiments import bidirectional_rnn as br
from core.experiments.gru_lstm import stand_in_corpus
from core.models.rnn import layer_states, rnn_lm


@pytest.fixture(scope="module")
def stand_in():
    return stand_in_corpus()


@pytest.mark.parametrize("kind", ["gru", "lstm"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_language_model_shapes(kind, num_layers, bidirectional):
    net = rnn_lm(10, 6, kind=kind, impl="concise", num_layers=num_layers,
                 bidirectional=bidirectional)(torch.Generator().manual_seed(0))
    X = torch.randint(0, 10, (3, 7), generator=torch.Generator().manual_seed(1))
    logits, state = net(X)
    directions = 2 if bidirectional else 1
    assert logits.shape == (3, 7, 10)
    assert net.output.in_features == 6 * directions
    H = state[0] if kind == "lstm" else state
    assert H.shape == (num_layers * directions, 3, 6)


def test_a_scratch_net_is_never_bidirectional():
    with pytest.raises(ValueError, match="concise"):
        rnn_lm(10, 6, impl="scratch", bidirectional=True)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_the_output_at_t_reads_later_inputs_only_when_bidirectional(bidirectional):
    net = rnn_lm(10, 8, kind="lstm", impl="concise", num_layers=2,
                 bidirectional=bidirectional)(torch.Generator().manual_seed(2)).eval()
    X = torch.tensor([[1, 2, 3, 4, 5, 6, 7, 8]])
    later = X.clone()
    later[0, 6] = 9  # change the input at step 6
    with torch.no_grad():
        a, _ = net(X)
        b, _ = net(later)
    torch.testing.assert_close(a[0, 6:] == b[0, 6:], torch.zeros_like(a[0, 6:], dtype=torch.bool))
    if bidirectional:
        assert (a[0, :6] - b[0, :6]).abs().amax(dim=-1).min() > 0  # every earlier step sees the change
    else:
        torch.testing.assert_close(a[0, :6], b[0, :6], atol=0, rtol=0)


def test_bidirectional_states_concatenate_forward_and_backward():
    net = rnn_lm(10, 5, kind="gru", impl="concise", bidirectional=True)(torch.Generator().manual_seed(3))
    tokens = [4, 2, 7, 1]
    states = layer_states(net, tokens, _Ids())
    assert states.shape == (1, 4, 10)
    out, _ = net.rnn(net.one_hot(torch.tensor([tokens])))
    torch.testing.assert_close(torch.from_numpy(states[0]), out[:, 0].detach(), atol=1e-6, rtol=1e-5)
    fwd = torch.nn.GRU(10, 5)
    bwd = torch.nn.GRU(10, 5)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(fwd, f"{name}_l0").copy_(getattr(net.rnn, f"{name}_l0"))
            getattr(bwd, f"{name}_l0").copy_(getattr(net.rnn, f"{name}_l0_reverse"))
    X = net.one_hot(torch.tensor([tokens]))
    H_fwd = fwd(X)[0][:, 0]
    H_bwd = bwd(X.flip(0))[0].flip(0)[:, 0]  # H_t(bwd) has read x_T ... x_t
    torch.testing.assert_close(out[:, 0], torch.cat([H_fwd, H_bwd], dim=-1), atol=1e-6, rtol=1e-5)


class _Ids:
    idx_to_token = [str(i) for i in range(10)]

    def __getitem__(self, token):
        return int(token)


def test_blank_windows_are_exact():
    corpus = [0, 1, 2, 3, 4, 5, 6, 7]
    X, y = br.blank_windows(corpus, context=2, mask_id=99)
    assert X.tolist() == [[0, 1, 99, 3, 4], [1, 2, 99, 4, 5], [2, 3, 99, 5, 6], [3, 4, 99, 6, 7]]
    assert y.tolist() == [2, 3, 4, 5]
    X, y = br.blank_windows(corpus, context=1, mask_id=9, stride=3)
    assert X.tolist() == [[0, 9, 2], [3, 9, 5]] and y.tolist() == [1, 4]
    X, y = br.blank_windows([1, 2], context=2, mask_id=9)
    assert X.shape == (0, 5) and y.shape == (0,)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_blank_filler_reads_the_right_context_only_when_bidirectional(bidirectional):
    net = br.BlankFiller(10, 8, context=2, bidirectional=bidirectional, generator=torch.Generator().manual_seed(4))
    X = torch.tensor([[1, 2, net.mask_id, 3, 4]])
    right = X.clone()
    right[0, 4] = 7
    left = X.clone()
    left[0, 0] = 7
    with torch.no_grad():
        base, r, l_ = net(X), net(right), net(left)
    assert base.shape == (1, 10) and net.mask_id == 10
    assert not torch.equal(base, l_)
    assert torch.equal(base, r) != bidirectional


def test_book_settings_and_preset():
    b = br.BOOK
    assert (b.task, b.bidirectional, b.cell, b.num_layers, b.num_hiddens, b.lr, b.num_epochs, b.batch_size,
            b.num_steps, b.grad_clip) == ("lm", True, "lstm", 2, 256, 1.0, 500, 32, 35, 1.0)
    runs = br.PRESETS[0].configs(br.PAGE)
    assert {n: c.bidirectional for n, c in runs.items()} == {"bidirectional": True, "unidirectional": False}


@pytest.mark.parametrize("task", ["lm", "blank"])
def test_losses_fall(stand_in, task):
    cfg = replace(br.PAGE, task=task, num_hiddens=16, max_tokens=0)
    t = br.build(cfg, stand_in, seed=3)
    t.advance(max_steps=30)
    losses = [r["loss"] for r in t.history.steps]
    assert statistics.fmean(losses[-5:]) < statistics.fmean(losses[:5]) - 0.2


def test_seeded_runs_are_identical_and_the_view_changes_nothing(stand_in):
    cfg = replace(br.PAGE, task="blank", num_hiddens=16, max_tokens=0)
    a, b = br.build(cfg, stand_in, seed=5), br.build(cfg, stand_in, seed=5)
    a.advance(max_steps=4)
    seen = br.look({"bi": a}, stand_in, left="the time trav", right="ller")
    a.advance(max_steps=4)
    b.advance(max_steps=8)
    for (k, v), w in zip(a.net.state_dict().items(), b.net.state_dict().values()):
        assert torch.equal(v, w), k
    fills = seen["runs"][0]["fills"]
    assert len(fills) == 3 and fills[0][1] >= fills[1][1] >= fills[2][1] and sum(p for _, p in fills) <= 1 + 1e-6
    lm = br.build(replace(cfg, task="lm"), stand_in, seed=5)
    lm.advance(max_steps=2)
    row = br.look({"bi": lm}, stand_in, prefix="time ")["runs"][0]
    assert row["bidirectional"] and row["text"].startswith("time ") and len(row["text"]) == len("time ") + 50


def test_fill_blank_pads_a_short_context(stand_in):
    corpus, vocab = stand_in
    net = br.BlankFiller(len(vocab), 8, context=5, generator=torch.Generator().manual_seed(0))
    assert len(br.fill_blank(net, "a", "", vocab, k=5)) == 5
