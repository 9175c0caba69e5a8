"""Backpropagation through time (book section 9.7) on the book's RNN language
model: how the gradient of the last step's loss reaches back to earlier hidden
states, truncation, randomized truncation, and gradient clipping.

With H_t = φ(A_t), A_t = X_t W_xh + H_{t-1} W_hh + b_h (rows are examples),
O_t = H_t W_hq + b_q and the loss L_T of the last step only,

    ∂L_T/∂H_T     = ∂L_T/∂O_T W_hq^T
    ∂L_T/∂H_{t-1} = (∂L_T/∂H_t ⊙ φ'(A_t)) W_hh^T

so ∂L_T/∂H_t is ∂L_T/∂H_T times T - t Jacobians, a product with W_hh^T
T - t times: its norm shrinks or grows like ρ(W_hh)^(T-t) where φ' ≈ 1 (the
linear-ish regime, φ = identity exactly). `gradient_norms` computes the
recursion and `autograd_norms` the same with torch.autograd, for the tests.
Every random number comes from a generator seeded by the caller.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from core.models.rnn import RNNLM, RNNScratch

ACTIVATIONS = ("tanh", "identity")


@dataclass(frozen=True)
class Problem:
    """One batch through an RNN: inputs X (batch, T) of token ids, targets Y
    (batch, T), and the net's parameters as plain tensors."""

    X: torch.Tensor
    Y: torch.Tensor
    W_xh: torch.Tensor
    W_hh: torch.Tensor
    b_h: torch.Tensor
    W_hq: torch.Tensor  # (num_hiddens, vocab): O = H W_hq + b_q
    b_q: torch.Tensor
    activation: str = "tanh"

    @property
    def num_steps(self) -> int:
        return self.X.shape[1]

    @property
    def vocab_size(self) -> int:
        return self.W_hq.shape[1]


def spectral_radius(W: torch.Tensor) -> float:
    """max |λ| over the eigenvalues of a square matrix."""
    return float(torch.linalg.eigvals(W.double()).abs().max())


def with_radius(W: torch.Tensor, radius: float) -> torch.Tensor:
    """W rescaled so that its spectral radius is `radius` (W itself when its radius is 0)."""
    rho = spectral_radius(W)
    return W.clone() if rho == 0 else W * (radius / rho)


def make_problem(corpus, vocab_size: int, *, num_hiddens: int = 32, num_steps: int = 35, batch_size: int = 8,
                 radius: float | None = 1.0, activation: str = "tanh", seed: int = 0) -> Problem:
    """A batch of `batch_size` random windows of `num_steps` + 1 tokens from
    `corpus` and an RNN language model built as the book's scratch RNN
    (weights N(0, 0.01²), zero biases; `rnn_lm(kind="rnn")`), with W_hh
    replaced by a N(0, 1/h) matrix rescaled to spectral radius `radius`
    (None: the book's untrained W_hh as drawn). All draws from `seed`."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}: use one of {ACTIVATIONS}")
    corpus = torch.as_tensor(corpus, dtype=torch.int64).reshape(-1)
    if len(corpus) < num_steps + 2:
        raise ValueError(f"a corpus of {len(corpus)} tokens is too short for {num_steps} steps")
    gen = torch.Generator().manual_seed(seed)
    cell = RNNScratch(vocab_size, num_hiddens, generator=gen)
    net = RNNLM(cell, vocab_size, generator=gen)
    starts = torch.randint(0, len(corpus) - num_steps - 1, (batch_size,), generator=gen)
    idx = starts[:, None] + torch.arange(num_steps)
    W_hh = cell.W_hh.detach().clone()
    if radius is not None:
        W_hh = with_radius(torch.randn(num_hiddens, num_hiddens, generator=gen) / math.sqrt(num_hiddens), radius)
    return Problem(corpus[idx], corpus[idx + 1], cell.W_xh.detach().clone(), W_hh, cell.b_h.detach().clone(),
                   net.output.weight.detach().T.contiguous(), net.output.bias.detach().clone(), activation)


def _phi(p: Problem, A: torch.Tensor) -> torch.Tensor:
    return torch.tanh(A) if p.activation == "tanh" else A


def forward(p: Problem, cut: int | None = None):
    """The hidden states H_1..H_T (a list of (batch, h) tensors, each one
    requiring grad and retaining it) and the loss of the last step. `cut`:
    H_cut is detached before it feeds H_{cut+1} (truncated BPTT): nothing
    before step cut + 1 gets a gradient."""
    X = F.one_hot(p.X, p.vocab_size).float()
    H = torch.zeros(p.X.shape[0], p.W_hh.shape[0])
    W_hh = p.W_hh.clone().requires_grad_(True)
    states = []
    for t in range(p.num_steps):
        if cut is not None and t == cut:
            H = H.detach()
        H = _phi(p, X[:, t] @ p.W_xh + H @ W_hh + p.b_h)
        H.retain_grad()
        states.append(H)
    O_T = H @ p.W_hq + p.b_q
    loss = F.cross_entropy(O_T, p.Y[:, -1])
    return states, loss


def autograd_norms(p: Problem, tau: int | None = None) -> np.ndarray:
    """||∂L_T/∂H_t|| for t = 1..T by torch.autograd (0 where a step gets no
    gradient); `tau` truncates to the last tau steps."""
    cut = None if tau is None or tau >= p.num_steps else p.num_steps - tau
    states, loss = forward(p, cut)
    loss.backward()
    return np.array([0.0 if H.grad is None else float(H.grad.norm()) for H in states])


@torch.no_grad()
def gradients(p: Problem, tau: int | None = None, *, randomized: float | None = None,
              seed: int = 0) -> list[torch.Tensor]:
    """∂L_T/∂H_t for t = 1..T by the recursion of Jacobians (module docstring).

    tau: the truncation length; steps t <= T - tau get 0 (the sum is cut after
    tau terms). randomized=π in (0, 1]: the book's randomized truncation: going
    back one more step continues with probability π, the gradient then scaled
    by 1/π, and stops (0 from there on) otherwise; unbiased in expectation.
    The stops are drawn from `seed`."""
    X = F.one_hot(p.X, p.vocab_size).float()
    H, states, pre = torch.zeros(p.X.shape[0], p.W_hh.shape[0]), [], []
    for t in range(p.num_steps):
        A = X[:, t] @ p.W_xh + H @ p.W_hh + p.b_h
        H = _phi(p, A)
        pre.append(A)
        states.append(H)
    O_T = H @ p.W_hq + p.b_q
    dO = (torch.softmax(O_T, dim=1) - F.one_hot(p.Y[:, -1], p.vocab_size).float()) / p.X.shape[0]
    g = dO @ p.W_hq.T
    T = p.num_steps
    keep = T if tau is None else max(1, min(tau, T))
    gen = torch.Generator().manual_seed(seed) if randomized is not None else None
    out = [torch.zeros_like(g) for _ in range(T)]
    for t in range(T - 1, -1, -1):  # out[t] is ∂L_T/∂H_{t+1} in the book's 1-based steps
        if T - t > keep:
            break
        out[t] = g
        dphi = 1 - states[t] ** 2 if p.activation == "tanh" else torch.ones_like(states[t])
        g = (g * dphi) @ p.W_hh.T
        if randomized is not None:
            if float(torch.rand((), generator=gen)) >= randomized:
                break
            g = g / randomized
    return out


def gradient_norms(p: Problem, tau: int | None = None, *, randomized: float | None = None,
                   seed: int = 0) -> np.ndarray:
    """||∂L_T/∂H_t|| (Frobenius, over the batch) for t = 1..T."""
    return np.array([float(g.norm()) for g in gradients(p, tau, randomized=randomized, seed=seed)])


def decay_rate(norms: np.ndarray) -> float | None:
    """The geometric mean of ||g_{t-1}|| / ||g_t|| over the steps with a
    gradient: how much a step back multiplies the norm (None with < 2 such steps)."""
    nz = norms[norms > 0]
    if len(nz) < 2:
        return None
    return float(np.exp((np.log(nz[0]) - np.log(nz[-1])) / (len(nz) - 1)))


# ------------------------------------------------------------- clipping run
@dataclass(frozen=True)
class ClipRun:
    norms: np.ndarray  # gradient norm of each step, before clipping
    losses: np.ndarray  # the step's loss (mean cross-entropy over the minibatch's T steps)
    clipped: np.ndarray  # bool: the norm exceeded theta and was clipped (always False without clipping)
    diverged: bool = False  # a loss or gradient became inf/NaN: the run stopped before that update

    @property
    def fraction_clipped(self) -> float:
        return float(self.clipped.mean()) if len(self.clipped) else 0.0


def clip_run(corpus, vocab_size: int, *, theta: float | None = 1.0, num_updates: int = 40, lr: float = 1.0,
             num_hiddens: int = 32, num_steps: int = 35, batch_size: int = 8, radius: float | None = 1.0,
             activation: str = "tanh", tau: int | None = None, seed: int = 0) -> ClipRun:
    """A short training run of the problem's RNN (`make_problem`, same seed)
    by SGD, each update on a fresh minibatch of random windows (drawn from
    `seed`) with the loss of every step, full BPTT (or truncated to the last
    `tau` steps: the state is detached every tau steps), the gradient clipped to norm `theta` as the book's
    grad_clipping (None: not clipped). Records each update's gradient norm
    before clipping; stops early (diverged) at a non-finite loss or norm."""
    p = make_problem(corpus, vocab_size, num_hiddens=num_hiddens, num_steps=num_steps, batch_size=batch_size,
                     radius=radius, activation=activation, seed=seed)
    params = [t.clone().requires_grad_(True) for t in (p.W_xh, p.W_hh, p.b_h, p.W_hq, p.b_q)]
    W_xh, W_hh, b_h, W_hq, b_q = params
    corpus = torch.as_tensor(corpus, dtype=torch.int64).reshape(-1)
    gen = torch.Generator().manual_seed(seed + 1)
    norms, losses, clipped, diverged = [], [], [], False
    for _ in range(num_updates):
        starts = torch.randint(0, len(corpus) - num_steps - 1, (batch_size,), generator=gen)
        idx = starts[:, None] + torch.arange(num_steps)
        X, Y = F.one_hot(corpus[idx], vocab_size).float(), corpus[idx + 1]
        H, outs = torch.zeros(batch_size, num_hiddens), []
        for t in range(num_steps):
            if tau is not None and t and t % tau == 0:
                H = H.detach()  # truncated into chunks of tau steps: no gradient across a chunk's start
            A = X[:, t] @ W_xh + H @ W_hh + b_h
            H = torch.tanh(A) if activation == "tanh" else A
            outs.append(H @ W_hq + b_q)
        loss = F.cross_entropy(torch.stack(outs, 1).reshape(-1, vocab_size), Y.reshape(-1))
        for q in params:
            q.grad = None
        loss.backward()
        norm = float(torch.sqrt(sum((q.grad ** 2).sum() for q in params)))
        if not (math.isfinite(norm) and math.isfinite(float(loss.detach()))):
            diverged = True
            break
        norms.append(norm)
        losses.append(float(loss.detach()))
        over = theta is not None and norm > theta
        clipped.append(over)
        with torch.no_grad():
            scale = theta / norm if over else 1.0
            for q in params:
                q -= lr * scale * q.grad
    return ClipRun(np.array(norms), np.array(losses), np.array(clipped, dtype=bool), diverged)
