"""Shared test set-up: one torch thread (the machine has two cores shared by the
test process, the app under test and the browser), many training slots and two
worker processes (every AppTest session of the run shares the one executor of
the test process, and a test that ends mid-training keeps its slot until the
lease runs out), `tests/` on sys.path for
the helper modules (apptest_support, browser_support, http_fixture), and the
fixtures several test modules use."""
import os
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
torch.set_num_threads(1)
os.environ.setdefault("PLAYGROUND_SLOTS", "64")
os.environ.setdefault("PLAYGROUND_WORKERS", "2")  # the pages' runs train in two worker processes


@pytest.fixture
def http_server():
    """A loopback HTTP server serving files the test adds (tests/http_fixture.py)."""
    from http_fixture import FileServer

    with FileServer() as server:
        yield server


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Empty data and cache folders, downloads allowed, no Debian folder."""
    from http_fixture import isolate

    return isolate(tmp_path, monkeypatch)


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """`isolated`, offline, and the app's data cache emptied before and after:
    every page finds its data missing. Yields the (empty) data folder."""
    from http_fixture import isolate

    from playground.data import _cached

    data, _ = isolate(tmp_path, monkeypatch)
    monkeypatch.setenv("PLAYGROUND_OFFLINE", "1")
    _cached.clear()
    yield data
    _cached.clear()


@pytest.fixture(scope="session", autouse=True)
def shared_data_dir():
    """PLAYGROUND_DATA_DIR -> the repository's sibling ../shared/data when that
    folder exists and the variable is unset, so pages find the real data (a
    test that needs missing data sets its own folder with monkeypatch)."""
    import os

    shared = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if os.environ.get("PLAYGROUND_DATA_DIR") or not shared.is_dir():
        yield
        return
    os.environ["PLAYGROUND_DATA_DIR"] = str(shared)
    try:
        yield
    finally:
        os.environ.pop("PLAYGROUND_DATA_DIR", None)


@pytest.fixture(autouse=True)
def models_dir(tmp_path, monkeypatch):
    """Saved models go to a fresh folder per test (never the user's cache), so a
    run saved by one test never offers itself to another."""
    folder = tmp_path / "models"
    monkeypatch.setenv("PLAYGROUND_MODELS_DIR", str(folder))
    return folder


@pytest.fixture
def page(request):
    """A fresh Chromium page, VIEWPORT = (width, height) of the test module or 1400 × 1000."""
    from browser_support import browser_page

    width, height = getattr(request.module, "VIEWPORT", (1400, 1000))
    with browser_page(width, height) as p:
        yield p


@pytest.fixture(scope="module")
def app_url():
    """`streamlit run` on a free localhost port, one server per browser test module."""
    from browser_support import app_env, streamlit_server

    with streamlit_server(app_env()) as url:
        yield url
