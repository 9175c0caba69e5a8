"""The book's LeNet (section 7.6) and BN-LeNet (section 8.5): one builder,
without batch normalization or with it, the scratch kind
(core.models.batchnorm.BatchNorm) or torch's nn.BatchNorm2d/1d."""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from core.models.batchnorm import ACTIVATIONS, BatchNorm, track_batch_stats


def _xavier_uniform(w: torch.Tensor, gen: torch.Generator) -> None:
    """nn.init.xavier_uniform_, drawn from `gen`."""
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(w)
    bound = (6.0 / (fan_in + fan_out)) ** 0.5
    nn.init.uniform_(w, -bound, bound, generator=gen)


def lenet(batch_norm: str | None = None, activation: str = "sigmoid", num_classes: int = 10):
    """net_fn(gen) for the book's LeNet on (batch, 1, 28, 28) images.

    batch_norm: None (plain LeNet), 'scratch' (core.models.batchnorm's BatchNorm) or
    'builtin' (nn.BatchNorm2d/1d), placed after each convolution and each of
    the first two linear layers, before the activation (the book's BN-LeNet,
    but keeping the first conv's padding=2 so both nets share the shape
    table). Weights xavier-uniform drawn from gen (the book's init_cnn),
    biases zero. Layer names: conv1, bn1, act1, pool1, conv2, ..., fc3."""
    if batch_norm not in (None, "scratch", "builtin"):
        raise ValueError(f"unknown batch_norm {batch_norm!r}: use None, 'scratch' or 'builtin'")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}: use one of {sorted(ACTIVATIONS)}")

    def bn(num_features, num_dims):
        if batch_norm == "scratch":
            return BatchNorm(num_features, num_dims)
        return nn.BatchNorm2d(num_features) if num_dims == 4 else nn.BatchNorm1d(num_features)

    def net_fn(gen: torch.Generator) -> nn.Sequential:
        act = ACTIVATIONS[activation]

        def norm(name, num_features, num_dims):
            return [(name, bn(num_features, num_dims))] if batch_norm else []

        layers = [
            ("conv1", nn.Conv2d(1, 6, kernel_size=5, padding=2)), *norm("bn1", 6, 4), ("act1", act()),
            ("pool1", nn.AvgPool2d(kernel_size=2, stride=2)),
            ("conv2", nn.Conv2d(6, 16, kernel_size=5)), *norm("bn2", 16, 4), ("act2", act()),
            ("pool2", nn.AvgPool2d(kernel_size=2, stride=2)),
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(16 * 5 * 5, 120)), *norm("bn3", 120, 2), ("act3", act()),
            ("fc2", nn.Linear(120, 84)), *norm("bn4", 84, 2), ("act4", act()),
            ("fc3", nn.Linear(84, num_classes)),
        ]
        net = nn.Sequential(OrderedDict(layers))
        with torch.no_grad():
            for m in net:
                if isinstance(m, (nn.Linear, nn.Conv2d)):
                    _xavier_uniform(m.weight, gen)
                    nn.init.zeros_(m.bias)
        track_batch_stats(net)
        return net

    return net_fn


def layer_shapes(net: nn.Sequential, input_shape=(1, 1, 28, 28)) -> list[tuple[str, str, tuple]]:
    """The book's shape table: (name, class name, output shape without the
    batch axis) after each layer, on zeros, in eval mode (no state changes)."""
    was_training = net.training
    net.eval()
    rows = []
    X = torch.zeros(input_shape, device=next(net.parameters()).device)
    with torch.no_grad():
        for name, layer in net.named_children():
            X = layer(X)
            rows.append((name, layer.__class__.__name__, tuple(X.shape[1:])))
    net.train(was_training)
    return rows
