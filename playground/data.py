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

from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from core.data import download as dl

from . import messages
from .messages import upload_problem

MAX_CACHED = 6


def data_folder_setting() -> None:
    """The sidebar setting for this session's data folder (else PLAYGROUND_DATA_DIR)."""
    with st.sidebar.expander("Data folder", icon=":material/folder_open:"):
        value = st.text_input(
            "Folder with the book's data files", key="data_dir",
            placeholder=str(dl.data_dir() or "PLAYGROUND_DATA_DIR is not set"),
            help="Looked in first, before the download cache. Leave empty to use PLAYGROUND_DATA_DIR.",
        )
        if value and not Path(value).expanduser().is_dir():
            st.error("That folder does not exist on the server; it is ignored.", icon=":material/error:")
        st.caption(f"Downloads are cached in {dl.cache_dir()}")


def session_data_dir() -> Path | None:
    value = st.session_state.get("data_dir") or ""
    path = Path(value).expanduser()
    return path.resolve() if value and path.is_dir() else None


@st.cache_resource(max_entries=MAX_CACHED, show_spinner="Loading data...")
def _cached(cache_key: Hashable, folder: str | None, _load: Callable[..., Any]) -> Any:
    with dl.using_data_dir(folder):
        return _load(allow_download=False, progress=None)


@st.cache_resource(max_entries=MAX_CACHED, show_spinner="Making the stand-in...")
def _stand_in(cache_key: Hashable, _make: Callable[[], Any]) -> Any:
    """The stand-in under `cache_key`, made once per server like the real data:
    every page and every rerun under one key gets the same object."""
    return _make()


def dataset(label: str, load: Callable[..., Any], *, cache_key: Hashable,
            stand_in: tuple[str, Callable[[], Any]] | None = None,
            upload: tuple[str, list[str], Callable[[bytes], Any]] | None = None) -> Any | None:
    """The loaded data, or None after explaining on the page what is missing.

    stand_in: (description, make) offered when the real files are missing; made
    once per cache key, so pages sharing a key must pass the same `make`.
    upload: (prompt, file types, parse) where parse raises ValueError on bad input."""
    folder = session_data_dir()
    try:
        return _cached(cache_key, str(folder) if folder else None, load)
    except dl.DataUnavailable as err:
        missing = err
    except (ValueError, OSError) as err:  # a file that is there but broken
        missing = dl.DataUnavailable(label, [], reason=str(err), code="unreadable",
                                     path=getattr(err, "filename", None))

    st.warning(messages.data_problem(missing, label), icon=":material/cloud_off:")
    with st.expander("Where the playground looked", expanded=False):
        st.code(missing.message, language=None)
    if not dl.offline() and st.button(f"Download {label}", icon=":material/download:", key=f"dl:{cache_key}"):
        bar = st.progress(0.0, text=f"Downloading {label}...")

        def progress(done: int, total: int | None) -> None:
            frac = done / total if total else 0.0
            bar.progress(min(frac, 1.0), text=f"Downloading {label}: {done / 1e6:.1f} MB"
                         + (f" of {total / 1e6:.1f} MB" if total else ""))

        try:
            with dl.using_data_dir(folder):
                load(allow_download=True, progress=progress)
        except (dl.DataUnavailable, ValueError, OSError) as err:
            st.error(f"The download failed: {err}", icon=":material/error:")
        else:
            _cached.clear()
            st.rerun()
    if upload is not None:
        prompt, types, parse = upload
        file = st.file_uploader(prompt, type=types, key=f"up:{cache_key}")
        if file is not None:
            try:
                data = parse(file.getvalue())
            except ValueError as err:
                st.error(f"That file cannot be used: {upload_problem(err)}", icon=":material/error:")
            else:
                st.info(f"Using your upload {messages.code(file.name)} instead of {label}.",
                        icon=":material/upload_file:")
                return data
    if stand_in is not None:
        description, make = stand_in
        if st.toggle(f"Continue with a stand-in: {description}", key=f"standin:{cache_key}"):
            st.info(f"**Stand-in data**, not {label}: {description}. Numbers will not match the book's.",
                    icon=":material/science:")
            return _stand_in(cache_key, make)
    return None


def file_warning(path, notes: Sequence) -> None:
    """Say on the page what is off about the data file at `path` (used all the
    same): for fra.txt, core.data.translation.check_fra's notes."""
    if notes:
        st.warning(messages.fra_warning(path, notes), icon=":material/warning:")


def pasted_or_uploaded(parse: Callable[[bytes], Any], *, default: str, paste_label: str, paste_key: str,
                       upload_label: str, upload_key: str, types: list[str], what: str,
                       help: str | None = None) -> Any | None:
    """A text box holding `default` and an uploader whose file replaces it; the
    one in use goes through `parse` (which raises ValueError on bad input).
    The parsed value, or None after saying on the page why it cannot be used
    (`what` names the box's content: "The pasted {what} cannot be used")."""
    pasted = st.text_area(paste_label, value=default, height=180, key=paste_key, help=help)
    file = st.file_uploader(upload_label, type=types, key=upload_key)
    try:
        return parse(file.getvalue() if file is not None else pasted.encode("utf-8"))
    except ValueError as err:
        st.error(f"{'That file' if file is not None else f'The pasted {what}'} cannot be used: "
                 f"{upload_problem(err)}", icon=":material/error:")
        return None
