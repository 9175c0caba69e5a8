"""Convolution and pooling arithmetic against the book's examples and torch."""
import itertools
import random

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.ops import conv_arithmetic as conv
from core.ops.conv_arithmetic import (
    ConvNote,
    check_conv,
    conv_output_shape,
    conv_warnings,
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
    input_of_output,
    pool2d,
    pool_grid,
    receptive_cells,
    shift_comparison,
)

# one axis: (n, k, pad per side, stride, dilation); height and width get different ones
AXES = list(itertools.product([1, 2, 3, 5, 8], [1, 2, 3, 5], [0, 1, 2, 3], [1, 2, 3], [1, 2]))
COMBOS = list(zip(AXES, random.Random(0).sample(AXES, len(AXES))))  # 480 pairs, each axis setting once


def _torch_output(op, X, k, pad, s, d):
    """torch's output for op 'conv', 'max' or 'avg', or the error it raised."""
    try:
        if op == "conv":
            return F.conv2d(X, torch.zeros(1, 1, *k), padding=pad, stride=s, dilation=d), None
        if op == "max":
            return F.max_pool2d(X, k, stride=s, padding=pad, dilation=d), None
        return F.avg_pool2d(X, k, stride=s, padding=pad), None
    except RuntimeError as e:
        return None, e


@pytest.mark.parametrize("op", ["conv", "max", "avg"])
def test_output_shape_formula_matches_torch(op):
    checked = failed = 0
    for (n_h, k_h, pad_h, s_h, d_h), (n_w, k_w, pad_w, s_w, d_w) in COMBOS:
        if op == "avg":
            d_h = d_w = 1  # avg_pool2d has no dilation
        Y, err = _torch_output(op, torch.zeros(1, 1, n_h, n_w), (k_h, k_w), (pad_h, pad_w), (s_h, s_w),
                               (d_h, d_w))
        problems = check_conv(n_h, n_w, k_h, k_w, pad_h, pad_w, s_h, s_w, d_h, d_w, pool=op != "conv")
        if problems:
            failed += 1
            assert err is not None or Y.numel() == 0, (problems, Y.shape)
        else:
            checked += 1
            assert err is None, err
            # the book's p is the total padding: 2 * (torch's per-side padding)
            assert tuple(Y.shape[2:]) == conv_output_shape(n_h, n_w, k_h, k_w, 2 * pad_h, 2 * pad_w,
                                                           s_h, s_w, d_h, d_w)
    assert checked > 30 and failed > 30  # both branches are exercised


def test_check_conv_reports_without_raising():
    assert check_conv(8, 8, 3, 3, 1, 1) == []
    assert check_conv(3, 3, 5, 5) and check_conv(3, 3, 5, 5, 1, 1) == []
    assert check_conv(4, 8, 3, 3, d_h=2) == [
        ConvNote("kernel_too_large", "height", {"k": 3, "k_eff": 5, "n": 4, "pad": 0, "padded": 4})]
    assert check_conv(8, 8, 3, 3, s_h=0) == [ConvNote("stride_below_one", "height", {"got": 0})]
    assert check_conv(8, 8, 3, 3, pad_w=-1) == [ConvNote("negative_padding", "width", {"got": -1})]
    assert check_conv(8, 8, 3, 3, d_w=0) == [ConvNote("dilation_below_one", "width", {"got": 0})]
    assert [(p.code, p.axis) for p in check_conv(0, 8, 0, 3)] == [  # nonsense sizes are reported, not raised
        ("input_below_one", "height"), ("kernel_below_one", "height")]
    # padding beyond half the kernel: legal for a convolution, an error for pooling
    assert check_conv(8, 8, 3, 3, 2, 2) == []
    assert check_conv(8, 8, 3, 3, 2, 2, pool=True) == [
        ConvNote("pool_padding_too_large", axis, {"k": 3, "pad": 2, "limit": 1}) for axis in ("height", "width")]
    with pytest.raises(RuntimeError):
        F.max_pool2d(torch.zeros(1, 1, 8, 8), 3, padding=2)
    with pytest.raises(RuntimeError):
        F.conv2d(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 3, 3), stride=0)


def test_conv_warnings_name_the_surprise_and_its_numbers():
    assert conv_warnings(8, 8, 3, 3, 1, 1) == []
    assert conv_warnings(8, 8, 3, 3, 3, 0) == [ConvNote("reads_only_padding", "height", {"pad": 3, "k_eff": 3})]
    assert conv_warnings(8, 8, 3, 3, 0, 2) == [ConvNote("output_grows", "width", {"pad": 2, "k_eff": 3})]
    assert conv_warnings(8, 8, 2, 2, 0, 0, 3, 3) == [  # (8 - 2) % 3 == 0: nothing dropped
        ConvNote("skips_input", axis, {"s": 3, "k_eff": 2}) for axis in ("height", "width")]
    assert conv_warnings(8, 8, 3, 3, 0, 0, 2, 1) == [ConvNote("drops_cells", "height", {"count": 1})]
    assert conv_warnings(8, 8, 3, 3, 3, 0, d_h=2) == [  # dilation 2 spreads the kernel over 5 cells
        ConvNote("output_grows", "height", {"pad": 3, "k_eff": 5})]
    assert check_conv(2, 2, 3, 3) and conv_warnings(2, 2, 3, 3) == []  # no output: no surprises either


def test_book_shape_examples():
    X = torch.zeros(1, 1, 8, 8)
    cases = [  # (kernel, per-side padding, stride) -> book's output
        ((3, 3), (1, 1), (1, 1), (8, 8)),
        ((5, 3), (2, 1), (1, 1), (8, 8)),
        ((3, 3), (1, 1), (2, 2), (4, 4)),
        ((3, 5), (0, 1), (3, 4), (2, 2)),
    ]
    for k, pad, s, expected in cases:
        assert conv_output_shape(8, 8, *k, 2 * pad[0], 2 * pad[1], *s) == expected
        net = nn.Conv2d(1, 1, kernel_size=k, padding=pad, stride=s)
        assert tuple(net(X).shape[2:]) == expected
    assert conv_output_shape(8, 8, 3, 3, d_h=2, d_w=3) == (4, 2)  # k_eff 5 and 7
    assert conv_output_shape(3, 3, 5, 5) == (0, 0)


def test_corr2d_book_examples():
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    assert torch.equal(corr2d(X, K), torch.tensor([[19.0, 25.0], [37.0, 43.0]]))
    # edge detection on the book's 6 x 8 image
    X = conv.test_pattern(6, 8)
    book_X = torch.ones((6, 8))
    book_X[:, 2:6] = 0
    assert torch.equal(X, book_X)
    K = torch.tensor([[1.0, -1.0]])
    expected = torch.tensor([[0.0, 1.0, 0.0, 0.0, 0.0, -1.0, 0.0]]).repeat(6, 1)
    assert torch.equal(corr2d(X, K), expected)
    assert torch.equal(conv.apply_conv(X, "edge_h"), expected)
    assert torch.equal(corr2d(X.t(), K), torch.zeros(8, 5))  # the book: no vertical edges found


def test_apply_conv_kernels():
    X = conv.test_pattern(7, kind="square")
    assert X.sum() == 25 and conv.test_pattern(4, kind="checker").sum() == 8
    assert torch.equal(conv.apply_conv(X, "identity", padding=1), X)
    assert torch.allclose(conv.apply_conv(torch.ones(6, 6), "blur", k=3), torch.ones(4, 4))
    assert conv.apply_conv(X, "edge_v").shape == (6, 7)
    assert conv.apply_conv(X, "sobel_x", padding=1, stride=2).shape == (4, 4)
    assert conv.apply_conv(X, "identity", k=3, dilation=2).shape == (3, 3)
    # sobel_x: +4 where bright turns dark within 3 columns, -4 the other way
    Y = conv.apply_conv(conv.test_pattern(6, 8), "sobel_x")
    assert Y[0].tolist() == [4.0, 4.0, 0.0, 0.0, -4.0, -4.0]  # 4 * (X[j] - X[j + 2])
    r1 = conv.apply_conv(X, "random", generator=torch.Generator().manual_seed(0))
    r2 = conv.apply_conv(X, "random", generator=torch.Generator().manual_seed(0))
    assert torch.equal(r1, r2)
    K = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert torch.allclose(conv.apply_conv(X, K), corr2d(X, K))
    with pytest.raises(ValueError):
        conv.make_kernel("nope")
    with pytest.raises(ValueError):
        conv.test_pattern(4, kind="nope")


def test_receptive_cells_and_padding():
    cells = receptive_cells(0, 0, 3, 3, 1, 1)
    assert cells == [(r, c) for r in range(3) for c in range(3)]
    mapped = input_of_output(0, 0, 8, 8, 3, 3, 1, 1)
    padding = [(r, c) for r, c, is_pad in mapped if is_pad]
    assert sorted(padding) == [(-1, -1), (-1, 0), (-1, 1), (0, -1), (1, -1)]
    assert [(r, c) for r, c, is_pad in mapped if not is_pad] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert receptive_cells(1, 2, 2, 2, s_h=3, s_w=2, d_h=2, d_w=1) == [(3, 4), (3, 5), (5, 4), (5, 5)]


@pytest.mark.parametrize("n_h,n_w,k_h,k_w,pad,s,d", [(6, 7, 3, 3, 1, 1, 1), (8, 8, 3, 2, 2, 2, 2),
                                                     (5, 9, 2, 3, 0, (1, 3), (2, 1))])
def test_receptive_cells_match_autograd(n_h, n_w, k_h, k_w, pad, s, d):
    """Output cell (i, j) depends exactly on its receptive cells of the padded input."""
    s_h, s_w = (s, s) if isinstance(s, int) else s
    d_h, d_w = (d, d) if isinstance(d, int) else d
    P = torch.zeros(1, 1, n_h + 2 * pad, n_w + 2 * pad, requires_grad=True)
    Y = F.conv2d(P, torch.ones(1, 1, k_h, k_w), stride=(s_h, s_w), dilation=(d_h, d_w))
    for i, j in [(0, 0), (Y.shape[2] - 1, Y.shape[3] - 1), (Y.shape[2] // 2, Y.shape[3] // 2)]:
        (g,) = torch.autograd.grad(Y[0, 0, i, j], P, retain_graph=True)
        touched = {tuple(ix) for ix in torch.nonzero(g[0, 0]).tolist()}
        assert touched == set(receptive_cells(i, j, k_h, k_w, pad, pad, s_h, s_w, d_h, d_w))


def test_multi_channel_book_examples():
    X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                      [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
    K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    assert torch.equal(corr2d_multi_in(X, K), torch.tensor([[56.0, 72.0], [104.0, 120.0]]))
    K = torch.stack((K, K + 1, K + 2), 0)
    assert K.shape == (3, 2, 2, 2)
    Y = corr2d_multi_in_out(X, K)
    assert torch.equal(Y, torch.tensor([[[56.0, 72.0], [104.0, 120.0]], [[76.0, 100.0], [148.0, 172.0]],
                                        [[96.0, 128.0], [192.0, 224.0]]]))
    assert torch.allclose(Y, F.conv2d(X[None], K)[0])


def test_1x1_equals_general():
    g = torch.Generator().manual_seed(0)
    X = torch.normal(0, 1, (3, 3, 3), generator=g)
    K = torch.normal(0, 1, (2, 3, 1, 1), generator=g)
    Y1 = corr2d_multi_in_out_1x1(X, K)
    Y2 = corr2d_multi_in_out(X, K)
    assert Y1.shape == (2, 3, 3)
    assert float(torch.abs(Y1 - Y2).sum()) < 1e-6


def test_pool2d_book_examples_and_torch():
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    assert torch.equal(pool2d(X, (2, 2)), torch.tensor([[4.0, 5.0], [7.0, 8.0]]))
    assert torch.equal(pool2d(X, (2, 2), "avg"), torch.tensor([[2.0, 3.0], [5.0, 6.0]]))
    X = torch.randn(6, 7, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(pool2d(X, (2, 3)), F.max_pool2d(X[None, None], (2, 3), stride=1)[0, 0])
    assert torch.allclose(pool2d(X, (3, 2), "avg"), F.avg_pool2d(X[None, None], (3, 2), stride=1)[0, 0])
    # the book's padding and stride examples on arange(16)
    X = torch.arange(16, dtype=torch.float32).reshape(4, 4)
    assert pool_grid(X, 3)[0].tolist() == [[10.0]]
    assert pool_grid(X, 3, padding=1, stride=2)[0].tolist() == [[5.0, 7.0], [13.0, 15.0]]
    assert pool_grid(X, (2, 3), padding=(0, 1), stride=(2, 3))[0].tolist() == [[5.0, 7.0], [13.0, 15.0]]


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_grid_matches_torch(mode):
    g = torch.Generator().manual_seed(1)
    for n_h, n_w, k, pad, s in itertools.product([4, 5, 7], [5, 6], [1, 2, 3, (2, 3)], [0, 1], [None, 1, 2]):
        k_h, k_w = (k, k) if isinstance(k, int) else k
        if check_conv(n_h, n_w, k_h, k_w, pad, pad, *((s, s) if s else (k_h, k_w)), pool=True):
            continue
        X = torch.randn(n_h, n_w, generator=g)
        Y, winners = pool_grid(X, k, pad, s, mode)
        if mode == "avg":
            assert winners is None
            assert torch.allclose(Y, F.avg_pool2d(X[None, None], k, stride=s, padding=pad)[0, 0], atol=1e-6)
            continue
        T, idx = F.max_pool2d(X[None, None], k, stride=s, padding=pad, return_indices=True)
        assert torch.equal(Y, T[0, 0])
        P = F.pad(X, (pad, pad, pad, pad), value=float("-inf"))
        for i in range(Y.shape[0]):
            for j in range(Y.shape[1]):
                r, c = winners[i][j]
                assert P[r, c] == Y[i, j]  # the winner holds the maximum
                flat = int(idx[0, 0, i, j])  # torch's index, in unpadded coordinates
                assert (r - pad, c - pad) == (flat // n_w, flat % n_w)


def test_max_pool_padding_never_wins():
    X = -torch.ones(4, 4)  # all negative: the -inf padding must still lose
    Y, winners = pool_grid(X, 3, padding=1, stride=1)
    assert torch.equal(Y, -torch.ones(4, 4))
    assert all(1 <= r <= 4 and 1 <= c <= 4 for row in winners for r, c in row)
    Y, _ = pool_grid(X, 3, padding=1, stride=1, mode="avg")
    assert Y[0, 0] == pytest.approx(-4 / 9)  # zero padding counts in the mean


def test_shift_comparison_pooling_tolerates_translation():
    r = shift_comparison()  # the book's edge image, [1, -1], 2x2 max pooling, stride 1
    assert r["conv"][0].tolist() == [0.0, 1.0, 0.0, 0.0, 0.0, -1.0, 0.0]
    assert r["conv_shifted"][0].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, -1.0]
    assert r["pool"][0].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert r["conv_unchanged"] == pytest.approx(3 / 7)
    assert r["pool_unchanged"] == pytest.approx(4 / 6)
    assert shift_comparison(pool_size=(3, 3))["pool_unchanged"] == pytest.approx(4 / 5)
    assert torch.equal(shift_comparison(shift=0)["X_shifted"], r["X"])
