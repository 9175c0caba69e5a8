"""The sidebar's data folder: the operator's setting on a shared server, a
checked input only when the server is one person's."""
from __future__ import annotations

from apptest_support import open_page

PAGE = "topics/weight_decay.py"


def folder_inputs(at) -> list:
    return [t for t in at.sidebar.text_input if t.key == "data_dir"]


def test_a_shared_server_offers_no_folder_box(monkeypatch):
    monkeypatch.delenv("PLAYGROUND_SINGLE_USER", raising=False)
    at = open_page(PAGE)
    assert not at.exception and folder_inputs(at) == []
    assert any("set by whoever runs it" in c.value for c in at.sidebar.caption)


def test_single_user_folder_box_survives_any_value(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_SINGLE_USER", "1")
    at = open_page(PAGE)
    (box,) = folder_inputs(at)
    for value in ["x" * 256, "/nonexistent/folder", "\x00", str(tmp_path / "a" / ".." / "a")]:
        box.set_value(value).run()
        assert not at.exception, (value[:20], at.exception)
        assert any("not a folder on this server" in e.value for e in at.sidebar.error)
    box.set_value(str(tmp_path)).run()
    assert not at.exception and not at.sidebar.error


def test_the_same_data_found_in_two_folders_is_held_once():
    import torch

    from core.data.fashion_mnist import stand_in_fashion_mnist
    from core.data.files import fingerprint
    from playground.data import same_data

    a, b = stand_in_fashion_mnist(), stand_in_fashion_mnist()  # equal content, two objects
    assert a is not b and fingerprint(a) == fingerprint(b)
    assert same_data(a) is same_data(b) is a
    c = stand_in_fashion_mnist()
    c.X_train[0, 0, 0, 0] += 1  # one pixel differs: other data
    assert fingerprint(c) != fingerprint(a) and same_data(c) is c
    assert fingerprint(torch.zeros(2)) != fingerprint(torch.zeros(2, dtype=torch.float64))
