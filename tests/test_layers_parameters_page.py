"""The layers-and-parameters page through AppTest: what it shows is the core's
(totals, parameter table, histograms, lazy shapes, the tied gradient), the
initializer redraws the histograms, and bad links give notices, not errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from apptest_support import metric, open_page, plotly_array, plotly_spec

from core.experiments import layers_parameters as lp

PAGE = "topics/layers_parameters.py"


def bars(at, i: int) -> tuple[np.ndarray, np.ndarray]:
    """x (bin centres) and y (counts) of histogram i."""
    bar = next(t for t in plotly_spec(at, f"lp:hist{i}")["data"] if t["type"] == "bar")
    return plotly_array(bar["x"]), plotly_array(bar["y"])


def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


@pytest.fixture(scope="module")
def page():
    at = open_page(PAGE)
    assert not at.exception, at.exception
    return at


def test_the_inspector_shows_the_cores_table_and_total(page):
    net, X = lp.build_net("mlp", seed=0)
    info = lp.inspect(net, X)
    assert metric(page, "parameters (total)") == "7,946" == f"{info['total']:,}"
    assert metric(page, "output shape") == "2 × 10"
    table = next(df.value for df in page.dataframe if "std" in getattr(df.value, "columns", []))
    table = table.data if hasattr(table, "data") else table  # a Styler
    assert table["name"].tolist() == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert table["count"].tolist() == [5120, 256, 2560, 10]
    assert np.allclose(table["std"].to_numpy(float), [r["std"] for r in info["parameters"]])
    assert "digraph" in page.get("graphviz_chart")[0].proto.spec


def test_the_histograms_are_the_cores_and_the_initializer_redraws_them(page):
    x0, y0 = bars(page, 0)
    net, _ = lp.build_net("mlp", "default", seed=0)
    hist = lp.weight_histograms(net)[0]
    assert y0.tolist() == hist["counts"].tolist() and y0.sum() == 256 * 20
    page.selectbox(key="layers_parameters.init").set_value("my_init").run()
    assert not page.exception, page.exception
    x1, y1 = bars(page, 0)
    assert y1.tolist() != y0.tolist() and y1.sum() == 256 * 20
    net, _ = lp.build_net("mlp", "my_init", seed=0)
    assert y1.tolist() == lp.weight_histograms(net)[0]["counts"].tolist()
    assert x1.min() < -5 and x1.max() > 5  # U(-10, 10) with the middle zeroed
    share = float(captions(page).split("% of the weights are exactly 0")[0].split()[-1]) / 100
    assert abs(share - 0.5) < 0.03
    page.selectbox(key="layers_parameters.init").set_value("xavier").run()
    bound = np.sqrt(6 / (20 + 256))
    x2, _ = bars(page, 0)
    assert np.abs(x2).max() < bound
    lines = [s["x0"] for s in plotly_spec(page, "lp:hist0")["layout"]["shapes"]]
    assert sorted(lines) == pytest.approx([-bound, bound])
    assert page.query_params["init"] == "xavier"


def test_lazy_shapes_tied_gradient_and_custom_layers_from_a_link():
    at = open_page(PAGE, {"net": "tied", "num_inputs": "7", "init": "constant"})
    assert not at.exception, at.exception
    assert metric(at, "parameters (total)") == "121"
    assert metric(at, "net[2].weight is net[4].weight") == "True"
    assert metric(at, "after net[2].weight[0, 0] = 100, rows 0 equal") == "8 of 8"
    ok = " ".join(s.value for s in at.success)
    assert "256 × 7, 256, 10 × 256, 10" in ok and "nn.Linear(7, 256)" in ok
    d = lp.shared_demo(seed=0, batch_size=32)
    z = [plotly_array(plotly_spec(at, f"lp:tied:{name}")["data"][0]["z"]) for name in
         ("through the use at 2", "through the use at 4", "autograd's .grad of the shared weight")]
    assert np.allclose(z[0], d["use1"].numpy()) and np.allclose(z[2], z[0] + z[1], atol=1e-6)
    _, counts = bars(at, 1)  # the shared layer's weight: 64 ones in one bar
    assert counts.tolist() == [64]
    assert "[-2, -1, 0, 1, 2]" in " ".join(m.value for m in at.latex)


def test_a_bad_link_falls_back_with_notices():
    at = open_page(PAGE, {"net": "resnet999", "num_inputs": "1e308", "init": "<b>x</b>"})
    assert not at.exception, at.exception
    notes = captions(at)
    assert notes.count("using") >= 3 and "is not one of the choices" in notes
    assert metric(at, "parameters (total)") == "7,946" and not at.error


def test_the_seed_redraws_the_weights():
    a, b = open_page(PAGE, {"seed": "1"}), open_page(PAGE, {"seed": "2"})
    assert bars(a, 0)[1].tolist() != bars(b, 0)[1].tolist()
    net, _ = lp.build_net("mlp", seed=1)
    assert torch.equal(torch.tensor(bars(a, 0)[1]), torch.tensor(lp.weight_histograms(net)[0]["counts"],
                                                                  dtype=torch.float64))
