"""The File I/O page through AppTest: the book's round trips shown equal; the
book's MLP trained, its parameters saved in the worker and downloaded, uploaded
back with the reloaded net equal to the saved one (accuracy and every
prediction), and a run that continues from the upload's weights; each bad
upload gets its message and nothing runs."""
from __future__ import annotations

import dataclasses
from dataclasses import replace

import pytest
import torch
from apptest_support import errors, find_widget, open_page, panel, tick_until, tick_until_stopped

from core.data.fashion_mnist import FashionMNIST
from core.experiments import file_io as fio
from core.experiments import mlp
from core.train.live_run import State

PAGE = "topics/file_io.py"
KEY = "file_io"


def uploader(at):
    return next(u for u in at.file_uploader if u.proto.id.endswith(f"{KEY}:upload"))


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def button(at, key: str):
    return at.button(key=f"{KEY}:{key}")


@pytest.fixture(scope="module")
def page():
    """One page for both tests (opening it is most of their time)."""
    return open_page(PAGE, {"num_hiddens": "16", "num_epochs": "1"})


def test_train_save_upload_and_continue_from_the_upload(page):
    at = page
    assert not at.exception, at.exception
    code = " ".join(c.value for c in at.code)
    assert "torch.save(x, 'x-file')" in code and "tensor([0, 1, 2, 3])" in code
    assert "{'x': tensor([0, 1, 2, 3]), 'y': tensor([0., 0., 0., 0.])}" in code
    assert r"\mathbb{R}^{16 \times 784}" in " ".join(lt.value for lt in at.latex)
    R = panel(at, KEY)
    button(at, "start").click().run()
    tick_until(at, lambda at: R.steps >= 20)
    button(at, "pause").click().run()
    tick_until_stopped(at)
    assert R.state == State.IDLE
    steps = R.steps

    button(at, "save").click().run()
    assert not at.exception, at.exception
    saved = at.session_state["file_io/saved_params"]
    labels = [d.proto.label for d in at.get("download_button")]  # the page's script (run.py) has one too
    assert "Download mlp.params" in labels and labels.count("Download run.py") == 1
    obj = fio.load_params(saved["bytes"])  # the file itself: weights_only
    assert obj["epoch"] == 0 and obj["step"] == steps and obj["config"]["num_hiddens"] == 16
    assert obj["test_accuracy"] == saved["test_accuracy"] > 0.15  # 20-odd minibatches: above chance (0.1)

    uploader(at).set_value(("mlp.params", saved["bytes"], "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert metric(at, "test acc of the saved net") == metric(at, "test acc of the reloaded net") \
        == f"{obj['test_accuracy']:.4f}"
    assert metric(at, "Y_clone == Y") == "10,000 of 10,000"
    assert any("The reloaded net is the saved one" in s.value for s in at.success)

    button(at, "continue").click().run()
    assert not at.exception, at.exception
    R = panel(at, KEY)
    tick_until(at, lambda at: not R.building)
    assert "from mlp.params" in R.label and R.epoch == 0
    now = fio.load_params(R.probe("core.experiments.file_io:save_params",
                                  config=dataclasses.asdict(R.spec.cfg))["bytes"])
    for k, v in obj["state_dict"].items():  # the new run's net starts from the upload's weights
        assert torch.equal(now["state_dict"][k], v)
    assert now["test_accuracy"] == obj["test_accuracy"] and len(R.runs) <= 1

    # another width: the same file no longer fits, and the message names the first tensor and both shapes
    find_widget(at, "num_hiddens", KEY).set_value(32).run()
    assert "starts from the seed's initial weights again" in " ".join(i.value for i in at.info)
    assert "`hidden1.weight` has shape (16, 784) in the file but (32, 784)" in errors(at)
    button(at, "use_file").click().run()
    assert find_widget(at, "num_hiddens", KEY).value == 16 and not errors(at)


def small_file(num_hiddens: int) -> bytes:
    g = torch.Generator().manual_seed(0)
    data = FashionMNIST(torch.rand(64, 1, 28, 28, generator=g), torch.randint(0, 10, (64,), generator=g),
                        torch.rand(32, 1, 28, 28, generator=g), torch.randint(0, 10, (32,), generator=g))
    cfg = replace(mlp.Config(num_hiddens=num_hiddens), batch_size=32)
    return fio.save_params({"": mlp.build(cfg, data, seed=0)}, data, config=vars(cfg))["bytes"]


class WritesAFile:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_every_bad_upload_gets_its_message_and_nothing_runs(page, tmp_path):
    at = page
    find_widget(at, "num_hiddens", KEY).set_value(256).run()
    target = tmp_path / "pwned.txt"
    good = small_file(64)
    cases = [
        (fio.to_bytes({"state_dict": WritesAFile(target), "epoch": 0, "config": {}}), "asks to run code"),
        (good, "`hidden1.weight` has shape (64, 784) in the file but (256, 784)"),
        (good[: len(good) // 2], "The file is cut short"),
        (b"Id,SalePrice\n1461,169000\n", "not a file written by `torch.save`"),
        (b"PK\x03\x04" + bytes(fio.MAX_BYTES), f"at most {fio.MAX_BYTES:,} are read here"),
    ]
    for i, (content, message) in enumerate(cases):
        uploader(at).set_value((f"mlp{i}.params", content, "application/octet-stream")).run()
        assert not at.exception, at.exception
        assert message in errors(at), (message, errors(at))
        assert not [b for b in at.button if b.label.startswith("Continue")]  # nothing offered to run
        if i == 0:
            assert ".open`" in errors(at)  # the message names what the pickle would have called
    assert not target.exists()
    assert panel(at, KEY).spec.init is None  # no run starts from a bad file
