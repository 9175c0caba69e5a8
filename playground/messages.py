"""The words for what core reports as codes and numbers.

Core functions say what is wrong with a code and the values involved (an
upload's UploadError, a convolution setting's ConvNote); the sentences a
person reads are here, in one place for every page, so core stays free of
page text and a test can check that every code has its words."""
from __future__ import annotations

from core.data.files import UploadError

KINDS = {"text": "plain text", "csv": "a CSV file"}

UPLOAD = {
    "empty": "The file is empty.",
    "too_large": "The file is too large: {size:,} bytes; the limit is {limit:,} bytes.",
    "binary": "This looks like a binary file, not {kind} (it contains NUL bytes).",
    "not_utf8": "The file is not UTF-8 text (bad byte at position {position:,}); save it as UTF-8 and try again.",
    "no_letters": "The text has no letters A-Z left after preprocessing (the book keeps only Latin letters "
                  "and spaces).",
    "no_pairs": "No line holds a sentence pair: each line needs the source sentence, a tab character, then "
                "the target sentence ({lines:,} non-empty lines, none with a tab). Spaces are not tabs.",
    "empty_pair": "Every tab-separated line has an empty source or target sentence.",
}


def upload_problem(err: ValueError) -> str:
    """Why an upload cannot be used, in words: an UploadError by its code, any
    other ValueError (a loader's own check) by its message."""
    if isinstance(err, UploadError):
        details = dict(err.details)
        if "kind" in details:
            details["kind"] = KINDS.get(details["kind"], details["kind"])
        return UPLOAD[err.code].format(**details)
    return str(err)
