"""Find, download and cache the book's data files.

Every loader asks `locate(name, ...)`: it looks in the user's data folder
(PLAYGROUND_DATA_DIR), the user's cache folder (PLAYGROUND_CACHE_DIR, default
~/.cache/d2l-playground) and any extra folder, checks the checksum where one is
known, and otherwise downloads into the cache. When nothing works it raises
`DataUnavailable`, whose message a page can show as is.
"""
from __future__ import annotations

import contextlib
import contextvars
import gzip
import hashlib
import http.client
import os
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import NamedTuple

from core.data.files import atomic_write

D2L_DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/"
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

# name -> (url, checksum). A 40-digit checksum is SHA-1 (the book's DATA_HUB);
# a 32-digit one is MD5 (the sums torchvision lists for Fashion-MNIST).
DATA_HUB: dict[str, tuple[str, str]] = {
    "timemachine.txt": (D2L_DATA_URL + "timemachine.txt",
                        "090b5e7e70c295757f55df93cb0a180b9691891a"),
    "fra-eng.zip": (D2L_DATA_URL + "fra-eng.zip",
                    "94646ad1522d915e7b0f9296181140edcf86a4f5"),
    "kaggle_house_pred_train.csv": (D2L_DATA_URL + "kaggle_house_pred_train.csv",
                                    "585e9cc93e70b39160e7921475f9bcd7d31219ce"),
    "kaggle_house_pred_test.csv": (D2L_DATA_URL + "kaggle_house_pred_test.csv",
                                   "fa19780a7b011d9b009e8bff8e99922a8ee2eb90"),
    "train-images-idx3-ubyte.gz": (FASHION_MNIST_URL + "train-images-idx3-ubyte.gz",
                                   "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    "train-labels-idx1-ubyte.gz": (FASHION_MNIST_URL + "train-labels-idx1-ubyte.gz",
                                   "25c81989df183df01b3e8a0aad5dffbe"),
    "t10k-images-idx3-ubyte.gz": (FASHION_MNIST_URL + "t10k-images-idx3-ubyte.gz",
                                  "bef4ecab320f06d8554ea6380940ec79"),
    "t10k-labels-idx1-ubyte.gz": (FASHION_MNIST_URL + "t10k-labels-idx1-ubyte.gz",
                                  "bb300cfdad3c16e7a12a480ee83cd310"),
}

OFFLINE = False  # set True (or PLAYGROUND_OFFLINE=1) to never download
CHUNK = 1 << 16


class Hint(NamedTuple):
    """How a person can provide a missing file: `key` names it for the page,
    which says it in the reader's language (playground.messages.hint); `text`
    is the same in English for logs and scripts ({name} is the file)."""
    key: str
    text: str


DEFAULT_HINT = Hint("default", "Set the environment variable PLAYGROUND_DATA_DIR to a folder that "
                    "contains {name}, or upload the file on this page.")


# What DataUnavailable.code says (the page words it, playground.messages):
DATA_CODES = {
    "missing": (),  # not found in any folder, and not downloaded
    "wrong_checksum": (),  # `path` is there but its checksum is not the expected one (another file)
    "not_utf8": ("position",),  # `path` is there but is not UTF-8 text
    "download_failed": (),  # the download did not work (`reason` says how)
    "unreadable": (),  # the file is there but could not be read or parsed (`reason` says why)
}


class DataUnavailable(Exception):
    """A data file could not be found or fetched.

    `name`: the file; `tried`: one line per place looked in (path or URL, with
    what happened there); `hint`: how a person can provide the file (a Hint;
    its text, for this file, is `hint`, its key `hint_key`).
    `code` (a key of DATA_CODES) says what is wrong, `path` the file it is
    about when one was found, `details` the numbers its code carries."""

    def __init__(self, name: str, tried: list[str], hint: Hint | None = None,
                 reason: str | None = None, *, code: str = "missing", path=None,
                 details: dict | None = None):
        if code not in DATA_CODES:
            raise ValueError(f"unknown DataUnavailable code {code!r}")
        self.name = name
        self.tried = list(tried)
        hint = hint or DEFAULT_HINT
        self.hint_key, self.hint = hint.key, hint.text.format(name=name)
        self.reason = reason
        self.code = code
        self.path = Path(path) if path is not None else None
        self.details = dict(details or {})
        super().__init__(self.message)

    @property
    def instructions(self) -> str:
        return self.hint

    @property
    def message(self) -> str:
        lines = [f"{self.name} is not available" + (f": {self.reason}" if self.reason else ".")]
        if self.tried:
            lines.append("Looked in:")
            lines += [f"  - {place}" for place in self.tried]
        lines.append(self.hint)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message

    def again(self, name: str, tried: list[str], hint: Hint | None = None) -> DataUnavailable:
        """The same problem (class, code, file, reason) for `name`, with `tried` and `hint`."""
        return type(self)(name, tried, hint, self.reason, code=self.code, path=self.path, details=self.details)


class ChecksumMismatch(DataUnavailable):
    """A downloaded file's checksum differs from the expected one."""

    def __init__(self, name: str, tried: list[str], hint: Hint | None = None, reason: str | None = None, *,
                 code: str = "wrong_checksum", path=None, details: dict | None = None):
        super().__init__(name, tried, hint, reason, code=code, path=path, details=details)


def read_utf8(path, name: str | None = None) -> str:
    """The text of a data file; DataUnavailable('not_utf8') naming the file
    (`name`, default its file name) when it is not UTF-8."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataUnavailable(name or path.name, [f"{path} (not UTF-8 text: bad byte at position {e.start})"],
                              reason=f"{path} is not UTF-8 text", code="not_utf8", path=path,
                              details={"position": e.start}) from e


def offline() -> bool:
    return OFFLINE or os.environ.get("PLAYGROUND_OFFLINE", "").lower() in ("1", "true", "yes")


_session_data_dir: contextvars.ContextVar[Path | None] = contextvars.ContextVar("data_dir", default=None)


def data_dir() -> Path | None:
    """The user's data folder: one chosen for this call (`using_data_dir`, the
    app's setting), else PLAYGROUND_DATA_DIR, else None."""
    chosen = _session_data_dir.get()
    if chosen is not None:
        return chosen
    value = os.environ.get("PLAYGROUND_DATA_DIR")
    return Path(value).expanduser().resolve() if value else None


@contextlib.contextmanager
def using_data_dir(path):
    """Look in `path` first for the calls inside the block (this thread only), so
    one session's data-folder setting never changes another's."""
    token = _session_data_dir.set(Path(path).expanduser().resolve() if path else None)
    try:
        yield
    finally:
        _session_data_dir.reset(token)


def cache_dir() -> Path:
    """Where downloads go: PLAYGROUND_CACHE_DIR, else ~/.cache/d2l-playground."""
    value = os.environ.get("PLAYGROUND_CACHE_DIR")
    return Path(value).expanduser().resolve() if value else Path.home() / ".cache" / "d2l-playground"


def default_candidates(*extra) -> list[Path]:
    """The user data folder (when set), the cache folder, then `extra` folders."""
    return [d for d in (data_dir(), cache_dir(), *extra) if d is not None]


def hash_kind(checksum: str) -> str:
    """'sha1' for 40 hex digits, 'md5' for 32."""
    kinds = {40: "sha1", 32: "md5"}
    if len(checksum) not in kinds:
        raise ValueError(f"checksum {checksum!r} is neither SHA-1 (40) nor MD5 (32 hex digits)")
    return kinds[len(checksum)]


def file_hash(path, kind: str = "sha1") -> str:
    h = hashlib.new(kind)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def sha1(path) -> str:
    """The book's check: SHA-1 hex digest of a file."""
    return file_hash(path, "sha1")


def content_hash(path, kind: str = "md5") -> str:
    """Hash of a file's content, decompressed first when it is gzip data."""
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    h = hashlib.new(kind)
    with (gzip.open(path, "rb") if gz else open(path, "rb")) as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


_verified: dict[tuple, bool] = {}  # (path, size, mtime, checksums) -> matches


def check_file(path, checksum: str | None, content: str | None = None) -> bool:
    """True when the file's checksum is `checksum`, or the checksum of its
    (gunzipped) content is `content`; always True when both are None. Results
    are remembered while the file's size and modification time stay the same."""
    if checksum is None and content is None:
        return True
    st = os.stat(path)
    key = (str(path), st.st_size, st.st_mtime_ns, checksum, content)
    if key not in _verified:
        try:
            _verified[key] = bool(
                (checksum and file_hash(path, hash_kind(checksum)) == checksum.lower())
                or (content and content_hash(path, hash_kind(content)) == content.lower()))
        except (OSError, EOFError, zlib.error):  # unreadable or damaged gzip data
            _verified[key] = False
    return _verified[key]


def download(url: str, dest, *, sha1: str | None = None, md5: str | None = None,
             progress=None, timeout: float = 30) -> Path:
    """Stream `url` to `dest` through `atomic_write`, checking the checksum
    before the file moves into place. On any failure the temporary file is
    removed, `dest` is left untouched, and DataUnavailable (ChecksumMismatch
    for a wrong checksum) is raised.
    `progress(done_bytes, total_bytes_or_None)` is called as bytes arrive."""
    dest = Path(dest)
    expected = [(kind, value.lower()) for kind, value in (("sha1", sha1), ("md5", md5)) if value]
    hashes = {kind: hashlib.new(kind) for kind, _ in expected}
    with atomic_write(dest) as out:  # any error below leaves dest untouched
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                length = resp.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                done = 0
                if progress:
                    progress(0, total)
                while chunk := resp.read(CHUNK):
                    out.write(chunk)
                    for h in hashes.values():
                        h.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
        except urllib.error.HTTPError as e:
            raise DataUnavailable(dest.name, [f"{url} (HTTP {e.code} {e.reason})"],
                                  reason=f"the server answered HTTP {e.code}", code="download_failed") from e
        except http.client.IncompleteRead as e:
            raise DataUnavailable(dest.name, [f"{url} (transfer cut short)"],
                                  reason="the download was cut short", code="download_failed") from e
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
            why = getattr(e, "reason", None) or e
            raise DataUnavailable(dest.name, [f"{url} (download failed: {why})"],
                                  reason=f"the download failed ({why})", code="download_failed") from e
        if total is not None and done != total:
            raise DataUnavailable(dest.name, [f"{url} (got {done} of {total} bytes)"],
                                  reason=f"the download was cut short ({done} of {total} bytes)",
                                  code="download_failed")
        for kind, value in expected:
            got = hashes[kind].hexdigest()
            if got != value:
                raise ChecksumMismatch(
                    dest.name, [f"{url} ({kind} {got}, expected {value})"],
                    reason=f"the downloaded file has the wrong {kind} checksum")
    return dest


def locate(name: str, *, candidates=None, url: str | None = None, checksum: str | None = None,
           allow_download: bool = True, progress=None, alt_names=(), content: str | None = None,
           hint: Hint | None = None, download_dir=None) -> Path:
    """Find the file `name`: in each folder of `candidates` (default: data dir,
    cache dir), then by downloading `url` (default: from DATA_HUB) into
    `download_dir` (default: the cache dir). A found file whose checksum is
    wrong is skipped. `content` is the checksum of the gunzipped data, also
    accepted for found files (a recompressed .gz); `alt_names` are other names
    accepted in the folders, checked against `content` only (for example an
    uncompressed copy)."""
    if candidates is None:
        candidates = default_candidates()
    if url is None and name in DATA_HUB:
        url, checksum = DATA_HUB[name][0], checksum or DATA_HUB[name][1]
    tried, wrong = [], None
    for folder in filter(None, candidates):
        for fname in (name, *alt_names):
            path = Path(folder) / fname
            if not path.is_file():
                if fname == name:
                    tried.append(f"{path} (not found)")
                continue
            if check_file(path, checksum if fname == name else None, content):
                return path
            tried.append(f"{path} (found, but its checksum is wrong: skipped)")
            wrong = wrong or path
    # a file that is there but is another one says so, rather than "missing"
    found = {"code": "wrong_checksum", "path": wrong} if wrong else {}
    if url is None:
        raise DataUnavailable(name, tried, hint, **found)
    if not allow_download or offline():
        why = "offline mode" if offline() else "downloads turned off"
        raise DataUnavailable(name, tried + [f"{url} (not tried: {why})"], hint, **found)
    dest = Path(download_dir or cache_dir()) / name
    kind = hash_kind(checksum) if checksum else None
    try:
        return download(url, dest, progress=progress, **({kind: checksum} if kind else {}))
    except DataUnavailable as e:
        if wrong:
            raise type(e)(name, tried + e.tried, hint, e.reason, **found) from e
        raise e.again(name, tried + e.tried, hint) from e
