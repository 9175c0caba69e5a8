"""n-grams, frequency tables and the index round trip (core.ops.text_stats)."""
import pytest

from core.data.text import lines_from_text, validate_text_upload
from core.data.vocab import Vocab, tokenize
from core.ops import text_stats as ts


def test_ngram_freqs_count_consecutive_tuples():
    toks = list("abab a")
    assert ts.ngram_freqs(toks, 1)[0] == (("a",), 3)
    bi = dict(ts.ngram_freqs(toks, 2))
    assert bi[("a", "b")] == 2 and bi[("b", "a")] == 1 and sum(bi.values()) == len(toks) - 1
    assert sum(dict(ts.ngram_freqs(toks, 3)).values()) == len(toks) - 2
    assert ts.ngram_freqs(["x"], 2) == []
    freqs = [f for _, f in ts.ngram_freqs(list("mississippi"), 1)]
    assert freqs == sorted(freqs, reverse=True)
    with pytest.raises(ValueError):
        ts.ngram_freqs(toks, 0)


def test_freq_table_indices_follow_min_freq():
    tokens = tokenize(lines_from_text("the cat the dog the end\ncat"), "word")
    vocab = Vocab(tokens, min_freq=2)
    table = ts.freq_table(vocab)
    assert [r["token"] for r in table][:2] == ["the", "cat"]
    assert {r["token"]: r["frequency"] for r in table} == {"the": 3, "cat": 2, "dog": 1, "end": 1}
    for r in table:
        assert (r["index"] == 0) == (r["frequency"] < 2)
        assert r["index"] == vocab[r["token"]]


@pytest.mark.parametrize("min_freq", [0, 2, 5])
@pytest.mark.parametrize("token", ["word", "char"])
def test_round_trip_equals_original_except_unk(token, min_freq):
    lines = lines_from_text(ts.SAMPLE_TEXT)
    flat = [t for line in tokenize(lines, token) for t in line]
    vocab = Vocab(tokenize(lines, token), min_freq=min_freq)
    trip = ts.round_trip(flat, vocab)
    assert trip.ok and trip.num_mismatch == 0
    assert trip.num_unk == sum(1 for t in flat if vocab[t] == 0)
    assert [b for t, b in zip(flat, trip.back) if vocab[t] != 0] == [t for t in flat if vocab[t] != 0]
    assert all(b == "<unk>" for t, b in zip(flat, trip.back) if vocab[t] == 0)
    assert (trip.num_unk > 0) == any(f < min_freq for _, f in vocab.token_freqs)


def test_round_trip_counts_a_broken_vocabulary():
    vocab = Vocab([["a", "b"]])
    vocab.idx_to_token[vocab["b"]] = "z"  # a broken mapping is found, not hidden
    trip = ts.round_trip(["a", "b", "q"], vocab)
    assert trip.num_unk == 1 and trip.num_mismatch == 1 and not trip.ok


def test_raw_lines_align_with_the_preprocessed_lines():
    text = "One, two!\r\nthree\n\n4 four"
    assert len(ts.raw_lines(text)) == len(lines_from_text(text)) == 4
    assert lines_from_text(ts.raw_lines(text)[0]) == ["one two"]


def test_log_spaced_ranks_keep_the_ends():
    freqs = list(range(1000, 0, -1))
    ranks, values = ts.log_spaced_ranks(freqs, 50)
    assert ranks[0] == 1 and ranks[-1] == 1000 and len(ranks) <= 50
    assert ranks == sorted(set(ranks)) and values == [freqs[r - 1] for r in ranks]
    assert ts.log_spaced_ranks([5, 3]) == ([1, 2], [5, 3])
    assert ts.log_spaced_ranks([]) == ([], [])


def test_sample_text_is_valid_input():
    assert validate_text_upload(ts.SAMPLE_TEXT.encode()) == ts.SAMPLE_TEXT
