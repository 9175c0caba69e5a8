"""The book's modern CNNs (sections 8.1-8.7, PyTorch edition) for 1-channel
Fashion-MNIST input, with a width factor: every channel count (and the hidden
width of the fully connected heads) is divided by `width` (1 = the book's full
size), at least 1 channel.

    net_fn = zoo("resnet", width=4, size=64)   # a net_fn(gen) for the Trainer
    net = net_fn(torch.Generator().manual_seed(0))

Each net is an nn.Sequential whose top-level children are the rows of the
book's shape tables (AlexNet and NiN layer by layer; VGG, GoogLeNet, ResNet
and DenseNet by block). Weights are xavier-uniform drawn from `gen` (the
book's init_cnn), biases zero, batch norm at ones and zeros; dropout draws its
masks from the run's noise generator (core.models.mlp.Dropout). The size of the
first fully connected layer after the flatten (AlexNet, VGG) follows the input
size, computed from the shapes, never from a random draw.

Notes on the book: its VGG on Fashion-MNIST uses conv channels / 4 and keeps
the 4096-wide head; here `width` divides both (width 1 is the book's VGG-11).
"""
from __future__ import annotations

import functools
from collections import OrderedDict

import torch
from torch import nn
from torch.nn import functional as F

from core.models.lenet import lenet
from core.models.mlp import Dropout

NETS = {
    "lenet": "LeNet (7.6, the baseline)",
    "alexnet": "AlexNet (8.1)",
    "vgg": "VGG-11 (8.2)",
    "nin": "NiN (8.3)",
    "googlenet": "GoogLeNet (8.4)",
    "resnet": "ResNet-18 (8.6)",
    "densenet": "DenseNet (8.7)",
}
BOOK_SIZE = {"lenet": 28, "alexnet": 224, "vgg": 224, "nin": 224, "googlenet": 96, "resnet": 96, "densenet": 96}
BOOK_LR = {"lenet": 0.9, "alexnet": 0.01, "vgg": 0.05, "nin": 0.1, "googlenet": 0.1, "resnet": 0.05,
           "densenet": 0.1}
BOOK_BATCH = {"lenet": 256, "alexnet": 128, "vgg": 128, "nin": 128, "googlenet": 128, "resnet": 256,
              "densenet": 256}
VGG11 = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


def _c(channels: int, width: int) -> int:
    return max(1, channels // width)


# ------------------------------------------------------------------ the blocks
def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """Section 8.2: num_convs 3x3 convolutions (padding 1) with ReLU, then a 2x2 max pool."""
    layers = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU()]
        in_channels = out_channels
    return nn.Sequential(*layers, nn.MaxPool2d(kernel_size=2, stride=2))


def nin_block(in_channels: int, out_channels: int, kernel_size: int, strides: int, padding: int) -> nn.Sequential:
    """Section 8.3: a convolution, then two 1x1 convolutions, each with ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU())


class Inception(nn.Module):
    """Section 8.4: four paths, concatenated on the channel axis.
    p1: 1x1 conv (c1); p2: 1x1 conv (c2[0]) then 3x3 conv (c2[1]); p3: 1x1 conv
    (c3[0]) then 5x5 conv (c3[1]); p4: 3x3 max pool then 1x1 conv (c4)."""

    def __init__(self, in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int):
        super().__init__()
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)
        self.out_channels = c1 + c2[1] + c3[1] + c4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)


class Residual(nn.Module):
    """Section 8.6: two 3x3 convolutions with batch norm; the input is added
    back, through a 1x1 convolution (with the stride) when the shape changes."""

    def __init__(self, in_channels: int, num_channels: int, use_1x1conv: bool = False, strides: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(in_channels, num_channels, kernel_size=1, stride=strides) if use_1x1conv else None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.relu(Y + X)


def conv_block(in_channels: int, num_channels: int) -> nn.Sequential:
    """Section 8.7: batch norm, ReLU, 3x3 convolution (the pre-activation order)."""
    return nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(),
                         nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1))


class DenseBlock(nn.Module):
    """Section 8.7: num_convs conv blocks; each one's input is the
    concatenation of the block's input and every earlier conv block's output,
    so the channels grow by num_channels (the growth rate) per conv block."""

    def __init__(self, num_convs: int, in_channels: int, num_channels: int):
        super().__init__()
        self.net = nn.Sequential(*(conv_block(in_channels + i * num_channels, num_channels)
                                   for i in range(num_convs)))
        self.out_channels = in_channels + num_convs * num_channels

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        for blk in self.net:
            Y = blk(X)
            X = torch.cat((X, Y), dim=1)
        return X


def transition_block(in_channels: int, num_channels: int) -> nn.Sequential:
    """Section 8.7: batch norm, ReLU, 1x1 convolution (halving the channels in
    the book's DenseNet), 2x2 average pool with stride 2 (halving height and width)."""
    return nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(), nn.Conv2d(in_channels, num_channels, kernel_size=1),
                         nn.AvgPool2d(kernel_size=2, stride=2))


# -------------------------------------------------------------------- the nets
def _flat_features(features: nn.Module, size: int) -> int:
    """Features after `features` for a (1, 1, size, size) input (zeros, no
    randomness, in eval mode; raises ValueError when the input is too small for the net)."""
    features.eval()  # batch norm: no running statistics touched, one example allowed
    try:
        with torch.no_grad():
            out = features(torch.zeros(1, 1, size, size))
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"input {size}x{size} is too small for this net") from err
    finally:
        features.train()
    if out.numel() == 0:
        raise ValueError(f"input {size}x{size} is too small for this net")
    return out[0].numel()


def alexnet(width: int = 1, size: int = 224, num_classes: int = 10) -> nn.Sequential:
    c = lambda n: _c(n, width)  # noqa: E731
    features = [
        ("conv1", nn.Conv2d(1, c(96), kernel_size=11, stride=4, padding=1)), ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(kernel_size=3, stride=2)),
        ("conv2", nn.Conv2d(c(96), c(256), kernel_size=5, padding=2)), ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool2d(kernel_size=3, stride=2)),
        ("conv3", nn.Conv2d(c(256), c(384), kernel_size=3, padding=1)), ("relu3", nn.ReLU()),
        ("conv4", nn.Conv2d(c(384), c(384), kernel_size=3, padding=1)), ("relu4", nn.ReLU()),
        ("conv5", nn.Conv2d(c(384), c(256), kernel_size=3, padding=1)), ("relu5", nn.ReLU()),
        ("pool5", nn.MaxPool2d(kernel_size=3, stride=2)),
        ("flatten", nn.Flatten()),
    ]
    n = _flat_features(nn.Sequential(OrderedDict(features)), size)
    hidden = c(4096)
    return nn.Sequential(OrderedDict(features + [
        ("fc1", nn.Linear(n, hidden)), ("relu6", nn.ReLU()), ("drop1", Dropout(0.5)),
        ("fc2", nn.Linear(hidden, hidden)), ("relu7", nn.ReLU()), ("drop2", Dropout(0.5)),
        ("fc3", nn.Linear(hidden, num_classes)),
    ]))


def vgg(width: int = 1, size: int = 224, arch=VGG11, num_classes: int = 10) -> nn.Sequential:
    blocks, in_channels = [], 1
    for i, (num_convs, out_channels) in enumerate(arch, 1):
        blocks.append((f"block{i}", vgg_block(num_convs, in_channels, _c(out_channels, width))))
        in_channels = _c(out_channels, width)
    blocks.append(("flatten", nn.Flatten()))
    n = _flat_features(nn.Sequential(OrderedDict(blocks)), size)
    hidden = _c(4096, width)
    return nn.Sequential(OrderedDict(blocks + [
        ("fc1", nn.Linear(n, hidden)), ("relu1", nn.ReLU()), ("drop1", Dropout(0.5)),
        ("fc2", nn.Linear(hidden, hidden)), ("relu2", nn.ReLU()), ("drop2", Dropout(0.5)),
        ("fc3", nn.Linear(hidden, num_classes)),
    ]))


def nin(width: int = 1, size: int = 224, num_classes: int = 10) -> nn.Sequential:
    c = lambda n: _c(n, width)  # noqa: E731
    net = nn.Sequential(OrderedDict([
        ("nin1", nin_block(1, c(96), kernel_size=11, strides=4, padding=0)),
        ("pool1", nn.MaxPool2d(3, stride=2)),
        ("nin2", nin_block(c(96), c(256), kernel_size=5, strides=1, padding=2)),
        ("pool2", nn.MaxPool2d(3, stride=2)),
        ("nin3", nin_block(c(256), c(384), kernel_size=3, strides=1, padding=1)),
        ("pool3", nn.MaxPool2d(3, stride=2)),
        ("drop", Dropout(0.5)),
        ("nin4", nin_block(c(384), num_classes, kernel_size=3, strides=1, padding=1)),  # 10 classes: never divided
        ("gap", nn.AdaptiveAvgPool2d((1, 1))),
        ("flatten", nn.Flatten()),
    ]))
    _flat_features(net, size)
    return net


def googlenet(width: int = 1, size: int = 96, num_classes: int = 10) -> nn.Sequential:
    c = lambda n: _c(n, width)  # noqa: E731

    def inc(in_channels, c1, c2, c3, c4):
        return Inception(in_channels, c(c1), (c(c2[0]), c(c2[1])), (c(c3[0]), c(c3[1])), c(c4))

    b1 = nn.Sequential(nn.Conv2d(1, c(64), kernel_size=7, stride=2, padding=3), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b2 = nn.Sequential(nn.Conv2d(c(64), c(64), kernel_size=1), nn.ReLU(),
                       nn.Conv2d(c(64), c(192), kernel_size=3, padding=1), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    i3a = inc(c(192), 64, (96, 128), (16, 32), 32)
    i3b = inc(i3a.out_channels, 128, (128, 192), (32, 96), 64)
    b3 = nn.Sequential(i3a, i3b, nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    i4 = [inc(i3b.out_channels, 192, (96, 208), (16, 48), 64)]
    for spec in ((160, (112, 224), (24, 64), 64), (128, (128, 256), (24, 64), 64),
                 (112, (144, 288), (32, 64), 64), (256, (160, 320), (32, 128), 128)):
        i4.append(inc(i4[-1].out_channels, *spec))
    b4 = nn.Sequential(*i4, nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    i5a = inc(i4[-1].out_channels, 256, (160, 320), (32, 128), 128)
    i5b = inc(i5a.out_channels, 384, (192, 384), (48, 128), 128)
    b5 = nn.Sequential(i5a, i5b, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())
    net = nn.Sequential(OrderedDict([("b1", b1), ("b2", b2), ("b3", b3), ("b4", b4), ("b5", b5),
                                     ("fc", nn.Linear(i5b.out_channels, num_classes))]))
    _flat_features(net, size)
    return net


def resnet18(width: int = 1, size: int = 96, num_classes: int = 10) -> nn.Sequential:
    c = lambda n: _c(n, width)  # noqa: E731

    def stage(in_channels, num_channels, num_residuals, first_block=False):
        blk = []
        for i in range(num_residuals):
            if i == 0 and not first_block:
                blk.append(Residual(in_channels, num_channels, use_1x1conv=True, strides=2))
            else:
                blk.append(Residual(num_channels, num_channels))
        return nn.Sequential(*blk)

    b1 = nn.Sequential(nn.Conv2d(1, c(64), kernel_size=7, stride=2, padding=3), nn.BatchNorm2d(c(64)), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    net = nn.Sequential(OrderedDict([
        ("b1", b1),
        ("b2", stage(c(64), c(64), 2, first_block=True)),
        ("b3", stage(c(64), c(128), 2)),
        ("b4", stage(c(128), c(256), 2)),
        ("b5", stage(c(256), c(512), 2)),
        ("gap", nn.AdaptiveAvgPool2d((1, 1))),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(c(512), num_classes)),
    ]))
    _flat_features(net[:-1], size)
    return net


def densenet(width: int = 1, size: int = 96, num_classes: int = 10, num_convs_in_dense_blocks=(4, 4, 4, 4),
             growth_rate: int = 32) -> nn.Sequential:
    c = lambda n: _c(n, width)  # noqa: E731
    layers = [("b1", nn.Sequential(nn.Conv2d(1, c(64), kernel_size=7, stride=2, padding=3), nn.BatchNorm2d(c(64)),
                                   nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2, padding=1)))]
    num_channels, growth = c(64), c(growth_rate)
    for i, num_convs in enumerate(num_convs_in_dense_blocks, 1):
        block = DenseBlock(num_convs, num_channels, growth)
        layers.append((f"dense{i}", block))
        num_channels = block.out_channels
        if i != len(num_convs_in_dense_blocks):  # a transition halves the channels between dense blocks
            layers.append((f"trans{i}", transition_block(num_channels, num_channels // 2)))
            num_channels //= 2
    layers += [("bn", nn.BatchNorm2d(num_channels)), ("relu", nn.ReLU()), ("gap", nn.AdaptiveAvgPool2d((1, 1))),
               ("flatten", nn.Flatten()), ("fc", nn.Linear(num_channels, num_classes))]
    net = nn.Sequential(OrderedDict(layers))
    _flat_features(net[:-1], size)
    return net


BUILDERS = {"alexnet": alexnet, "vgg": vgg, "nin": nin, "googlenet": googlenet, "resnet": resnet18,
            "densenet": densenet}


def _xavier_init(net: nn.Module, gen: torch.Generator) -> nn.Module:
    """The book's init_cnn: xavier-uniform weights for every Linear and Conv2d
    (drawn from `gen`, in module order), zero biases."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(m.weight)
                bound = (6.0 / (fan_in + fan_out)) ** 0.5
                m.weight.uniform_(-bound, bound, generator=gen)
                if m.bias is not None:
                    m.bias.zero_()
    return net


def make(net: str, width: int = 1, size: int | None = None, gen: torch.Generator | None = None,
         num_classes: int = 10) -> nn.Module:
    """One net, initialised from `gen` (a fresh seed-0 generator when None).
    `size`: the input's height and width (default the book's); LeNet takes 28x28
    and no width factor (the book's baseline as is)."""
    gen = gen if gen is not None else torch.Generator().manual_seed(0)
    if net == "lenet":
        if size not in (None, 28):
            raise ValueError("LeNet takes the 28x28 images as they are")
        return lenet(None, "sigmoid", num_classes)(gen)
    if net not in BUILDERS:
        raise ValueError(f"unknown net {net!r}: use one of {sorted(NETS)}")
    if width < 1:
        raise ValueError("width must be at least 1")
    return _xavier_init(BUILDERS[net](width, size or BOOK_SIZE[net], num_classes=num_classes), gen)


def zoo(net: str, width: int = 1, size: int | None = None, num_classes: int = 10):
    """net_fn(gen) for the Trainer."""
    make(net, width, size, torch.Generator().manual_seed(0), num_classes)  # fail here, not in the worker

    def net_fn(gen: torch.Generator) -> nn.Module:
        return make(net, width, size, gen, num_classes)

    return net_fn


@functools.cache
def min_size(net: str) -> int:
    """The smallest square input the net accepts (LeNet: 28, its only size);
    a binary search, as a net that takes n x n inputs takes any larger ones."""
    if net == "lenet":
        return 28

    def fits(s: int) -> bool:
        try:
            with torch.device("meta"):
                BUILDERS[net](16, s)
        except ValueError:
            return False
        return True

    low, high = 1, 256  # fits(high); the answer is in (low, high]
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if fits(mid) else (mid, high)
    return high
