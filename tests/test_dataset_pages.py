"""The three dataset pages (Fashion-MNIST, text preprocessing, machine
translation data) through AppTest: the numbers they show are the core's, bad
input gives a message, and missing data gives the warning and a stand-in."""
from __future__ import annotations

import pytest
import torch
from apptest_support import errors, metric, open_page

from core.data.text import lines_from_text
from core.data.vocab import Vocab, tokenize
from core.ops import translation_stats as mt
from core.train.trainer import Batches

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
    assert "That file cannot be used" in errors(at) and words in errors(at)


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
    assert "That file cannot be used" in errors(at) and "UTF-8" in errors(at)


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
    assert at.button(key="beam_seq2seq:start")  # usable: the panel is there


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
