"""Reading uploads and writing data files safely.

Uploads and pasted text go through `decode_upload`: the same checks (not
empty, not too large, not binary, UTF-8) for every page. A problem raises
`UploadError` with a code and its numbers, never a sentence: the page says it
in words (playground.messages), so core holds no text for people.

`atomic_write` is how every file the playground stores comes into place (a
download, fra.txt extracted from its zip): the bytes go to a temporary file
in the destination's folder and are renamed onto the destination only once
they are complete, so another session, or a second server sharing the cache,
never reads half a file, and a failure leaves the old file (or none) behind."""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

# What each UploadError code carries in `details`.
UPLOAD_CODES = {
    "empty": (),  # no bytes at all
    "too_large": ("size", "limit"),  # bytes
    "binary": ("kind",),  # NUL bytes in what should be `kind` ('text' or 'csv')
    "not_utf8": ("position",),  # offset of the first byte that is not UTF-8
    "no_letters": (),  # nothing left after the book's preprocessing (letters A-Z only)
    "no_pairs": ("lines",),  # no line with a tab among `lines` non-empty lines
    "empty_pair": (),  # every tab-separated line lacks its source or its target
    "not_csv": ("error",),  # the CSV parser's own message
    "missing_columns": ("n", "columns"),  # n required columns absent; `columns`: their names, in order
    "no_rows": (),  # a header and nothing under it
    "not_numbers": ("columns",),  # the columns that must hold numbers but hold text
    "not_positive": ("column",),  # a column that must be a positive number in every row
}


class UploadError(ValueError):
    """Uploaded or pasted data that cannot be used: `code` (a key of
    UPLOAD_CODES) says why, `details` holds the numbers."""

    def __init__(self, code: str, **details):
        if code not in UPLOAD_CODES or set(details) != set(UPLOAD_CODES[code]):
            raise TypeError(f"UploadError({code!r}) takes {UPLOAD_CODES.get(code)}, got {sorted(details)}")
        self.code, self.details = code, details
        super().__init__(code + "".join(f" {k}={v}" for k, v in details.items()))


def check_upload(data: bytes, max_bytes: int, kind: str = "text") -> None:
    """The checks every upload gets first: not empty, not larger than
    `max_bytes`, no NUL byte (a binary file, not `kind`)."""
    if not data:
        raise UploadError("empty")
    if len(data) > max_bytes:
        raise UploadError("too_large", size=len(data), limit=max_bytes)
    if b"\0" in data:
        raise UploadError("binary", kind=kind)


def decode_upload(data: bytes, max_bytes: int, kind: str = "text") -> str:
    """`check_upload`, then the bytes as UTF-8 text (a byte-order mark, which
    some editors write, is dropped)."""
    check_upload(data, max_bytes, kind)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UploadError("not_utf8", position=e.start) from e


@contextlib.contextmanager
def atomic_write(dest) -> Iterator[BinaryIO]:
    """A binary file to write `dest`'s new content into. When the block ends
    normally the file replaces `dest` in one step (os.replace, within one
    folder); when it raises, the temporary file is removed, `dest` is left as
    it was, and the exception goes on."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fingerprint(obj: Any, _hash=None) -> str:
    """A checksum of what a loader returned (tensors and arrays by their bytes,
    containers, dataclasses and plain values by their contents), so two copies of
    one data set found in two folders are recognised as the same data."""
    import dataclasses

    import numpy as np
    import torch

    h = _hash or hashlib.sha1()
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"tensor{tuple(t.shape)}{t.dtype}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(obj, np.ndarray):
        h.update(f"array{obj.shape}{obj.dtype}".encode())
        h.update(np.ascontiguousarray(obj).tobytes())
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        h.update(type(obj).__name__.encode())
        for f in dataclasses.fields(obj):
            if f.name != "paths":  # where it was found is not what it is
                h.update(f.name.encode())
                fingerprint(getattr(obj, f.name), h)
    elif isinstance(obj, dict):
        for k in sorted(obj, key=repr):
            h.update(repr(k).encode())
            fingerprint(obj[k], h)
    elif isinstance(obj, (list, tuple)):
        h.update(f"{type(obj).__name__}{len(obj)}".encode())
        for v in obj:
            fingerprint(v, h)
    elif hasattr(obj, "idx_to_token"):  # a vocabulary
        fingerprint(list(obj.idx_to_token), h)
    else:
        h.update(repr(obj).encode())
    return h.hexdigest()
