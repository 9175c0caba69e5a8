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
