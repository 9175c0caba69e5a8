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


def _extract_fra(zip_path: Path, dest: Path) -> Path:
    """Extract fra-eng/fra.txt from the book's zip to `dest` (atomically)."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            member = next((n for n in zf.namelist() if n.rsplit("/", 1)[-1] == "fra.txt"), None)
            if member is None:
                raise dl.DataUnavailable("fra.txt", [f"{zip_path} (no fra.txt inside)"])
            data = zf.read(member)
    except zipfile.BadZipFile as e:
        raise dl.DataUnavailable("fra.txt", [f"{zip_path} (not a valid zip file)"]) from e
    with atomic_write(dest) as f:
        f.write(data)
    return dest


def locate_fra(*, progress=None, allow_download=True) -> Path:
    """fra-eng/fra.txt in the data dir or cache (not checksum-checked: the
    shared copy is an older export), else the SHA-1-checked book zip (found or
    downloaded) extracted into cache_dir()/fra-eng/."""
    folders = dl.default_candidates()
    tried = []
    for folder in folders:
        path = folder / "fra-eng" / "fra.txt"
        if path.is_file():
            return path
        tried.append(f"{path} (not found)")
    try:
        zip_path = dl.locate(ZIP_NAME, candidates=folders, allow_download=allow_download,
                             progress=progress)
    except dl.DataUnavailable as e:
        raise type(e)("fra.txt", tried + e.tried, reason=e.reason) from e
    return _extract_fra(zip_path, dl.cache_dir() / "fra-eng" / "fra.txt")


def read_data_nmt(path=None, *, progress=None, allow_download=True) -> str:
    """Load the English-French dataset as one string."""
    if path is None:
        path = locate_fra(progress=progress, allow_download=allow_download)
    return Path(path).read_text(encoding="utf-8")


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
