"""The three dataset pages (Fashion-MNIST, text preprocessing, machine
translation data) through AppTest: the numbers they show are the core's, bad
input gives a message, and missing data gives the warning and a stand-in."""
from __future__ import annotations

import pytest
import torch
from apptest_support import errors, metric, open_page

from core.data.files import UploadError
from core.data.text import lines_from_text, validate_text_upload
from core.data.vocab import Vocab, tokenize
from core.ops import text_stats as ts
from core.ops import translation_stats as mt
from core.train.trainer import Batches
from playground.data import MAX_TEXT

TEXT_PAGE, MT_PAGE, FM_PAGE = "topics/text_preprocessing.py", "topics/mt_dataset.py", "topics/fashion_mnist.py"
PASTED = "The cat sat on the mat.\nThe dog sat on the log!\n\nA cat, a dog, a mat and a log.\n"


@pytest.mark.parametrize("token", ["word", "char"])
def test_text_page_vocab_size_is_the_cores(token):
    at = open_page(TEXT_PAGE, {"text_source": "Your text", "token": token, "min_freq": "0"})
    at.text_area(key="pasted_text").input(PASTED).run()
    assert not at.exception, at.exception
    expected = len(Vocab(tokenize(lines_from_text(PASTED), token), min_freq=0))
    assert int(metric(at, "vocabulary size").replace(",", "")) == expected
    assert metric(at, "tokens mapped to <unk>") == "0"
    at.slider(key="text_preprocessing.min_freq").set_value(3).run()
    vocab = Vocab(tokenize(lines_from_text(PASTED), token), min_freq=3)
    assert int(metric(at, "vocabulary size").replace(",", "")) == len(vocab)
    assert at.success and "Round trip" in at.success[0].value


@pytest.mark.parametrize("pasted, words", [("1234 ?!", "no letters"), ("", "empty")])
def test_text_page_bad_paste_gives_a_message(pasted, words):
    at = open_page(TEXT_PAGE, {"text_source": "Your text"})
    at.text_area(key="pasted_text").input(pasted).run()
    assert not at.exception, at.exception
    assert words in errors(at)
    assert at.text_area(key="pasted_text").value == pasted  # nothing lost


@pytest.mark.parametrize("content, words", [(b"\x00\x01binary", "binary"), ("café".encode("latin-1"), "UTF-8")])
def test_text_page_bad_upload_gives_a_message(content, words):
    at = open_page(TEXT_PAGE, {"text_source": "Your text"})
    at.file_uploader(key="text_upload").set_value(("bad.txt", content, "text/plain")).run()
    assert not at.exception, at.exception
    assert "That file (`bad.txt`) cannot be used" in errors(at) and words in errors(at)


def test_mt_page_padded_batch_has_the_cores_valid_lengths():
    at = open_page(MT_PAGE, {"pairs_source": "Your pairs", "num_steps": "5"})
    assert not at.exception, at.exception
    _, _, data = mt.nmt_view(mt.SAMPLE_PAIRS, 600, 5)
    batches = Batches(data.src_array, data.src_valid_len, data.tgt_array, data.tgt_valid_len, batch_size=8)
    _, X_valid, _, Y_valid = next(iter(batches.epoch(torch.Generator().manual_seed(0))))
    src, tgt = at.dataframe[-2].value, at.dataframe[-1].value
    assert src["valid_len"].tolist() == X_valid.tolist()
    assert tgt["valid_len"].tolist() == Y_valid.tolist()
    cells = src.drop(columns="valid_len")
    assert cells.shape[1] == 5
    assert (cells != "<pad>").sum(axis=1).tolist() == X_valid.tolist()
    assert metric(at, "source vocabulary") == str(len(data.src_vocab))
    assert metric(at, "target vocabulary") == str(len(data.tgt_vocab))


@pytest.mark.parametrize("pasted, words", [("Go. Va !\nHi. Salut !", "tab"), ("   ", "empty")])
def test_mt_page_bad_pairs_give_a_message(pasted, words):
    at = open_page(MT_PAGE, {"pairs_source": "Your pairs"})
    at.text_area(key="pasted_pairs").input(pasted).run()
    assert not at.exception, at.exception
    assert words in errors(at)


def test_mt_page_bad_upload_gives_a_message():
    at = open_page(MT_PAGE, {"pairs_source": "Your pairs"})
    at.file_uploader(key="pairs_upload").set_value(("pairs.txt", "Go.\tÇa".encode("latin-1"), "text/plain")).run()
    assert not at.exception, at.exception
    assert "That file (`pairs.txt`) cannot be used" in errors(at) and "UTF-8" in errors(at)


@pytest.mark.parametrize("path, missing", [(FM_PAGE, "train-images-idx3-ubyte.gz"),
                                           (TEXT_PAGE, "timemachine.txt"), (MT_PAGE, "fra.txt")])
def test_missing_data_warns_and_the_stand_in_works(no_data, path, missing):
    at = open_page(path)
    assert not at.exception, at.exception
    warning = " ".join(w.value for w in at.warning)
    assert "not available" in warning and missing in warning  # the headline names the file
    looked = " ".join(c.value for c in at.code)  # the "Where the playground looked" box
    assert f"{missing} is not available" in looked and "Looked in" in looked and str(no_data) in looked
    assert not at.metric  # nothing pretends to be real data
    assert not any(b.label.startswith("Download") for b in at.button)  # offline: no download offered
    toggle = next(t for t in at.toggle if t.label.startswith("Continue with a stand-in"))
    toggle.set_value(True).run()
    assert not at.exception, at.exception
    assert any("Stand-in data" in i.value for i in at.info)
    assert at.metric and at.get("plotly_chart")


# ------------------------------------------------------------------ data files that are not the book's
def cut_fra(pairs: int = 772) -> str:
    """fra.txt cut short: `pairs` whole pairs, then one cut mid-word (773 pairs in all)."""
    return "".join(f"Go {i}.\tVa {i} !\n" for i in range(pairs)) + "I want to know now.\tJe veux le sav"


def warnings_of(at) -> str:
    return " ".join(w.value for w in at.warning)


@pytest.mark.parametrize("place", ["fra-eng/fra.txt", "fra.txt"])
def test_mt_page_says_a_cut_fra_is_not_the_expected_file_and_uses_it(no_data, place):
    path = no_data / place
    path.parent.mkdir(exist_ok=True)
    path.write_text(cut_fra(), encoding="utf-8")
    at = open_page(MT_PAGE)
    assert not at.exception, at.exception
    said = warnings_of(at)
    assert f"`{path}` is not the expected fra.txt" in said
    assert "cut short" in said and "only 773 sentence pairs, fewer than the 20,000" in said
    assert "not available" not in said
    assert metric(at, "pairs used") == "600"  # still used, as it is
    at.select_slider(key="mt_dataset.num_examples").set_value(1000).run()
    assert metric(at, "pairs used") == "773"


def test_beam_page_says_a_cut_fra_is_not_the_expected_file(no_data):
    (no_data / "fra.txt").write_text(cut_fra(), encoding="utf-8")
    at = open_page("topics/beam_search.py", {"beam_mode": "Trained seq2seq"})
    assert not at.exception, at.exception
    said = warnings_of(at)
    assert f"`{no_data / 'fra.txt'}` is not the expected fra.txt" in said and "cut short" in said
    assert at.button(key="seq2seq:start")  # usable: the panel is there


def test_a_file_with_the_wrong_checksum_is_called_that_not_missing(no_data):
    (no_data / "timemachine.txt").write_text("The Time Machine, abridged\n", encoding="utf-8")
    at = open_page(TEXT_PAGE)
    assert not at.exception, at.exception
    said = warnings_of(at)
    assert f"`{no_data / 'timemachine.txt'}` is there, but it is not the expected file" in said
    assert "not found" not in said and "missing" not in said


def test_a_fra_that_is_not_utf8_is_named_on_the_page(no_data):
    (no_data / "fra.txt").write_bytes("Go.\tÇa va !\n".encode("latin-1"))
    at = open_page(MT_PAGE)
    assert not at.exception, at.exception
    said = warnings_of(at)
    assert f"`{no_data / 'fra.txt'}` is not UTF-8 text (bad byte at position 4)" in said
    assert "codec" not in said


# ------------------------------------------------------------------ large pastes
def big_text(chars: int, tag: str) -> str:
    """About `chars` characters of lines, unique to the test by `tag` (the
    processing cache is server-wide)."""
    line = f"The {tag} machine ran through the long night and the {tag} lamp went out again.\n"
    return line * (chars // len(line) + 1)


def test_text_page_cuts_a_huge_paste_and_says_so():
    at = open_page(TEXT_PAGE, {"text_source": "Your text", "token": "char"})
    pasted = big_text(450_000, "zyxcut")
    at.text_area(key="pasted_text").input(pasted).run()
    assert not at.exception, at.exception
    kept = at.text_area(key="pasted_text").value
    assert len(kept) <= MAX_TEXT and kept.endswith("\n") and pasted.startswith(kept)  # cut at a line's end
    said = " ".join(i.value for i in at.info)
    assert f"The pasted text had {len(pasted):,} characters" in said
    assert f"at most {MAX_TEXT:,}" in said and f"its first {len(kept):,} characters" in said
    tokens = sum(len(t) for t in tokenize(lines_from_text(kept), "char"))
    assert int(metric(at, "tokens in the text").replace(",", "")) == tokens  # the page works on the cut text
    at.text_area(key="pasted_text").input("Short text again.\n").run()
    assert not at.info  # nothing cut any more


def test_text_page_works_once_per_text_not_per_rerun(monkeypatch):
    calls = []
    real = ts.ngram_freqs
    monkeypatch.setattr(ts, "ngram_freqs", lambda tokens, n: calls.append(n) or real(tokens, n))
    at = open_page(TEXT_PAGE, {"text_source": "Your text"})
    at.text_area(key="pasted_text").input(big_text(20_000, "qwvonce")).run()
    assert calls == [1, 2, 3]
    at.slider(key="text_preprocessing.first_n").set_value(50).run()
    at.slider(key="text_preprocessing.min_freq").set_value(2).run()  # a new vocabulary, the same n-grams
    at.run()
    assert not at.exception, at.exception
    assert calls == [1, 2, 3]


def test_upload_is_cut_to_the_cap_by_characters():
    """A file of multi-byte characters is cut by characters, at a line's end, and the
    text before the cut is what parse sees."""
    from playground.data import _capped

    line = "é" * 9 + "\n"  # 10 characters, 19 bytes
    raw = (line * 50).encode("utf-8")
    value, total = _capped(raw, lambda b: b.decode("utf-8"), 205)
    assert value == line * 20 and total == 500
    assert _capped(line.encode("utf-8"), lambda b: b.decode("utf-8"), 205) == (line, None)
    with pytest.raises(UploadError) as err:
        _capped(b"ok\n" + "é".encode("latin-1") + b"x" * 5000, validate_text_upload, 100)
    assert (err.value.code, err.value.details) == ("not_utf8", {"position": 3})


def test_mt_page_says_how_many_lines_hold_no_pair():
    at = open_page(MT_PAGE, {"pairs_source": "Your pairs"})
    at.text_area(key="pasted_pairs").input("Go.\tVa !\nno tab here\n\nHi.\tSalut !\nGo. Va !\n").run()
    assert not at.exception, at.exception
    said = " ".join(i.value for i in at.info)
    assert "2 non-empty line(s) hold no tab" in said and "the first is line 2" in said
    assert metric(at, "pairs used") == "2"


def test_mt_page_builds_the_arrays_once_per_text(monkeypatch):
    calls = []
    real = mt.build_nmt_data
    monkeypatch.setattr(mt, "build_nmt_data", lambda *a, **k: calls.append(1) or real(*a, **k))
    at = open_page(MT_PAGE, {"pairs_source": "Your pairs"})
    at.text_area(key="pasted_pairs").input("".join(f"Go {i} once.\tVa {i} !\n" for i in range(300))).run()
    assert len(calls) == 1
    at.run()
    at.run()
    assert not at.exception, at.exception
    assert len(calls) == 1


# ------------------------------------------------------------------ file names shown literally
TRICKY_NAME = "**bold** _it_ [link](x) :red[red] $x$.txt"


def test_an_uploaded_file_name_is_shown_literally(no_data):
    at = open_page(MT_PAGE)
    at.file_uploader(key="up:fra-eng:file").set_value((TRICKY_NAME, b"Go.\tVa !\n", "text/plain")).run()
    assert not at.exception, at.exception
    said = " ".join(i.value for i in at.info)
    assert f"Using your upload `{TRICKY_NAME}` instead of" in said  # a code span: no markdown inside
    at.file_uploader(key="up:fra-eng:file").set_value((TRICKY_NAME, b"\x00binary", "text/plain")).run()
    assert f"That file (`{TRICKY_NAME}`) cannot be used" in errors(at)


def test_a_pasted_or_uploaded_file_name_is_shown_literally():
    at = open_page(TEXT_PAGE, {"text_source": "Your text"})
    at.file_uploader(key="text_upload").set_value((TRICKY_NAME, b"\x00binary", "text/plain")).run()
    assert not at.exception, at.exception
    assert f"That file (`{TRICKY_NAME}`) cannot be used" in errors(at)
