"""Backpropagation through time (core.ops.bptt): the per-step gradient norms by
the recursion of Jacobians against torch.autograd, the spectral radius and
its powers, truncation, randomized truncation and gradient clipping."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.experiments.gru_lstm import stand_in_corpus
from core.ops import bptt


@pytest.fixture(scope="module")
def data():
    corpus, vocab = stand_in_corpus()
    return corpus, len(vocab)


def _problem(data, **kw):
    corpus, vocab_size = data
    kw = {"num_hiddens": 16, "num_steps": 12, "batch_size": 4, **kw}
    return bptt.make_problem(corpus, vocab_size, **kw)


@pytest.mark.parametrize("activation", bptt.ACTIVATIONS)
@pytest.mark.parametrize("radius", [0.5, 1.0, 1.5, None])
def test_recursion_equals_autograd(data, activation, radius):
    p = _problem(data, radius=radius, activation=activation)
    ours = bptt.gradients(p)
    states, loss = bptt.forward(p)
    loss.backward()
    for g, H in zip(ours, states):
        assert float((g - H.grad).norm()) <= 1e-4 * float(H.grad.norm())
    assert np.allclose(bptt.gradient_norms(p), bptt.autograd_norms(p), rtol=1e-4, atol=1e-12)


def test_radius_is_set():
    W = torch.randn(8, 8, generator=torch.Generator().manual_seed(0))
    for r in (0.5, 1.0, 1.5):
        assert bptt.spectral_radius(bptt.with_radius(W, r)) == pytest.approx(r, rel=1e-5)
    assert bptt.spectral_radius(torch.diag(torch.tensor([0.3, -2.0, 1.0]))) == pytest.approx(2.0)


def test_linear_norms_follow_powers_of_w_hh(data):
    """With φ = identity, ∂L_T/∂H_t = ∂L_T/∂H_T (W_hh^T)^(T-t) exactly: vanishing below radius 1, exploding above."""
    for r in (0.5, 1.5):
        p = _problem(data, radius=r, activation="identity")
        gs = bptt.gradients(p)
        T = p.num_steps
        for t in range(T):
            power = torch.linalg.matrix_power(p.W_hh.T.double(), T - 1 - t)
            assert torch.allclose(gs[t].double(), gs[-1].double() @ power, rtol=1e-3, atol=1e-10)
        norms = bptt.gradient_norms(p)
        rate = bptt.decay_rate(norms)
        assert (norms[0] < norms[-1] * 0.01) if r < 1 else (norms[0] > norms[-1] * 10)
        assert rate == pytest.approx(r, rel=0.25)  # a step back multiplies the norm by about ρ


def test_truncation_zeroes_exactly_the_steps_beyond_tau(data):
    p = _problem(data, radius=1.2)
    full = bptt.gradient_norms(p)
    T = p.num_steps
    for tau in (1, 4, T - 1, T, T + 5):
        cut = bptt.gradient_norms(p, tau)
        kept = min(tau, T)
        assert np.all(cut[:T - kept] == 0) and np.all(cut[T - kept:] > 0)
        assert np.allclose(cut[T - kept:], full[T - kept:], rtol=1e-6)
        assert np.allclose(cut, bptt.autograd_norms(p, tau), rtol=1e-4, atol=1e-12)


def test_randomized_truncation_is_unbiased_and_seeded(data):
    p = _problem(data, radius=0.9, num_steps=4, num_hiddens=8, batch_size=2)
    full = torch.stack(bptt.gradients(p))
    draws = torch.stack([torch.stack(bptt.gradients(p, randomized=0.5, seed=s)) for s in range(1000)])
    assert torch.allclose(draws.mean(0)[-3:], full[-3:], rtol=0.15, atol=1e-6)  # E[gradient] = full gradient
    one = bptt.gradient_norms(p, randomized=0.5, seed=7)
    assert np.array_equal(one, bptt.gradient_norms(p, randomized=0.5, seed=7))
    nz = np.flatnonzero(one)
    assert nz[-1] == p.num_steps - 1 and np.all(np.diff(nz) == 1)  # a stop cuts everything before it


def test_clipping_fraction_on_a_fixed_sequence(data):
    corpus, vocab_size = data
    kw = {"num_updates": 12, "num_hiddens": 16, "num_steps": 10, "batch_size": 4, "radius": 1.5, "seed": 3}
    free = bptt.clip_run(corpus, vocab_size, theta=None, **kw)
    assert not free.clipped.any() and free.fraction_clipped == 0.0 and len(free.norms) == 12
    theta = float(np.median(free.norms))
    # the first update sees the same weights and batch either way: its norm is the same
    clip = bptt.clip_run(corpus, vocab_size, theta=theta, **kw)
    assert clip.norms[0] == free.norms[0]
    assert np.array_equal(clip.clipped, clip.norms > theta)
    assert clip.fraction_clipped == pytest.approx(np.mean(clip.norms > theta))
    assert 0 < clip.fraction_clipped < 1
    again = bptt.clip_run(corpus, vocab_size, theta=theta, **kw)
    assert np.array_equal(again.norms, clip.norms)  # seeded
    tiny = bptt.clip_run(corpus, vocab_size, theta=1e-6, **kw)
    assert tiny.fraction_clipped == 1.0


def test_clipped_update_has_norm_theta(data):
    """One update by hand: the step taken is lr * θ * g / ||g|| when ||g|| > θ (the book's grad_clipping)."""
    corpus, vocab_size = data
    kw = {"num_hiddens": 8, "num_steps": 6, "batch_size": 2, "radius": 1.0, "seed": 1, "lr": 0.5}
    two_free = bptt.clip_run(corpus, vocab_size, theta=None, num_updates=2, **kw)
    assert two_free.losses[1] != two_free.losses[0]
    assert bptt.clip_run(corpus, vocab_size, theta=1e9, num_updates=2, **kw).losses[1] == two_free.losses[1]


def test_bad_input():
    with pytest.raises(ValueError, match="activation"):
        bptt.make_problem([1, 2, 3] * 30, 4, activation="relu")
    with pytest.raises(ValueError, match="too short"):
        bptt.make_problem([1, 2, 3], 4, num_steps=10)
