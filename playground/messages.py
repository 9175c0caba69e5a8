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
          for code in ("empty", "too_large", "binary", "not_utf8", "no_letters", "no_pairs", "empty_pair")}


def upload_problem(err: ValueError) -> str:
    """Why an upload cannot be used, in words: an UploadError by its code, any
    other ValueError (a loader's own check) by its message."""
    if isinstance(err, UploadError):
        details = dict(err.details)
        if "kind" in details:
            details["kind"] = t(KINDS[details["kind"]]) if details["kind"] in KINDS else details["kind"]
        return t(UPLOAD[err.code], **details)
    return str(err)


CONV = {
    "input_below_one": "input {axis} must be at least 1 (got {got})",
    "kernel_below_one": "kernel {axis} must be at least 1 (got {got})",
    "stride_below_one": "stride along the {axis} must be at least 1 (got {got})",
    "dilation_below_one": "dilation along the {axis} must be at least 1 (got {got})",
    "negative_padding": "padding along the {axis} cannot be negative (got {got})",
    "kernel_too_large": "kernel {axis} {k}{dilated} is larger than the padded input {axis} {n} + 2*{pad} = {padded}",
    "pool_padding_too_large": "pooling padding along the {axis} must be at most half the window "
                              "({k} // 2 = {limit}, got {pad})",
    "reads_only_padding": "padding {pad} >= kernel {axis} {k_eff}: some border outputs read only padding",
    "output_grows": "padding {pad} is more than half the kernel {axis}: the output grows",
    "skips_input": "stride {s} > kernel {axis} {k_eff}: some input cells are never read",
    "drops_cells": "along the {axis}, the last {count} padded cell(s) fit no window and are dropped "
                   "(the floor in the formula)",
}


def conv_note(note: ConvNote) -> str:
    """A problem or surprise of a convolution or pooling setting, in words."""
    values = {**note.values, "axis": note.axis}
    if note.code == "kernel_too_large":
        values["dilated"] = f" (dilated to {values['k_eff']})" if values["k_eff"] != values["k"] else ""
    return CONV[note.code].format(**values)


# What to notice about each of core.ops.convexity's FUNCTIONS, by name.
FUNCTION_NOTES = {
    "x^2": "minimum 0 at x = 0",
    "exp(x)": "convex but has no minimum: it only approaches 0 as x goes to minus infinity",
    "|x|": "not differentiable at 0; gradient descent with a fixed step keeps jumping around 0",
    "x*cos(pi x)": "many local minima: where descent ends depends on the start",
    "x^3": "a saddle point at 0 where the gradient vanishes",
    "cos(pi x)": "periodic, so every minimum is only local",
}


# Why a data set is not available, by core.data.download.DataUnavailable's code.
DATA = {
    "missing": "**{label} is not available here**: {name} was not found. {hint}",
    "wrong_checksum": "**{label} is not available here**: {path} is there, but it is not the expected file "
                      "(its checksum differs from the book's: a damaged, cut-short or different version). "
                      "Replace it with the book's file, or remove it. {hint}",
    "not_utf8": "**{label} cannot be read**: {path} is not UTF-8 text (bad byte at position {position:,}). "
                "Save it as UTF-8, or replace it with the book's file.",
    "download_failed": "**{label} is not available here**: the download of {name} failed. {hint}",
    "unreadable": "**{label} cannot be read**: {where}{reason}. {hint}",
}


def data_problem(err: DataUnavailable, label: str) -> str:
    """The headline a page shows when a data set cannot be had, in markdown:
    what is wrong, with which file (named literally), and what to do."""
    values = {**err.details, "label": label, "name": code(err.name), "hint": err.hint,
              "path": code(err.path if err.path is not None else err.name),
              "where": f"{code(err.path)}: " if err.path is not None else "",
              "reason": literal(err.reason or "the file could not be used")}
    return DATA[err.code].format(**values)


# What is off about a fra.txt, by core.data.translation.FraNote's code.
FRA = {
    "cut_short": "its last line (line {line:,}, ending {tail}) has no newline: the file looks cut short",
    "lines_without_tab": "{count:,} non-empty line(s) hold no tab, so no sentence pair, and are skipped "
                         "(the first is line {first:,})",
    "few_pairs": "it holds only {pairs:,} sentence pairs, fewer than the {expected:,} these pages can use",
}


def skipped_lines(count: int, first: int) -> str:
    """Non-empty lines that hold no sentence pair (core.data.translation.lines_without_tab)."""
    return (f"{count:,} non-empty line(s) hold no tab, so no sentence pair, and are skipped (the first is line "
            f"{first:,}). Each line needs the source sentence, a tab, then the target; spaces are not tabs.")


def fra_note(note: FraNote) -> str:
    values = dict(note.values)
    if "tail" in values:
        values["tail"] = code(values["tail"].replace("\t", " → "))
    return FRA[note.code].format(**values)


def fra_warning(path, notes) -> str:
    """One warning for everything off about the fra.txt at `path`."""
    return (f"{code(path)} is not the expected fra.txt: " + "; ".join(fra_note(n) for n in notes)
            + ". It is used as it is, so the numbers here will differ from the book's, which come from its "
              "fra-eng.zip.")


# What is wrong with a typed input of the backpropagation page, by
# core.ops.backprop.InputProblem's code; {name} is the input's symbol.
BACKPROP_INPUT = {
    "empty": "{name} is empty: type its numbers, separated by commas (matrix rows by semicolons).",
    "not_a_number": "{name} holds {token}, which is not a plain number (digits, a decimal point and an optional "
                    "exponent such as 1e-2).",
    "not_finite": "{name} holds {token}, which is not a finite number.",
    "too_big": "{name} holds {token}: entries must lie between -{limit:g} and {limit:g}.",
    "ragged": "{name} has rows of different lengths ({lengths}): every row needs the same number of entries.",
    "not_a_vector": "{name} must be a vector (one row or one column of numbers), not a {shape} matrix.",
    "too_many": "{name} is {shape}: at most {limit} entries along each axis here.",
    "mismatch": "{name} has {got} {what}, but {other} has {expected} {other_what} ({dim} = {expected}).",
    "not_a_distribution": "{name} must be a probability distribution for the cross-entropy loss (entries at least 0 "
                          "that sum to 1); its entries sum to {sum:g}{negative}.",
    "negative": "{name} must not be negative (got {value:g}).",
}


def _shape(shape) -> str:
    shape = tuple(shape)
    return f"{shape[0]} entries" if len(shape) == 1 else " × ".join(str(n) for n in shape)


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
        values["negative"] = " and some are negative" if values["negative"] else ""
    return BACKPROP_INPUT[problem.code].format(name=f"**{labels.get(problem.name, problem.name)}**", **values)
