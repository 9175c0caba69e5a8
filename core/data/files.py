"""Writing data files safely.

`atomic_write` is how every file the playground stores comes into place (a
download, fra.txt extracted from its zip): the bytes go to a temporary file
in the destination's folder and are renamed onto the destination only once
they are complete, so another session, or a second server sharing the cache,
never reads half a file, and a failure leaves the old file (or none) behind."""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


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
