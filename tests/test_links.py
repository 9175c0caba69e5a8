"""Links: every URL-bound setting of every page survives any text in its query
parameter, and the widget keys of different pages never collide.

Catalog-driven: the settings of a page are the widget keys it draws, so a new
page or a new control is covered without editing this file."""
from __future__ import annotations

import pytest
from apptest_support import open_page

from playground.catalog import TOPICS
from playground.controls import SHARED

HOSTILE = ["-1", "1e308", "nan", "inf", "-inf", "123456789012345678901234567890", "text", "x" * 3000,
           "\x07\x1b[2J<b>bold</b><script>alert(1)</script> ünï©ødé 中文"]


def settings_of(at, ns: str) -> list[str]:
    """The URL names of the settings page `ns` drew (its widget keys are 'ns.name')."""
    names = sorted(at.session_state[f"_values:{ns}"])
    assert all(f"{ns}.{name}" in at.session_state for name in names)
    return names


@pytest.fixture(scope="module")
def page_settings() -> dict[str, list[str]]:
    out = {}
    for topic in TOPICS:
        at = open_page(topic.path)
        assert not at.exception, at.exception
        out[topic.url_path] = settings_of(at, topic.url_path)
    return out


def test_every_page_draws_url_bound_settings_and_no_two_pages_share_a_key(page_settings):
    keys = {}
    for topic in TOPICS:
        names = page_settings[topic.url_path]
        assert names, f"{topic.url_path} draws no URL-bound setting"
        for name in names:
            key = f"{topic.url_path}.{name}"
            assert key not in keys, f"{key} drawn by {keys[key]} and {topic.url_path}"
            keys[key] = topic.url_path
    assert not any(k.startswith(SHARED + ".") for k in keys)  # the sidebar's are its own


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.url_path)
def test_any_text_in_any_setting_leaves_the_page_working(topic, page_settings):
    """Three links per page, each giving every setting a different hostile
    value (setting j of link i gets HOSTILE[3i + j], cyclically): with seed and
    device every page has at least three settings, so each of the nine values
    reaches every page in three opens rather than nine (each setting sees
    three of them; test_schema gives every value to every setting of every
    experiment's Config)."""
    names = page_settings[topic.url_path] + ["seed", "device"]
    for i in range(3):
        query = {name: HOSTILE[(3 * i + j) % len(HOSTILE)] for j, name in enumerate(names)}
        at = open_page(topic.path, query)
        assert not at.exception, ({k: v[:40] for k, v in query.items()}, at.exception)
        assert at.title and at.title[0].value == topic.title
        for name in page_settings[topic.url_path]:  # every value in the session is valid for its widget
            assert f"{topic.url_path}.{name}" in at.session_state


def test_a_bad_value_falls_back_with_a_notice_and_the_link_is_cleaned():
    at = open_page("topics/weight_decay.py", {"weight_decay": "inf", "num_epochs": "7.5", "seed": "-inf"})
    notes = " ".join(c.value for c in at.caption)
    assert "is not a finite number; using 0 instead" in notes
    assert "is not a whole number; using 100 instead" in notes
    assert at.slider(key="weight_decay.weight_decay").value == 0.0
    assert "weight_decay" not in at.query_params and "seed" not in at.query_params  # defaults leave the URL


def test_a_link_reproduces_every_setting_at_any_value_even_the_minimum():
    at = open_page("topics/dropout.py", {"dropout1": "0", "dropout2": "0.9", "num_epochs": "1", "eval_mode": "true"})
    assert at.slider(key="dropout.dropout1").value == 0.0  # the slider's minimum, not dropped from the link
    assert at.slider(key="dropout.dropout2").value == 0.9
    assert at.toggle(key="dropout.eval_mode").value is True
    assert at.query_params["dropout1"] == "0" and at.query_params["num_epochs"] == "1"
    at.slider(key="dropout.units").set_value(9).run()  # moving another control keeps them all
    assert at.query_params["dropout1"] == "0" and at.query_params["eval_mode"] == "true"
    assert at.query_params["units"] == "9"


def test_options_are_stored_by_key_not_label():
    at = open_page("topics/batch_norm.py")
    at.selectbox(key="batch_norm.layer").set_value("bn4").run()
    at.selectbox(key="batch_norm.batch_norm").set_value("builtin").run()
    assert at.query_params["layer"] == "bn4" and at.query_params["batch_norm"] == "builtin"
