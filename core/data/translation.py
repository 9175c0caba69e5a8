"""The book's English-French machine translation data (fra-eng)."""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch

from core.data import download as dl
from core.data.files import atomic_write
from core.data.vocab import Vocab

ZIP_NAME = "fra-eng.zip"
RESERVED = ["<pad>", "<bos>", "<eos>"]


# Where a data folder may hold the pairs: as the book's zip unpacks, or alone.
FRA_PLACES = ("fra-eng/fra.txt", "fra.txt")
FRA_HINT = dl.Hint("fra", "Put fra.txt (alone or, as the book's zip unpacks, in a folder fra-eng) or "
                   "fra-eng.zip in the data folder (the sidebar's Data folder setting, or PLAYGROUND_DATA_DIR), "
                   "or upload the file on this page.")
# The most sentence pairs a page uses (the machine translation page's num_examples):
# a fra.txt with fewer is not the book's file (Tatoeba's exports hold far more).
EXPECTED_PAIRS = 20_000


def _extract_fra(zip_path: Path, dest: Path) -> Path:
    """Extract fra-eng/fra.txt from the book's zip to `dest` (atomically)."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            member = next((n for n in zf.namelist() if n.rsplit("/", 1)[-1] == "fra.txt"), None)
            if member is None:
                raise dl.DataUnavailable("fra.txt", [f"{zip_path} (no fra.txt inside)"], FRA_HINT,
                                         reason=f"{zip_path} holds no fra.txt", code="unreadable", path=zip_path)
            data = zf.read(member)
    except zipfile.BadZipFile as e:
        raise dl.DataUnavailable("fra.txt", [f"{zip_path} (not a valid zip file)"], FRA_HINT,
                                 reason=f"{zip_path} is not a valid zip file", code="unreadable",
                                 path=zip_path) from e
    with atomic_write(dest) as f:
        f.write(data)
    return dest


def locate_fra(*, progress=None, allow_download=True) -> Path:
    """fra.txt in the data dir or cache, in a folder fra-eng (as the book's zip
    unpacks) or directly (not checksum-checked: any Tatoeba export will do, and
    `check_fra` says what is off about one), else the SHA-1-checked book zip
    (found or downloaded) extracted into cache_dir()/fra-eng/."""
    folders = dl.default_candidates()
    tried = []
    for folder in folders:
        for place in FRA_PLACES:
            path = folder / place
            if path.is_file():
                return path
            tried.append(f"{path} (not found)")
    try:
        zip_path = dl.locate(ZIP_NAME, candidates=folders, allow_download=allow_download,
                             progress=progress)
    except dl.DataUnavailable as e:
        raise e.again("fra.txt", tried + e.tried, FRA_HINT) from e
    return _extract_fra(zip_path, dl.cache_dir() / "fra-eng" / "fra.txt")


def read_data_nmt(path=None, *, progress=None, allow_download=True) -> str:
    """Load the English-French dataset as one string (DataUnavailable
    'not_utf8', naming the file, when it is not UTF-8 text)."""
    if path is None:
        path = locate_fra(progress=progress, allow_download=allow_download)
    return dl.read_utf8(path, "fra.txt")


@dataclass(frozen=True)
class FraNote:
    """Something off about a fra.txt, by `code`, with its numbers in `values`:
    'cut_short' (the last line has no newline: line, tail), 'lines_without_tab'
    (count, first: non-empty lines that hold no pair), 'few_pairs' (pairs, expected)."""

    code: str
    values: dict


def lines_without_tab(text: str) -> tuple[int, int | None]:
    """(how many non-empty lines have no tab, the line number of the first):
    the lines tokenize_nmt skips."""
    count, first = 0, None
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip() and "\t" not in line:
            count += 1
            first = first or number
    return count, first


def check_fra(text: str, expected_pairs: int = EXPECTED_PAIRS) -> list[FraNote]:
    """What makes `text` look unlike the book's fra.txt: a last line without its
    newline (a file cut short, likely mid-word), lines without a tab, fewer than
    `expected_pairs` pairs. Empty for a whole file of enough pairs."""
    notes = []
    lines = text.split("\n")
    if text and not text.endswith("\n"):
        notes.append(FraNote("cut_short", {"line": len(lines), "tail": lines[-1][-30:]}))
    count, first = lines_without_tab(text)
    if count:
        notes.append(FraNote("lines_without_tab", {"count": count, "first": first}))
    pairs = sum(1 for line in lines if "\t" in line)
    if pairs < expected_pairs:
        notes.append(FraNote("few_pairs", {"pairs": pairs, "expected": expected_pairs}))
    return notes


@dataclass(frozen=True)
class FraFile:
    """fra.txt as found: where, its text, and what `check_fra` says about it."""

    path: Path
    text: str
    notes: tuple[FraNote, ...]


def load_fra(path=None, *, progress=None, allow_download=True) -> FraFile:
    """fra.txt (`path`, else `locate_fra`'s), read and checked."""
    if path is None:
        path = locate_fra(progress=progress, allow_download=allow_download)
    text = dl.read_utf8(path, "fra.txt")
    return FraFile(Path(path), text, tuple(check_fra(text)))


def preprocess_nmt(text: str) -> str:
    """Preprocess the English-French dataset, as the book does."""
    def no_space(char, prev_char):
        return char in set(",.!?") and prev_char != " "

    text = text.replace("\u202f", " ").replace("\xa0", " ").lower()
    out = [" " + char if i > 0 and no_space(char, text[i - 1]) else char
           for i, char in enumerate(text)]
    return "".join(out)


def tokenize_nmt(text: str, num_examples: int | None = None):
    """Word tokens of the first `num_examples` sentence pairs (all when None).
    Uses the first two tab-separated columns; a third (attribution) is ignored."""
    source, target = [], []
    for line in text.split("\n"):
        if num_examples and len(source) >= num_examples:
            break
        parts = line.split("\t")
        if len(parts) >= 2:
            source.append(parts[0].split(" "))
            target.append(parts[1].split(" "))
    return source, target


def truncate_pad(line, num_steps: int, padding_token):
    """Truncate or pad sequences."""
    if len(line) > num_steps:
        return line[:num_steps]
    return line + [padding_token] * (num_steps - len(line))


def build_array_nmt(lines, vocab: Vocab, num_steps: int):
    """Transform text sequences of machine translation into minibatches."""
    lines = [vocab[line] for line in lines]
    lines = [line + [vocab["<eos>"]] for line in lines]
    array = torch.tensor([truncate_pad(line, num_steps, vocab["<pad>"]) for line in lines],
                         dtype=torch.int64).reshape(len(lines), num_steps)
    valid_len = (array != vocab["<pad>"]).type(torch.int32).sum(1)
    return array, valid_len


@dataclass
class NMTData:
    src_array: torch.Tensor      # int64 (n, num_steps)
    src_valid_len: torch.Tensor  # (n,)
    tgt_array: torch.Tensor
    tgt_valid_len: torch.Tensor
    src_vocab: Vocab
    tgt_vocab: Vocab
    batch_size: int


def build_nmt_data(source: list[list[str]], target: list[list[str]], num_steps: int, batch_size: int,
                   *, min_freq: int = 2) -> NMTData:
    """The vocabularies (words seen at least `min_freq` times, plus <unk> and
    RESERVED) and the truncated, padded arrays of tokenized sentence pairs:
    the second half of load_data_nmt, for callers that hold the tokens."""
    src_vocab = Vocab(source, min_freq=min_freq, reserved_tokens=RESERVED)
    tgt_vocab = Vocab(target, min_freq=min_freq, reserved_tokens=RESERVED)
    src_array, src_valid_len = build_array_nmt(source, src_vocab, num_steps)
    tgt_array, tgt_valid_len = build_array_nmt(target, tgt_vocab, num_steps)
    return NMTData(src_array, src_valid_len, tgt_array, tgt_valid_len, src_vocab, tgt_vocab, batch_size)


def load_data_nmt(batch_size: int, num_steps: int, num_examples: int = 600, *, text=None,
                  path=None, progress=None, allow_download=True) -> NMTData:
    """Tensors and vocabularies of the translation dataset. `text` (raw, as in
    fra.txt) replaces the file, e.g. for an upload. Batching is left to the caller."""
    if text is None:
        text = read_data_nmt(path, progress=progress, allow_download=allow_download)
    source, target = tokenize_nmt(preprocess_nmt(text), num_examples)
    return build_nmt_data(source, target, num_steps, batch_size)
