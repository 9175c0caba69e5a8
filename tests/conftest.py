"""Shared test set-up: one torch thread (the machine has two cores shared by the
test process, the app under test and the browser), and the repository root on
sys.path for `tests/` helper modules."""
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
torch.set_num_threads(1)


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
