"""The modern-CNNs page's pictures: each net's characteristic block as a
graphviz diagram (DOT text, drawn by st.graphviz_chart in the browser) with
the channel counts of the chosen width read from the net core builds, and the
race's accuracy against wall time."""
from __future__ import annotations

import torch
from torch import nn

from core.models.cnn_zoo import DenseBlock, Inception, Residual, make

from . import charts
from .i18n import t


def _t(name: str, **values) -> str:
    return t(f"modern_cnns_figures.{name}", **values)

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
    extra = (_t("stride", s=s) if s != 1 else "") + (_t("pad", p=p) if p else "")
    return _t("conv", k=k, out=m.out_channels, extra=extra)


def _chain(names_labels: list[tuple[str, str, str | None]]) -> str:
    out = "".join(_node(n, label, fill) for n, label, fill in names_labels)
    out += " " + " -> ".join(n for n, _, _ in names_labels) + ";\n"
    return out


def _meta(net: str, width: int) -> nn.Module:
    with torch.device("meta"):
        return make(net, width, None)


def _inception(b: Inception) -> str:
    c = b.p2_2.out_channels
    dot = HEAD + _node("x", _t("input", n=b.p1_1.in_channels), JOIN)
    dot += _node("a1", _conv(b.p1_1), CONV)
    dot += _node("b1", _conv(b.p2_1), CONV) + _node("b2", _conv(b.p2_2), CONV)
    dot += _node("c1", _conv(b.p3_1), CONV) + _node("c2", _conv(b.p3_2), CONV)
    dot += _node("d1", _t("max_pool", k=3, s=1) + _t("pad", p=1), POOL) + _node("d2", _conv(b.p4_2), CONV)
    parts = f"{b.p1_1.out_channels} + {c} + {b.p3_2.out_channels} + {b.p4_2.out_channels}"
    dot += _node("cat", _t("concat_channels", parts=parts, total=b.out_channels), JOIN)
    dot += " x -> a1; x -> b1 -> b2; x -> c1 -> c2; x -> d1 -> d2;\n a1 -> cat; b2 -> cat; c2 -> cat; d2 -> cat;\n"
    dot += f' label="{_t("inception_label")}"; labelloc=t;\n}}'
    return dot


def _residual(b: Residual) -> str:
    dot = HEAD + _node("x", _t("input", n=b.conv1.in_channels), JOIN)
    dot += _node("c1", _conv(b.conv1), CONV) + _node("n1", _t("bn_relu"))
    dot += _node("c2", _conv(b.conv2), CONV) + _node("n2", _t("bn"))
    dot += _node("add", _t("add"), JOIN, "circle") + _node("r", "ReLU")
    dot += _node("s", _t("shortcut", what=_conv(b.conv3) if b.conv3 is not None else _t("identity")), CONV)
    dot += " x -> c1 -> n1 -> c2 -> n2 -> add -> r; x -> s -> add;\n"
    dot += f' label="{_t("residual_label")}"; labelloc=t;\n}}'
    return dot


def _dense(block: DenseBlock, trans: nn.Sequential) -> str:
    dot = HEAD + _node("x0", _t("input", n=block.net[0][0].num_features), JOIN)
    prev = "x0"
    for i, blk in enumerate(block.net, 1):
        conv = blk[2]
        dot += _node(f"b{i}", _t("dense_conv", conv=_conv(conv)), CONV)
        dot += _node(f"x{i}", _t("concat", a=conv.in_channels, b=conv.out_channels,
                                 total=conv.in_channels + conv.out_channels), JOIN)
        dot += f" {prev} -> b{i} -> x{i}; {prev} -> x{i} [style=dashed];\n"
        prev = f"x{i}"
    tconv = trans[2]
    dot += _node("t", _t("transition", conv=_conv(tconv), pool=_t("avg_pool", k=2, s=2)), POOL)
    dot += f" {prev} -> t;\n"
    dot += f' label="{_t("dense_label")}"; labelloc=t;\n}}'
    return dot


def block_diagram(net: str, width: int) -> str:
    """DOT text of `net`'s characteristic block at `width`."""
    if net == "lenet":
        m = make("lenet")
        pool = _t("avg_pool", k=2, s=2)
        return HEAD + _chain([("c1", _t("conv", k=5, out=6, extra=_t("pad", p=2)) + " + sigmoid", CONV),
                              ("p1", pool, POOL), ("c2", _t("conv", k=5, out=16, extra="") + " + sigmoid", CONV),
                              ("p2", pool, POOL),
                              ("f", _t("dense_layers", a=m.fc1.out_features, b=m.fc2.out_features, what="sigmoid"),
                               None)]) + \
            f' label="{_t("lenet_label")}"; labelloc=t;\n}}'
    model = _meta(net, width)
    if net == "alexnet":
        convs = [m for m in model if isinstance(m, nn.Conv2d)]
        nodes = [(f"c{i}", _conv(c) + " + ReLU", CONV) for i, c in enumerate(convs, 1)]
        pool = _t("max_pool", k=3, s=2)
        nodes.insert(1, ("p1", pool, POOL))
        nodes.insert(3, ("p2", pool, POOL))
        nodes.append(("p3", pool, POOL))
        nodes.append(("f", _t("dense_layers", a=model.fc1.out_features, b=model.fc2.out_features,
                              what=_t("relu_dropout")), None))
        return HEAD + _chain(nodes) + f' label="{_t("alexnet_label")}"; labelloc=t;\n}}'
    if net == "vgg":
        blk = model.block3
        convs = [m for m in blk if isinstance(m, nn.Conv2d)]
        nodes = [(f"c{i}", _conv(c) + " + ReLU", CONV) for i, c in enumerate(convs, 1)]
        nodes.append(("p", _t("max_pool", k=2, s=2), POOL))
        return HEAD + _chain(nodes) + f' label="{_t("vgg_label")}"; labelloc=t;\n}}'
    if net == "nin":
        convs = [m for m in model.nin2 if isinstance(m, nn.Conv2d)]
        nodes = [(f"c{i}", _conv(c) + " + ReLU", CONV) for i, c in enumerate(convs, 1)]
        nodes.append(("p", _t("max_pool", k=3, s=2), POOL))
        return HEAD + _chain(nodes) + f' label="{_t("nin_label")}"; labelloc=t;\n}}'
    if net == "googlenet":
        return _inception(next(m for m in model.modules() if isinstance(m, Inception)))
    if net == "resnet":
        return _residual(next(m for m in model.modules() if isinstance(m, Residual) and m.conv3 is not None))
    if net == "densenet":
        return _dense(model.dense1, model.trans1)
    raise ValueError(f"unknown net {net!r}")


def race_chart(seen: dict, *, key_x: str = "elapsed", title: str | None = None, x_title: str | None = None):
    """(data, spec) of test accuracy against the run's cumulative seconds, one line per net."""
    title = _t("race_title") if title is None else title
    x_title = _t("race_x") if x_title is None else x_title
    series = [charts.Series(name or _t("this_run"), v[key_x], v["test_metric"], charts.PALETTE[i % len(charts.PALETTE)],
                            shape=charts.VEGA_SHAPES[i % len(charts.VEGA_SHAPES)] if len(seen) > 1 else None)
              for i, (name, v) in enumerate(seen.items())]
    return charts.live_lines(title, series, x_title=x_title, y_title=_t("test_accuracy"), points=30)
