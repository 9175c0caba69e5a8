"""Typed settings: every Config's defaults are the book's, coerce turns any text
into a valid value or a SettingError, and a link round-trips every setting."""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import pytest

import core.experiments
from core.experiments import schema
from core.experiments.schema import Preset, SettingError, setting

HOSTILE = ["-1", "1e308", "nan", "inf", "-inf", "Infinity", "1e400", "123456789012345678901234567890", "text",
           "x" * 3000, "\x00\x1b[31m<script>alert(1)</script>", "", " ", "0x10", "1,5", "True", "[]", "é", "½"]


def configs():
    """Every experiment's Config class, found by walking core.experiments."""
    out = []
    for info in pkgutil.iter_modules(core.experiments.__path__):
        module = importlib.import_module(f"core.experiments.{info.name}")
        if hasattr(module, "Config"):
            out.append(module.Config)
    return out


def test_every_experiment_has_a_config():
    names = {c.__module__.rsplit(".", 1)[-1] for c in configs()}
    assert {"weight_decay", "dropout", "batch_norm", "gru_lstm", "seq2seq"} <= names


@pytest.mark.parametrize("cls", configs(), ids=lambda c: c.__module__.rsplit(".", 1)[-1])
def test_defaults_are_valid_and_round_trip_through_a_link(cls):
    cfg = cls()
    schema.check(cfg)
    for name, control in schema.controls(cls).items():
        value = getattr(cfg, name)
        assert schema.coerce(cls, name, schema.encode(value)) == value
        other = _another_value(control, value)
        changed = dataclasses.replace(cfg, **{name: other})
        params = schema.to_params(changed)
        assert params == {name: schema.encode(other)}
        back, problems = schema.from_params(cls, params)
        assert back == changed and problems == []


@pytest.mark.parametrize("cls", configs(), ids=lambda c: c.__module__.rsplit(".", 1)[-1])
def test_any_text_gives_a_valid_value_or_a_setting_error(cls):
    for name in schema.controls(cls):
        for raw in HOSTILE:
            try:
                value = schema.coerce(cls, name, raw)
            except SettingError as err:
                assert err.name == name and err.code
                continue
            cfg = dataclasses.replace(cls(), **{name: value})  # whatever passes makes a valid Config
            schema.check(cfg)


def _another_value(control, value):
    if control.options:
        return next(o for o in control.options if o != value)
    if isinstance(value, bool):
        return not value
    if isinstance(value, str):
        return value + "x"
    step = control.step or 1
    return value + step if value + step <= control.max else value - step


@dataclasses.dataclass(frozen=True)
class Toy:
    lr: float = setting(0.1, "lr", min=0.001, max=10.0, live=True)
    num_epochs: int = setting(10, "epochs", min=1, max=100, live=True)
    cell: str = setting("gru", "cell", options=("gru", "lstm"), labels={"gru": "GRU", "lstm": "LSTM"})
    hidden: int = setting(32, "hidden", options=(16, 32, 64))
    eval_mode: bool = setting(False, "eval")
    prefix: str = setting("time ", "prefix", max_chars=10)
    batch_size: int = 64


@pytest.mark.parametrize("name, raw, value", [
    ("lr", "0.5", 0.5), ("lr", " 3 ", 3.0), ("num_epochs", "7", 7), ("num_epochs", "7.0", 7),
    ("cell", "lstm", "lstm"), ("cell", "LSTM", "lstm"), ("hidden", "64", 64), ("hidden", "64.0", 64),
    ("eval_mode", "true", True), ("eval_mode", "0", False), ("prefix", "a\x00b\nc", "abc"),
])
def test_coerce_reads_link_text(name, raw, value):
    got = schema.coerce(Toy, name, raw)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("name, raw, code", [
    ("lr", "inf", "not_finite"), ("lr", "nan", "not_finite"), ("lr", "1e400", "not_finite"),
    ("lr", "-1", "below_min"), ("lr", "1e308", "above_max"), ("lr", "ten", "not_a_number"),
    ("lr", "1" * 41, "not_a_number"), ("num_epochs", "7.5", "not_integer"),
    ("num_epochs", "123456789012345678901234567890", "above_max"), ("cell", "rnn", "not_an_option"),
    ("hidden", "48", "not_an_option"), ("eval_mode", "maybe", "not_a_bool"), ("prefix", "x" * 11, "too_long"),
    ("nope", "1", "unknown_setting"),
])
def test_coerce_refuses_with_a_code(name, raw, code):
    with pytest.raises(SettingError) as err:
        schema.coerce(Toy, name, raw)
    assert err.value.code == code


def test_plain_fields_are_not_controls_and_keep_their_value():
    assert "batch_size" not in schema.controls(Toy)
    cfg, problems = schema.from_params(Toy, {"batch_size": "1", "lr": "inf", "cell": "lstm"})
    assert cfg.batch_size == 64 and cfg.lr == 0.1 and cfg.cell == "lstm"
    assert [p.code for p in problems] == ["not_finite"]


def test_live_and_rebuild_parts():
    cfg = Toy()
    assert schema.live_part(cfg) == {"lr": 0.1, "num_epochs": 10}
    assert set(schema.rebuild_part(cfg)) == {"cell", "hidden", "eval_mode", "prefix", "batch_size"}
    assert schema.changed(cfg, dataclasses.replace(cfg, lr=1.0, cell="lstm")) == {"lr", "cell"}


def test_a_preset_is_data_over_the_current_settings():
    p = Preset("Compare", {"GRU": {"cell": "gru"}, "LSTM": {"cell": "lstm"}})
    base = dataclasses.replace(Toy(), lr=2.0)
    cfgs = p.configs(base)
    assert list(cfgs) == ["GRU", "LSTM"] and cfgs["LSTM"] == dataclasses.replace(base, cell="lstm")


def test_setting_refuses_a_default_outside_its_options():
    with pytest.raises(ValueError):
        setting("rnn", "cell", options=("gru", "lstm"))
    with pytest.raises(ValueError):
        setting(1.0, "lr")  # a slider needs a range
