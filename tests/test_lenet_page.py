"""The LeNet page through AppTest: the feature maps, kernels and softmax drawn
are those of the run's net (rebuilt here from the same seed, before and after
a few steps), the sliding-kernel section's cell equals the feature map's value
and Next cell moves it, uploads are used or refused with a message, and bad
link values fall back with a notice."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest
from apptest_support import errors, open_page, panel, tick_until
from apptest_support import plotly_array as array
from apptest_support import plotly_spec as plotly
from PIL import Image

from core.data.fashion_mnist import load_fashion_mnist
from core.experiments import lenet as ln

PAGE, KEY = "topics/lenet.py", "lenet"


@pytest.fixture(scope="module")
def data():
    return load_fashion_mnist(allow_download=False)


def built(at):
    S = panel(at, KEY)
    tick_until(at, lambda at: not S.building)
    at.run()  # the pictures of the built run
    assert not at.exception, at.exception
    return S


def heatmaps(at, key):
    return [array(tr["z"]) for tr in plotly(at, key)["data"] if tr["type"] == "heatmap"]


def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_the_pictures_are_the_runs_net_and_one_cell_is_its_feature_maps_value(data):
    at = open_page(PAGE, {"cell_layer": "C3", "channel": "5", "row": "4", "col": "9"})  # a link to one cell
    assert not at.exception, at.exception
    maths = " ".join(x.value for x in at.latex)
    assert r"\sigma(z) = \frac{1}{1 + e^{-z}}" in maths
    built(at)
    net = ln.build(ln.Config(), data, seed=0).net  # the run's initial weights, from the same seed
    seen = ln.forward_maps(net, data.X_test[0])
    C1 = heatmaps(at, "lenet:C1")
    assert len(C1) == 6 and all(m.shape == (28, 28) for m in C1)
    for c in (0, 5):
        assert np.allclose(C1[c], seen["maps"]["C1"][c], atol=1e-6)
    assert [m.shape for m in heatmaps(at, "lenet:S2")] == [(14, 14)] * 6
    assert [m.shape for m in heatmaps(at, "lenet:C3")] == [(10, 10)] * 16
    assert [m.shape for m in heatmaps(at, "lenet:S4")] == [(5, 5)] * 16
    assert np.allclose(heatmaps(at, "lenet:C3")[9], seen["maps"]["C3"][9], atol=1e-6)
    kernels = heatmaps(at, "lenet:kernels")
    assert len(kernels) == 6 and np.allclose(kernels[2], net.conv1.weight[2, 0].detach().numpy())
    assert np.allclose(array(plotly(at, "lenet:F5")["data"][0]["y"]), seen["maps"]["F5"], atol=1e-6)
    assert len(array(plotly(at, "lenet:F6")["data"][0]["y"])) == 84
    probs = array(plotly(at, "lenet:probs")["data"][0]["y"])
    assert probs.sum() == pytest.approx(1.0, abs=1e-6) and np.allclose(probs, seen["probs"], atol=1e-6)
    assert "Every layer on test image 0 (ankle boot)" in [h.value for h in at.subheader]
    # the sliding kernel, from the link: C3, feature map 5, cell (4, 9); Next cell wraps to (5, 0)
    assert at.slider(key="lenet.channel").value == 5 and at.slider(key="lenet.col").value == 9
    next(b for b in at.button if b.label == "Next cell").click().run()
    assert not at.exception, at.exception
    assert (at.slider(key="lenet.row").value, at.slider(key="lenet.col").value) == (5, 0)
    value = float(seen["maps"]["C3"][5, 5, 0])
    assert "C3[5, 5, 0] = " in " ".join(x.value for x in at.latex)
    assert re.search(rf"C3\[5, 5, 0\] = .* = {value:.4f}", " ".join(x.value for x in at.latex))
    assert f"holds {value:.4f} at this cell" in captions(at)
    cell = plotly(at, "lenet:cell")
    assert len([tr for tr in cell["data"] if tr["type"] == "heatmap"]) == 6 * 3  # window, kernel, products per input
    window = ln.conv_cell(seen["maps"]["S2"], seen["weights"]["C3"], seen["bias"]["C3"], channel=5, row=5, col=0)
    assert np.allclose(array(cell["data"][4]["z"]), window["kernel"][1])  # input 1's kernel K[5, 1]
    assert np.allclose(array(cell["data"][3]["z"]), window["window"][1])  # input 1's window
    shapes = plotly(at, "lenet:cell_input")["layout"]["shapes"]
    assert len(shapes) == 6 and shapes[0]["x0"] == -0.5 and shapes[0]["y0"] == 4.5  # the window at (5, 0)
    next(b for b in at.button if b.label == "Previous cell").click().run()
    assert (at.slider(key="lenet.row").value, at.slider(key="lenet.col").value) == (4, 9)


def test_a_few_steps_later_the_pictures_show_the_trained_net(data):
    at = open_page(PAGE, {"modern": "true", "lr": "0.1", "index": "7"})
    S = built(at)
    next(b for b in at.button if b.label == "Start").click().run()
    tick_until(at, lambda at: len(S.history("")["steps"]) >= 6)
    next(b for b in at.button if b.label == "Pause").click().run()
    tick_until(at, lambda at: not S.active)
    at.run()  # recomputed once after the pause
    assert not at.exception, at.exception
    step = int(re.search(r"After step (\d+)", captions(at)).group(1))
    assert step == len(S.history("")["steps"]) >= 6
    t = ln.build(ln.Config(modern=True, lr=0.1), data, seed=0)
    t.advance(max_steps=step)
    seen = ln.forward_maps(t.net, data.X_test[7])
    for c in (0, 3):
        assert np.allclose(heatmaps(at, "lenet:C1")[c], seen["maps"]["C1"][c], atol=1e-4)
    assert np.allclose(heatmaps(at, "lenet:kernels")[1], t.net.conv1.weight[1, 0].detach().numpy(), atol=1e-5)
    assert "ReLU" in plotly(at, "lenet:C1")["layout"]["title"]["text"]
    wrong = plotly(at, "lenet:wrong")
    titles = [a["text"] for a in wrong["layout"]["annotations"] if a["text"]]
    assert len(titles) == 8
    for title in titles:
        number, rest = title.split(": ", 1)
        true, pred = rest.split("<br>→ ")
        assert true != pred.rsplit(" (", 1)[0] and data.text_labels[int(data.y_test[int(number[1:])])] == true


def _png(array8: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array8).save(buf, format="PNG")
    return buf.getvalue()


def test_uploads_and_bad_links(data):
    at = open_page(PAGE, {"index": "12345", "cell_layer": "C3", "row": "27", "lr": "inf"})
    assert not at.exception, at.exception
    notes = captions(at)
    assert "is above the maximum 9999; using 0 instead" in notes and "is not one of the choices" in notes
    built(at)
    assert "is above the maximum 9; using 5 instead" in captions(at)  # row 27 does not exist in C3's 10 x 10
    picture = np.full((40, 40), 255, dtype=np.uint8)
    picture[10:30, 15:25] = 0
    at.file_uploader(key="lenet:upload").upload("boot.png", _png(picture), "image/png").run()
    tick_until(at, lambda at: "Every layer on your picture" in [h.value for h in at.subheader])
    assert "as the net sees it: grayscale, resized to 28 × 28, and inverted" in captions(at)
    expected = ln.image_from_upload(_png(picture))["image"]
    assert np.allclose(heatmaps(at, "lenet:image")[0], expected, atol=1e-5)
    at.file_uploader(key="lenet:upload").upload("notes.png", b"these are not pixels", "image/png").run()
    assert not at.exception, at.exception
    assert "is not a PNG or JPEG picture that can be read" in errors(at)
    tick_until(at, lambda at: "Every layer on test image 0 (ankle boot)" in [h.value for h in at.subheader])
