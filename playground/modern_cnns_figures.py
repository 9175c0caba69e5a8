"""The modern-CNNs page's pictures: each net's characteristic block as a
graphviz diagram (DOT text, drawn by st.graphviz_chart in the browser) with
the channel counts of the chosen width read from the net core builds, and the
race's accuracy against wall time."""
from __future__ import annotations

import torch
from torch import nn

from core.models.cnn_zoo import DenseBlock, Inception, Residual, make

from . import charts

HEAD = ('digraph {\n rankdir=TB; nodesep=0.25; ranksep=0.3; bgcolor="transparent"; '
        f'node [shape=box, style="rounded,filled", fillcolor="{charts.PALE}", color="{charts.MUTED}", '
        'fontname="Helvetica", fontsize=11]; '
        f'edge [color="{charts.INK}", arrowsize=0.7];\n')
CONV, POOL, JOIN = (charts.faded(charts.PALETTE[i], 0.8) for i in (5, 4, 2))





def _node(name: str, label: str, fill: str | None = None, shape: str | None = None) -> str:
    attrs = [f'label="{label}"']
    if fill:
        attrs.append(f'fillcolor="{fill}"')
    if shape:
        attrs.append(f"shape={shape}")
    return f' {name} [{", ".join(attrs)}];\n'


def _conv(m: nn.Conv2d) -> str:
    k, s, p = m.kernel_size[0], m.stride[0], m.padding[0]
    extra = "".join(f", {n} {v}" for n, v in (("stride", s), ("pad", p)) if (n == "stride" and v != 1) or
                    (n == "pad" and v))
    return f"{k}x{k} conv, {m.out_channels}{extra}"


def _chain(names_labels: list[tuple[str, str, str | None]]) -> str:
    out = "".join(_node(n, label, fill) for n, label, fill in names_labels)
    out += " " + " -> ".join(n for n, _, _ in names_labels) + ";\n"
    return out


def _meta(net: str, width: int) -> nn.Module:
    with torch.device("meta"):
        return make(net, width, None)


def _inception(b: Inception) -> str:
    c = b.p2_2.out_channels
    dot = HEAD + _node("x", f"input, {b.p1_1.in_channels} channels", JOIN)
    dot += _node("a1", _conv(b.p1_1), CONV)
    dot += _node("b1", _conv(b.p2_1), CONV) + _node("b2", _conv(b.p2_2), CONV)
    dot += _node("c1", _conv(b.p3_1), CONV) + _node("c2", _conv(b.p3_2), CONV)
    dot += _node("d1", "3x3 max pool, stride 1, pad 1", POOL) + _node("d2", _conv(b.p4_2), CONV)
    dot += _node("cat", f"concatenate channels: {b.p1_1.out_channels} + {c} + {b.p3_2.out_channels} + "
                 f"{b.p4_2.out_channels} = {b.out_channels}", JOIN)
    dot += " x -> a1; x -> b1 -> b2; x -> c1 -> c2; x -> d1 -> d2;\n a1 -> cat; b2 -> cat; c2 -> cat; d2 -> cat;\n"
    dot += ' label="Inception block (GoogLeNet b3, first): four paths, each followed by ReLU"; labelloc=t;\n}'
    return dot


def _residual(b: Residual) -> str:
    dot = HEAD + _node("x", f"input, {b.conv1.in_channels} channels", JOIN)
    dot += _node("c1", _conv(b.conv1), CONV) + _node("n1", "batch norm, ReLU")
    dot += _node("c2", _conv(b.conv2), CONV) + _node("n2", "batch norm")
    dot += _node("add", "+ (add)", JOIN, "circle") + _node("r", "ReLU")
    dot += _node("s", f"shortcut: {_conv(b.conv3)}" if b.conv3 is not None else "shortcut: identity", CONV)
    dot += " x -> c1 -> n1 -> c2 -> n2 -> add -> r; x -> s -> add;\n"
    dot += ' label="Residual block with 1x1 convolution (ResNet-18 b3, first): f(x) + x"; labelloc=t;\n}'
    return dot


def _dense(block: DenseBlock, trans: nn.Sequential) -> str:
    dot = HEAD + _node("x0", f"input, {block.net[0][0].num_features} channels", JOIN)
    prev = "x0"
    for i, blk in enumerate(block.net, 1):
        conv = blk[2]
        dot += _node(f"b{i}", f"BN, ReLU, {_conv(conv)}", CONV)
        dot += _node(f"x{i}", f"concatenate: {conv.in_channels} + {conv.out_channels} = "
                     f"{conv.in_channels + conv.out_channels}", JOIN)
        dot += f" {prev} -> b{i} -> x{i}; {prev} -> x{i} [style=dashed];\n"
        prev = f"x{i}"
    tconv = trans[2]
    dot += _node("t", f"transition: BN, ReLU, {_conv(tconv)}, 2x2 avg pool, stride 2", POOL)
    dot += f" {prev} -> t;\n"
    dot += (' label="Dense block (DenseNet, first) and transition layer: each conv block sees every earlier '
            'output (dashed: the concatenation)"; labelloc=t;\n}')
    return dot


def block_diagram(net: str, width: int) -> str:
    """DOT text of `net`'s characteristic block at `width`."""
    if net == "lenet":
        m = make("lenet")
        return HEAD + _chain([("c1", "5x5 conv, 6, pad 2 + sigmoid", CONV), ("p1", "2x2 avg pool, stride 2", POOL),
                              ("c2", "5x5 conv, 16 + sigmoid", CONV), ("p2", "2x2 avg pool, stride 2", POOL),
                              ("f", f"dense {m.fc1.out_features}, {m.fc2.out_features}, 10 (sigmoid)", None)]) + \
            ' label="LeNet (section 7.6)"; labelloc=t;\n}'
    model = _meta(net, width)
    if net == "alexnet":
        convs = [m for m in model if isinstance(m, nn.Conv2d)]
        nodes = [(f"c{i}", _conv(c) + " + ReLU", CONV) for i, c in enumerate(convs, 1)]
        nodes.insert(1, ("p1", "3x3 max pool, stride 2", POOL))
        nodes.insert(3, ("p2", "3x3 max pool, stride 2", POOL))
        nodes.append(("p3", "3x3 max pool, stride 2", POOL))
        nodes.append(("f", f"dense {model.fc1.out_features}, {model.fc2.out_features}, 10 (ReLU, dropout 0.5)", None))
        return HEAD + _chain(nodes) + ' label="AlexNet: five convolutions, three dense layers"; labelloc=t;\n}'
    if net == "vgg":
        blk = model.block3
        convs = [m for m in blk if isinstance(m, nn.Conv2d)]
        nodes = [(f"c{i}", _conv(c) + " + ReLU", CONV) for i, c in enumerate(convs, 1)]
        nodes.append(("p", "2x2 max pool, stride 2", POOL))
        return HEAD + _chain(nodes) + (' label="VGG block (block 3 of VGG-11: ((1, 64), (1, 128), (2, 256), '
                                       '(2, 512), (2, 512)) / width)"; labelloc=t;\n}')
    if net == "nin":
        convs = [m for m in model.nin2 if isinstance(m, nn.Conv2d)]
        nodes = [(f"c{i}", _conv(c) + " + ReLU", CONV) for i, c in enumerate(convs, 1)]
        nodes.append(("p", "3x3 max pool, stride 2", POOL))
        return HEAD + _chain(nodes) + (' label="NiN block (the second): a convolution, then two 1x1 convolutions '
                                       'acting as a per-pixel MLP"; labelloc=t;\n}')
    if net == "googlenet":
        return _inception(next(m for m in model.modules() if isinstance(m, Inception)))
    if net == "resnet":
        return _residual(next(m for m in model.modules() if isinstance(m, Residual) and m.conv3 is not None))
    if net == "densenet":
        return _dense(model.dense1, model.trans1)
    raise ValueError(f"unknown net {net!r}")


def race_chart(seen: dict, *, key_x: str = "elapsed", title: str = "Test accuracy against wall time",
               x_title: str = "seconds of training and evaluation"):
    """(data, spec) of test accuracy against the run's cumulative seconds, one line per net."""
    series = [charts.Series(name or "this run", v[key_x], v["test_metric"], charts.PALETTE[i % len(charts.PALETTE)],
                            shape=charts.VEGA_SHAPES[i % len(charts.VEGA_SHAPES)] if len(seen) > 1 else None)
              for i, (name, v) in enumerate(seen.items())]
    return charts.live_lines(title, series, x_title=x_title, y_title="test accuracy", points=30)
