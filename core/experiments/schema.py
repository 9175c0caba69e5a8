"""Typed settings: one frozen dataclass per experiment, whose fields say how
they are shown and changed.

    @config
    class Config:
        weight_decay: float = setting(0.0, "λ (weight decay)", min=0.0, max=10.0, step=0.5, live=True)
        num_epochs: int = setting(100, "epochs", min=10, max=300, step=10, live=True)
        batch_size: int = 5          # a plain field: fixed, never a control

The defaults are the book's values. A field's name is its one name everywhere:
the URL key, the widget (namespaced by page), the trainer's hyperparameter when
`live`, the script that reproduces a run. `live` settings apply mid-run at the
next minibatch (lr, weight decay, the number of epochs); the others need a new
model. Text from a URL or a person goes through `coerce`, which returns a valid
value or raises `SettingError` with a code, never a half-checked value.
"""
from __future__ import annotations

import dataclasses
import math
import typing
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS = ("slider", "select_slider", "select", "segmented", "toggle", "text")
TEXT_MAX = 200  # characters in any text setting unless it says otherwise (URLs stay short)
NUMBER_CHARS = 40  # a longer number in a URL is not a number anyone typed


@dataclass(frozen=True)
class Control:
    """How a setting is drawn and checked. `options` for choices (their values,
    stored in the URL as str(value)); `labels` maps an option to its display."""

    label: str
    kind: str
    min: float | None = None
    max: float | None = None
    step: float | None = None
    options: tuple = ()
    labels: Mapping | None = None
    live: bool = False
    help: str | None = None
    max_chars: int = TEXT_MAX

    def display(self, option) -> str:
        return str((self.labels or {}).get(option, option))


class SettingError(ValueError):
    """A value that cannot be a setting. `code` is one of: not_a_number,
    not_finite, below_min, above_max, not_integer, not_an_option, not_a_bool,
    too_long, unknown_setting."""

    def __init__(self, name: str, raw: Any, code: str, **details):
        self.name, self.raw, self.code, self.details = name, raw, code, details
        shown = repr(raw) if len(repr(raw)) <= 40 else repr(raw)[:37] + "..."
        super().__init__(f"{name}={shown}: {code} {details or ''}".strip())


def setting(default, label: str, *, kind: str | None = None, min=None, max=None, step=None, options=(),
            labels: Mapping | None = None, live: bool = False, help: str | None = None,
            max_chars: int = TEXT_MAX):
    """A dataclass field that is also a control. The kind is inferred when not
    given: bool -> toggle, options -> select (select_slider for numbers),
    str -> text, a number -> slider."""
    options = tuple(options)
    if kind is None:
        if isinstance(default, bool):
            kind = "toggle"
        elif options:
            kind = "select_slider" if all(isinstance(o, (int, float)) and not isinstance(o, bool)
                                          for o in options) else "select"
        elif isinstance(default, str):
            kind = "text"
        else:
            kind = "slider"
    if kind not in KINDS:
        raise ValueError(f"unknown control kind {kind!r}")
    if kind == "slider" and (min is None or max is None):
        raise ValueError(f"a slider needs min and max ({label})")
    if options and default not in options:
        raise ValueError(f"default {default!r} is not an option of {label}")
    control = Control(label, kind, min, max, step, options, dict(labels) if labels else None, live, help, max_chars)
    return field(default=default, metadata={"control": control})


# ------------------------------------------------------------------ reading
def controls(cls) -> dict[str, Control]:
    """The settings of a Config class (or instance) that are controls, in order."""
    return {f.name: f.metadata["control"] for f in dataclasses.fields(cls) if "control" in f.metadata}


def defaults(cls) -> dict[str, Any]:
    return {f.name: f.default for f in dataclasses.fields(cls)}


def types(cls) -> dict[str, type]:
    cls = cls if isinstance(cls, type) else type(cls)
    return typing.get_type_hints(cls)


def live_names(cls) -> set[str]:
    return {name for name, c in controls(cls).items() if c.live}


def rebuild_part(cfg) -> dict[str, Any]:
    """The values whose change needs a new model (everything but live settings)."""
    live = live_names(cfg)
    return {k: v for k, v in dataclasses.asdict(cfg).items() if k not in live}


def live_part(cfg) -> dict[str, Any]:
    return {k: getattr(cfg, k) for k in live_names(cfg)}


# ------------------------------------------------------------------ checking
def _clean_text(raw: str) -> str:
    """Control and format characters out (a URL may carry anything)."""
    return "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C" or ch in "\t")


def _number(name: str, raw: Any, as_int: bool):
    if isinstance(raw, bool):
        raise SettingError(name, raw, "not_a_number")
    if isinstance(raw, str):
        text = raw.strip()
        if not text or len(text) > NUMBER_CHARS:
            raise SettingError(name, raw, "not_a_number")
        try:
            value = float(text) if not as_int else (int(text) if text.lstrip("+-").isdigit() else float(text))
        except ValueError:
            raise SettingError(name, raw, "not_a_number") from None
    elif isinstance(raw, (int, float)):
        value = raw
    else:
        raise SettingError(name, raw, "not_a_number")
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingError(name, raw, "not_finite")
    if as_int:
        if isinstance(value, float):
            if value != int(value):
                raise SettingError(name, raw, "not_integer")
            value = int(value)
        return int(value)
    return float(value)


def coerce(cls, name: str, raw: Any, *, bounds: bool = True):
    """`raw` (a URL string, or a value) as a valid value of setting `name`, or
    SettingError. Numbers must be finite and inside [min, max]; choices must be
    options (compared as their URL text); text is cleaned and capped. With
    bounds=False the range of a slider is not checked (code may go past what a
    page offers, e.g. a test with 1 epoch)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if name not in fields:
        raise SettingError(name, raw, "unknown_setting")
    kind = types(cls).get(name, type(fields[name].default))
    return coerce_value(name, fields[name].metadata.get("control"), kind, raw, bounds=bounds)


def coerce_value(name: str, c: Control | None, kind: type, raw: Any, *, bounds: bool = True):
    """coerce() for a setting given by its control and type rather than as a
    field of a Config (a page's widget that belongs to no experiment)."""
    if c is not None and c.options:
        text = str(raw).strip()
        for option in c.options:  # the key; an old link may carry the display label
            if (type(raw) is type(option) and raw == option) or text in (str(option), encode(option),
                                                                         c.display(option)):
                return option
        numbers = [o for o in c.options if isinstance(o, (int, float)) and not isinstance(o, bool)]
        if numbers and not isinstance(raw, bool):  # "64.0" for 64
            try:
                value = _number(name, raw, False)
            except SettingError:
                value = None
            if value is not None and value in numbers:
                return numbers[numbers.index(value)]
        raise SettingError(name, raw, "not_an_option", options=[str(o) for o in c.options])
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1", "on", "yes"):
            return True
        if text in ("false", "0", "off", "no"):
            return False
        raise SettingError(name, raw, "not_a_bool")
    if kind is str:
        text = _clean_text(str(raw))
        limit = c.max_chars if c else TEXT_MAX
        if len(text) > limit:
            raise SettingError(name, raw, "too_long", max_chars=limit)
        return text
    value = _number(name, raw, kind is int)
    if bounds and c is not None and c.min is not None and value < c.min:
        raise SettingError(name, raw, "below_min", min=c.min)
    if bounds and c is not None and c.max is not None and value > c.max:
        raise SettingError(name, raw, "above_max", max=c.max)
    return value


def config(cls):
    """A frozen dataclass whose every instance is checked when made (`check`):
    the decorator for an experiment's Config."""
    cls.__post_init__ = check
    return dataclass(frozen=True)(cls)


def check(cfg) -> None:
    """Raise SettingError unless every control of `cfg` holds a value of its
    type, finite, and one of its options if it has any (for a Config's
    __post_init__, so such an invalid Config cannot exist). Slider ranges are
    the pages' limits, checked by coerce on what a person or a link gives."""
    for name in controls(cfg):
        value = getattr(cfg, name)
        if coerce(type(cfg), name, value, bounds=False) != value:
            raise SettingError(name, value, "not_canonical")


def encode(value) -> str:
    """A value as URL text (coerce reads it back to the same value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value).removesuffix(".0") if value == int(value) and abs(value) < 1e15 else repr(value)
    return str(value)


def from_params(cls, params: Mapping[str, str], base=None):
    """A Config from URL parameters over `base` (default: the book's values):
    unknown keys are ignored, bad values keep the base value and are returned
    as SettingErrors for the page to mention."""
    base = base if base is not None else cls()
    values, problems = {}, []
    for name in controls(cls):
        if name in params:
            try:
                values[name] = coerce(cls, name, params[name])
            except SettingError as err:
                problems.append(err)
    return dataclasses.replace(base, **values), problems


def to_params(cfg) -> dict[str, str]:
    """The controls of `cfg` that differ from the defaults, as URL text."""
    d = defaults(cfg)
    return {name: encode(getattr(cfg, name)) for name in controls(cfg) if getattr(cfg, name) != d[name]}


def changed(a, b) -> set[str]:
    """Names of the fields whose values differ between two Configs of one class."""
    return {f.name for f in dataclasses.fields(a) if getattr(a, f.name) != getattr(b, f.name)}


@dataclass(frozen=True)
class Preset:
    """One click, several runs: `runs` maps a run's name to the settings it
    changes; `configs(cfg)` applies them to the page's current settings. The
    runs train side by side and are drawn together; no widget is touched."""

    label: str
    runs: Mapping[str, Mapping[str, Any]]

    def configs(self, cfg) -> dict[str, Any]:
        return {name: dataclasses.replace(cfg, **values) for name, values in self.runs.items()}
