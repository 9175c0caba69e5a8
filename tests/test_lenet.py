"""LeNet (section 7.6): the book's shapes and parameter counts, every feature
map equal to a forward pass written out with torch.nn.functional, one cell of
a feature map equal to its window times its kernel, pictures that leave the run
alone, seeded runs, learning on a Fashion-MNIST subset, and uploads."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from core.data.fashion_mnist import FashionMNIST, load_fashion_mnist
from core.experiments import lenet as L
from core.models.lenet import layer_shapes


def net_of(modern=False, seed=0):
    return L.lenet_net(modern)(torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def fashion():
    return load_fashion_mnist(allow_download=False)


def subset(data, n_train, n_test):
    return FashionMNIST(data.X_train[:n_train], data.y_train[:n_train], data.X_test[:n_test], data.y_test[:n_test])


def test_book_defaults():
    assert (L.BOOK.lr, L.BOOK.batch_size, L.BOOK.num_epochs, L.BOOK.modern) == (0.9, 256, 10, False)


@pytest.mark.parametrize("modern", [False, True])
def test_every_layers_output_shape(modern):
    rows = layer_shapes(net_of(modern))
    shapes = {name: shape for name, _, shape in rows}
    assert [kind for _, kind, _ in rows] == [
        "Conv2d", "ReLU" if modern else "Sigmoid", "MaxPool2d" if modern else "AvgPool2d", "Conv2d",
        "ReLU" if modern else "Sigmoid", "MaxPool2d" if modern else "AvgPool2d", "Flatten", "Linear",
        "ReLU" if modern else "Sigmoid", "Linear", "ReLU" if modern else "Sigmoid", "Linear"]
    # the book's table: C1 6x28x28, S2 6x14x14, C3 16x10x10, S4 16x5x5, 400, F5 120, F6 84, output 10
    assert shapes["conv1"] == shapes["act1"] == (6, 28, 28) and shapes["pool1"] == (6, 14, 14)
    assert shapes["conv2"] == shapes["act2"] == (16, 10, 10) and shapes["pool2"] == (16, 5, 5)
    assert shapes["flatten"] == (400,) and shapes["fc1"] == (120,) and shapes["fc2"] == (84,)
    assert shapes["fc3"] == (10,)
    maps = L.forward_maps(net_of(modern), torch.rand(28, 28, generator=torch.Generator().manual_seed(1)))["maps"]
    assert {k: v.shape for k, v in maps.items()} == L.SHAPES


@pytest.mark.parametrize("modern", [False, True])
def test_parameters_per_layer(modern):
    k = 5 * 5
    expected = {"conv1": 6 * (1 * k) + 6,  # 156
                "conv2": 16 * (6 * k) + 16,  # 2416
                "fc1": 120 * (16 * 5 * 5) + 120,  # 48120
                "fc2": 84 * 120 + 84,  # 10164
                "fc3": 10 * 84 + 10}  # 850
    assert expected == {"conv1": 156, "conv2": 2416, "fc1": 48120, "fc2": 10164, "fc3": 850}
    counts = L.parameter_counts(net_of(modern))
    assert counts == expected and sum(counts.values()) == 61706


def test_modern_lenet_starts_from_the_same_weights():
    book, modern = net_of(False), net_of(True)
    for (n1, p1), (n2, p2) in zip(book.named_parameters(), modern.named_parameters()):
        assert n1 == n2 and torch.equal(p1, p2)
    assert isinstance(modern.pool1, nn.MaxPool2d) and isinstance(modern.act3, nn.ReLU)
    assert list(dict(modern.named_children())) == list(dict(book.named_children()))


def _by_hand(net, x, modern):
    """The forward pass written out with torch.nn.functional from the net's weights."""
    act = F.relu if modern else torch.sigmoid
    pool = F.max_pool2d if modern else F.avg_pool2d
    X = x.reshape(1, 1, 28, 28)
    C1 = act(F.conv2d(X, net.conv1.weight, net.conv1.bias, padding=2))
    S2 = pool(C1, 2, 2)
    C3 = act(F.conv2d(S2, net.conv2.weight, net.conv2.bias))
    S4 = pool(C3, 2, 2)
    F5 = act(S4.reshape(1, -1) @ net.fc1.weight.T + net.fc1.bias)
    F6 = act(F5 @ net.fc2.weight.T + net.fc2.bias)
    out = F6 @ net.fc3.weight.T + net.fc3.bias
    return {"C1": C1, "S2": S2, "C3": C3, "S4": S4, "F5": F5, "F6": F6, "output": out}


@pytest.mark.parametrize("modern", [False, True])
def test_feature_maps_equal_the_forward_pass(modern):
    net = net_of(modern, seed=3)
    with torch.no_grad():  # weights away from the initial ones, so nothing is trivially zero
        for p in net.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    x = torch.rand(28, 28, generator=torch.Generator().manual_seed(2))
    seen = L.forward_maps(net, x)
    with torch.no_grad():
        ref = _by_hand(net, x, modern)
        out = net(x.reshape(1, 1, 28, 28))[0]
    for name, value in ref.items():
        assert np.allclose(seen["maps"][name], value[0].numpy(), atol=1e-6), name
    assert np.allclose(seen["logits"], out.numpy(), atol=1e-5)
    assert sum(seen["probs"]) == pytest.approx(1.0) and seen["predicted"] == int(out.argmax())
    assert np.allclose(seen["probs"], torch.softmax(out.double(), 0).numpy(), atol=1e-6)
    assert np.array_equal(seen["weights"]["C1"], net.conv1.weight.detach().numpy())  # the six C1 kernels
    assert seen["weights"]["C1"].shape == (6, 1, 5, 5) and seen["weights"]["C3"].shape == (16, 6, 5, 5)
    assert seen["activation"] == ("relu" if modern else "sigmoid")
    assert seen["pooling"] == ("max" if modern else "avg")
    assert np.array_equal(seen["image"], x.numpy())


@pytest.mark.parametrize("modern", [False, True])
def test_one_cell_is_its_window_times_its_kernel_and_equals_the_feature_map(modern):
    net = net_of(modern, seed=1)
    x = torch.rand(28, 28, generator=torch.Generator().manual_seed(4))
    seen = L.forward_maps(net, x)
    for layer, cells in (("C1", [(0, 0, 0), (2, 0, 27), (5, 13, 14), (3, 27, 27)]),
                         ("C3", [(0, 0, 0), (7, 4, 9), (15, 9, 9)])):
        info = L.CONVS[layer]
        X = L.conv_input(seen, layer)
        for channel, row, col in cells:
            cell = L.conv_cell(X, seen["weights"][layer], seen["bias"][layer], channel=channel, row=row, col=col,
                               padding=info["padding"], activation=seen["activation"])
            # the value of the forward pass's feature map, and its pre-activation
            assert cell["value"] == pytest.approx(float(seen["maps"][layer][channel, row, col]), abs=1e-6)
            assert cell["z"] == pytest.approx(float(seen["z"][layer][channel, row, col]), abs=1e-5)
            # the book's corr2d by loops over the padded input, in float64
            Xp = np.pad(np.asarray(X, dtype=np.float64), ((0, 0), (info["padding"],) * 2, (info["padding"],) * 2))
            W = seen["weights"][layer][channel].astype(np.float64)
            k = W.shape[-1]
            z = sum(Xp[c, row + i, col + j] * W[c, i, j] for c in range(W.shape[0]) for i in range(k)
                    for j in range(k)) + float(seen["bias"][layer][channel])
            assert cell["z"] == pytest.approx(z, abs=1e-5)
            assert cell["sum"] + cell["bias"] == pytest.approx(cell["z"])
            assert np.allclose(cell["products"], cell["window"] * cell["kernel"])
            assert np.allclose(cell["per_channel"], cell["products"].sum(axis=(1, 2)), atol=1e-6)
            assert cell["window"].shape == cell["kernel"].shape == (W.shape[0], 5, 5)
            assert cell["shape"] == L.SHAPES[layer][1:]
    corner = L.conv_cell(L.conv_input(seen, "C1"), seen["weights"]["C1"], seen["bias"]["C1"], channel=0, row=0,
                         col=0, padding=2)
    assert corner["padding"].sum() == 25 - 9 and np.all(corner["window"][0][corner["padding"]] == 0)
    assert corner["top_left"] == (-2, -2)
    with pytest.raises(ValueError):
        L.conv_cell(L.conv_input(seen, "C3"), seen["weights"]["C3"], seen["bias"]["C3"], channel=0, row=10, col=0)


def test_step_moves_the_window_along_the_row_and_wraps():
    assert L.step_cell(0, 0, (10, 10)) == (0, 1)
    assert L.step_cell(0, 9, (10, 10)) == (1, 0)
    assert L.step_cell(9, 9, (10, 10)) == (0, 0)
    assert L.step_cell(0, 0, (28, 28), -1) == (27, 27)
    assert L.step_cell(4, 0, (28, 28), -1) == (3, 27)


def _trainer(data, *, seed=0, modern=True, lr=0.1, batch_size=64, num_epochs=2):
    return L.build(L.Config(lr=lr, modern=modern, num_epochs=num_epochs, batch_size=batch_size), data, seed=seed)


def test_pictures_leave_the_run_alone_and_runs_are_seeded(fashion):
    data = subset(fashion, 512, 200)
    plain, pictured, again, other = (_trainer(data, seed=s, num_epochs=1) for s in (0, 0, 0, 1))
    plain.advance()
    again.advance()
    other.advance()
    while not pictured.done:
        pictured.advance(max_steps=3)
        seen = L.feature_maps({"": pictured}, data, index=5)
        L.feature_maps({"": pictured}, data, image=tuple(np.linspace(0, 1, 784)))
        wrong = L.misclassified({"": pictured}, data)
        assert seen["step"] == wrong["step"] == pictured.step
    for t in (pictured, again):
        assert [r["loss"] for r in t.history.steps] == [r["loss"] for r in plain.history.steps]  # bit for bit
        for a, b in zip(t.net.parameters(), plain.net.parameters()):
            assert torch.equal(a, b)
        assert torch.equal(t.gen_data.get_state(), plain.gen_data.get_state())
    assert [r["loss"] for r in other.history.steps] != [r["loss"] for r in plain.history.steps]


def test_accuracy_rises_on_a_fashion_mnist_subset(fashion):
    data = subset(fashion, 3000, 1000)
    t = _trainer(data, modern=True, lr=0.1, batch_size=64, num_epochs=2)
    before = L.misclassified({"": t}, data)["accuracy"]
    t.advance()
    after = t.history.epochs[-1]["test_metric"]
    assert before < 0.2 and after > 0.6, (before, after)
    assert t.history.epochs[-1]["train_loss"] < t.history.epochs[0]["train_loss"]
    whole = L.misclassified({"": t}, data, n=1000, batch=1000)  # every test image: the run's test accuracy
    assert whole["checked"] == 1000 and whole["accuracy"] == pytest.approx(after)
    assert whole["num_wrong"] == round((1 - after) * 1000)
    wrong = L.misclassified({"": t}, data, n=8, batch=50)  # read 50 at a time until 8 are found
    assert wrong["checked"] % 50 == 0 and wrong["checked"] < 1000 and wrong["num_wrong"] >= 8
    assert wrong["wrong"] == whole["wrong"][:8]
    assert len(wrong["wrong"]) == 8 and wrong["images"].shape == (8, 28, 28)
    assert all(tr != pr for tr, pr in zip(wrong["true"], wrong["predicted"]))
    assert wrong["true"] == data.y_test[wrong["wrong"]].tolist()
    assert np.array_equal(wrong["images"][0], data.X_test[wrong["wrong"][0], 0].numpy())
    assert all(0.1 <= p <= 1 for p in wrong["prob"])
    seen = L.feature_maps({"": t}, data, index=int(wrong["wrong"][0]))
    assert seen["predicted"] == wrong["predicted"][0] and seen["label"] == wrong["true"][0]


def _png(array: np.ndarray, fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format=fmt)
    return buf.getvalue()


def test_uploads_are_decoded_grayscale_resized_and_checked():
    # a dark square on white, 100x60 RGB: inverted to a light square on black, 28x28 in [0, 1]
    rgb = np.full((60, 100, 3), 255, dtype=np.uint8)
    rgb[20:40, 30:70] = (0, 0, 0)
    got = L.image_from_upload(_png(rgb))
    assert got["inverted"] and got["size"] == (100, 60) and got["image"].shape == (28, 28)
    gray = torch.from_numpy(np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float32) / 255)[None, None]
    expected = 1 - F.interpolate(gray, size=(28, 28), mode="bilinear", antialias=True)[0, 0]
    assert np.allclose(got["image"], expected.numpy(), atol=1e-6)
    assert got["image"][14, 14] == pytest.approx(1.0) and got["image"][0, 0] == pytest.approx(0.0)
    # a Fashion-MNIST-like picture (dark border) is kept as it is; JPEG works too
    dark = np.zeros((28, 28), dtype=np.uint8)
    dark[5:20, 8:18] = 200
    same = L.image_from_upload(_png(dark))
    assert not same["inverted"] and np.allclose(same["image"], dark / 255, atol=1e-6)
    assert L.image_from_upload(_png(rgb, "JPEG"))["image"].shape == (28, 28)
    # what cannot be used says why, with its numbers
    for raw, code in ((b"", "empty"), (b"not a picture at all", "not_an_image"), (_png(rgb)[:60], "not_an_image"),
                      (_png(rgb, "GIF"), "not_an_image")):
        with pytest.raises(L.ImageUploadError) as err:
            L.image_from_upload(raw)
        assert err.value.code == code
    with pytest.raises(L.ImageUploadError) as err:
        L.image_from_upload(b"\x89PNG" + b"0" * 100, max_bytes=50)
    assert err.value.code == "too_large" and err.value.details == {"size": 104, "limit": 50}
    huge = io.BytesIO()
    Image.new("L", (8000, 6000)).save(huge, format="PNG")  # 48 megapixels in a small file
    with pytest.raises(L.ImageUploadError) as err:
        L.image_from_upload(huge.getvalue())
    assert err.value.code == "too_many_pixels" and err.value.details["pixels"] == 48_000_000
