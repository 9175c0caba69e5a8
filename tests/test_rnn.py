"""Scratch GRU/LSTM cells, their mapping onto torch's, the RNN language model,
generation and gate traces."""
import numpy as np
import pytest
import torch
from torch import nn

from core.data.vocab import Vocab
from core.models.rnn import (
    RNNLM,
    GRUScratch,
    LSTMScratch,
    gate_trace,
    load_weights_into_builtin,
    load_weights_into_scratch,
    predict,
    rnn_lm,
)


def _inputs(num_steps=5, batch=3, num_inputs=4, seed=0):
    return torch.randn(num_steps, batch, num_inputs, generator=torch.Generator().manual_seed(seed))


def _randomize(cell, seed=1, scale=0.5):
    """Large weights and nonzero biases, so a wrong mapping cannot hide."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * scale)
    return cell


def test_gru_step_is_the_books_equations():
    cell = _randomize(GRUScratch(4, 6))
    X = _inputs()
    H0 = torch.randn(3, 6, generator=torch.Generator().manual_seed(2))
    outputs, H = cell(X, H0, record=True)
    assert outputs.shape == (5, 3, 6) and H.shape == (3, 6)
    x, h, s = X[0], H0, torch.sigmoid
    R = s(x @ cell.W_xr + h @ cell.W_hr + cell.b_r)
    Z = s(x @ cell.W_xz + h @ cell.W_hz + cell.b_z)
    H_tilde = torch.tanh(x @ cell.W_xh + (R * h) @ cell.W_hh + cell.b_h)
    H1 = Z * h + (1 - Z) * H_tilde
    assert torch.allclose(outputs[0], H1, atol=1e-6)
    tr = cell.trace
    assert set(tr) == {"R", "Z", "H_tilde", "H"}
    assert all(v.shape == (5, 3, 6) for v in tr.values())
    assert torch.allclose(tr["R"][0], R, atol=1e-6) and torch.allclose(tr["Z"][0], Z, atol=1e-6)
    assert torch.allclose(tr["H_tilde"][0], H_tilde, atol=1e-6)
    assert torch.equal(tr["H"], outputs.detach()) and torch.equal(outputs[-1], H)


def test_lstm_step_is_the_books_equations():
    cell = _randomize(LSTMScratch(4, 6))
    X = _inputs()
    outputs, (H, C) = cell(X, None, record=True)
    x, h, c, s = X[0], torch.zeros(3, 6), torch.zeros(3, 6), torch.sigmoid
    I = s(x @ cell.W_xi + h @ cell.W_hi + cell.b_i)
    F_ = s(x @ cell.W_xf + h @ cell.W_hf + cell.b_f)
    O = s(x @ cell.W_xo + h @ cell.W_ho + cell.b_o)
    C_tilde = torch.tanh(x @ cell.W_xc + h @ cell.W_hc + cell.b_c)
    C1 = F_ * c + I * C_tilde
    assert torch.allclose(outputs[0], O * torch.tanh(C1), atol=1e-6)
    tr = cell.trace
    assert set(tr) == {"I", "F", "O", "C_tilde", "C", "H"}
    assert torch.allclose(tr["I"][0], I, atol=1e-6) and torch.allclose(tr["C"][0], C1, atol=1e-6)
    assert torch.equal(tr["C"][-1], C.detach()) and torch.equal(tr["H"][-1], H.detach())


def test_init_comes_from_the_generator():
    a = GRUScratch(4, 6, generator=torch.Generator().manual_seed(5))
    b = GRUScratch(4, 6, generator=torch.Generator().manual_seed(5))
    c = GRUScratch(4, 6, generator=torch.Generator().manual_seed(6))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.W_xz, c.W_xz)
    assert abs(float(a.W_hh.detach().std()) - 0.01) < 0.004 and float(a.b_h.detach().abs().sum()) == 0.0
    for impl in ("scratch", "concise"):
        n1 = rnn_lm(7, 5, "lstm", impl)(torch.Generator().manual_seed(3))
        n2 = rnn_lm(7, 5, "lstm", impl)(torch.Generator().manual_seed(3))
        assert all(torch.equal(p, q) for p, q in zip(n1.parameters(), n2.parameters()))


def test_lstm_scratch_and_builtin_agree():
    cell = _randomize(LSTMScratch(4, 6))
    rnn = load_weights_into_builtin(cell)
    assert isinstance(rnn, nn.LSTM)
    X = _inputs()
    H0, C0 = torch.randn(3, 6), torch.randn(3, 6)
    out_s, (H_s, C_s) = cell(X, (H0, C0))
    out_b, (H_b, C_b) = rnn(X, (H0[None], C0[None]))
    assert (out_s - out_b).abs().max() < 1e-5
    assert (H_s - H_b[0]).abs().max() < 1e-5 and (C_s - C_b[0]).abs().max() < 1e-5


def test_gru_builtin_agrees_with_the_reset_after_variant_only():
    X, H0 = _inputs(), torch.randn(3, 6, generator=torch.Generator().manual_seed(4))
    after = _randomize(GRUScratch(4, 6, reset_after=True))
    out_s, H_s = after(X, H0)
    out_b, H_b = load_weights_into_builtin(after)(X, H0[None])
    assert (out_s - out_b).abs().max() < 1e-5 and (H_s - H_b[0]).abs().max() < 1e-5
    # the book's GRU puts R before W_hh: same weights, a different function
    book = _randomize(GRUScratch(4, 6))
    out_book, _ = book(X, H0)
    out_torch, _ = load_weights_into_builtin(book)(X, H0[None])
    assert (out_book - out_torch).abs().max() > 1e-3
    # ... unless the reset gate is all ones (R ⊙ H = H), e.g. b_r huge
    with torch.no_grad():
        book.b_r.fill_(50.0)
    out_book, _ = book(X, H0)
    out_torch, _ = load_weights_into_builtin(book)(X, H0[None])
    assert (out_book - out_torch).abs().max() < 1e-5


@pytest.mark.parametrize("cls", [nn.GRU, nn.LSTM])
def test_builtin_to_scratch_round_trip(cls):
    torch.manual_seed(0)
    rnn = cls(4, 6)  # torch's own init: every bias nonzero, b_hn included
    cell = load_weights_into_scratch(rnn)
    X = _inputs()
    out_b, _ = rnn(X)
    out_s, _ = cell(X)
    assert (out_s - out_b).abs().max() < 1e-5
    back = load_weights_into_builtin(cell)
    assert (back(X)[0] - out_b).abs().max() < 1e-5


@pytest.mark.parametrize("kind", ["gru", "lstm"])
@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_rnnlm_shapes_and_state(kind, impl):
    net = rnn_lm(10, 8, kind, impl)(torch.Generator().manual_seed(0))
    assert isinstance(net, RNNLM) and net.kind == kind and net.scratch == (impl == "scratch")
    X = torch.randint(0, 10, (2, 5), generator=torch.Generator().manual_seed(1))
    logits, state = net(X)
    assert logits.shape == (2, 5, 10)
    h = state[0] if kind == "lstm" else state
    assert h.shape == ((2, 8) if impl == "scratch" else (1, 2, 8))
    # feeding the steps in two pieces with the carried state gives the same logits
    a, s = net(X[:, :3])
    b, _ = net(X[:, 3:], s)
    assert torch.allclose(torch.cat([a, b], 1), logits, atol=1e-6)
    # the first step from a zero state: the output layer of a one-step cell
    begin = net.begin_state(2)
    first, _ = net(X[:, :1], begin)
    assert torch.allclose(first[:, 0], logits[:, 0], atol=1e-6)


def _vocab():
    return Vocab(list("the time machine "))


def _book_predict(prefix, num_preds, net, vocab):
    """The book's loop, one token at a time."""
    state, outputs = None, [vocab[prefix[0]]]
    with torch.no_grad():
        for i in range(len(prefix) + num_preds - 1):
            Y, state = net(torch.tensor([[outputs[-1]]]), state)
            if i < len(prefix) - 1:
                outputs.append(vocab[prefix[i + 1]])
            else:
                outputs.append(int(Y.argmax(dim=2).reshape(1)))
    return "".join(vocab.idx_to_token[i] for i in outputs)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_predict_is_the_books_loop(kind):
    vocab = _vocab()
    net = rnn_lm(len(vocab), 16, kind, sigma=0.5)(torch.Generator().manual_seed(2))
    out = predict("the t", 12, net, vocab)
    assert len(out) == 17 and out.startswith("the t")
    assert out == _book_predict("the t", 12, net, vocab)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_gate_trace_scratch_and_concise(kind):
    vocab = _vocab()
    text = "time?"  # '?' is not in the vocabulary
    for impl in ("scratch", "concise"):
        net = rnn_lm(len(vocab), 6, kind, impl, sigma=0.5)(torch.Generator().manual_seed(0))
        tr = gate_trace(net, text, vocab)
        gates = ["R", "Z", "H_tilde"] if kind == "gru" else ["I", "F", "O", "C_tilde", "C"]
        assert set(tr) == set(gates) | {"H", "tokens"}
        assert list(tr["tokens"]) == ["t", "i", "m", "e", "<unk>"]
        for name in gates + ["H"]:
            assert isinstance(tr[name], np.ndarray) and tr[name].shape == (5, 6)
        sig = ["R", "Z"] if kind == "gru" else ["I", "F", "O"]
        assert all(((tr[g] > 0) & (tr[g] < 1)).all() for g in sig)
        # H is what the net itself computes, scratch or built-in
        X = torch.tensor([vocab[list(text)]])
        with torch.no_grad():
            outputs, _ = net.rnn(net.one_hot(X))
        assert np.allclose(tr["H"], outputs[:, 0].numpy(), atol=1e-5)
