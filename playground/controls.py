"""Widgets whose values live in the URL, checked like any other input.

Each setting has one name: the URL key. Its widget key is that name prefixed by
the page (`weight_decay.weight_decay`), so `lr` on two pages never shares state.
On the first draw in a session a widget takes its value from the URL if the
link carries a valid one, else from the value this session last had on the
page, else the page's default; a bad URL value (`?seed=inf`, text where a number
belongs, a 3,000-character string) falls back with a notice under the widget.
After every draw the URL holds exactly the values that differ from the page's
defaults, options by their key (never their display label), so a copied link
reproduces the page.

    form = controls.Form(Config, "weight_decay")
    form.draw("weight_decay", "num_epochs", columns=2)
    cfg = form.config()            # a checked Config; undrawn fields keep their defaults

Pages without a Config use the same machinery through `slider`, `selectbox`, ...
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import streamlit as st
import torch

from core.experiments import schema
from core.experiments.schema import Control, SettingError
from core.train.device import cuda_available, pick_device

from . import hiding, i18n
from .i18n import t
from .messages import code, literal

SEED_MAX = 2**31 - 1
PAGE = "_page"  # session key: the url_path of the page being drawn (set by the entry script)
SHARED = "app"  # namespace of the sidebar's settings, shared by every page
_VALUES = "_values:{}"  # session key: a page's last values, kept when its widgets are not drawn
_NOTICE = "_notice:{}"


def namespace() -> str:
    return st.session_state.get(PAGE) or "home"


def widget_key(name: str, ns: str | None = None) -> str:
    """The session key of setting `name` on page `ns` (default: the current page)."""
    return f"{ns or namespace()}.{name}"


def set_value(name: str, value, ns: str | None = None) -> None:
    """Set a setting from a callback (before its widget is drawn in the next run)."""
    st.session_state[widget_key(name, ns)] = value


# ------------------------------------------------------------------- the core
def _explain(err: SettingError, control: Control, fallback) -> str:
    values = {"min": schema.encode(control.min), "max": schema.encode(control.max), "max_chars": control.max_chars}
    reason = t(f"controls.reason.{err.code}", **values) if err.code in REASONS else t("controls.reason.other")
    shown = str(err.raw)
    shown = shown if len(shown) <= 24 else shown[:21] + "..."
    if isinstance(fallback, list):
        fallback = ", ".join(control.display(o) for o in fallback)
    else:
        fallback = control.display(fallback) if control.options else schema.encode(fallback)
    return t("controls.bad_link", label=literal(control.label), value=code(shown), reason=reason,
             fallback=literal(fallback) or t("controls.empty_value"))


REASONS = ("not_a_number", "not_finite", "below_min", "above_max", "not_integer", "not_an_option", "not_a_bool",
           "too_long")


def _initial(name: str, key: str, ns: str, control: Control, default, parse: Callable[[Any], Any]):
    raw = st.query_params.get_all(name)
    stored = st.session_state.get(_VALUES.format(ns), {})
    if raw:
        try:
            return parse(raw if control.kind == "multiselect" else raw[-1])
        except SettingError as err:
            st.session_state[_NOTICE.format(key)] = (_explain(err, control, default), default)
            return default
    if name in stored:
        return stored[name]
    return default


def _sync_url(name: str, value, default, encode: Callable[[Any], str | list[str]]) -> None:
    if value == default:
        if name in st.query_params:
            del st.query_params[name]
        return
    text = encode(value)
    if (st.query_params.get_all(name) if isinstance(text, list) else st.query_params.get(name)) != text:
        st.query_params[name] = text


def bound(name: str, control: Control, default, *, parse: Callable[[Any], Any], container=None,
          ns: str | None = None, encode: Callable[[Any], Any] = schema.encode, **extra):
    """Draw `control` for setting `name`, bound to the URL; returns its value."""
    ns = ns or namespace()
    key = widget_key(name, ns)
    if key not in st.session_state:
        st.session_state[key] = _initial(name, key, ns, control, default, parse)
    box = container or st
    kw: dict[str, Any] = {"key": key, "help": control.help}
    kind = control.kind
    if ns != SHARED and hiding.hidden(name):  # ?hide=name: not drawn, its value as if it were
        kind = "hidden"
    if kind == "hidden":
        pass
    elif kind == "slider":
        cast = int if isinstance(default, int) and not isinstance(default, bool) else float
        if type(st.session_state[key]) is not cast:
            st.session_state[key] = cast(st.session_state[key])
        step = control.step if control.step is not None else (1 if cast is int else None)
        box.slider(control.label, min_value=cast(control.min), max_value=cast(control.max),
                   step=None if step is None else cast(step), **kw, **extra)
    elif kind == "select_slider":
        box.select_slider(control.label, options=list(control.options), format_func=control.display, **kw, **extra)
    elif kind == "select":
        box.selectbox(control.label, options=list(control.options), format_func=control.display, **kw, **extra)
    elif kind == "segmented":
        box.segmented_control(control.label, options=list(control.options), format_func=control.display,
                              selection_mode="single", required=True, **kw, **extra)
    elif kind == "multiselect":
        box.multiselect(control.label, options=list(control.options), format_func=control.display, **kw, **extra)
    elif kind == "toggle":
        box.toggle(control.label, **kw, **extra)
    elif kind == "text":
        box.text_input(control.label, max_chars=control.max_chars, **kw, **extra)
    elif kind == "number":
        cast = int if isinstance(default, int) else float
        box.number_input(control.label, min_value=cast(control.min), max_value=cast(control.max),
                         step=cast(control.step or 1), **kw, **extra)
    else:
        raise ValueError(f"unknown control kind {kind!r}")
    value = st.session_state[key]
    notice = st.session_state.get(_NOTICE.format(key))
    if notice is not None:
        if value == notice[1]:
            box.caption(f":material/warning: {notice[0]}")
        else:
            del st.session_state[_NOTICE.format(key)]
    st.session_state.setdefault(_VALUES.format(ns), {})[name] = value
    _sync_url(name, value, default, encode)
    hiding.note(name, control.label, encode(value), ns == SHARED)
    return value


# -------------------------------------------------------------- Config forms
class Form:
    """The controls of a Config class on a page (see the module docstring)."""

    def __init__(self, cls, ns: str | None = None, *, base=None):
        self.cls, self.ns = cls, ns
        self.base = base if base is not None else cls()
        self.controls = schema.controls(cls)
        self.values: dict[str, Any] = {}

    def draw(self, *names: str, columns: int | None = None, container=None) -> list:
        """Draw the named settings (in `columns` side by side); returns their values."""
        unknown = [n for n in names if n not in self.controls]
        if unknown:
            raise KeyError(f"{self.cls.__name__} has no control {unknown}")
        boxes = (container or st).columns(columns) if columns else [container] * len(names)
        out = []
        for i, name in enumerate(names):
            default = getattr(self.base, name)
            shown = i18n.control(self.controls[name], i18n.prefix_of(self.cls, self.ns or namespace()), name)
            value = bound(name, shown, default, container=boxes[i % len(boxes)], ns=self.ns,
                          parse=lambda raw, n=name: schema.coerce(self.cls, n, raw))
            self.values[name] = value
            out.append(value)
        return out

    def __getitem__(self, name: str):
        return self.values[name] if name in self.values else getattr(self.base, name)

    def config(self, *, remembered: bool = False):
        """The settings as a checked Config: drawn values over the base. With
        `remembered`, a setting not drawn here takes the value this session
        last drew in the form's namespace (checked when it was drawn): a page
        that shares another page's settings (the beam-search page uses the
        seq2seq page's model) gets that page's values."""
        values = dict(self.values)
        if remembered:
            stored = st.session_state.get(_VALUES.format(self.ns or namespace()), {})
            values = {**{n: v for n, v in stored.items() if n in self.controls}, **values}
        return dataclasses.replace(self.base, **values)


# ------------------------------------------------- widgets without a Config
def _control(kind: str, label: str, *, min=None, max=None, step=None, options=(), format_func=None,
             help=None, max_chars: int = schema.TEXT_MAX) -> Control:
    options = tuple(options)
    labels = {o: format_func(o) for o in options} if format_func and options else None
    return Control(label, kind, min, max, step, options, labels, False, help, max_chars)


def _parse_plain(control: Control, default) -> Callable[[Any], Any]:
    """What Config fields get from schema.coerce, for a widget without a Config."""
    return lambda raw: schema.coerce_value("value", control, type(default), raw)


def _plain(kind: str, label: str, key: str, default, container=None, **kw):
    control = _control(kind, label, **kw)
    return bound(key, control, default, parse=_parse_plain(control, default), container=container)


def slider(label: str, key: str, min_value, max_value, value, step=None, *, help=None, format=None, container=None):
    extra = {"format": format} if format else {}
    control = _control("slider", label, min=min_value, max=max_value, step=step, help=help)
    return bound(key, control, value, parse=_parse_plain(control, value), container=container, **extra)


def number_input(label: str, key: str, min_value, max_value, value, step=None, *, help=None, container=None):
    """A number box; the widget refuses numbers outside [min, max], a link's are checked like any other."""
    control = _control("number", label, min=min_value, max=max_value, step=step, help=help)
    return bound(key, control, value, parse=_parse_plain(control, value), container=container)


def select_slider(label: str, key: str, options, value, *, help=None, format_func=str, container=None):
    return _plain("select_slider", label, key, value, container, options=options, format_func=format_func, help=help)


def selectbox(label: str, key: str, options, value=None, *, help=None, format_func=str, container=None):
    options = list(options)
    return _plain("select", label, key, value if value in options else options[0], container, options=options,
                  format_func=format_func, help=help)


def segmented_control(label: str, key: str, options, value, *, help=None, format_func=None, container=None):
    return _plain("segmented", label, key, value, container, options=options, format_func=format_func, help=help)


def toggle(label: str, key: str, value=False, *, help=None, container=None):
    return _plain("toggle", label, key, bool(value), container, help=help)


def text_input(label: str, key: str, value: str = "", *, help=None, max_chars=None, placeholder=None,
               container=None):
    control = _control("text", label, help=help, max_chars=max_chars or schema.TEXT_MAX)
    extra = {"placeholder": placeholder} if placeholder else {}
    return bound(key, control, value, parse=_parse_plain(control, value), container=container, **extra)


def multiselect(label: str, key: str, options, value: Iterable, *, help=None, format_func=str, container=None):
    """Several choices; the URL repeats the key once per choice (?classes=0&classes=3)."""
    control = _control("multiselect", label, options=options, format_func=format_func, help=help)
    one = _parse_plain(dataclasses.replace(control, kind="select"), control.options[0])

    def parse(raw: list[str]) -> list:
        chosen = [one(r) for r in raw]
        return [o for o in control.options if o in chosen]

    return bound(key, control, list(value), parse=parse, container=container,
                 encode=lambda v: [schema.encode(o) for o in v])


# -------------------------------------------------------------- the sidebar
SEED = _control("number", "Seed", min=0, max=SEED_MAX, step=1,
                help="Every run draws its weights, data order and noise from this seed: "
                     "the same seed replays the same curve.")
DEVICES = ("auto", "cpu", "cuda")
DEVICE = _control("select", "Device", options=DEVICES, help="auto: CUDA when this server has a GPU, else CPU.")


def sidebar_seed_and_device() -> None:
    """The shared controls of every page (drawn by the entry script)."""
    with st.sidebar:
        bound("seed", i18n.control(SEED, "sidebar", "seed"), 0, parse=_parse_plain(SEED, 0), ns=SHARED)
        choice = bound("device", i18n.control(DEVICE, "sidebar", "device"), "auto",
                       parse=_parse_plain(DEVICE, "auto"), ns=SHARED)
        if choice == "cuda" and not cuda_available():
            st.caption(":material/info: " + t("sidebar.no_cuda"))


def seed() -> int:
    return int(st.session_state.get(widget_key("seed", SHARED), 0) or 0)


def set_seed(value: int) -> None:
    set_value("seed", max(0, min(int(value), SEED_MAX)), SHARED)


def device() -> torch.device:
    return pick_device(st.session_state.get(widget_key("device", SHARED), "auto") or "auto")
