"""File I/O (book 6.6) in core: the book's round trips, mlp.params made by the
probe and read back bit for bit (Y_clone == Y), every bad upload refused with
its code (a pickle that would write a file writes nothing), the architecture
check naming the first mismatch, and a run that starts from given weights
(RunSpec.init) replaying from them."""
from __future__ import annotations

import io
import pickle
import zipfile
from dataclasses import replace

import pytest
import torch

from core.data.fashion_mnist import FashionMNIST
from core.experiments import file_io as fio
from core.experiments import mlp
from core.train.checkpoints import start_from
from core.train.runs import RunSpec, build_trainers

CFG = replace(mlp.Config(num_hiddens=16, num_epochs=2), batch_size=64)


@pytest.fixture(scope="module")
def data() -> FashionMNIST:
    """A small stand-in of Fashion-MNIST's shapes: a learnable rule (the class
    is where the brightest of ten bands lies) so the loss falls."""
    g = torch.Generator().manual_seed(0)

    def make(n):
        y = torch.randint(0, 10, (n,), generator=g)
        X = torch.rand(n, 1, 28, 28, generator=g) * 0.3
        for i, c in enumerate(y.tolist()):
            X[i, 0, 2 * c + 4] += 0.7
        return X, y

    X_train, y_train = make(512)
    X_test, y_test = make(300)
    return FashionMNIST(X_train, y_train, X_test, y_test)


def trained(data, cfg=CFG, seed=0, steps=10):
    t = mlp.build(cfg, data, seed=seed)
    for _ in range(steps):
        t.advance(max_steps=1)
    return t


def test_the_books_round_trips_give_back_what_was_saved():
    trips = fio.round_trip()
    assert set(trips) == {"tensor", "list", "dict"}
    x, y = torch.arange(4), torch.zeros(4)
    assert torch.equal(trips["tensor"]["loaded"], x) and trips["tensor"]["loaded"].dtype == torch.int64
    x2, y2 = trips["list"]["loaded"]
    assert torch.equal(x2, x) and torch.equal(y2, y) and y2.dtype == torch.float32
    assert list(trips["dict"]["loaded"]) == ["x", "y"] and torch.equal(trips["dict"]["loaded"]["y"], y)
    for trip in trips.values():
        assert trip["equal"] and trip["bytes"] > 0
    assert trips["list"]["type"] == "list" and trips["dict"]["type"] == "dict"
    # the comparison itself tells a changed value or dtype apart
    assert not fio._equal(x, x.float()) and not fio._equal([x, y], [x, y + 1]) and not fio._equal({"x": x}, {"y": x})


def test_saved_params_load_back_and_the_clone_predicts_the_same(data):
    t = trained(data)
    made = fio.save_params({"": t}, data, config={**vars(CFG), "lr": 0.1})
    obj = fio.load_params(made["bytes"])
    assert obj["format"] == fio.FORMAT and obj["epoch"] == t.epoch and obj["step"] == t.step == 10
    assert obj["config"]["num_hiddens"] == 16 and fio.file_config(obj) == CFG
    for k, v in t.net.state_dict().items():
        assert torch.equal(obj["state_dict"][k], v)  # bit for bit
    # the book's check: a fresh net with the loaded parameters gives the same outputs
    clone = fio.evaluate(obj["state_dict"], CFG, data)
    assert torch.equal(clone["predictions"], obj["predictions"])
    assert clone["accuracy"] == obj["test_accuracy"] == made["test_accuracy"]
    y_hat = t.net.eval()(data.X_test).argmax(1)
    assert clone["accuracy"] == pytest.approx(float((y_hat == data.y_test).float().mean()))
    # plain values only: weights_only=True reads the whole file
    assert torch.load(io.BytesIO(made["bytes"]), weights_only=True)["seed"] == 0


def test_saving_leaves_the_run_alone(data):
    a, b = trained(data, steps=5), trained(data, steps=5)
    fio.save_params({"": a}, data, config=vars(CFG))
    a.net.train(), b.net.train()
    for _ in range(5):
        a.advance(max_steps=1), b.advance(max_steps=1)
    assert [r["loss"] for r in a.history.steps] == [r["loss"] for r in b.history.steps]


def test_the_books_bare_state_dict_is_accepted(data):
    t = trained(data, steps=2)
    obj = fio.load_params(fio.to_bytes(t.net.state_dict()))
    assert obj["epoch"] is None and obj["config"] is None and fio.file_config(obj) is None
    fio.check_architecture(obj["state_dict"], CFG)


class WritesAFile:
    """A pickle payload: loading it with plain pickle calls open(path, 'w')."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_payload_is_refused_and_writes_nothing(tmp_path):
    target = tmp_path / "pwned.txt"
    evil = fio.to_bytes({"state_dict": WritesAFile(target), "epoch": 0, "config": {}})
    assert zipfile.is_zipfile(io.BytesIO(evil))  # a real torch zip file
    with pytest.raises(fio.ParamsError) as err:
        fio.load_params(evil)
    assert err.value.code == "unsafe" and err.value.details["name"] in ("builtins.open", "io.open")
    assert not target.exists()
    # the payload is real: plain pickle would have run it (on a copy aimed elsewhere)
    decoy = tmp_path / "decoy.txt"
    with zipfile.ZipFile(io.BytesIO(fio.to_bytes(WritesAFile(decoy)))) as z:
        pkl = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    pickle.loads(pkl)
    assert decoy.exists()


@pytest.mark.parametrize(("make", "code"), [
    (lambda good: b"", "empty"),
    (lambda good: b"id,label\n1,2\n", "not_torch"),
    (lambda good: good[: len(good) // 2], "truncated"),
    (lambda good: good[:-30], "truncated"),
    (lambda good: _zip({"notes.txt": b"hello"}), "not_torch"),
    (lambda good: _flip(good), "damaged"),
    (lambda good: fio.to_bytes([1, 2, 3]), "not_params"),
    (lambda good: fio.to_bytes({"state_dict": {"w": 3}, "epoch": 0, "config": {}}), "not_params"),
])
def test_bad_files_get_their_code(data, make, code):
    good = fio.save_params({"": trained(data, steps=1)}, data, config=vars(CFG))["bytes"]
    with pytest.raises(fio.ParamsError) as err:
        fio.load_params(make(good))
    assert err.value.code == code


def test_an_oversize_file_is_refused_before_it_is_read():
    with pytest.raises(fio.ParamsError) as err:
        fio.load_params(b"PK\x03\x04" + bytes(2000), max_bytes=1000)
    assert err.value.code == "too_large" and err.value.details == {"size": 2004, "limit": 1000}
    with pytest.raises(fio.ParamsError) as err:
        fio.load_params(b"PK\x03\x04" + bytes(fio.MAX_BYTES))
    assert err.value.code == "too_large"


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, content in entries.items():
            z.writestr(name, content)
    return buf.getvalue()


def _flip(data: bytes) -> bytes:
    """One byte changed inside the largest stored tensor: its CRC no longer matches."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = max(z.infolist(), key=lambda i: i.file_size)
    h = info.header_offset  # the local header: 30 bytes, the name, its own extra field (torch pads there)
    at = h + 30 + int.from_bytes(data[h + 26:h + 28], "little") + int.from_bytes(data[h + 28:h + 30], "little") + 10
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


def test_the_architecture_check_names_the_first_mismatch(data):
    state = mlp.build(replace(CFG, num_hiddens=32), data, seed=0).net.state_dict()
    with pytest.raises(fio.ParamsError) as err:
        fio.check_architecture(state, CFG)
    assert err.value.code == "shape"
    assert err.value.details == {"key": "hidden1.weight", "found": (32, 784), "expected": (16, 784)}
    good = mlp.build(CFG, data, seed=0).net.state_dict()
    fio.check_architecture(good, CFG)
    fio.check_architecture(good, replace(CFG, activation="tanh"))  # same shapes: the page warns instead
    missing = {k: v for k, v in good.items() if k != "output.bias"}
    with pytest.raises(fio.ParamsError) as err:
        fio.check_architecture(missing, CFG)
    assert err.value.code == "missing_key" and err.value.details == {"key": "output.bias", "expected": (10,)}
    with pytest.raises(fio.ParamsError) as err:
        fio.check_architecture({**good, "hidden2.weight": torch.zeros(3, 3)}, CFG)
    assert err.value.code == "unexpected_key" and err.value.details == {"key": "hidden2.weight", "shape": (3, 3)}


def test_a_run_started_from_given_weights_trains_on_from_them(data):
    saved = trained(data, seed=1, steps=8).net.state_dict()
    t = mlp.build(CFG, data, seed=0)
    start_from(t, saved)
    for k, v in saved.items():
        assert torch.equal(t.net.state_dict()[k], v)
    t.advance(max_steps=6)
    losses = [r["loss"] for r in t.history.steps]
    t.reset()  # back to the given weights, not the seed's
    for k, v in saved.items():
        assert torch.equal(t.net.state_dict()[k], v)
    t.advance(max_steps=6)
    assert [r["loss"] for r in t.history.steps] == losses
    # starting from the seed's own initial weights replays a plain run bit for bit: no stream is disturbed
    plain = mlp.build(CFG, data, seed=0)
    again = mlp.build(CFG, data, seed=0)
    start_from(again, mlp.build(CFG, data, seed=0).net.state_dict())
    plain.advance(max_steps=6), again.advance(max_steps=6)
    assert [r["loss"] for r in plain.history.steps] == [r["loss"] for r in again.history.steps]


def test_a_run_spec_with_init_builds_trainers_from_it(data):
    saved = trained(data, seed=3, steps=4).net.state_dict()
    spec = RunSpec("mlp", CFG, seed=0, data=data, init=saved)
    assert spec == RunSpec("mlp", CFG, seed=0, data=data)  # the weights are not compared (tensors)
    (t,) = build_trainers(spec).values()
    for k, v in saved.items():
        assert torch.equal(t.net.state_dict()[k], v)
    (u,) = build_trainers(RunSpec("mlp", CFG, seed=0, data=data)).values()
    assert not torch.equal(u.net.state_dict()["hidden1.weight"], saved["hidden1.weight"])
