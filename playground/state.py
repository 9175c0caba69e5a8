"""Per-session state helpers and the shared, read-only server resources."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import streamlit as st

from core.train.device import default_slots
from core.train.slots import SlotPool


def session_id() -> str:
    if "_sid" not in st.session_state:
        st.session_state["_sid"] = uuid.uuid4().hex
    return st.session_state["_sid"]


def page_state(key: str, factory: Callable[[], Any]) -> Any:
    """A per-session object kept across reruns under `key`."""
    if key not in st.session_state:
        st.session_state[key] = factory()
    return st.session_state[key]


@st.cache_resource
def slot_pool() -> SlotPool:
    """One pool per server: at most PLAYGROUND_SLOTS trainings at once."""
    return SlotPool(default_slots())
