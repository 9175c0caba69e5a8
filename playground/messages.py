"""The words for what core reports as codes and numbers.

Core functions say what is wrong with a code and the values involved (an
upload's UploadError, a convolution setting's ConvNote) and name things by
keys (the convexity page's functions); the sentences a person reads are here,
in one place for every page, so core stays free of page text and a test can
check that every code has its words."""
from __future__ import annotations

import re

from core.data.download import DataUnavailable
from core.data.files import UploadError
from core.data.translation import FraNote
from core.ops.conv_arithmetic import ConvNote

from .i18n import t


def literal(text) -> str:
    """`text` shown as is inside markdown: every character markdown (or
    Streamlit's :colour[...] and $math$) could read is backslash-escaped."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|<>~$:" else ch
                   for ch in " ".join(str(text).split("\n")) if ch.isprintable())


def code(text) -> str:
    """`text` as an inline code span, shown literally whatever it holds (a
    fence longer than any run of backticks inside; unprintable characters dropped)."""
    text = "".join(ch for ch in str(text) if ch.isprintable())
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# The words are in locales/<lang>.toml (messages.upload.<code>, messages.kind.<kind>); these name the keys.
KINDS = {"text": "messages.kind.text", "csv": "messages.kind.csv"}
UPLOAD = {code: f"messages.upload.{code}"
          for code in ("empty", "too_large", "binary", "not_utf8", "no_letters", "no_pairs", "empty_pair",
                       "not_csv", "missing_columns", "no_rows", "not_numbers", "not_positive")}
NAMES_SHOWN = 8  # a list of names (columns) is cut after this many: "A, B, ... and 71 more"


def names(values) -> str:
    """A list of names in words: the first NAMES_SHOWN, then how many more."""
    values = [str(v) for v in values]
    shown = ", ".join(values[:NAMES_SHOWN])
    more = len(values) - NAMES_SHOWN
    return shown + t("messages.upload_part.more", n=more) if more > 0 else shown


def upload_problem(err: ValueError) -> str:
    """Why an upload cannot be used, in words: an UploadError by its code, any
    other ValueError (a loader's own check) by its message."""
    if isinstance(err, UploadError):
        details = {k: names(v) if isinstance(v, (list, tuple)) else v for k, v in err.details.items()}
        if "kind" in details:
            details["kind"] = t(KINDS[details["kind"]]) if details["kind"] in KINDS else details["kind"]
        return t(UPLOAD[err.code], **details)
    return str(err)


# The words below are in locales/<lang>/messages.toml; these name the keys by code.
CONV = {code: f"messages.conv.{code}" for code in (
    "input_below_one", "kernel_below_one", "stride_below_one", "dilation_below_one", "negative_padding",
    "kernel_too_large", "pool_padding_too_large", "reads_only_padding", "output_grows", "skips_input", "drops_cells")}
AXES = {"height": "messages.axis.height", "width": "messages.axis.width"}


def conv_note(note: ConvNote) -> str:
    """A problem or surprise of a convolution or pooling setting, in words."""
    values = {**note.values, "axis": t(AXES[note.axis]) if note.axis in AXES else note.axis}
    if note.code == "kernel_too_large":
        dilated = values["k_eff"] != values["k"]
        values["dilated"] = t("messages.conv_part.dilated", k_eff=values["k_eff"]) if dilated else ""
    return t(CONV[note.code], **values)


# What to notice about each of core.ops.convexity's FUNCTIONS, by name.
FUNCTION_NOTES = {name: f"messages.function.{name}"
                  for name in ("x^2", "exp(x)", "|x|", "x*cos(pi x)", "x^3", "cos(pi x)")}


def function_note(name: str) -> str:
    return t(FUNCTION_NOTES[name])


# Why a data set is not available, by core.data.download.DataUnavailable's code.
DATA = {code: f"messages.data.{code}"
        for code in ("missing", "wrong_checksum", "not_utf8", "download_failed", "unreadable")}


def hint(err: DataUnavailable) -> str:
    """What to do about missing data, in this session's language, by the key of core's
    Hint (the default one, Fashion-MNIST's, fra.txt's)."""
    return t(f"messages.hint.{err.hint_key}", name=code(err.name))


def data_problem(err: DataUnavailable, label: str) -> str:
    """The headline a page shows when a data set cannot be had, in markdown:
    what is wrong, with which file (named literally), and what to do."""
    values = {**err.details, "label": label, "name": code(err.name), "hint": hint(err),
              "path": code(err.path if err.path is not None else err.name),
              "where": f"{code(err.path)}: " if err.path is not None else "",
              "reason": literal(err.reason or t("messages.data_part.no_reason"))}
    return t(DATA[err.code], **values)


# What is off about a fra.txt, by core.data.translation.FraNote's code.
FRA = {code: f"messages.fra.{code}" for code in ("cut_short", "lines_without_tab", "few_pairs")}


def skipped_lines(count: int, first: int) -> str:
    """Non-empty lines that hold no sentence pair (core.data.translation.lines_without_tab)."""
    return t("messages.fra_part.skipped_lines", count=count, first=first)


def fra_note(note: FraNote) -> str:
    values = dict(note.values)
    if "tail" in values:
        values["tail"] = code(values["tail"].replace("\t", " → "))
    return t(FRA[note.code], **values)


def fra_warning(path, notes) -> str:
    """One warning for everything off about the fra.txt at `path`."""
    return t("messages.fra_part.warning", path=code(path),
             notes=t("messages.fra_part.separator").join(fra_note(n) for n in notes))


# What is wrong with a typed input of the backpropagation page, by
# core.ops.backprop.InputProblem's code; {name} is the input's symbol.
BACKPROP_INPUT = {code: f"messages.backprop_input.{code}" for code in (
    "empty", "not_a_number", "not_finite", "too_big", "ragged", "not_a_vector", "too_many", "mismatch",
    "not_a_distribution", "negative")}
COUNTS = {"columns": "messages.backprop_what.columns", "rows": "messages.backprop_what.rows",
          "entries": "messages.backprop_what.entries"}


def _shape(shape) -> str:
    shape = tuple(shape)
    return t("messages.backprop_part.entries", n=shape[0]) if len(shape) == 1 else " × ".join(str(n) for n in shape)


def input_problem(problem, labels) -> str:
    """A core.ops.backprop.InputProblem in words (markdown); `labels` maps an
    input's name ("W1") to how the page writes it ("W⁽¹⁾")."""
    values = dict(problem.details)
    if "token" in values:
        values["token"] = code(values["token"])
    if "shape" in values:
        values["shape"] = _shape(values["shape"])
    if "lengths" in values:
        values["lengths"] = ", ".join(str(n) for n in values["lengths"])
    if "other" in values:
        values["other"] = f"**{labels.get(values['other'], values['other'])}**"
    if "negative" in values:
        values["negative"] = t("messages.backprop_part.some_negative") if values["negative"] else ""
    for what in ("what", "other_what"):
        if values.get(what) in COUNTS:
            values[what] = t(COUNTS[values[what]])
    return t(BACKPROP_INPUT[problem.code], name=f"**{labels.get(problem.name, problem.name)}**", **values)
