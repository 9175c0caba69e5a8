"""Download, checksum and cache machinery against a loopback HTTP server."""
import hashlib
import os
from pathlib import Path

import pytest
from http_fixture import dead_url, sha1_of

from core.data import download as dl

PAYLOAD = bytes(range(256)) * 1000  # 256,000 bytes: several 64 KiB chunks


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_success_reports_progress(http_server, tmp_path):
    url = http_server.add("blob.bin", PAYLOAD)
    calls = []
    dest = dl.download(url, tmp_path / "blob.bin", sha1=sha1_of(PAYLOAD),
                       md5=hashlib.md5(PAYLOAD).hexdigest(),
                       progress=lambda done, total: calls.append((done, total)))
    assert dest.read_bytes() == PAYLOAD
    assert calls[0] == (0, len(PAYLOAD)) and calls[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert len(calls) == 1 + -(-len(PAYLOAD) // dl.CHUNK)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert leftovers(tmp_path) == ["blob.bin"]


def test_checksum_mismatch_leaves_nothing(http_server, tmp_path):
    url = http_server.add("blob.bin", PAYLOAD)
    with pytest.raises(dl.ChecksumMismatch) as info:
        dl.download(url, tmp_path / "blob.bin", sha1="0" * 40)
    assert isinstance(info.value, dl.DataUnavailable)
    assert "wrong sha1 checksum" in str(info.value) and url in str(info.value)
    assert leftovers(tmp_path) == []


def test_truncated_transfer_is_an_error(http_server, tmp_path):
    url = http_server.add("blob.bin", PAYLOAD, truncated=True)
    with pytest.raises(dl.DataUnavailable, match="cut short"):
        dl.download(url, tmp_path / "blob.bin")
    assert leftovers(tmp_path) == []


def test_server_down(tmp_path):
    url = dead_url("blob.bin")
    with pytest.raises(dl.DataUnavailable) as info:
        dl.download(url, tmp_path / "blob.bin", timeout=5)
    assert info.value.name == "blob.bin" and url in info.value.tried[0]
    assert leftovers(tmp_path) == []


def test_http_404(http_server, tmp_path):
    with pytest.raises(dl.DataUnavailable, match="HTTP 404"):
        dl.download(http_server.url("missing.bin"), tmp_path / "missing.bin")
    assert leftovers(tmp_path) == []


def test_failed_download_keeps_existing_dest(http_server, tmp_path):
    (tmp_path / "blob.bin").write_bytes(b"old")
    with pytest.raises(dl.DataUnavailable):
        dl.download(http_server.add("blob.bin", PAYLOAD), tmp_path / "blob.bin", sha1="1" * 40)
    assert leftovers(tmp_path) == ["blob.bin"] and (tmp_path / "blob.bin").read_bytes() == b"old"


def test_dirs_from_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("PLAYGROUND_DATA_DIR", raising=False)
    monkeypatch.delenv("PLAYGROUND_CACHE_DIR", raising=False)
    assert dl.data_dir() is None
    assert dl.cache_dir() == Path.home() / ".cache" / "d2l-playground"
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("PLAYGROUND_CACHE_DIR", str(tmp_path / "c"))
    assert dl.data_dir() == tmp_path / "d" and dl.cache_dir() == tmp_path / "c"
    assert dl.default_candidates(tmp_path / "x") == [tmp_path / "d", tmp_path / "c", tmp_path / "x"]


def test_hashes(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert dl.sha1(path) == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert dl.file_hash(path, "md5") == "900150983cd24fb0d6963f7d28e17f72"
    assert dl.check_file(path, "a9993e364706816aba3e25717850c26c9cd0d89d")
    assert not dl.check_file(path, "900150983cd24fb0d6963f7d28e17f73")
    assert dl.check_file(path, None)
    with pytest.raises(ValueError):
        dl.hash_kind("abc")


def test_locate_prefers_data_dir_then_cache(isolated):
    data, cache = isolated
    cache.mkdir()
    (cache / "a.txt").write_text("cache")
    assert dl.locate("a.txt").read_text() == "cache"
    (data / "a.txt").write_text("data")
    assert dl.locate("a.txt") == data / "a.txt"


def test_locate_skips_wrong_checksum_and_downloads(isolated, http_server):
    data, cache = isolated
    (data / "a.txt").write_bytes(b"tampered")
    url = http_server.add("a.txt", b"good")
    path = dl.locate("a.txt", url=url, checksum=sha1_of(b"good"))
    assert path == cache / "a.txt" and path.read_bytes() == b"good"
    assert http_server.requests == ["a.txt"]
    # found in the cache now: no second request
    assert dl.locate("a.txt", url=url, checksum=sha1_of(b"good")) == path
    assert http_server.requests == ["a.txt"]


def test_locate_uses_data_hub(isolated, http_server, monkeypatch):
    _, cache = isolated
    body = b"It was the time machine\n"
    monkeypatch.setitem(dl.DATA_HUB, "timemachine.txt",
                        (http_server.add("timemachine.txt", body), sha1_of(body)))
    assert dl.locate("timemachine.txt") == cache / "timemachine.txt"
    assert (cache / "timemachine.txt").read_bytes() == body


def test_locate_error_lists_every_place(isolated, http_server):
    data, cache = isolated
    (data / "a.txt").write_bytes(b"tampered")
    url = http_server.url("a.txt")  # 404
    with pytest.raises(dl.DataUnavailable) as info:
        dl.locate("a.txt", url=url, checksum="0" * 40, hint=dl.Hint("mine", "Upload {name}, please."))
    err = info.value
    assert err.name == "a.txt" and len(err.tried) == 3
    assert "checksum is wrong: skipped" in err.tried[0] and str(data) in err.tried[0]
    assert str(cache / "a.txt") in err.tried[1] and "HTTP 404" in err.tried[2]
    assert err.message == str(err) and err.message.endswith("Upload a.txt, please.")
    assert err.instructions == "Upload a.txt, please." and err.hint_key == "mine"
    assert leftovers(cache) == []


def test_a_found_file_with_the_wrong_checksum_is_not_called_missing(isolated, monkeypatch):
    data, _ = isolated
    monkeypatch.setenv("PLAYGROUND_OFFLINE", "1")
    with pytest.raises(dl.DataUnavailable) as info:
        dl.locate("a.txt", url="http://127.0.0.1:9/a.txt", checksum="0" * 40)
    assert (info.value.code, info.value.path) == ("missing", None)
    (data / "a.txt").write_bytes(b"tampered")
    with pytest.raises(dl.DataUnavailable) as info:
        dl.locate("a.txt", url="http://127.0.0.1:9/a.txt", checksum="0" * 40)
    assert (info.value.code, info.value.path) == ("wrong_checksum", data / "a.txt")


def test_a_failed_download_says_so(isolated, http_server):
    with pytest.raises(dl.DataUnavailable) as info:
        dl.locate("a.txt", url=http_server.url("a.txt"))  # 404
    assert info.value.code == "download_failed" and "HTTP 404" in info.value.tried[-1]
    body = b"x"
    with pytest.raises(dl.ChecksumMismatch) as info:
        dl.locate("b.txt", url=http_server.add("b.txt", body), checksum="0" * 40)
    assert info.value.code == "wrong_checksum"


def test_data_unavailable_takes_only_its_codes():
    with pytest.raises(ValueError):
        dl.DataUnavailable("a.txt", [], code="gone")
    err = dl.DataUnavailable("a.txt", ["x"], code="not_utf8", path="/d/a.txt", details={"position": 3})
    again = err.again("b.txt", ["y"])
    assert (again.name, again.code, again.path, again.details, again.tried) == (
        "b.txt", "not_utf8", Path("/d/a.txt"), {"position": 3}, ["y"])


def test_locate_offline_and_no_download(isolated, http_server, monkeypatch):
    url = http_server.add("a.txt", b"x")
    with pytest.raises(dl.DataUnavailable, match="downloads turned off"):
        dl.locate("a.txt", url=url, allow_download=False)
    monkeypatch.setenv("PLAYGROUND_OFFLINE", "1")
    with pytest.raises(dl.DataUnavailable, match="offline mode") as info:
        dl.locate("a.txt", url=url)
    assert "PLAYGROUND_DATA_DIR" in str(info.value)  # the default instructions
    assert http_server.requests == []


def test_locate_content_checksum_and_alt_names(isolated):
    import gzip
    data, _ = isolated
    raw = b"idx data"
    (data / "f.gz").write_bytes(gzip.compress(raw, mtime=1))  # recompressed: file md5 differs
    content = hashlib.md5(raw).hexdigest()
    assert dl.locate("f.gz", checksum="0" * 32, content=content) == data / "f.gz"
    os.remove(data / "f.gz")
    (data / "f").write_bytes(raw)
    assert dl.locate("f.gz", checksum="0" * 32, content=content, alt_names=("f",)) == data / "f"
    (data / "f").write_bytes(b"other data")
    with pytest.raises(dl.DataUnavailable, match="checksum is wrong"):
        dl.locate("f.gz", checksum="0" * 32, content=content, alt_names=("f",),
                  allow_download=False)


def test_using_data_dir_overrides_the_environment_for_this_thread_only(tmp_path, monkeypatch):
    import threading

    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(tmp_path / "env"))
    seen = {}
    with dl.using_data_dir(tmp_path / "chosen"):
        assert dl.data_dir() == (tmp_path / "chosen").resolve()
        t = threading.Thread(target=lambda: seen.setdefault("other", dl.data_dir()))
        t.start()
        t.join()
    assert seen["other"] == (tmp_path / "env").resolve()
    assert dl.data_dir() == (tmp_path / "env").resolve()
