"""The modern CNNs (book 8.1-8.7): output shapes against the book's printed
shape tables, parameter counts and FLOPs against counts by formula per layer
kind (written out here from the book's architectures, not read from the nets),
the meta-device table against a real net, the experiment's runs (seeded,
resized, the same data order in a race, the loss falling) and its timing."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from core.data.fashion_mnist import FashionMNIST
from core.experiments import modern_cnns as mc
from core.models.cnn_zoo import NETS, make, min_size, zoo
from core.ops.layer_table import layer_table, totals


# ----------------------------------------------------- counting by formula
def conv(cin, cout, k):
    return cin * cout * k * k + cout


def lin(i, o):
    return i * o + o


def bn(c):
    return 2 * c


def out(n, k, s=1, p=0):
    """The book's output size: floor((n - k + 2p + s) / s), p the padding on each side."""
    return (n - k + 2 * p + s) // s


def alexnet_params(w=1, flat=6400):
    c = lambda n: max(1, n // w)  # noqa: E731
    return (conv(1, c(96), 11) + conv(c(96), c(256), 5) + conv(c(256), c(384), 3) + conv(c(384), c(384), 3)
            + conv(c(384), c(256), 3) + lin(flat, c(4096)) + lin(c(4096), c(4096)) + lin(c(4096), 10))


def vgg_params(w=1, flat=512 * 7 * 7):
    total, cin = 0, 1
    for n, cout in ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)):
        for _ in range(n):
            total += conv(cin, cout // w, 3)
            cin = cout // w
    return total + lin(flat, 4096 // w) + lin(4096 // w, 4096 // w) + lin(4096 // w, 10)


def nin_params(w=1):
    def block(cin, cout, k):
        return conv(cin, cout, k) + 2 * conv(cout, cout, 1)
    return block(1, 96 // w, 11) + block(96 // w, 256 // w, 5) + block(256 // w, 384 // w, 3) + block(384 // w, 10, 3)


INCEPTIONS = [  # (c1, (c2a, c2b), (c3a, c3b), c4) of 3a, 3b, 4a-4e, 5a, 5b (section 8.4)
    (64, (96, 128), (16, 32), 32), (128, (128, 192), (32, 96), 64),
    (192, (96, 208), (16, 48), 64), (160, (112, 224), (24, 64), 64), (128, (128, 256), (24, 64), 64),
    (112, (144, 288), (32, 64), 64), (256, (160, 320), (32, 128), 128),
    (256, (160, 320), (32, 128), 128), (384, (192, 384), (48, 128), 128),
]


def googlenet_params(w=1):
    c = lambda n: n // w  # noqa: E731
    total = conv(1, c(64), 7) + conv(c(64), c(64), 1) + conv(c(64), c(192), 3)
    cin = c(192)
    for c1, (c2a, c2b), (c3a, c3b), c4 in INCEPTIONS:
        total += (conv(cin, c(c1), 1) + conv(cin, c(c2a), 1) + conv(c(c2a), c(c2b), 3) + conv(cin, c(c3a), 1)
                  + conv(c(c3a), c(c3b), 5) + conv(cin, c(c4), 1))
        cin = c(c1) + c(c2b) + c(c3b) + c(c4)
    return total + lin(cin, 10)


def resnet_params(w=1):
    c = lambda n: n // w  # noqa: E731
    total = conv(1, c(64), 7) + bn(c(64))
    cin = c(64)
    for stage, ch in enumerate((64, 128, 256, 512)):
        for i in range(2):
            down = stage > 0 and i == 0
            total += conv(cin, c(ch), 3) + conv(c(ch), c(ch), 3) + 2 * bn(c(ch)) + (conv(cin, c(ch), 1) if down else 0)
            cin = c(ch)
    return total + lin(cin, 10)


def densenet_params(w=1):
    c = lambda n: n // w  # noqa: E731
    total = conv(1, c(64), 7) + bn(c(64))
    ch, g = c(64), c(32)
    for block in range(4):
        for i in range(4):
            total += bn(ch + i * g) + conv(ch + i * g, g, 3)
        ch += 4 * g
        if block < 3:
            total += bn(ch) + conv(ch, ch // 2, 1)
            ch //= 2
    return total + bn(ch) + lin(ch, 10)


def total_params(net):
    return sum(p.numel() for p in net.parameters())


# ----------------------------------------------- the book's printed shape tables
BOOK_SHAPES = {  # (net, size): the output shapes of the top-level rows, as the book prints them
    ("alexnet", 224): [(96, 54, 54), (96, 54, 54), (96, 26, 26), (256, 26, 26), (256, 26, 26), (256, 12, 12),
                       (384, 12, 12), (384, 12, 12), (384, 12, 12), (384, 12, 12), (256, 12, 12), (256, 12, 12),
                       (256, 5, 5), (6400,), (4096,), (4096,), (4096,), (4096,), (4096,), (4096,), (10,)],
    ("vgg", 224): [(64, 112, 112), (128, 56, 56), (256, 28, 28), (512, 14, 14), (512, 7, 7), (25088,),
                   (4096,), (4096,), (4096,), (4096,), (4096,), (4096,), (10,)],
    ("nin", 224): [(96, 54, 54), (96, 26, 26), (256, 26, 26), (256, 12, 12), (384, 12, 12), (384, 5, 5), (384, 5, 5),
                   (10, 5, 5), (10, 1, 1), (10,)],
    ("googlenet", 96): [(64, 24, 24), (192, 12, 12), (480, 6, 6), (832, 3, 3), (1024,), (10,)],
    ("resnet", 96): [(64, 24, 24), (64, 24, 24), (128, 12, 12), (256, 6, 6), (512, 3, 3), (512, 1, 1), (512,),
                     (10,)],
    ("densenet", 96): [(64, 24, 24), (192, 24, 24), (96, 12, 12), (224, 12, 12), (112, 6, 6), (240, 6, 6),
                       (120, 3, 3), (248, 3, 3), (248, 3, 3), (248, 3, 3), (248, 1, 1), (248,), (10,)],
}
BY_FORMULA = {"alexnet": alexnet_params, "vgg": vgg_params, "nin": nin_params, "googlenet": googlenet_params,
              "resnet": resnet_params, "densenet": densenet_params}


@pytest.mark.parametrize("net,size", list(BOOK_SHAPES), ids=lambda v: str(v))
def test_full_size_shapes_are_the_books_and_params_the_formulas(net, size):
    rows = mc.table(net, 1, size)
    assert [r.shape for r in rows] == BOOK_SHAPES[(net, size)]
    assert totals(rows)["params"] == BY_FORMULA[net]()


def test_the_books_headline_counts():
    assert totals(mc.table("alexnet", 1))["params"] == 46_764_746  # Linear(6400, 4096) holds 26.2 M of them
    assert next(r for r in mc.table("alexnet", 1) if r.name == "fc1").params == 6400 * 4096 + 4096
    assert totals(mc.table("resnet", 1))["params"] == 11_178_378  # ResNet-18, 1 input channel, 10 classes
    assert totals(mc.table("lenet"))["params"] == 61_706


@pytest.mark.parametrize("w", [2, 4])
def test_params_at_other_widths_match_the_formulas(w):
    with torch.device("meta"):  # the nets' own parameters, counted without allocating them
        _params_at_width(w)


def _params_at_width(w):
    assert total_params(make("vgg", w, 224)) == vgg_params(w, flat=(512 // w) * 7 * 7)
    assert total_params(make("googlenet", w, 96)) == googlenet_params(w)
    assert total_params(make("resnet", w, 64)) == resnet_params(w)  # the head does not depend on the size
    assert total_params(make("densenet", w, 64)) == densenet_params(w)
    assert total_params(make("nin", w, 96)) == nin_params(w)
    # AlexNet at 96 px: 96 -> conv 22 -> pool 10 -> pool 4 -> pool 1: 256/w x 1 x 1 flattened
    s = out(out(out(out(96, 11, 4, 1), 3, 2), 3, 2), 3, 2)
    assert s == 1 and total_params(make("alexnet", w, 96)) == alexnet_params(w, flat=(256 // w) * s * s)


def test_shapes_at_a_small_size_and_width_follow_the_output_size_formula():
    w, n = 4, 64
    b1 = out(out(n, 7, 2, 3), 3, 2, 1)  # 7x7 conv stride 2 pad 3, 3x3 max pool stride 2 pad 1
    b3, b4, b5 = out(b1, 3, 2, 1), out(out(b1, 3, 2, 1), 3, 2, 1), out(out(out(b1, 3, 2, 1), 3, 2, 1), 3, 2, 1)
    assert [r.shape for r in mc.table("resnet", w, n)][:5] == [(16, b1, b1), (16, b1, b1), (32, b3, b3),
                                                             (64, b4, b4), (128, b5, b5)]
    rows = mc.table("densenet", w, n)  # growth 32/4 = 8; transitions halve channels and size
    assert [r.shape[0] for r in rows[:8]] == [16, 16 + 32, 24, 24 + 32, 28, 28 + 32, 30, 30 + 32]


def test_flops_are_twice_the_multiply_adds_of_convs_and_linears():
    rows = {r.name: r for r in mc.table("alexnet", 1, 224)}
    assert rows["conv1"].flops == 2 * (1 * 11 * 11) * 96 * 54 * 54
    assert rows["conv2"].flops == 2 * (96 * 5 * 5) * 256 * 26 * 26
    assert rows["fc1"].flops == 2 * 6400 * 4096
    assert rows["pool1"].flops == rows["relu1"].flops == 0
    expected = 2 * (11 * 11 * 96 * 54 * 54 + 96 * 25 * 256 * 26 * 26 + 256 * 9 * 384 * 144 + 384 * 9 * 384 * 144
                    + 384 * 9 * 256 * 144 + 6400 * 4096 + 4096 * 4096 + 4096 * 10)
    assert totals(rows.values())["flops"] == expected
    # a residual block with its 1x1 shortcut, by formula (ResNet-18 b3 at 96 px: 24 -> 12)
    b3 = mc.table("resnet", 1, 96, depth=2)
    first = next(r for r in b3 if r.name == "b3.0")
    assert first.flops == 2 * 144 * (64 * 9 * 128 + 128 * 9 * 128 + 64 * 128)


def test_the_table_counts_per_example_and_leaves_the_net_as_it_was():
    net = make("resnet", 8, 32)
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    one, four = layer_table(net, (1, 1, 32, 32)), layer_table(net, (4, 1, 32, 32))
    assert one == four and net.training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # running stats untouched
    assert layer_table(net, (1, 1, 32, 32)) == mc.table("resnet", 8, 32)  # meta device: the same table
    deeper = mc.table("resnet", 8, 32, depth=2)
    assert totals(deeper) == totals(one) and len(deeper) > len(one)


def test_min_sizes_and_the_raised_input():
    # AlexNet: 11x11 stride 4 pad 1, three 3x3 stride-2 pools: the smallest input leaving a 1x1 map
    smallest = next(n for n in range(8, 300) if out(out(out(out(n, 11, 4, 1), 3, 2), 3, 2), 3, 2) >= 1)
    assert min_size("alexnet") == smallest == 65
    assert min_size("nin") == next(n for n in range(8, 300) if out(out(out(out(n, 11, 4), 3, 2), 3, 2), 3, 2) >= 1)
    with pytest.raises(ValueError):
        make("alexnet", 1, 64)
    cfg = dataclasses.replace(mc.BOOK, net="alexnet", resize=32)
    assert mc.size_raised(cfg) and mc.input_size(cfg) == 65
    assert mc.input_size(dataclasses.replace(cfg, resize=0)) == 224
    lenet = dataclasses.replace(cfg, net="lenet")
    assert mc.input_size(lenet) == 28 and mc.width(lenet) == 1


def test_the_same_generator_gives_the_same_net():
    a = make("densenet", 8, 32, torch.Generator().manual_seed(3))
    b = zoo("densenet", 8, 32)(torch.Generator().manual_seed(3))
    c = make("densenet", 8, 32, torch.Generator().manual_seed(4))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), c.state_dict().values()))
    assert set(NETS) == set(mc.BOOK_ACC)


# ------------------------------------------------------------------ the runs
@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 10, (512,), generator=g)
    X = torch.rand(512, 1, 28, 28, generator=g) * 0.3
    for k in range(10):  # a learnable picture per class: a bright row band
        X[y == k, :, 2 * k + 3: 2 * k + 6, :] += 0.7
    return FashionMNIST(X[:384], y[:384], X[384:], y[384:])


def small(**kw):
    return dataclasses.replace(mc.BOOK, **{"width": 16, "resize": 32, "num_train": 1000, "num_epochs": 2,
                                           "batch_size": 64, **kw})


def test_a_run_is_seeded_resized_and_its_loss_falls(data):
    cfg = small(net="resnet")
    a, b = mc.build(cfg, data, seed=5), mc.build(cfg, data, seed=5)
    a.advance(max_steps=8)
    b.advance(max_steps=8)
    la = [r["loss"] for r in a.history.steps]
    assert la == [r["loss"] for r in b.history.steps]  # bit-identical
    assert sum(la[-3:]) < sum(la[:3])
    X, _ = next(a.train.epoch(None))
    assert X.shape == (64, 1, 32, 32) and a.hparams["lr"] == 0.05
    assert mc.build(small(net="lenet"), data).train.transform is None  # LeNet sees the 28x28 images


def test_a_race_sees_the_same_data_order(data):
    lenet, resnet = mc.build(small(net="lenet"), data, seed=2), mc.build(small(net="resnet"), data, seed=2)
    order = [y for _, y in lenet.train.epoch(lenet.gen_data)]
    assert all(torch.equal(a, b) for a, b in zip(order, (y for _, y in resnet.train.epoch(resnet.gen_data))))
    assert lenet.hparams["lr"] == 0.9 and mc.build(small(net="lenet", book_lr=False, lr=0.1), data).hparams["lr"] == 0.1
    assert mc.batch_size(mc.FULL) == 256 and mc.batch_size(dataclasses.replace(mc.FULL, net="nin")) == 128
    assert mc.batch_size(mc.BOOK) == 64  # the CPU default: more steps per epoch


def test_seconds_per_epoch_and_the_timeline_view(data):
    cfg = small(net="lenet", batch_size=128)
    t = mc.build(cfg, data, seed=0)
    ticks = iter(range(10_000))
    t.clock = lambda: float(next(ticks))  # every reading of the clock is one second later
    t.advance()
    seen = mc.timeline({"": t})[""]
    assert seen["epoch"] == [1, 2]
    assert seen["elapsed"] == [r["elapsed"] for r in t.history.epochs]
    assert seen["epoch_seconds"] == [seen["elapsed"][0], seen["elapsed"][1] - seen["elapsed"][0]]
    assert all(s > 0 for s in seen["epoch_seconds"]) and sum(seen["epoch_seconds"]) == t.elapsed
    assert mc.epoch_seconds([{"elapsed": 2.0}, {"elapsed": 5.5}]) == [2.0, 3.5]


def test_cost_is_the_table_times_the_images():
    cfg = dataclasses.replace(mc.BOOK, net="resnet", width=8, resize=32, num_train=10000)
    c = mc.cost(cfg, examples_per_sec=1000.0)
    now, book = totals(mc.table("resnet", 8, 32)), totals(mc.table("resnet", 1, 96))
    assert c["flops"] == now["flops"] and c["full_flops"] == book["flops"] and c["full_params"] == 11_178_378
    assert c["epoch_flops"] == 3 * now["flops"] * 10000 and c["full_epoch_flops"] == 3 * book["flops"] * 60000
    assert c["flops_per_sec"] == pytest.approx(1000 * 3 * now["flops"])
    assert c["full_epoch_seconds"] == pytest.approx(60 * book["flops"] / now["flops"])  # 60,000 / 1000 images/s
    assert mc.cost(cfg)["full_epoch_seconds"] is None
