"""Test helpers for the data layer: a loopback HTTP file server, a dead URL,
isolation of the data and cache folders, and the shared real data. Never
touches the internet. Test modules wrap them in their own small fixtures."""
from __future__ import annotations

import hashlib
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REAL_DATA = (Path(os.environ["PLAYGROUND_DATA_DIR"]).resolve()
             if os.environ.get("PLAYGROUND_DATA_DIR")
             else Path(__file__).resolve().parents[1].parent / "shared" / "data")


def real_file(*parts) -> Path:
    """A file of the shared real data, or skip the test when it is absent."""
    path = REAL_DATA.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"real data file {path} is absent")
    return path


def sha1_of(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


class FileServer:
    """Serves `files[name]` bytes at /name on 127.0.0.1; unknown names are 404.
    Names in `truncated` announce the full Content-Length, send half, and close."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.truncated: set[str] = set()
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.lstrip("/")
                server.requests.append(name)
                data = server.files.get(name)
                if data is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if name in server.truncated:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                else:
                    self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def add(self, name: str, data: bytes, *, truncated: bool = False) -> str:
        self.files[name] = data
        if truncated:
            self.truncated.add(name)
        return self.url(name)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def dead_url(name: str = "file") -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/{name}"


def isolate(tmp_path, monkeypatch):
    """Empty data and cache folders, downloads allowed, every DATA_HUB URL
    pointing at a dead loopback port (a test must set the URLs it serves),
    and no Debian Fashion-MNIST folder. Returns (data_dir, cache_dir)."""
    from core.data import download, fashion_mnist

    data, cache = tmp_path / "data", tmp_path / "cache"
    data.mkdir()
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(data))
    monkeypatch.setenv("PLAYGROUND_CACHE_DIR", str(cache))
    monkeypatch.delenv("PLAYGROUND_OFFLINE", raising=False)
    monkeypatch.setattr(download, "OFFLINE", False)
    monkeypatch.setattr(download, "DATA_HUB", {
        name: (dead_url(name), checksum) for name, (_, checksum) in download.DATA_HUB.items()})
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian")
    return data, cache
