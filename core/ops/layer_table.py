"""A net's layer table: output shape, parameters and FLOPs per row, for one
input size, found by running one example of zeros through it with forward
hooks (in eval mode; the net's state is left as it was).

Rows are the modules at `depth` (1: the net's top-level children, the rows of
the book's shape tables; 2: one level further in), or shallower leaves.
FLOPs are counted as 2 x the multiply-adds of the convolutions and fully
connected layers (a bias add, activations, pooling and normalisation are not
counted; they are a few per cent at most in these nets). Training costs about
3 x the forward FLOPs (the backward pass computes two products per weight).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

TRAIN_FLOPS_PER_FORWARD = 3  # forward + backward (gradients of inputs and of weights)


@dataclass(frozen=True)
class Row:
    name: str  # the module's path in the net ("b3.0", "conv1")
    kind: str  # its class name
    shape: tuple  # output shape without the batch axis
    params: int
    flops: int  # 2 x multiply-adds of the convolutions and linear layers inside, for one example


def conv_linear_flops(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    """2 x multiply-adds of one call of a Conv2d or Linear, for one example
    (the batch axis divided out); 0 for any other module."""
    if isinstance(module, nn.Conv2d):
        per_output = (module.in_channels // module.groups) * module.kernel_size[0] * module.kernel_size[1]
        return 2 * per_output * out[0].numel()
    if isinstance(module, nn.Linear):
        return 2 * module.in_features * out[0].numel()
    return 0


def _rows_at(net: nn.Module, depth: int) -> list[tuple[str, nn.Module]]:
    out = []

    def walk(module: nn.Module, prefix: str, level: int):
        for name, child in module.named_children():
            path = f"{prefix}.{name}" if prefix else name
            if level == depth or not list(child.children()):
                out.append((path, child))
            else:
                walk(child, path, level + 1)

    walk(net, "", 1)
    return out


def layer_table(net: nn.Module, input_shape: tuple = (1, 1, 224, 224), depth: int = 1) -> list[Row]:
    """The rows (see the module docstring) in the order the forward pass runs
    them. The input is zeros of `input_shape` (its first axis the batch)."""
    rows = _rows_at(net, depth)
    owner = {}  # every submodule -> its row's index
    for i, (_, module) in enumerate(rows):
        for m in module.modules():
            owner[m] = i
    flops = [0] * len(rows)
    shapes: dict[int, tuple] = {}
    order: list[int] = []

    def leaf_hook(module, inputs, output):
        flops[owner[module]] += conv_linear_flops(module, inputs[0], output)

    def row_hook(i):
        def hook(module, inputs, output):
            shapes[i] = tuple(output.shape[1:])
            if i not in order:
                order.append(i)
        return hook

    handles = []
    for m in owner:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            handles.append(m.register_forward_hook(leaf_hook))
    for i, (_, module) in enumerate(rows):
        handles.append(module.register_forward_hook(row_hook(i)))
    was_training = net.training
    device = next(net.parameters()).device
    net.eval()
    try:
        with torch.no_grad():
            net(torch.zeros(input_shape, device=device))
    finally:
        for h in handles:
            h.remove()
        net.train(was_training)
    return [Row(rows[i][0], type(rows[i][1]).__name__, shapes[i], sum(p.numel() for p in rows[i][1].parameters()),
                flops[i]) for i in order]


def totals(rows: list[Row]) -> dict[str, int]:
    """Parameters and forward FLOPs per example of the whole table."""
    return {"params": sum(r.params for r in rows), "flops": sum(r.flops for r in rows)}
