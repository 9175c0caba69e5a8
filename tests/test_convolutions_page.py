"""The convolutions page through AppTest: the book's edge example drawn with its
numbers, the kernel editor's output equal to core's convolution (preset, your
numbers, a bad link value, uploads good and bad), and the kernel learned live at
the book's settings beside the book's printed figures; an lr past the stability
limit is said on the page."""
from __future__ import annotations

import functools
import io

import numpy as np
import torch
from apptest_support import open_page, panel, tick_until, tick_until_stopped
from apptest_support import plotly_array as array
from apptest_support import plotly_spec as plotly

from core.data.fashion_mnist import load_fashion_mnist
from core.experiments import conv_kernel as ck
from core.ops.conv2d import apply_kernel, edge_example, kernel
from core.train.live_run import State

PAGE, KEY = "topics/convolutions.py", "convolutions"


def heat(at, key: str) -> np.ndarray:
    """The first heatmap's z of the figure drawn with this key (NaN where a padding cell is)."""
    return array(next(tr for tr in plotly(at, key)["data"] if tr["type"] == "heatmap")["z"])


@functools.cache
def fmnist_test_set() -> tuple[torch.Tensor, torch.Tensor]:
    data = load_fashion_mnist("cpu", allow_download=False)
    return data.X_test, data.y_test


def first_test_image(cls: int = 0, nth: int = 0) -> torch.Tensor:
    X, y = fmnist_test_set()
    return X[int(torch.nonzero(y == cls)[nth, 0]), 0]


def test_the_edge_example_and_the_default_kernel_on_fashion_mnist():
    at = open_page(PAGE)
    assert not at.exception, at.exception
    maths = " ".join(l.value for l in at.latex)
    assert r"[\mathbf{H}]_{i,j} = u + \sum_{a=-\Delta}^{\Delta}" in maths and r"[\mathbf{V}]_{a,b}" in maths
    assert r"\mathbf{K} - 0.03" in maths
    ex = edge_example()
    assert np.array_equal(heat(at, "conv:Y"), ex["Y"].numpy()) and np.array_equal(heat(at, "conv:X"), ex["X"].numpy())
    assert np.array_equal(heat(at, "conv:YT"), np.zeros((8, 5)))
    texts = next(tr for tr in plotly(at, "conv:Y")["data"] if tr["type"] == "heatmap")["text"]
    assert texts[0] == ["0", "1", "0", "0", "0", "-1", "0"]  # the numbers are written in the cells
    out = heat(at, "conv:output")
    np.testing.assert_allclose(out, apply_kernel(first_test_image(), kernel("edge_vertical")).numpy(), atol=1e-6)
    assert np.array_equal(heat(at, "conv:kernel3"), kernel("edge_vertical").numpy())
    assert not at.warning and not at.error


def test_a_preset_and_your_own_numbers_from_the_link():
    at = open_page(PAGE, {"kernel": "sharpen", "fm_class": "7", "fm_nth": "3"})
    assert not at.exception, at.exception
    np.testing.assert_allclose(heat(at, "conv:output"), apply_kernel(first_test_image(7, 3), kernel("sharpen")).numpy(),
                               atol=1e-5)
    at = open_page(PAGE, {"kernel": "custom", "k00": "2", "k11": "99", "k22": "-0.5"})
    assert not at.exception, at.exception
    K = torch.tensor([[2.0, 0, 0], [1, -1, 0], [0, 0, -0.5]])  # k11 out of range: back to its default, -1
    assert np.array_equal(heat(at, "conv:kernel3"), K.numpy())
    np.testing.assert_allclose(heat(at, "conv:output"), apply_kernel(first_test_image(), K).numpy(), atol=1e-5)
    notes = " ".join(c.value for c in at.caption)
    assert "is above the maximum 10; using \\-1 instead" in notes  # (markdown escapes the minus)


def uploader(at):
    return next(u for u in at.file_uploader if u.proto.id.endswith("conv:upload"))


def test_uploads_are_drawn_or_refused_with_a_message():
    from PIL import Image

    at = open_page(PAGE, {"image_source": "your image", "kernel": "box_blur"})
    assert not at.exception, at.exception
    assert "Upload an image" in " ".join(i.value for i in at.info)
    buf = io.BytesIO()
    pixels = np.zeros((300, 150, 3), dtype=np.uint8)
    pixels[:, 75:] = 255
    Image.fromarray(pixels).save(buf, format="PNG")
    uploader(at).set_value(("half.png", buf.getvalue(), "image/png")).run()
    assert not at.exception, at.exception
    img = heat(at, "conv:input")
    assert img.shape == (128, 64) and img[0, 0] == 0 and img[0, -1] == 1
    np.testing.assert_allclose(heat(at, "conv:output"), apply_kernel(torch.tensor(img, dtype=torch.float32),
                                                                     kernel("box_blur")).numpy(), atol=1e-5)
    uploader(at).set_value(("notes.png", b"this is not an image", "image/png")).run()
    assert not at.exception, at.exception
    assert "This file cannot be used: The file is not a PNG or JPEG image" in " ".join(e.value for e in at.error)
    uploader(at).set_value(("cut.png", buf.getvalue()[:100], "image/png")).run()
    assert "pixels cannot be read" in " ".join(e.value for e in at.error)


def test_the_kernel_is_learned_live_beside_the_books_figures():
    at = open_page(PAGE)
    S = panel(at, KEY)
    tick_until(at, lambda at: not S.building)
    next(b for b in at.button if b.label == "Start").click().run()
    tick_until_stopped(at)
    at.run()
    assert not at.exception, at.exception
    assert S.state == State.FINISHED and S.epoch == 10
    epochs = S.history("")["epochs"]
    t = ck.build(seed=0)  # the same seed trains the same path here
    t.advance()
    assert [r["train_loss"] for r in epochs] == [r["train_loss"] for r in t.history.epochs]
    table = at.dataframe[0].value
    row = table[table["update"] == "10"].iloc[0]
    assert (row["book 0.17.5"], row["book 1.0.3"]) == ("0.058", "0.026")
    assert row["this run"] == f"{epochs[-1]['train_loss']:.3f}" and 0.026 <= epochs[-1]["train_loss"] <= 0.058
    k = table[table["update"] == "kernel after 10"].iloc[0]
    assert k["this run"] == f"[{epochs[-1]['k0']:+.4f}, {epochs[-1]['k1']:+.4f}]"
    assert k["book 0.17.5"] == "[+1.0082, -0.9616]"
    learned = heat(at, "conv:learned")
    np.testing.assert_allclose(learned, [[epochs[-1]["k0"], epochs[-1]["k1"]]], atol=1e-6)
    assert np.abs(learned - [[1, -1]]).max() < 0.05
    specs = " ".join(el.proto.spec for el in at.get("vega_lite_chart"))
    assert "the book's loss after 10 updates: 0.058 (0.17.5), 0.026 (1.0.3)" in specs
    assert "target K[0, 0] = 1" in specs


def test_an_lr_past_the_limit_is_said_and_the_loss_grows():
    at = open_page(PAGE, {"lr": "0.04"})
    assert not at.exception, at.exception
    assert "is at or above the stability limit 2/60 = 0.0333" in " ".join(w.value for w in at.warning)
    S = panel(at, KEY)
    tick_until(at, lambda at: not S.building)
    next(b for b in at.button if b.label == "Start").click().run()
    tick_until_stopped(at)
    losses = [r["train_loss"] for r in S.history("")["epochs"]]
    assert len(losses) == 10 and losses[-1] > losses[0]
