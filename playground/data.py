"""Datasets on pages: cached loading, downloads with a progress bar, and a clear
way forward when a file cannot be had (the message, an upload, a stand-in).

    data = dataset("Fashion-MNIST", lambda **kw: load_fashion_mnist(device, **kw),
                   cache_key=("fmnist", str(device)), stand_in=(label, make_small_fake))
    if data is None:
        st.stop()

The loader is called with `allow_download` and `progress` keywords, like every
loader in core. It runs once per server for a cache key and data folder; the
objects it returns are shared read-only across sessions."""
from __future__ import annotations

import codecs
import functools
import hashlib
import os
import threading
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from core.data import download as dl
from core.data.files import fingerprint
from core.train.runs import Shared

from . import messages
from .i18n import t, t_or
from .messages import upload_problem

MAX_CACHED = 6


MAX_FOLDER_CHARS = 200


def single_user() -> bool:
    """PLAYGROUND_SINGLE_USER=1: the server is one person's (a laptop), who may
    point it at another data folder. On a shared server the data folder is the
    operator's (PLAYGROUND_DATA_DIR): a student can neither make the server load
    another copy of a data set per folder typed nor probe which folders exist."""
    return os.environ.get("PLAYGROUND_SINGLE_USER", "").strip().lower() in ("1", "true", "yes")


def data_folder_setting() -> None:
    """The sidebar's data folder: an input when single-user, else what the server uses."""
    with st.sidebar.expander(t("sidebar.data_folder"), icon=":material/folder_open:"):
        if not single_user():
            st.caption(t("sidebar.data_folder_server"))
            return
        value = st.text_input(
            t("sidebar.data_folder_input"), key="data_dir", max_chars=MAX_FOLDER_CHARS,
            placeholder=str(dl.data_dir() or t("sidebar.data_folder_unset")),
            help=t("sidebar.data_folder_help"),
        )
        if value and session_data_dir() is None:
            st.error(t("sidebar.data_folder_not_a_folder"), icon=":material/error:")
        st.caption(t("sidebar.downloads_cached", folder=dl.cache_dir()))


def session_data_dir() -> Path | None:
    """The folder typed in the sidebar, when single-user and it is one; else None."""
    value = str(st.session_state.get("data_dir") or "")[:MAX_FOLDER_CHARS]
    if not value or not single_user():
        return None
    try:
        path = Path(value).expanduser()
        return path.resolve() if path.is_dir() else None
    except (OSError, RuntimeError, ValueError):  # a name too long, a loop of links, a NUL byte
        return None


@st.cache_resource(max_entries=MAX_CACHED, show_spinner=False)  # dataset() says "Loading data" in the language
def _cached(cache_key: Hashable, folder: str | None, _load: Callable[..., Any]) -> Any:
    with dl.using_data_dir(folder):
        return same_data(_load(allow_download=False, progress=None))


_BY_CHECKSUM: dict[str, Any] = {}  # data already held by the server, by its checksum
_BY_CHECKSUM_LOCK = threading.Lock()


def same_data(loaded: Any) -> Any:
    """The object the server already holds with the same content, else `loaded`:
    the cache is keyed by what the data is, not by where it was found, so a copy
    of a data set in another folder costs no second copy in memory."""
    key = fingerprint(loaded)
    with _BY_CHECKSUM_LOCK:
        held = _BY_CHECKSUM.setdefault(key, loaded)
        while len(_BY_CHECKSUM) > 4 * MAX_CACHED:  # the oldest go; the cache above holds what is in use
            del _BY_CHECKSUM[next(iter(_BY_CHECKSUM))]
        return held


_SHARED: dict[int, tuple[Any, Shared]] = {}  # id(data) -> (data, its Shared): keyed once per object
_SHARED_LOCK = threading.Lock()


def shared(data: Any, key: str | None = None) -> Shared:
    """`data` as the workers get it: sent to each worker once, named by its
    content. The key is `key` when the page knows one, else the data's
    checksum, computed once per data object (the objects pages train on are
    the server's cached ones, so that is once per data set)."""
    if key is not None:
        return Shared(f"key:{key}", data)
    with _SHARED_LOCK:
        held = _SHARED.get(id(data))
        if held is not None and held[0] is data:
            return held[1]
    blob = Shared(fingerprint(data), data)
    with _SHARED_LOCK:
        _SHARED[id(data)] = (data, blob)  # holds the object, so its id stays its own
        while len(_SHARED) > 4 * MAX_CACHED:
            del _SHARED[next(iter(_SHARED))]
    return blob


@st.cache_resource(max_entries=MAX_CACHED, show_spinner=False)  # dataset() says "Making the stand-in" in the language
def _stand_in(cache_key: Hashable, _make: Callable[[], Any]) -> Any:
    """The stand-in under `cache_key`, made once per server like the real data:
    every page and every rerun under one key gets the same object."""
    return _make()


def dataset(label: str, load: Callable[..., Any], *, cache_key: Hashable,
            stand_in: tuple[str, Callable[[], Any]] | None = None,
            upload: tuple[str, list[str], Callable[[bytes], Any]] | None = None,
            upload_max_chars: int | None = None) -> Any | None:
    """The loaded data, or None after explaining on the page what is missing.

    stand_in: (description, make) offered when the real files are missing; made
    once per cache key, so pages sharing a key must pass the same `make`.
    upload: (prompt, file types, parse) where parse raises ValueError on bad input;
    parsed once per file, and cut to `upload_max_chars` characters when given."""
    folder = session_data_dir()
    try:
        with st.spinner(t("data.loading")):  # shown only when loading takes a while (not for the cached data)
            return _cached(cache_key, str(folder) if folder else None, load)
    except dl.DataUnavailable as err:
        missing = err
    except (ValueError, OSError) as err:  # a file that is there but broken
        missing = dl.DataUnavailable(label, [], reason=str(err), code="unreadable",
                                     path=getattr(err, "filename", None))

    st.warning(messages.data_problem(missing, label), icon=":material/cloud_off:")
    with st.expander(t("data.looked"), expanded=False):
        st.code(missing.message, language=None)
    if not dl.offline() and st.button(t("data.download", label=label), icon=":material/download:",
                                      key=f"dl:{cache_key}"):
        bar = st.progress(0.0, text=t("data.downloading", label=label))

        def progress(done: int, total: int | None) -> None:
            frac = done / total if total else 0.0
            bar.progress(min(frac, 1.0), text=t("data.downloading_mb", label=label, done=f"{done / 1e6:.1f}")
                         + (t("data.downloading_of", total=f"{total / 1e6:.1f}") if total else ""))

        try:
            with dl.using_data_dir(folder):
                load(allow_download=True, progress=progress)
        except (dl.DataUnavailable, ValueError, OSError) as err:
            st.error(t("data.download_failed", error=messages.literal(err)), icon=":material/error:")
        else:
            _cached.clear()
            st.rerun()
    if upload is not None:
        prompt, types, parse = upload
        file = st.file_uploader(prompt, type=types, key=f"up:{cache_key}")
        if file is not None:
            name = messages.code(file.name)
            that_file = t("data.that_file", name=name)
            try:
                data, total = _parse_capped(file.getvalue(), parse, upload_max_chars)
            except ValueError as err:
                st.error(t("data.cannot_use", source=that_file, problem=upload_problem(err)), icon=":material/error:")
            else:
                st.info(t("data.using_upload", name=name, label=label), icon=":material/upload_file:")
                if total is not None:
                    _say_cut(that_file, total, upload_max_chars, data)
                return data
    if stand_in is not None:
        description, make = stand_in
        if st.toggle(t("data.stand_in_toggle", description=description), key=f"standin:{cache_key}"):
            st.info(t("data.stand_in_note", label=label, description=description), icon=":material/science:")
            with st.spinner(t("data.making_stand_in")):
                return _stand_in(cache_key, make)
    return None


def file_warning(path, notes: Sequence) -> None:
    """Say on the page what is off about the data file at `path` (used all the
    same): for fra.txt, core.data.translation.check_fra's notes."""
    if notes:
        st.warning(messages.fra_warning(path, notes), icon=":material/warning:")


MAX_TEXT = 200_000  # characters of pasted or uploaded text a page works on (The Time Machine is 179,000)


@st.cache_resource(max_entries=16, show_spinner=False)
def _per_text(name: str, digest: str, args: tuple, _fn: Callable[..., Any], _text: Any) -> Any:
    return _fn(_text, *args)


def per_text(fn: Callable[..., Any], text: str | bytes, *args: Hashable, name: str | None = None) -> Any:
    """fn(text, *args), computed once per server for the same function (by
    `name`, default where it is defined), text (by its SHA-1) and args, not on
    every rerun; the result is shared, read-only, by every session and rerun
    that asks for the same. An exception is not kept."""
    if name is None:
        code = getattr(fn, "__code__", None)
        name = f"{fn.__module__}.{fn.__qualname__}" + (f"@{code.co_filename}:{code.co_firstlineno}" if code else "")
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    return _per_text(name, hashlib.sha1(data).hexdigest(), args, fn, text)


def cut_text(text: str, max_chars: int) -> str:
    """`text` cut to at most `max_chars` characters, at the end of a line when
    one ends in the second half (no half sentence pair, no half word)."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    end = head.rfind("\n")
    return head[:end + 1] if end >= max_chars // 2 else head


def _capped(raw: bytes, parse: Callable[[bytes], Any], max_chars: int) -> tuple[Any, int | None]:
    """parse() of at most `max_chars` characters of `raw` (UTF-8): (the parsed
    value, how many characters the text had when it was cut, else None). Only
    the bytes that can hold those characters are decoded."""
    head = raw[:4 * max_chars + 4]  # a UTF-8 character takes at most 4 bytes (and a BOM 3)
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=len(head) == len(raw))
    except UnicodeDecodeError:
        return parse(head), None  # parse says why, with the position
    if len(head) == len(raw) and len(text) <= max_chars:
        return parse(raw), None
    total = len(raw.decode("utf-8-sig", errors="replace")) if len(head) < len(raw) else len(text)
    return parse(cut_text(text, max_chars).encode("utf-8")), total


def _cap_box(key: str, max_chars: int) -> None:
    """on_change of a paste box: keep at most `max_chars` of what was pasted,
    so a huge paste stays neither in the box nor in the session."""
    text = st.session_state.get(key) or ""
    if len(text) > max_chars:
        st.session_state[key] = cut_text(text, max_chars)
        st.session_state[f"_cut:{key}"] = len(text)
    else:
        st.session_state.pop(f"_cut:{key}", None)


def pasted_or_uploaded(parse: Callable[[bytes], Any], *, default: str, paste_label: str, paste_key: str,
                       upload_label: str, upload_key: str, types: list[str], what: str,
                       help: str | None = None, max_chars: int = MAX_TEXT) -> Any | None:
    """A text box holding `default` and an uploader whose file replaces it; the
    one in use goes through `parse` (which raises ValueError on bad input),
    once per text (`per_text`). At most `max_chars` characters are used, and
    the page says so when the text was cut.
    The parsed value, or None after saying on the page why it cannot be used
    (`what` names the box's content: "The pasted {what} cannot be used")."""
    if paste_key not in st.session_state:
        st.session_state[paste_key] = default
    limit = t("data.limit", max_chars=max_chars)
    pasted = st.text_area(paste_label, height=180, key=paste_key, help=f"{help} {limit}" if help else limit,
                          on_change=_cap_box, args=(paste_key, max_chars))
    file = st.file_uploader(upload_label, type=types, key=upload_key)
    raw = file.getvalue() if file is not None else pasted.encode("utf-8")
    source = (t("data.that_file", name=messages.code(file.name)) if file is not None
              else t("data.pasted", what=t_or(f"data.what.{what}", what)))
    try:
        value, total = _parse_capped(raw, parse, max_chars)
    except ValueError as err:
        st.error(t("data.cannot_use", source=source, problem=upload_problem(err)), icon=":material/error:")
        return None
    if file is None and total is None:
        total = st.session_state.get(f"_cut:{paste_key}")  # cut in the box itself
    if total is not None:
        _say_cut(source, total, max_chars, value)
    return value


def _parse_capped(raw: bytes, parse: Callable[[bytes], Any], max_chars: int | None) -> tuple[Any, int | None]:
    """parse(raw), or with `max_chars` `_capped`'s (value, characters before the cut), once per content."""
    if max_chars is None:
        return per_text(parse, raw), None
    return per_text(functools.partial(_capped, parse=parse, max_chars=max_chars), raw,
                    name=f"capped {parse.__module__}.{parse.__qualname__} {max_chars}")


def _say_cut(source: str, total: int, max_chars: int, used: Any) -> None:
    kept = t("data.kept_chars", n=len(used)) if isinstance(used, str) else t("data.kept_beginning")
    st.info(t("data.cut", source=source, total=total, max_chars=max_chars, kept=kept), icon=":material/content_cut:")
