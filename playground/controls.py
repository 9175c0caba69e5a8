"""Widgets bound to the URL, and the shared seed and device.

Each widget takes its default only while the session has no value for its key,
so a value set through session state (a preset, an override) is not fought by
the default, and every main control lands in the URL for sharing. Pending
overrides are applied by the first control a page draws (applied from the entry
script they would be lost on a multipage app's rerun)."""
from __future__ import annotations

import streamlit as st
import torch

from core.train.device import cuda_available, pick_device

from .state import apply_overrides

SEED_MAX = 2**31 - 1


def _bound(kind: str, label: str, key: str, default: dict, container, **kw):
    """Draw widget `kind` bound to the URL under `key`; `default` (e.g. {"value": 3})
    is passed only while the session has no value for the key."""
    apply_overrides()
    widget = getattr(container or st, kind)
    return widget(label, key=key, bind="query-params", **({} if key in st.session_state else default), **kw)


def slider(label: str, key: str, min_value, max_value, value, step=None, *, help=None, format=None,
           container=None):
    return _bound("slider", label, key, {"value": value}, container, min_value=min_value,
                  max_value=max_value, step=step, help=help, format=format)


def select_slider(label: str, key: str, options, value, *, help=None, format_func=str, container=None):
    return _bound("select_slider", label, key, {"value": value}, container, options=options, help=help,
                  format_func=format_func)


def selectbox(label: str, key: str, options, value=None, *, help=None, format_func=str, container=None):
    options = list(options)
    index = options.index(value) if value in options else 0
    return _bound("selectbox", label, key, {"index": index}, container, options=options, help=help,
                  format_func=format_func)


def multiselect(label: str, key: str, options, value, *, help=None, format_func=str, container=None):
    return _bound("multiselect", label, key, {"default": list(value)}, container, options=list(options),
                  help=help, format_func=format_func)


def segmented_control(label: str, key: str, options, value, *, help=None, container=None):
    return _bound("segmented_control", label, key, {"default": value}, container, options=list(options),
                  required=True, help=help)


def toggle(label: str, key: str, value=False, *, help=None, container=None):
    return _bound("toggle", label, key, {"value": value}, container, help=help)


def text_input(label: str, key: str, value: str = "", *, help=None, max_chars=None, placeholder=None,
               container=None):
    return _bound("text_input", label, key, {"value": value}, container, help=help, max_chars=max_chars,
                  placeholder=placeholder)


def sidebar_seed_and_device() -> None:
    """The shared controls of every page (drawn by the entry script)."""
    with st.sidebar:
        kw = {} if "seed" in st.session_state else {"value": 0}
        st.number_input("Seed", min_value=0, max_value=SEED_MAX, step=1, key="seed", bind="query-params",
                        help="Every run draws its weights, data order and noise from this seed: "
                             "the same seed replays the same curve.", **kw)
        options = ["auto", "cpu", "cuda"]
        kw = {} if "device" in st.session_state else {"index": 0}
        choice = st.selectbox("Device", options, key="device", bind="query-params",
                              help="auto: CUDA when this server has a GPU, else CPU.", **kw)
        if choice == "cuda" and not cuda_available():
            st.caption(":material/info: No CUDA device on this server: running on the CPU.")


def seed() -> int:
    return int(st.session_state.get("seed", 0) or 0)


def device() -> torch.device:
    return pick_device(st.session_state.get("device", "auto") or "auto")
