"""Per-session state helpers and the shared, read-only server resources."""
from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import streamlit as st

from core.train.device import default_slots, default_workers
from core.train.runs import Executor, make_executor

_LOG_LOCK = threading.Lock()


@contextlib.contextmanager
def timed_run(page: str):
    """With PLAYGROUND_RUN_LOG set to a file, append one line per script run:
    the wall-clock end, the session, the page and the run's seconds (a
    benchmark reads how long the server itself takes per page, browsers apart)."""
    path, started = os.environ.get("PLAYGROUND_RUN_LOG"), time.perf_counter()
    try:
        yield
    finally:
        if path:
            line = f"{time.time():.3f} {session_id()} {page} {time.perf_counter() - started:.4f}\n"
            with _LOG_LOCK, contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as f:
                f.write(line)


def session_id() -> str:
    if "_sid" not in st.session_state:
        st.session_state["_sid"] = uuid.uuid4().hex
    return st.session_state["_sid"]


def browser_id() -> str:
    """One id per browser, the same in all its tabs (from the XSRF cookie Streamlit
    sets once per browser; the tab's session id where there is none), so a
    student with three tabs holds one training slot, not three."""
    try:
        cookie = st.context.cookies.get("_streamlit_xsrf")
    except Exception:  # noqa: BLE001 - no request context (AppTest, bare mode)
        cookie = None
    if not isinstance(cookie, str) or not cookie:
        return "tab:" + session_id()
    return "browser:" + hashlib.sha256(xsrf_token(cookie).encode()).hexdigest()[:16]


def xsrf_token(cookie: str) -> str:
    """The token inside Tornado's XSRF cookie ("2|mask|masked token|time"): each
    page load re-masks it with a new random mask, the token itself stays the
    browser's. Anything else is returned as it is."""
    parts = cookie.split("|")
    try:
        if len(parts) == 4 and parts[0] == "2":
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
            return bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked)).hex()
    except ValueError:
        pass
    return cookie


def page_state(key: str, factory: Callable[[], Any]) -> Any:
    """A per-session object kept across reruns under `key`."""
    if key not in st.session_state:
        st.session_state[key] = factory()
    return st.session_state[key]


@st.cache_resource
def executor() -> Executor:
    """One per server: where every page's runs train. A Ray cluster when
    PLAYGROUND_RAY_ADDRESS is set; else PLAYGROUND_WORKERS worker processes on
    this machine (default: the slots, at most the cores), with PLAYGROUND_SLOTS
    trainings at once (default: the cores)."""
    if os.environ.get("PLAYGROUND_RAY_ADDRESS", "").strip():
        return make_executor()
    return make_executor(num_workers=default_workers(), capacity=default_slots())
