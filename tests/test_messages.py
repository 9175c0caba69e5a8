"""The words pages show for core's codes (playground.messages)."""
import pytest

from core.data.files import UPLOAD_CODES, UploadError
from core.data.text import validate_text_upload
from core.ops.translation_stats import validate_pairs_upload
from playground import messages

SAMPLE_DETAILS = {"size": 6_000_000, "limit": 5_000_000, "kind": "csv", "position": 12_345, "lines": 2}


def test_every_upload_code_has_words_that_use_its_numbers():
    assert set(messages.UPLOAD) == set(UPLOAD_CODES)
    for code, fields in UPLOAD_CODES.items():
        err = UploadError(code, **{f: SAMPLE_DETAILS[f] for f in fields})
        said = messages.upload_problem(err)
        assert said != str(err) and said[0].isupper() and said.endswith("."), (code, said)
        for f in fields:
            assert {"size": "6,000,000", "limit": "5,000,000", "kind": "a CSV file", "position": "12,345",
                    "lines": "2 non-empty lines"}[f] in said, (code, said)


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
