"""The time machine text pipeline and text uploads."""
import pytest
from http_fixture import real_file, sha1_of

from core.data import download as dl
from core.data import text
from core.data.files import UploadError

SAMPLE = "The Time Machine, by H. G. Wells [1898]\n\n\nI\r\nThe Time Traveller (for so it will be\n"


def test_lines_from_text_is_the_books_preprocessing():
    assert text.lines_from_text(SAMPLE) == [
        "the time machine by h g wells", "", "", "i", "the time traveller for so it will be"]
    assert text.lines_from_text("") == []
    assert text.lines_from_text("  Ça va? 42!\n") == ["a va"]


def test_corpus_from_lines_char_and_word():
    corpus, vocab = text.corpus_from_lines(["abba", "", "ba"])
    # <unk>, then by falling frequency: a and b both 3 times -> first seen first
    assert vocab.idx_to_token == ["<unk>", "a", "b"]
    assert corpus == [1, 2, 2, 1, 2, 1]
    assert text.corpus_from_lines(["abba", "ba"], max_tokens=4)[0] == [1, 2, 2, 1]
    corpus, vocab = text.corpus_from_lines(["the cat the", "a cat"], token="word")
    assert vocab.token_freqs == [("the", 2), ("cat", 2), ("a", 1)]
    assert corpus == [vocab["the"], vocab["cat"], vocab["the"], vocab["a"], vocab["cat"]]


def test_read_from_given_path(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(SAMPLE)
    corpus, vocab = text.load_corpus_time_machine(path=path)
    letters = "".join(text.lines_from_text(SAMPLE))
    assert len(corpus) == len(letters) == 66
    assert "".join(vocab.to_tokens(corpus)) == letters
    assert vocab.token_freqs[0] == (" ", 13)


def test_time_machine_downloaded_and_checked(isolated, http_server, monkeypatch):
    data, cache = isolated
    body = SAMPLE.encode()
    monkeypatch.setitem(dl.DATA_HUB, "timemachine.txt",
                        (http_server.add("timemachine.txt", body), sha1_of(body)))
    (data / "timemachine.txt").write_text("a different book")  # wrong sha1: skipped
    seen = []
    lines = text.read_time_machine(progress=lambda done, total: seen.append(done))
    assert lines[0] == "the time machine by h g wells" and seen[-1] == len(body)
    assert text.locate_time_machine() == cache / "timemachine.txt"


def test_time_machine_unavailable(isolated):
    with pytest.raises(dl.DataUnavailable, match="timemachine.txt is not available"):
        text.load_corpus_time_machine(allow_download=False)


@pytest.mark.parametrize("data, code, details", [
    (b"", "empty", {}),
    (b"a" * 21, "too_large", {"size": 21, "limit": 20}),
    (b"abc\x00def", "binary", {"kind": "text"}),
    (b"caf\xe9 au lait", "not_utf8", {"position": 3}),
    (b"123 456 !!!\n\n", "no_letters", {}),
])
def test_validate_text_upload_rejects(data, code, details):
    with pytest.raises(UploadError) as err:
        text.validate_text_upload(data, max_bytes=20)
    assert (err.value.code, err.value.details) == (code, details)


def test_validate_text_upload_accepts_utf8_and_bom():
    assert text.validate_text_upload("Café time".encode()) == "Café time"
    assert text.validate_text_upload(b"\xef\xbb\xbfHello") == "Hello"


@pytest.mark.realdata
def test_real_time_machine(monkeypatch):
    path = real_file("timemachine.txt")
    assert dl.sha1(path) == dl.DATA_HUB["timemachine.txt"][1]
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(path.parent))
    assert text.locate_time_machine(allow_download=False) == path.resolve()
    lines = text.read_time_machine(allow_download=False)
    assert len(lines) == 3221
    assert lines[0] == "the time machine by h g wells"
    assert lines[10] == "twinkled and his usually pale face was flushed and animated the"
    corpus, vocab = text.load_corpus_time_machine(allow_download=False)
    assert len(corpus) == 170580 and len(vocab) == 28
    assert vocab.token_freqs[:3] == [(" ", 29927), ("e", 17838), ("t", 13515)]
    assert text.load_corpus_time_machine(10000, allow_download=False)[0] == corpus[:10000]
    corpus, vocab = text.load_corpus_time_machine(token="word", allow_download=False)
    assert len(corpus) == 32775 and len(vocab) == 4580
