"""The words pages show for core's codes (playground.messages)."""
import itertools

import pytest

from core.data.files import UPLOAD_CODES, UploadError
from core.data.text import validate_text_upload
from core.ops.conv_arithmetic import check_conv, conv_warnings
from core.ops.convexity import FUNCTIONS
from core.ops.translation_stats import validate_pairs_upload
from playground import messages

SAMPLE_DETAILS = {"size": 6_000_000, "limit": 5_000_000, "kind": "csv", "position": 12_345, "lines": 2,
                  "error": "Expected 2 fields in line 3, saw 3", "n": 10, "columns": tuple("ABCDEFGHIJ"),
                  "column": "SalePrice"}
SAMPLE_WORDS = {"size": "6,000,000", "limit": "5,000,000", "kind": "a CSV file", "position": "12,345",
                "lines": "2 non-empty lines", "error": "(Expected 2 fields in line 3, saw 3)",
                "n": "10 required", "columns": "A, B, C, D, E, F, G, H and 2 more", "column": "SalePrice must"}


def test_every_upload_code_has_words_that_use_its_numbers():
    assert set(messages.UPLOAD) == set(UPLOAD_CODES)
    for code, fields in UPLOAD_CODES.items():
        err = UploadError(code, **{f: SAMPLE_DETAILS[f] for f in fields})
        said = messages.upload_problem(err)
        assert said != str(err) and said[0].isupper() and said.endswith("."), (code, said)
        for f in fields:
            assert SAMPLE_WORDS[f] in said, (code, f, said)


def test_a_list_of_names_is_cut_after_eight():
    assert messages.names(("Id", "LotArea")) == "Id, LotArea"
    assert messages.names(tuple("ABCDEFGH")) == "A, B, C, D, E, F, G, H"
    assert messages.names(tuple("ABCDEFGHI")) == "A, B, C, D, E, F, G, H and 1 more"


@pytest.mark.parametrize("parse, data, words", [
    (validate_text_upload, "café".encode("latin-1"), "not UTF-8 text (bad byte at position 3)"),
    (validate_text_upload, b"PK\x03\x04\x00", "binary file, not plain text"),
    (validate_pairs_upload, b"Go. Va !", "(1 non-empty lines, none with a tab)"),
])
def test_core_checks_come_out_in_words(parse, data, words):
    with pytest.raises(UploadError) as err:
        parse(data)
    assert words in messages.upload_problem(err.value)


def test_other_value_errors_keep_their_own_message():
    assert messages.upload_problem(ValueError("too short for one minibatch")) == "too short for one minibatch"


def test_upload_error_takes_exactly_its_codes_fields():
    with pytest.raises(TypeError):
        UploadError("too_large", size=3)
    with pytest.raises(TypeError):
        UploadError("unheard_of")
    assert str(UploadError("not_utf8", position=3)) == "not_utf8 position=3"


def test_conv_notes_in_words_carry_their_numbers():
    (bad,) = check_conv(3, 8, 7, 3, 1, 0)
    assert messages.conv_note(bad) == "kernel height 7 is larger than the padded input height 3 + 2*1 = 5"
    (dilated,) = check_conv(4, 8, 3, 3, d_h=2)
    assert messages.conv_note(dilated).startswith("kernel height 3 (dilated to 5) is larger")
    (pool, _) = check_conv(8, 8, 2, 2, 2, 2, pool=True)
    assert messages.conv_note(pool) == ("pooling padding along the height must be at most half the window "
                                        "(2 // 2 = 1, got 2)")
    (drop,) = conv_warnings(8, 8, 3, 3, 0, 0, 2, 1)
    assert messages.conv_note(drop).startswith("along the height, the last 1 padded cell(s) fit no window")


def test_every_conv_code_core_gives_has_words():
    """Sweep settings (nonsense ones too) through both checks: every code that
    comes out has its words, and every worded code comes out somewhere."""
    seen = set()
    sizes = (-1, 0, 1, 2, 3, 5)
    for n, k, pad, s, d in itertools.product((0, 2, 5), sizes, sizes, (0, 1, 3), (0, 1, 2)):
        notes = check_conv(n, 5, k, 3, pad, 1, s, 1, d, 1, pool=True) + conv_warnings(n, 5, k, 3, pad, 1, s, 1, d, 1)
        for note in notes:
            said = messages.conv_note(note)
            assert note.axis in said and "{" not in said, (note, said)
            seen.add(note.code)
    assert seen == set(messages.CONV)


def test_every_convexity_function_has_a_note():
    assert set(messages.FUNCTION_NOTES) == set(FUNCTIONS)


# ------------------------------------------------------------------ data files
def test_every_data_code_has_words_naming_the_file():
    from pathlib import Path

    from core.data.download import DATA_CODES, DataUnavailable

    assert set(messages.DATA) == set(DATA_CODES)
    for code_ in DATA_CODES:
        err = DataUnavailable("fra.txt", [], reason="a reason", code=code_, path=Path("/data/fra-eng/fra.txt"),
                              details={"position": 1_234})
        said = messages.data_problem(err, "English-French pairs")
        assert "English-French pairs" in said and "{" not in said, (code_, said)
        assert "`fra.txt`" in said or "`/data/fra-eng/fra.txt`" in said, (code_, said)
    wrong = DataUnavailable("timemachine.txt", [], code="wrong_checksum", path="/d/timemachine.txt")
    said = messages.data_problem(wrong, "The Time Machine")
    assert "not the expected file" in said and "`/d/timemachine.txt`" in said and "not found" not in said
    bad = messages.data_problem(DataUnavailable("fra.txt", [], code="not_utf8", path="/d/fra.txt",
                                                details={"position": 12_345}), "pairs")
    assert "`/d/fra.txt` is not UTF-8 text (bad byte at position 12,345)" in bad
    assert "was not found" in messages.data_problem(DataUnavailable("fra.txt", []), "pairs")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_hint_of_core_is_said_by_its_key_in_either_language(lang, monkeypatch):
    """Core's hints (every Hint its data modules define) come out by key, with the file named
    as code, in the session's language; the English words are the ones core's logs print."""
    from core.data import download, fashion_mnist, translation
    from core.data.download import DataUnavailable, Hint
    from playground import i18n

    hints = {h for m in (download, fashion_mnist, translation) for h in vars(m).values() if isinstance(h, Hint)}
    assert {h.key for h in hints} == {"default", "fashion_mnist", "fra"}
    monkeypatch.setattr(i18n, "lang", lambda: lang)
    for h in hints:
        err = DataUnavailable("timemachine.txt", [], h)
        said = messages.hint(err)
        assert "{" not in said and said == i18n.t(f"messages.hint.{h.key}", name="`timemachine.txt`")
        plain = said.replace("`", "")
        if lang == "en":
            assert plain == err.hint, (plain, err.hint)
        else:
            assert plain != err.hint and any("\u4e00" <= ch <= "\u9fff" for ch in said), said


def test_every_fra_note_has_words_with_its_numbers():
    from core.data.translation import check_fra

    text = "Go.\tVa !\nno tab here\nHi.\tSal"
    notes = check_fra(text)
    assert {n.code for n in notes} == set(messages.FRA)
    said = messages.fra_warning("/d/fra.txt", notes)
    assert said.startswith("`/d/fra.txt` is not the expected fra.txt")
    for words in ("line 3, ending `Hi. → Sal`", "cut short", "1 non-empty line(s) hold no tab", "line 2",
                  "only 2 sentence pairs, fewer than the 20,000"):
        assert words in said, said


@pytest.mark.parametrize("text, shown", [
    ("plain.txt", "`plain.txt`"), ("a`b.txt", "``a`b.txt``"), ("`x``.txt", "``` `x``.txt ```"),
    ("**bold** :red[x] $1$.txt", "`**bold** :red[x] $1$.txt`"), ("tab\there.txt", "`tabhere.txt`"),
])
def test_code_spans_show_any_name_literally(text, shown):
    assert messages.code(text) == shown


def test_literal_escapes_what_markdown_would_read():
    assert messages.literal("**b** _i_ [l](u) :red[x] $m$") == (
        "\\*\\*b\\*\\* \\_i\\_ \\[l\\]\\(u\\) \\:red\\[x\\] \\$m\\$")
    assert messages.literal("line one\nline two") == "line one line two"
