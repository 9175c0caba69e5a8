"""Sentence pairs: validation, the first pairs, lengths (core.ops.translation_stats)."""
import pytest
import torch
from http_fixture import real_file

from core.data.files import UploadError
from core.data.translation import load_data_nmt, preprocess_nmt, tokenize_nmt
from core.ops import translation_stats as mt

TEXT = "Go.\tVa !\nno tab here\nHi.\tSalut !\tattribution\n\nRun!\tCours !\nI'm OK.\tÇa va.\n"


def test_head_pairs_counts_pairs_only():
    assert mt.count_pairs(TEXT) == 4
    head = mt.head_pairs(TEXT, 2)
    assert mt.count_pairs(head) == 2 and head.endswith("Salut !\tattribution")
    assert mt.head_pairs(TEXT, 100) == TEXT
    assert mt.head_pairs(TEXT, 0) == ""


@pytest.mark.parametrize("n", [1, 3, 4, 10])
def test_nmt_view_equals_load_data_nmt(n):
    src, tgt, d = mt.nmt_view(mt.SAMPLE_PAIRS * 2, n, 6)
    ref = load_data_nmt(8, 6, n, text=mt.SAMPLE_PAIRS * 2)
    assert (src, tgt) == tokenize_nmt(preprocess_nmt(mt.SAMPLE_PAIRS * 2), n)
    for name in ("src_array", "src_valid_len", "tgt_array", "tgt_valid_len"):
        assert torch.equal(getattr(d, name), getattr(ref, name)), name
    assert d.src_vocab.idx_to_token == ref.src_vocab.idx_to_token
    assert d.tgt_vocab.idx_to_token == ref.tgt_vocab.idx_to_token


def test_nmt_view_on_the_real_file_equals_load_data_nmt():
    text = real_file("fra-eng", "fra.txt").read_text(encoding="utf-8")
    _, _, d = mt.nmt_view(text, 600, 8)
    ref = load_data_nmt(64, 8, 600, text=text)
    assert torch.equal(d.src_array, ref.src_array) and torch.equal(d.tgt_valid_len, ref.tgt_valid_len)
    assert len(d.src_vocab) == len(ref.src_vocab) and len(d.tgt_vocab) == len(ref.tgt_vocab)


def test_validate_pairs_upload_accepts_and_normalises():
    assert mt.validate_pairs_upload("\ufeffGo.\tVa !\r\nHi.\tSalut !\r\n".encode()) == "Go.\tVa !\nHi.\tSalut !\n"
    assert mt.validate_pairs_upload(mt.SAMPLE_PAIRS.encode()) == mt.SAMPLE_PAIRS


@pytest.mark.parametrize("data, code, details", [
    (b"", "empty", {}),
    (b"x" * 20, "too_large", {"size": 20, "limit": 16}),
    (b"Go.\tVa\0", "binary", {"kind": "text"}),
    ("Go.\tÇa va".encode("latin-1"), "not_utf8", {"position": 4}),
    (b"Go. Va\nHi. Yo", "no_pairs", {"lines": 2}),
    (b"Go.\t \n\tVa", "empty_pair", {}),
])
def test_validate_pairs_upload_rejects_with_a_code(data, code, details):
    with pytest.raises(UploadError) as err:
        mt.validate_pairs_upload(data, max_bytes=16)
    assert (err.value.code, err.value.details) == (code, details)


def test_raw_and_preprocessed_rows():
    rows = mt.raw_and_preprocessed(TEXT, 3)
    assert rows[0] == ("Go.", "Va !", "go .", "va !")
    assert rows[1][:2] == ("Hi.", "Salut !") and len(rows) == 3


def test_length_counts_and_truncated_share():
    src = [["a"], ["a", "b", "c"], ["a", "b"]]
    tgt = [["x", "y"], ["x"], ["x", "y", "z", "w"]]
    lengths, s, t = mt.length_counts(src, tgt)
    assert lengths.tolist() == [0, 1, 2, 3, 4]
    assert s.tolist() == [0, 1, 1, 1, 0] and t.tolist() == [0, 1, 1, 0, 1]
    assert mt.truncated_share(src, 3) == pytest.approx(1 / 3)  # 3 tokens + <eos> > 3
    assert mt.truncated_share(src, 4) == 0 and mt.truncated_share([], 4) == 0
