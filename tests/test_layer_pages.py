"""The layer pages (dropout, padding and stride, pooling, batch norm)
through AppTest: the shapes, winners and fractions they show are the core's
and torch's, bad settings give a message, and the pictures leave a run alone."""
from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from apptest_support import metric, open_page, panel, tick_until

from core.models.mlp import dropout_mlp, dropout_probe
from core.ops.conv_arithmetic import conv_output_shape, input_of_output, pool_grid, shift_comparison
from playground import netview

PS, POOL, DROP, BN = "topics/padding_stride.py", "topics/pooling.py", "topics/dropout.py", "topics/batch_norm.py"


def chart(at, key: str) -> dict:
    """The plotly spec of the chart with this key."""
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith("-" + key):
            return json.loads(el.proto.spec)
    raise AssertionError(f"no chart {key!r}")


def charts_keys(at) -> list[str]:
    return [el.proto.id.rsplit("-", 1)[-1] for el in at.get("plotly_chart")]


def shapes(spec: dict, name: str) -> list[tuple[int, int]]:
    """(row, col) of the rectangles with this name."""
    return sorted((round(s["y0"] + 0.5), round(s["x0"] + 0.5)) for s in spec["layout"].get("shapes", [])
                  if s.get("name") == name)


def text(at) -> str:
    return " ".join(m.value for m in at.markdown)


# ------------------------------------------------------------- padding and stride
SETTINGS = [  # (n_h, n_w, k_h, k_w, pad_h, pad_w, s_h, s_w, dil): the book's examples and a dilated one
    (8, 8, 3, 3, 1, 1, 1, 1, 1),
    (8, 8, 5, 3, 2, 1, 1, 1, 1),
    (8, 8, 3, 3, 1, 1, 2, 2, 1),
    (8, 8, 3, 5, 0, 1, 3, 4, 1),
    (7, 9, 3, 2, 2, 0, 2, 3, 2),
]


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: "-".join(map(str, s)))
def test_padding_page_shape_is_the_formula_and_torchs(setting):
    n_h, n_w, k_h, k_w, pad_h, pad_w, s_h, s_w, d = setting
    keys = ("n_h", "n_w", "k_h", "k_w", "pad_h", "pad_w", "s_h", "s_w", "dil")
    at = open_page(PS, {k: str(v) for k, v in zip(keys, setting)})
    assert not at.exception, at.exception
    formula = conv_output_shape(n_h, n_w, k_h, k_w, 2 * pad_h, 2 * pad_w, s_h, s_w, d, d)
    real = F.conv2d(torch.zeros(1, 1, n_h, n_w), torch.zeros(1, 1, k_h, k_w), padding=(pad_h, pad_w),
                    stride=(s_h, s_w), dilation=d).shape[2:]
    assert tuple(real) == formula
    assert metric(at, "output shape (book's formula)") == f"{formula[0]} × {formula[1]}"
    assert metric(at, "output shape (torch's conv2d)") == f"{real[0]} × {real[1]}"
    assert f"= {formula[0]} \\times {formula[1]}" in at.latex[0].value
    # the real-image feature maps too: every one says its shape equals the formula
    assert len(at.success) == 2 and all("equals the formula" in s.value for s in at.success)
    assert not at.error


def test_padding_page_highlights_the_cells_an_output_reads():
    setting = dict(n_h=5, n_w=6, k_h=3, k_w=2, pad_h=1, pad_w=0, s_h=2, s_w=2, dil=1)
    at = open_page(PS, {k: str(v) for k, v in setting.items()})
    at.slider(key="padding_stride.out_i").set_value(2).run()
    at.slider(key="padding_stride.out_j").set_value(1).run()
    assert not at.exception, at.exception
    cells = input_of_output(2, 1, 5, 6, 3, 2, 1, 0, 2, 2)
    assert shapes(chart(at, "ps:input"), "read") == sorted((r + 1, c) for r, c, _ in cells)
    assert shapes(chart(at, "ps:output"), "selected") == [(2, 1)]
    # the sum written out ends in the value torch computed for that cell
    X = torch.arange(30.0).reshape(5, 6)
    Y = F.conv2d(X[None, None], torch.arange(6.0).reshape(1, 1, 3, 2), padding=(1, 0), stride=2)[0, 0]
    assert at.latex[1].value.strip().strip("$").strip().endswith(f"= {Y[2, 1]:.0f}")


def test_padding_page_explains_a_kernel_larger_than_the_padded_input():
    at = open_page(PS, {"n_h": "3", "k_h": "7", "pad_h": "1"})
    assert not at.exception, at.exception
    assert "larger than the padded input height 3 + 2*1 = 5" in at.error[0].value
    assert "ps:input" not in charts_keys(at) and "ps:img0" in charts_keys(at)  # images still shown


def test_padding_page_channels_are_the_books():
    at = open_page(PS)
    book = {0: "56 & 72 \\\\ 104 & 120", 1: "76 & 100 \\\\ 148 & 172", 2: "96 & 128 \\\\ 192 & 224"}
    for o, numbers in book.items():
        assert any(l.value.strip("$\n ").startswith(f"Y_{o} =") and numbers in l.value for l in at.latex)
    assert any("max difference 0)" in c.value for c in at.caption)


# ------------------------------------------------------------------------- pooling
def test_pooling_page_outlines_the_winner_of_the_max():
    at = open_page(POOL, {"pool_n": "6", "pool_k": "3", "pool_pad": "1", "pool_s": "2"})
    at.selectbox(key="pooling.pool_in").set_value("random").run()
    at.slider(key="pooling.pool_i").set_value(1).run()
    at.slider(key="pooling.pool_j").set_value(2).run()
    assert not at.exception, at.exception
    X = torch.randint(0, 10, (6, 6), generator=torch.Generator().manual_seed(0)).float()
    Y, winners = pool_grid(X, 3, 1, 2, "max")
    r, c = winners[1][2]
    assert shapes(chart(at, "pool:input"), "winner") == [(r, c)]
    window = F.pad(X, (1, 1, 1, 1), value=float("-inf"))[2:5, 4:7]
    assert float(Y[1, 2]) == float(window.max())
    assert f"taken from input cell ({r - 1}, {c - 1})" in text(at) and f"**{Y[1, 2]:.0f}**" in text(at)
    assert "the same" in at.success[0].value


def test_pooling_page_average_and_the_book_example():
    at = open_page(POOL, {"pool_n": "3", "pool_k": "2", "pool_pad": "0", "pool_s": "1"})
    out = chart(at, "pool:output")["data"][0]["z"]
    assert out == [[4, 5], [7, 8]]  # the book's max pooling of 0..8
    at.selectbox(key="pooling.pool_mode").set_value("avg").run()
    assert chart(at, "pool:output")["data"][0]["z"] == [[2, 3], [5, 6]]
    assert shapes(chart(at, "pool:input"), "winner") == []


def test_pooling_page_shift_fractions_are_the_cores():
    at = open_page(POOL)
    at.slider(key="pooling.shift").set_value(-1).run()
    res = shift_comparison(shift=-1, mode="max")
    assert metric(at, "convolution outputs unchanged") == f"{res['conv_unchanged']:.0%}"
    assert metric(at, "pooled outputs unchanged") == f"{res['pool_unchanged']:.0%}"
    assert res["pool_unchanged"] > res["conv_unchanged"]
    changed = sorted(map(tuple, torch.nonzero(res["pool"] != res["pool_shifted"]).tolist()))
    assert shapes(chart(at, "pool:shift:pool_shifted"), "changed") == changed


def test_pooling_page_padding_over_half_the_window_is_explained():
    at = open_page(POOL, {"pool_k": "2", "pool_pad": "2"})
    assert not at.exception, at.exception
    assert "at most half the window" in at.error[0].value


# ------------------------------------------------------------------------- dropout
def test_dropout_probe_leaves_the_run_alone_and_scales_survivors():
    net = dropout_mlp()(torch.Generator().manual_seed(0))
    run_gen = torch.Generator().manual_seed(5)
    for d in net.dropouts:
        d.generator = run_gen
    X = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    net(X)  # a training forward: the run's last masks
    state, masks = run_gen.get_state(), [m.clone() for m in net.masks()]
    res = dropout_probe(net, X[:1], train=True, seed=123)
    assert torch.equal(run_gen.get_state(), state) and net.training
    assert all(torch.equal(a, b) for a, b in zip(net.masks(), masks))
    assert all(d.generator is run_gen for d in net.dropouts)
    for h, m, out, p in zip(res["h"], res["mask"], res["out"], res["p"]):
        assert torch.allclose(out, h * m / (1 - p))
    again = dropout_probe(net, X[:1], train=True, seed=123)
    assert all(torch.equal(a, b) for a, b in zip(res["mask"], again["mask"]))  # the picture's seed decides
    ev = dropout_probe(net, X[:1], train=False, seed=123)
    assert ev["mask"] == [None, None] and all(torch.equal(o, h) for o, h in zip(ev["out"], ev["h"]))
    assert abs(float(ev["probs"].sum()) - 1) < 1e-5


def test_dropout_figure_crosses_out_the_dropped_units_and_colours_the_rest_by_what_they_pass_on():
    """What the page's legend says: dropped units are crossed out (⊗) and pass on 0;
    a survivor's colour and number are the value it passes on."""
    net = dropout_mlp()(torch.Generator().manual_seed(0))
    X = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    res = dropout_probe(net, X, train=True, seed=7)
    units = 16
    fig = netview.dropout_figure(res, units, [str(c) for c in range(10)]).to_plotly_json()
    crossed_out = [tr for tr in fig["data"] if tr.get("marker", {}).get("symbol") == "circle-x"]
    survivors = [tr for tr in fig["data"] if tr.get("mode") == "markers+text" and set(tr["x"]) in ({0}, {1})]
    assert len(crossed_out) == len(survivors) == 2  # one of each per hidden layer, in order
    for layer in (0, 1):
        mask = res["mask"][layer][:units]
        out = res["out"][layer][:units]
        assert 0 < int((~mask).sum()) < units  # this seed drops some of the units shown, not all
        crossed, kept = crossed_out[layer], survivors[layer]
        ys = torch.linspace(1, 0, units)
        assert sorted(crossed["y"]) == pytest.approx(sorted(ys[~mask].tolist()))
        assert all("dropped, passes on 0" in h for h in crossed["hovertext"])
        assert sorted(kept["y"]) == pytest.approx(sorted(ys[mask].tolist()))
        assert kept["marker"]["color"] == pytest.approx(out[mask].tolist())  # colour = value passed on
        assert kept["text"] == [f"{v:.2f}" for v in out[mask].tolist()]
        assert torch.equal(out[~mask], torch.zeros(int((~mask).sum())))


def test_dropout_page_picture_train_and_eval():
    at = open_page(DROP)
    assert not at.exception, at.exception
    assert "hidden 1:" in text(at) and "of 256 units dropped" in text(at) and "(p = 0.5)" not in text(at)
    assert dropout_ps(at) == [0.2, 0.5]
    at.toggle(key="dropout.eval_mode").set_value(True).run()
    assert "hidden 1: all 256 units used, nothing scaled" in text(at)
    dark = [tr for tr in chart(at, "dropout:net")["data"] if tr.get("marker", {}).get("symbol") == "circle-x"]
    assert dark and all(len(tr.get("y", [])) == 0 for tr in dark)  # nothing dropped in eval mode
    at.toggle(key="dropout.eval_mode").set_value(False).run()
    at.slider(key="dropout.dropout1").set_value(0.0).run()
    # a new run for p1 = 0: while a loaded machine still builds it, the picture last computed stays
    tick_until(at, lambda at: "hidden 1: 0 of 256 units dropped" in text(at), timeout=180)
    assert dropout_ps(at) == [0.0, 0.5]


def test_dropout_page_offers_a_labelled_stand_in(no_data):
    at = open_page(DROP)
    assert not at.exception, at.exception
    assert "Fashion-MNIST is not available here" in at.warning[0].value
    assert not [b for b in at.button if b.label == "Start"]
    next(t for t in at.toggle if str(t.key).startswith("standin:('fmnist'")).set_value(True).run()
    assert not at.exception, at.exception
    assert any("Stand-in data" in i.value for i in at.info)
    tick_until(at, lambda at: not panel(at, "dropout").building)
    assert panel(at, "dropout").probe("core.train.readouts:num_examples") == {"": 6000}


# ---------------------------------------------------------------------- batch norm
def test_batch_norm_page_lr_reaches_both_nets_mid_run():
    at = open_page(BN, {"num_epochs": "1"})
    assert not at.exception, at.exception
    S = panel(at, "batch_norm")
    tick_until(at, lambda at: not S.building)
    assert S.names == ["LeNet", "BN-LeNet"]
    next(b for b in at.button if b.label == "Start").click().run()
    tick_until(at, lambda at: S.steps >= 2)
    at.select_slider(key="batch_norm.lr").set_value(3.0).run()
    assert not at.exception, at.exception
    for seen in S.probe("core.train.readouts:hparams").values():
        assert seen["now"]["lr"] == 3.0 and seen["step"] > 0
        assert seen["changes"][-1]["name"] == "lr" and seen["changes"][-1]["value"] == 3.0
    next(b for b in at.button if b.label == "Pause").click().run()


def test_batch_norm_page_shows_histograms_and_the_chosen_layers_statistics():
    at = open_page(BN, {"batch_norm": "builtin"})
    assert not at.exception, at.exception
    modules = panel(at, "batch_norm").probe("core.train.readouts:structure")["BN-LeNet"]
    assert next(m["type"] for m in modules if m["path"] == "bn1") == "BatchNorm2d"
    keys = charts_keys(at)
    assert all(f"bn:hist:act{n}" in keys for n in range(1, 5))
    hist = chart(at, "bn:hist:act3")["data"]
    assert [tr["name"] for tr in hist] == ["LeNet", "BN-LeNet"]
    assert all(abs(sum(tr["y"]) - 1) < 1e-6 for tr in hist)  # fractions of the probe's values
    bn = hist[1]  # training mode, gamma 1, beta 0: each feature normalised over the probe batch
    mean = sum(x * y for x, y in zip(bn["x"], bn["y"]))
    var = sum((x - mean) ** 2 * y for x, y in zip(bn["x"], bn["y"]))
    assert abs(mean) < bn["width"] and abs(var - 1) < 0.15
    at.selectbox(key="batch_norm.layer").set_value("bn3").run()
    gamma = chart(at, "bn:stats:2")["data"][0]
    assert len(gamma["y"]) == 120 and set(gamma["y"]) == {1.0}  # before training: gamma = 1
    running_var = chart(at, "bn:stats:1")["data"][0]
    assert set(running_var["y"]) == {1.0}


def test_batch_norm_page_probe_leaves_the_run_alone():
    at = open_page(BN, {"num_epochs": "1"})
    S = panel(at, "batch_norm")
    next(b for b in at.button if b.label == "Start").click().run()
    tick_until(at, lambda at: S.steps >= 2)
    next(b for b in at.button if b.label == "Pause").click().run()

    def stats():
        return [S.probe("core.experiments.batch_norm:inside", layer=layer)["stat"] for layer in ("bn1", "bn3")]

    before = stats()
    assert before[0]["batch_mean"] is not None
    at.toggle(key="batch_norm.hist_eval").set_value(True).run()  # two more probes, in both modes
    at.toggle(key="batch_norm.hist_eval").set_value(False).run()
    assert not at.exception, at.exception
    for a, b in zip(before, stats()):
        for k in ("running_mean", "running_var", "batch_mean", "batch_var", "gamma"):
            assert torch.equal(a[k], b[k]), (a["name"], k)


def dropout_ps(at) -> list[float]:
    """The dropout probabilities of the dropout page's net, read in its worker."""
    R = panel(at, "dropout")
    tick_until(at, lambda at: not R.building)
    return [m["p"] for m in R.probe("core.train.readouts:structure")[""] if m["type"].startswith("Dropout")]
