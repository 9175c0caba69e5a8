"""'Show the PyTorch': below a training page's live panel, the self-contained
script (core.export) that reproduces the page's current run, for its Config
values, seed and the data folder the server reads, with a download button.

    code_export.show("dropout", cfg, seed=seed, data=data, key="dropout")

A page whose experiment has no exporter yet shows nothing. The script is text
made in the web process (nothing trains here), cached per (experiment, Config,
seed, data folder)."""
from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Any

import streamlit as st

from core.data import download as dl
from core.export import exporter

from .data import session_data_dir
from .i18n import t
from .messages import literal
from .state import executor


def source(experiment: str, cfg: Any, seed: int, data_dir: str, threads: int = 1) -> str | None:
    """The script for one run (None when the experiment has no exporter),
    cached: a Config is a frozen dataclass, so it keys the cache itself (one
    that holds an unhashable value is written each time)."""
    try:
        return _cached(experiment, cfg, seed, data_dir, threads)
    except TypeError:
        return _write(experiment, cfg, seed, data_dir, threads)


def _write(experiment: str, cfg: Any, seed: int, data_dir: str, threads: int) -> str | None:
    """`threads` (the workers' torch threads) goes to the exporters that take it."""
    mod = exporter(experiment)
    if mod is None:
        return None
    extra = {"threads": threads} if "threads" in inspect.signature(mod.script).parameters else {}
    return mod.script(cfg, seed=seed, data_dir=data_dir, **extra)


_cached = functools.lru_cache(maxsize=256)(_write)


def worker_threads() -> int:
    """torch threads per training worker (the local executor's; 1 when it does not say)."""
    try:
        return int(getattr(executor(), "threads", 1) or 1)
    except Exception:  # noqa: BLE001 - no executor: the script's default
        return 1


def data_dir(data: Any = None) -> str:
    """The folder the script reads its data from: where the page's data set
    was found (its `paths`, when it knows them), else the session's or the
    server's data folder, else the download cache."""
    paths = getattr(data, "paths", None)
    if isinstance(paths, dict) and paths:
        return str(Path(next(iter(paths.values()))).parent)
    return str(session_data_dir() or dl.data_dir() or dl.cache_dir())


def _stand_in(data: Any) -> bool:
    """A Fashion-MNIST stand-in (playground.fmnist.is_stand_in): it has `paths`, empty."""
    return isinstance(getattr(data, "paths", None), dict) and not data.paths


def show(experiment: str, cfg: Any, *, seed: int, data: Any = None, key: str, preset: str | None = None,
         init: bool = False) -> None:
    """The expander with the script for `cfg` at `seed`; `preset` names a
    preset run in progress (the script is the page's own Config, and says so);
    `init`: the run starts from given weights (an upload), not the seed's."""
    if exporter(experiment) is None:
        return
    try:
        text = source(experiment, cfg, int(seed), data_dir(data), worker_threads())
    except Exception as err:  # noqa: BLE001 - an exporter that fails must not take the page down
        st.warning(t("code_export.failed", error=literal(type(err).__name__)), icon=":material/code_off:")
        return
    if text is None:
        return
    with st.expander(t("code_export.title"), icon=":material/code:"):
        st.caption(t("code_export.caption"))
        if preset:
            st.info(t("code_export.preset", preset=literal(preset)), icon=":material/info:")
        if init:
            st.info(t("code_export.init"), icon=":material/info:")
        if _stand_in(data):
            st.info(t("code_export.stand_in"), icon=":material/info:")
        st.download_button(t("code_export.download"), data=text, file_name="run.py", mime="text/x-python",
                           key=f"{key}:code:download", icon=":material/download:", on_click="ignore")
        st.code(text, language="python", line_numbers=True, height=560)
