"""The book's text pipeline: The Time Machine, or text a user pastes or uploads."""
from __future__ import annotations

import io
import re
from pathlib import Path

from core.data import download as dl
from core.data.files import UploadError, decode_upload
from core.data.vocab import Vocab, tokenize

TIME_MACHINE = "timemachine.txt"


def lines_from_text(text: str) -> list[str]:
    """Split into lines (as a text file reads) and keep only letters, lower
    case, as the book's read_time_machine does."""
    return [re.sub("[^A-Za-z]+", " ", line).strip().lower()
            for line in io.StringIO(text, newline=None).readlines()]


def locate_time_machine(*, progress=None, allow_download=True) -> Path:
    """timemachine.txt from the data dir or cache (SHA-1 checked), else downloaded."""
    return dl.locate(TIME_MACHINE, candidates=dl.default_candidates(),
                     allow_download=allow_download, progress=progress)


def read_time_machine(path=None, *, progress=None, allow_download=True) -> list[str]:
    """Load the time machine dataset into a list of text lines."""
    if path is None:
        path = locate_time_machine(progress=progress, allow_download=allow_download)
    return lines_from_text(Path(path).read_text(encoding="utf-8"))


def corpus_from_lines(lines: list[str], max_tokens: int = -1, token: str = "char"):
    """Token indices and vocabulary of the lines, as load_corpus_time_machine."""
    tokens = tokenize(lines, token)
    vocab = Vocab(tokens)
    corpus = [vocab[tok] for line in tokens for tok in line]
    if max_tokens > 0:
        corpus = corpus[:max_tokens]
    return corpus, vocab


def load_corpus_time_machine(max_tokens: int = -1, token: str = "char", path=None, *,
                             progress=None, allow_download=True):
    """Return token indices and the vocabulary of the time machine dataset."""
    lines = read_time_machine(path, progress=progress, allow_download=allow_download)
    return corpus_from_lines(lines, max_tokens, token)


def validate_text_upload(data: bytes, max_bytes: int = 5_000_000) -> str:
    """Check an uploaded or pasted text and return it decoded; UploadError
    (core.data.files) otherwise, 'no_letters' when the book's preprocessing
    would leave nothing."""
    text = decode_upload(data, max_bytes, "text")
    if not any(lines_from_text(text)):
        raise UploadError("no_letters")
    return text
