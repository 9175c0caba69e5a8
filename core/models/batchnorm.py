"""Batch normalization from scratch, and what a page shows of it.

Conventions (checked against nn.BatchNorm1d/2d):
- momentum 0.1 weighs the NEW batch: moving = (1 - momentum) * moving + momentum * batch
  (the book's PyTorch edition; older editions wrote momentum=0.9 on the other side);
- the output is normalised with the BIASED batch variance; nn.BatchNorm keeps the
  UNBIASED one (times m / (m - 1)) in running_var. The book's scratch code uses the
  biased variance for both: pass `unbiased_running_var=False` for the book's behaviour.
"""
from __future__ import annotations

import torch
from torch import nn

from core.train.probe import probe

# The activations a net may use; record_preactivations reads their inputs.
ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum,
               training: bool | None = None, unbiased_running_var: bool = True):
    """The book's batch_norm for 2-D (batch, features) or 4-D (batch, channels,
    h, w) inputs. Returns (Y, moving_mean, moving_var).

    training=None decides like the book (training iff grad is enabled);
    prediction mode normalises with the moving statistics."""
    if training is None:
        training = torch.is_grad_enabled()
    if not training:
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        X_hat = (X - mean) / torch.sqrt(var + eps)
        running_var = var
        if unbiased_running_var:
            m = X.numel() // X.shape[1]  # values per feature / channel
            running_var = var * m / max(m - 1, 1)
        moving_mean = (1.0 - momentum) * moving_mean + momentum * mean
        moving_var = (1.0 - momentum) * moving_var + momentum * running_var
    Y = gamma * X_hat + beta
    return Y, moving_mean.data, moving_var.data


class BatchNorm(nn.Module):
    """The book's scratch BatchNorm(num_features, num_dims); num_dims 2 for
    fully connected, 4 for convolutional layers. Keeps the last training
    batch's mean and (biased) variance in `last_mean`, `last_var`."""

    def __init__(self, num_features: int, num_dims: int, eps: float = 1e-5, momentum: float = 0.1,
                 unbiased_running_var: bool = True):
        super().__init__()
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.register_buffer("moving_mean", torch.zeros(shape))
        self.register_buffer("moving_var", torch.ones(shape))
        self.eps, self.momentum = eps, momentum
        self.unbiased_running_var = unbiased_running_var
        self.last_mean: torch.Tensor | None = None
        self.last_var: torch.Tensor | None = None

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if self.training:
            _record_batch_stats(self, (X,))
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var, eps=self.eps,
            momentum=self.momentum, training=self.training, unbiased_running_var=self.unbiased_running_var)
        return Y


# ------------------------------------------------------- what a page shows
def _record_batch_stats(module: nn.Module, inputs: tuple) -> None:
    if not module.training:
        return
    X = inputs[0].detach()
    dims = 0 if X.dim() == 2 else (0, 2, 3)
    module.last_mean = X.mean(dim=dims)
    module.last_var = X.var(dim=dims, unbiased=False)


def track_batch_stats(net: nn.Module) -> None:
    """Make every nn.BatchNorm1d/2d of `net` keep its last training batch's
    mean and (biased) variance in `last_mean`, `last_var` (idempotent)."""
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and not getattr(m, "_tracks_batch", False):
            m.last_mean = m.last_var = None
            m.register_forward_pre_hook(_record_batch_stats)
            m._tracks_batch = True


def _flat(t: torch.Tensor | None) -> torch.Tensor | None:
    return None if t is None else t.detach().reshape(-1).cpu()


def bn_stats(net: nn.Module) -> list[dict]:
    """One dict per batch-norm layer: name, kind ('scratch' or 'builtin'),
    gamma, beta, running_mean, running_var, batch_mean, batch_var (1-D CPU
    tensors of length num_features; batch_* None before a training batch)."""
    track_batch_stats(net)
    out = []
    for name, m in net.named_modules():
        if isinstance(m, BatchNorm):
            gamma, beta, rm, rv, kind = m.gamma, m.beta, m.moving_mean, m.moving_var, "scratch"
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            gamma, beta, rm, rv, kind = m.weight, m.bias, m.running_mean, m.running_var, "builtin"
        else:
            continue
        out.append({"name": name, "kind": kind, "gamma": _flat(gamma), "beta": _flat(beta),
                    "running_mean": _flat(rm), "running_var": _flat(rv),
                    "batch_mean": _flat(m.last_mean), "batch_var": _flat(m.last_var)})
    return out


def record_preactivations(net: nn.Module, X: torch.Tensor, *, train: bool | None = None) -> dict[str, torch.Tensor]:
    """The inputs of every activation (sigmoid, ReLU, tanh) for the batch X, by
    layer name, as CPU tensors: one forward pass through core.train.probe, in
    training mode (normalised by X's own statistics), eval mode, or the net's
    mode (train=None). The run is left exactly as it was: running and last-batch
    statistics, modes, generators."""
    names = [n for n, m in net.named_modules() if isinstance(m, tuple(ACTIVATIONS.values()))]
    with probe(net, train=train, capture=names) as p:
        net(X)
    return {n: p.inputs[n].cpu() for n in names}
