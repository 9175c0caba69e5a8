"""Dropout, as in the book's section on dropout (from scratch and as a module).

The module draws its masks from `self.generator` (the trainer hands it the run's
noise generator), never from the global RNG, so two sessions never disturb each
other and a seed replays the same masks.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from core.train.probe import probe


def _check_p(dropout: float) -> float:
    dropout = float(dropout)
    if not 0.0 <= dropout <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {dropout}")
    return dropout


def dropout_layer(X: torch.Tensor, dropout: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """The book's dropout: zero each element with probability `dropout`, scale
    the survivors by 1 / (1 - dropout) so the expectation is unchanged."""
    dropout = _check_p(dropout)
    if dropout == 1:  # every element is dropped
        return torch.zeros_like(X)
    if dropout == 0:  # every element is kept
        return X
    mask = (torch.rand(X.shape, generator=generator, device=X.device) > dropout).float()
    return mask * X / (1.0 - dropout)


class Dropout(nn.Module):
    """Dropout with probability `p`, drawn from `self.generator`.

    Training mode: `dropout_layer`; eval mode: the identity. Keeps what a page
    needs to draw the last minibatch: `last_input` (what came in, e.g. the
    post-ReLU activations) and `last_mask` (bool, True = kept; None in eval
    mode), both detached. Without a generator handed in, the module makes its
    own, seeded with `seed`, on the input's device."""

    def __init__(self, p: float = 0.5, seed: int = 0):
        super().__init__()
        self.p = _check_p(p)
        self.seed = seed
        self.generator: torch.Generator | None = None
        self.last_input: torch.Tensor | None = None
        self.last_mask: torch.Tensor | None = None

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        p = _check_p(self.p)  # a page may have changed it
        self.last_input = X.detach()
        if not self.training:
            self.last_mask = None
            return X
        if p == 1:
            self.last_mask = torch.zeros(X.shape, dtype=torch.bool, device=X.device)
            return torch.zeros_like(X)
        if p == 0:
            self.last_mask = torch.ones(X.shape, dtype=torch.bool, device=X.device)
            return X
        if self.generator is None:
            self.generator = torch.Generator(device=X.device).manual_seed(self.seed)
        g = self.generator
        # the same draw as dropout_layer(X, p, g); drawn where the generator lives
        mask = torch.rand(X.shape, generator=g, device=g.device).to(X.device) > p
        self.last_mask = mask
        return mask.float() * X / (1.0 - p)


class DropoutMLP(nn.Sequential):
    """The book's MLP with dropout, with names a page can read:
    flatten, hidden1, relu1, dropout1, hidden2, relu2, dropout2, output."""

    @property
    def dropouts(self) -> list[Dropout]:
        return [self.dropout1, self.dropout2]

    def hidden_activations(self) -> list[torch.Tensor | None]:
        """Post-ReLU activations (batch, num_hiddens) of the last minibatch, per hidden layer."""
        return [d.last_input for d in self.dropouts]

    def masks(self) -> list[torch.Tensor | None]:
        """The last minibatch's keep masks (bool, batch x num_hiddens); None in eval mode."""
        return [d.last_mask for d in self.dropouts]

    def set_dropout(self, dropout1: float | None = None, dropout2: float | None = None) -> None:
        """Change the dropout probabilities mid-run."""
        if dropout1 is not None:
            self.dropout1.p = _check_p(dropout1)
        if dropout2 is not None:
            self.dropout2.p = _check_p(dropout2)


def dropout_mlp(num_inputs: int = 784, num_outputs: int = 10, num_hiddens1: int = 256,
                num_hiddens2: int = 256, dropout1: float = 0.2, dropout2: float = 0.5):
    """net_fn(gen) for the book's dropout MLP: weights N(0, 0.01) drawn from
    `gen`, biases zero (the book's concise version)."""
    _check_p(dropout1), _check_p(dropout2)

    def net_fn(gen: torch.Generator) -> DropoutMLP:
        net = DropoutMLP(OrderedDict([
            ("flatten", nn.Flatten()),
            ("hidden1", nn.Linear(num_inputs, num_hiddens1)),
            ("relu1", nn.ReLU()),
            ("dropout1", Dropout(dropout1)),
            ("hidden2", nn.Linear(num_hiddens1, num_hiddens2)),
            ("relu2", nn.ReLU()),
            ("dropout2", Dropout(dropout2)),
            ("output", nn.Linear(num_hiddens2, num_outputs)),
        ]))
        with torch.no_grad():
            for m in net:
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01, generator=gen)
                    nn.init.zeros_(m.bias)
        return net

    return net_fn


def dropout_probe(net, x: torch.Tensor, *, train: bool, seed: int) -> dict:
    """One example `x` (1, ...) through a DropoutMLP, through core.train.probe:
    in train mode the masks come from a picture-only generator seeded with
    `seed`; the run's generators, modes and the layers' last_input/last_mask
    are all put back.

    Returns p (per layer), h (post-ReLU activations), mask (bool; None in eval
    mode), out (what the dropout layer passed on), probs (softmax of the output)."""
    names = [n for n, m in net.named_modules() if any(m is d for d in net.dropouts)]
    with probe(net, train=train, seed=seed, capture=names) as p:
        logits = net(x)
        h = [a[0].cpu() for a in net.hidden_activations()]
        masks = [None if m is None else m[0].cpu() for m in net.masks()]
    return {"p": [d.p for d in net.dropouts], "h": h, "mask": masks,
            "out": [p.outputs[n][0].cpu() for n in names], "probs": torch.softmax(logits[0].float(), 0).cpu()}
