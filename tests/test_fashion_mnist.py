"""Fashion-MNIST: idx parsing, finding the files, downloading, resizing."""
import gzip
import hashlib
import time

import numpy as np
import pytest
import torch

from core.data import download as dl
from core.data import fashion_mnist as fm


def fixture_files(n_train=12, n_test=5, seed=0):
    """Tiny idx data: name -> (gzipped bytes, raw bytes), plus the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": np.arange(n_train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": (np.arange(n_test, dtype=np.uint8) * 3) % 10,
    }
    return arrays


def install(folder, arrays, monkeypatch, *, plain=False):
    """Write the arrays as idx files into `folder` and make their checksums the expected ones."""
    folder.mkdir(parents=True, exist_ok=True)
    blobs = {}
    for name, array in arrays.items():
        path = fm.write_idx(folder / (name[:-3] if plain else name), array)
        raw = gzip.decompress(path.read_bytes()) if not plain else path.read_bytes()
        gz = path.read_bytes() if not plain else gzip.compress(raw)
        blobs[name] = gz
        monkeypatch.setitem(dl.DATA_HUB, name, (dl.DATA_HUB[name][0], hashlib.md5(gz).hexdigest()))
        monkeypatch.setitem(fm.CONTENT_MD5, name, hashlib.md5(raw).hexdigest())
    return blobs


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    if dtype == np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = fm.write_idx(tmp_path / f"a-idx3{suffix}", array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    back = fm.read_idx(path)
    assert back.dtype == array.dtype and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, array)


def test_idx_header_is_big_endian(tmp_path):
    path = fm.write_idx(tmp_path / "labels", np.array([7, 2, 1], dtype=np.uint8))
    assert path.read_bytes() == bytes.fromhex("00000801 00000003 070201")
    assert int.from_bytes(path.read_bytes()[:4], "big") == 2049
    images = fm.write_idx(tmp_path / "images", np.zeros((1, 2, 2), np.uint8)).read_bytes()
    assert int.from_bytes(images[:4], "big") == 2051


@pytest.mark.parametrize("content, message", [
    (b"", "bad magic"),
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "bad magic"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "unknown idx data type 0x07"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x01", "truncated idx header"),
    (b"\x00\x00\x08\x00", "truncated idx header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x05\x06", r"holds 2 bytes"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x01\x05\x06", r"holds 2 bytes"),
])
def test_malformed_idx(tmp_path, content, message):
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(fm.IdxFormatError, match=message):
        fm.read_idx(path)


def test_damaged_gzip(tmp_path):
    good = gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x01\x05" * 100)
    path = tmp_path / "bad.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(fm.IdxFormatError, match="damaged gzip"):
        fm.read_idx(path)
    with pytest.raises(ValueError, match="cannot store"):
        fm.write_idx(tmp_path / "x", np.zeros(2, dtype=np.uint64))


def test_load_from_data_dir_subfolder(isolated, monkeypatch):
    data, _ = isolated
    arrays = fixture_files()
    install(data / "fashion-mnist", arrays, monkeypatch)
    ds = fm.load_fashion_mnist(allow_download=False)
    assert ds.X_train.shape == (12, 1, 28, 28) and ds.X_test.shape == (5, 1, 28, 28)
    assert ds.X_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    images = arrays["train-images-idx3-ubyte.gz"]
    torch.testing.assert_close(ds.X_train[3, 0], torch.from_numpy(images[3]).float() / 255)
    assert ds.y_train.tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert ds.y_test.tolist() == [0, 3, 6, 9, 2]
    assert ds.text_labels[9] == "ankle boot" and len(ds.text_labels) == 10
    assert ds.paths["test_labels"] == data / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz"


def test_load_uncompressed_files(isolated, monkeypatch):
    data, _ = isolated
    install(data, fixture_files(n_train=3, n_test=2), monkeypatch, plain=True)
    ds = fm.load_fashion_mnist(allow_download=False)
    assert ds.X_train.shape == (3, 1, 28, 28) and ds.y_test.tolist() == [0, 3]
    assert ds.paths["train_images"] == data / "train-images-idx3-ubyte"


def test_download_into_cache(isolated, http_server, monkeypatch, tmp_path):
    _, cache = isolated
    blobs = install(tmp_path / "served", fixture_files(), monkeypatch)
    for name, gz in blobs.items():
        url = http_server.add(name, gz)
        monkeypatch.setitem(dl.DATA_HUB, name, (url, dl.DATA_HUB[name][1]))
    seen = []
    ds = fm.load_fashion_mnist(progress=lambda done, total: seen.append((done, total)))
    assert sorted(http_server.requests) == sorted(blobs)
    assert sorted(p.name for p in cache.iterdir()) == sorted(blobs)
    assert ds.y_train.tolist()[:3] == [0, 1, 2]
    assert (len(blobs["t10k-labels-idx1-ubyte.gz"]),) * 2 in seen
    fm.load_fashion_mnist()  # now from the cache
    assert len(http_server.requests) == 4


def test_inconsistent_files(isolated, monkeypatch):
    data, _ = isolated
    arrays = fixture_files()
    arrays["train-labels-idx1-ubyte.gz"] = arrays["train-labels-idx1-ubyte.gz"][:7]
    install(data, arrays, monkeypatch)
    with pytest.raises(fm.IdxFormatError, match="expected 12 labels"):
        fm.load_fashion_mnist(allow_download=False)
    arrays = fixture_files()
    arrays["t10k-images-idx3-ubyte.gz"] = np.zeros((2, 14, 14), np.uint8)
    install(data, arrays, monkeypatch)
    with pytest.raises(fm.IdxFormatError, match=r"shape \(N, 28, 28\)"):
        fm.load_fashion_mnist(allow_download=False)


def test_missing_files_explain_how_to_get_them(isolated, monkeypatch):
    data, _ = isolated
    fm.write_idx(data / "train-images-idx3-ubyte.gz", np.zeros((1, 28, 28), np.uint8))
    monkeypatch.setenv("PLAYGROUND_OFFLINE", "1")
    with pytest.raises(dl.DataUnavailable) as info:
        fm.load_fashion_mnist()
    text = str(info.value)
    assert "checksum is wrong: skipped" in text  # not the real data
    assert "dataset-fashion-mnist" in text and "PLAYGROUND_DATA_DIR" in text
    assert str(fm.DEBIAN_DIR) in text and "offline mode" in text


def test_labels_and_resize():
    assert fm.get_fashion_mnist_labels(torch.tensor([0, 9, 5])) == ["t-shirt", "ankle boot", "sandal"]
    X = torch.full((3, 1, 28, 28), 0.25)
    X[:, :, :, 14:] = 0.75
    Y = fm.resize_batch(X, 224)
    assert Y.shape == (3, 1, 224, 224) and Y.device == X.device
    assert Y[0, 0, 5, 0].item() == pytest.approx(0.25) and Y[0, 0, 5, -1].item() == pytest.approx(0.75)
    assert Y.mean().item() == pytest.approx(0.5, abs=1e-6)
    assert fm.resize_batch(X, (28, 28)) is X
    assert fm.resize_batch(torch.zeros(1, 1, 28, 28, dtype=torch.uint8), 56).dtype == torch.float32


@pytest.mark.realdata
def test_stand_in_is_seeded_and_shaped_like_fashion_mnist():
    a = fm.stand_in_fashion_mnist(200, 50, seed=3)
    b = fm.stand_in_fashion_mnist(200, 50, seed=3)
    assert a.X_train.shape == (200, 1, 28, 28) and a.X_test.shape == (50, 1, 28, 28)
    assert a.X_train.dtype == torch.float32 and a.y_train.dtype == torch.int64
    assert torch.equal(a.X_train, b.X_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.X_train, fm.stand_in_fashion_mnist(200, 50, seed=4).X_train)
    assert float(a.X_train.min()) >= 0 and float(a.X_train.max()) <= 1
    assert torch.bincount(a.y_train).tolist() == [20] * 10
    assert a.text_labels == fm.STAND_IN_LABELS and not a.paths  # honest names: shapes, not clothing
    means = torch.stack([a.X_train[a.y_train == c].mean(0)[0] for c in range(10)])
    d = ((means[:, None] - means[None]) ** 2).sum((2, 3))  # every pair of class means is apart
    assert float((d + torch.eye(10) * 1e9).min()) > 1.0


def test_stand_in_default_size_is_what_the_pages_promise():
    data = fm.stand_in_fashion_mnist()
    assert (len(data.X_train), len(data.X_test)) == (6000, 1000)


def test_real_fashion_mnist(tmp_path, monkeypatch):
    if not all((fm.DEBIAN_DIR / name).is_file() for name in fm.FILES.values()):
        pytest.skip(f"Fashion-MNIST not installed in {fm.DEBIAN_DIR} (apt-get install dataset-fashion-mnist)")
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PLAYGROUND_CACHE_DIR", str(tmp_path))
    start = time.perf_counter()
    ds = fm.load_fashion_mnist(allow_download=False)
    print(f"Fashion-MNIST loaded in {time.perf_counter() - start:.2f} s")
    assert ds.X_train.shape == (60000, 1, 28, 28) and ds.X_test.shape == (10000, 1, 28, 28)
    assert ds.y_train.bincount().tolist() == [6000] * 10
    assert ds.y_test.bincount().tolist() == [1000] * 10
    assert ds.X_train.min() >= 0 and ds.X_train.max() == 1
    assert ds.X_train.mean().item() == pytest.approx(0.2860, abs=1e-4)
    # the first training images, as the book shows them
    assert fm.get_fashion_mnist_labels(ds.y_train[:8]) == [
        "ankle boot", "t-shirt", "t-shirt", "dress", "t-shirt", "pullover", "sneaker", "pullover"]
