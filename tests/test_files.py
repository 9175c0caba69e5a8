"""Writing files into place atomically."""
from pathlib import Path

import pytest

from core.data.files import atomic_write


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_atomic_write_shows_the_file_only_when_complete(tmp_path):
    dest = tmp_path / "sub" / "data.bin"
    with atomic_write(dest) as f:
        f.write(b"first half ")
        assert not dest.exists()  # readers see nothing until the block ends
        assert len(names(dest.parent)) == 1 and names(dest.parent)[0].startswith(".data.bin.")
        f.write(b"second half")
    assert dest.read_bytes() == b"first half second half"
    assert names(dest.parent) == ["data.bin"]


def test_atomic_write_error_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    dest = tmp_path / "data.bin"
    dest.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="cut"), atomic_write(dest) as f:
        f.write(b"new but incomplete")
        raise RuntimeError("cut")
    assert dest.read_bytes() == b"old" and names(tmp_path) == ["data.bin"]
