"""English and 中文: the words a page shows, kept out of the code in one file per
language (locales/en.toml, locales/zh.toml, and a page's own table in
locales/en/<page>.toml, locales/zh/<page>.toml; stdlib tomllib).

    from playground.i18n import t
    st.title(t("page.weight_decay"))
    st.caption(t("weight_decay.penalty_caption", lambd=f"{lambd:g}"))

A key is its table and name (`live.start`, `weight_decay.intro`); every value is
a str.format template with named values (a literal brace is written `{{`).
Values that are user text are escaped by the caller as they always were
(messages.literal / code). The language is the sidebar's switch, bound to the
URL as `?lang=zh` like every shared setting (kept across pages; an unknown
value falls back to English with a notice under the switch).

A key the current language lacks never breaks a page: the English text is
shown and the key is recorded (`missing()`), and tests/test_i18n.py fails on
it. Settings are translated where playground.controls draws them, by keys
derived from the experiment module and field (`weight_decay.setting.lr`, its
help `weight_decay.help.lr`, a labelled option `linear_regression.option.impl.
scratch`); a setting no file names keeps its Config's English label, recorded
as `untranslated()` when another language is shown.
"""
from __future__ import annotations

import dataclasses
import functools
import re
import string
import threading
import tomllib
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.experiments.schema import Control

LOCALES = Path(__file__).resolve().parents[1] / "locales"
LANGS = {"en": "English", "zh": "中文"}
DEFAULT = "en"
KEY = "app.lang"  # the switch's session key: setting "lang" in the shared namespace (controls.widget_key)
SWITCH = Control("Language / 语言", "segmented", options=tuple(LANGS), labels=LANGS)

_lock = threading.Lock()
_missing: set[tuple[str, str]] = set()  # (language, key) asked for and not in that language's file
_untranslated: set[tuple[str, str]] = set()  # (language, key) of settings no file names


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            out.update(_flatten(value, key + "."))
        else:
            out[key] = str(value)
    return out


def files(code: str) -> list[Path]:
    """One language's files: locales/<code>.toml (navigation, shared parts, the first pages)
    and locales/<code>/<page>.toml, a page's own table each."""
    return [LOCALES / f"{code}.toml", *sorted((LOCALES / code).glob("*.toml"))]


@functools.cache
def table(code: str) -> dict[str, str]:
    """Every key of one language's files, flattened: {"live.start": "Start", ...}. A key
    written in two files is an error (one place for each word)."""
    out: dict[str, str] = {}
    for path in files(code):
        with open(path, "rb") as f:
            found = _flatten(tomllib.load(f))
        twice = sorted(set(found) & set(out))
        if twice:
            raise ValueError(f"{path.name} repeats keys of another {code} file: {twice[:5]}")
        out.update(found)
    return out


def converted() -> list[str]:
    """The pages that have a table of their own in every language (locales/<lang>/<page>.toml)."""
    return sorted(set.intersection(*({p.stem for p in files(code)[1:]} for code in LANGS)))


def placeholders(text: str) -> set[str]:
    """The {named} values a template takes."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def lang() -> str:
    """The language of this session (the sidebar's switch; English outside a session)."""
    if get_script_run_ctx(suppress_warning=True) is None:  # no script run (an import, a worker, a test): English
        return DEFAULT
    code = st.session_state.get(KEY)
    return code if code in LANGS else DEFAULT


def _record(where: set, key: str, code: str) -> None:
    with _lock:
        where.add((code, key))


def missing() -> set[tuple[str, str]]:
    with _lock:
        return set(_missing)


def untranslated() -> set[tuple[str, str]]:
    with _lock:
        return set(_untranslated)


def clear_records() -> None:
    with _lock:
        _missing.clear()
        _untranslated.clear()


def text(key: str, code: str | None = None) -> str | None:
    """The template of `key` in the language (falling back to English, recorded), or None when
    neither file has it."""
    code = code or lang()
    found = table(code).get(key)
    if found is None and code != DEFAULT:
        found = table(DEFAULT).get(key)
        if found is not None:
            _record(_missing, key, code)
    return found


def t(key: str, /, **values) -> str:
    """The words for `key` in this session's language, with `values` put in."""
    template = text(key)
    if template is None:  # a key no file has: a mistake in the code; show the key, never crash
        _record(_missing, key, lang())
        return key
    return template.format(**values)


def t_or(key: str, fallback: str | None) -> str | None:
    """The words for `key`, or `fallback` (the code's English) when no file has it."""
    template = text(key)
    if template is None:
        if lang() != DEFAULT and fallback:
            _record(_untranslated, key, lang())
        return fallback
    return template.format()


# ---------------------------------------------------------------- settings
def prefix_of(cls, page: str) -> str:
    """Whose keys a Config's settings use: its experiment module's name
    (core.experiments.weight_decay -> weight_decay), or the page's for a Config the page defines."""
    module = getattr(cls if isinstance(cls, type) else type(cls), "__module__", "") or ""
    return module.rsplit(".", 1)[-1] if module.startswith("core.experiments.") else page


def control(c: Control, prefix: str, name: str) -> Control:
    """`c` with its label, help and option labels in this session's language."""
    labels = None
    if c.labels:
        labels = {o: t_or(f"{prefix}.option.{name}.{o}", c.display(o)) for o in c.options}
    return dataclasses.replace(c, label=t_or(f"{prefix}.setting.{name}", c.label),
                               help=t_or(f"{prefix}.help.{name}", c.help) if c.help else None, labels=labels)


# ---------------------------------------------------------------- navigation
def _slug(words: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")


def chapter(name: str) -> str:
    """A chapter of playground.catalog (its English name) in this session's language."""
    return t(f"chapter.{_slug(name)}")


def page_title(url_path: str) -> str:
    return t(f"page.{url_path}")


def blurb(url_path: str) -> str:
    return t(f"blurb.{url_path}")


# ---------------------------------------------------------------- the switch
def switch() -> str:
    """The sidebar's "Language / 语言" switch, bound to ?lang=; returns the language."""
    from . import controls  # (controls translates through this module)

    with st.sidebar:
        controls.bound("lang", SWITCH, DEFAULT, parse=controls._parse_plain(SWITCH, DEFAULT), ns=controls.SHARED)
    return lang()
