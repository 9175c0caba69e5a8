"""English-French translation data: the book's preprocessing, arrays, finding fra.txt."""
import io
import zipfile

import pytest
import torch
from http_fixture import real_file, sha1_of

from core.data import download as dl
from core.data import translation as tr

RAW = ("Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org\n"
       "Hi.\tSalut !\n"
       "Run!\tCours\u202f!\n"
       "Wow!\tÇa alors\xa0!\n"
       "I'm OK.\tÇa va.\n"
       "no tab here\n"
       "Go.\tBouge !\n")


def make_zip(text=RAW, member="fra-eng/fra.txt") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("fra-eng/_about.txt", "about")
        zf.writestr(member, text)
    return buf.getvalue()


def test_preprocess_nmt_as_the_book():
    assert tr.preprocess_nmt("Go.\tVa !") == "go .\tva !"
    assert tr.preprocess_nmt("Run!\tCours\u202f!") == "run !\tcours !"
    assert tr.preprocess_nmt("Wow!\tÇa alors\xa0!") == "wow !\tça alors !"
    assert tr.preprocess_nmt("Hello, World? Yes.") == "hello , world ? yes ."
    assert tr.preprocess_nmt(".Start") == ".start"  # the first character is never prefixed


def test_tokenize_nmt_uses_first_two_columns():
    source, target = tr.tokenize_nmt(tr.preprocess_nmt(RAW))
    assert source == [["go", "."], ["hi", "."], ["run", "!"], ["wow", "!"],
                      ["i'm", "ok", "."], ["go", "."]]
    assert target[0] == ["va", "!"] and target[3] == ["ça", "alors", "!"]
    assert len(target) == 6  # "no tab here" is skipped
    assert tr.tokenize_nmt(tr.preprocess_nmt(RAW), num_examples=2) == (
        [["go", "."], ["hi", "."]], [["va", "!"], ["salut", "!"]])


def test_truncate_pad():
    assert tr.truncate_pad([5, 6], 4, 1) == [5, 6, 1, 1]
    assert tr.truncate_pad([5, 6, 7, 8, 9], 4, 1) == [5, 6, 7, 8]
    assert tr.truncate_pad([5, 6, 7, 8], 4, 1) == [5, 6, 7, 8]


def test_load_data_nmt_from_text():
    d = tr.load_data_nmt(batch_size=2, num_steps=3, text=RAW)
    # min_freq=2 keeps "." (4 times), "go" and "!" (twice; ties in order of appearance)
    assert d.src_vocab.idx_to_token == ["<unk>", "<pad>", "<bos>", "<eos>", ".", "go", "!"]
    assert d.tgt_vocab.idx_to_token == ["<unk>", "<pad>", "<bos>", "<eos>", "!", "va", "ça"]
    assert d.src_array.dtype == torch.int64 and d.src_array.shape == (6, 3)
    assert d.src_array.tolist() == [[5, 4, 3], [0, 4, 3], [0, 6, 3], [0, 6, 3],
                                    [0, 0, 4], [5, 4, 3]]
    assert d.src_valid_len.tolist() == [3, 3, 3, 3, 3, 3]
    assert d.tgt_array[3].tolist() == [6, 0, 4]  # "ça alors !" truncated, <eos> cut
    d = tr.load_data_nmt(batch_size=2, num_steps=5, text=RAW)
    assert d.tgt_array[0].tolist() == [5, 4, 3, 1, 1] and d.tgt_valid_len.tolist() == [3, 3, 3, 4, 4, 3]
    assert d.batch_size == 2


def test_build_nmt_data_min_freq_decides_the_vocabularies():
    source, target = [["go", "."], ["hi", "."]], [["va", "!"], ["salut", "!"]]
    book = tr.build_nmt_data(source, target, num_steps=4, batch_size=2)
    assert book.src_vocab.idx_to_token == ["<unk>", "<pad>", "<bos>", "<eos>", "."]  # min_freq=2, as the book
    every = tr.build_nmt_data(source, target, num_steps=4, batch_size=2, min_freq=1)
    assert every.tgt_vocab.idx_to_token == ["<unk>", "<pad>", "<bos>", "<eos>", "!", "va", "salut"]
    assert every.src_array.tolist() == [[5, 4, 3, 1], [6, 4, 3, 1]] and every.src_valid_len.tolist() == [3, 3]
    assert every.batch_size == 2


def test_build_array_nmt_valid_len():
    d = tr.load_data_nmt(2, 8, text=RAW)
    array, valid_len = tr.build_array_nmt([["go", "."], []], d.src_vocab, 4)
    assert array.tolist() == [[5, 4, 3, 1], [3, 1, 1, 1]] and valid_len.tolist() == [3, 1]


def test_fra_from_data_dir_is_used_as_is(isolated):
    data, _ = isolated
    (data / "fra-eng").mkdir()
    (data / "fra-eng" / "fra.txt").write_text("Go.\tVa !\n", encoding="utf-8")
    assert tr.read_data_nmt(allow_download=False) == "Go.\tVa !\n"


def test_zip_downloaded_checked_and_extracted(isolated, http_server, monkeypatch):
    _, cache = isolated
    blob = make_zip()
    monkeypatch.setitem(dl.DATA_HUB, "fra-eng.zip", (http_server.add("fra-eng.zip", blob), sha1_of(blob)))
    assert tr.read_data_nmt() == RAW
    assert (cache / "fra-eng" / "fra.txt").read_text(encoding="utf-8") == RAW
    assert sorted(p.name for p in cache.iterdir()) == ["fra-eng", "fra-eng.zip"]
    tr.read_data_nmt()
    assert http_server.requests == ["fra-eng.zip"]


def test_zip_in_data_dir(isolated, monkeypatch):
    data, cache = isolated
    blob = make_zip(text="Hi.\tSalut !\n")
    (data / "fra-eng.zip").write_bytes(blob)
    monkeypatch.setitem(dl.DATA_HUB, "fra-eng.zip", (dl.DATA_HUB["fra-eng.zip"][0], sha1_of(blob)))
    assert tr.read_data_nmt(allow_download=False) == "Hi.\tSalut !\n"
    assert tr.locate_fra() == cache / "fra-eng" / "fra.txt"


def test_zip_with_wrong_checksum(isolated, http_server, monkeypatch):
    data, cache = isolated
    monkeypatch.setitem(dl.DATA_HUB, "fra-eng.zip", (http_server.add("fra-eng.zip", make_zip()), "0" * 40))
    with pytest.raises(dl.ChecksumMismatch) as info:
        tr.read_data_nmt()
    assert info.value.name == "fra.txt"
    assert str(data / "fra-eng" / "fra.txt") in info.value.tried[0]
    assert list(cache.iterdir()) == []


def test_zip_without_fra_txt(isolated, monkeypatch):
    data, _ = isolated
    blob = make_zip(member="fra-eng/other.txt")
    (data / "fra-eng.zip").write_bytes(blob)
    monkeypatch.setitem(dl.DATA_HUB, "fra-eng.zip", (dl.DATA_HUB["fra-eng.zip"][0], sha1_of(blob)))
    with pytest.raises(dl.DataUnavailable, match="no fra.txt inside"):
        tr.read_data_nmt(allow_download=False)


def test_nothing_found(isolated):
    data, cache = isolated
    with pytest.raises(dl.DataUnavailable) as info:
        tr.read_data_nmt(allow_download=False)
    assert info.value.code == "missing" and info.value.path is None
    assert [t.split(" (")[0] for t in info.value.tried[:4]] == [  # both places in both folders, then the zip
        str(data / "fra-eng" / "fra.txt"), str(data / "fra.txt"), str(cache / "fra-eng" / "fra.txt"),
        str(cache / "fra.txt")]
    assert len(info.value.tried) == 7 and "fra-eng.zip" in info.value.tried[-1]
    assert "fra-eng" in info.value.hint and "fra.txt" in info.value.hint


def test_fra_directly_in_the_data_folder_is_found(isolated):
    """The hint says to put fra.txt in the data folder: it is looked for there too."""
    data, _ = isolated
    (data / "fra.txt").write_text("Hi.\tSalut !\n", encoding="utf-8")
    assert tr.locate_fra(allow_download=False) == data / "fra.txt"
    (data / "fra-eng").mkdir()
    (data / "fra-eng" / "fra.txt").write_text("Go.\tVa !\n", encoding="utf-8")
    assert tr.read_data_nmt(allow_download=False) == "Go.\tVa !\n"  # the book's layout first


def test_a_fra_that_is_not_utf8_is_named(isolated):
    data, _ = isolated
    (data / "fra.txt").write_bytes("Go.\tÇa va !\n".encode("latin-1"))
    with pytest.raises(dl.DataUnavailable) as info:
        tr.read_data_nmt(allow_download=False)
    err = info.value
    assert (err.code, err.path, err.details) == ("not_utf8", data / "fra.txt", {"position": 4})
    assert str(data / "fra.txt") in str(err)
    with pytest.raises(dl.DataUnavailable):
        tr.load_fra(allow_download=False)


def truncated(pairs: int = 772) -> str:
    """A fra.txt cut short: `pairs` whole pairs, then a pair cut mid-word."""
    return "".join(f"Go {i}.\tVa {i} !\n" for i in range(pairs)) + "I want to know now.\tJe veux le sav"


def test_check_fra_finds_a_file_cut_short():
    notes = {n.code: n.values for n in tr.check_fra(truncated())}
    assert notes == {"cut_short": {"line": 773, "tail": "I want to know now.\tJe veux le sav"[-30:]},
                     "few_pairs": {"pairs": 773, "expected": 20_000}}


def test_check_fra_counts_lines_without_a_tab():
    notes = {n.code: n.values for n in tr.check_fra(RAW, expected_pairs=6)}
    assert notes == {"lines_without_tab": {"count": 1, "first": 6}}
    assert tr.lines_without_tab(RAW) == (1, 6)
    assert tr.lines_without_tab("a\tb\n\n  \nc\n") == (1, 4)  # blank lines are not counted
    assert tr.check_fra("Go.\tVa !\n" * 3, expected_pairs=3) == []


def test_load_fra_carries_the_check(isolated):
    data, _ = isolated
    (data / "fra.txt").write_text(truncated(), encoding="utf-8")
    fra = tr.load_fra(allow_download=False)
    assert fra.path == data / "fra.txt" and fra.text == truncated()
    assert [n.code for n in fra.notes] == ["cut_short", "few_pairs"]


@pytest.mark.realdata
def test_the_real_fra_is_whole_and_a_cut_copy_is_not():
    text = real_file("fra-eng", "fra.txt").read_text(encoding="utf-8")
    assert tr.check_fra(text) == []
    cut = text[:30_000]
    assert [n.code for n in tr.check_fra(cut)] == ["cut_short", "few_pairs"]


@pytest.mark.realdata
def test_real_fra(monkeypatch):
    path = real_file("fra-eng", "fra.txt")
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(path.parent.parent))
    raw = tr.read_data_nmt(allow_download=False)
    text = tr.preprocess_nmt(raw)
    assert text.split("\n")[0] == "go .\tva !"
    source, target = tr.tokenize_nmt(text)
    assert len(source) == len(target) == 20000
    d = tr.load_data_nmt(batch_size=64, num_steps=8, num_examples=600, allow_download=False)
    assert (len(d.src_vocab), len(d.tgt_vocab)) == (189, 201)
    assert d.src_array.shape == d.tgt_array.shape == (600, 8)
    assert d.src_array[0].tolist() == [d.src_vocab["go"], d.src_vocab["."], 3, 1, 1, 1, 1, 1]
    assert d.src_valid_len[:3].tolist() == [3, 3, 3]
