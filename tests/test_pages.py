"""Every page in the navigation, through Streamlit's AppTest (no browser).

Pages come from playground.catalog, the same list the navigation is built
from, so a new page is covered without editing this file."""
from __future__ import annotations

import json
import statistics

import pytest
from apptest_support import APP, TIMEOUT, find_widget, open_page, panel_states, shown, tick_until
from streamlit.testing.v1 import AppTest

from playground.accessibility import plotly_problems, vega_problems
from playground.catalog import TOPICS


def chart_problems(at: AppTest) -> list[str]:
    """Every chart on the page without a title or axis titles, and every image
    without alt text (Streamlit 1.67 gives an image its `alt`, never its caption)."""
    out = [f"plotly {el.proto.id.rsplit('-', 1)[-1]}: {p}" for el in at.get("plotly_chart")
           for p in plotly_problems(json.loads(el.proto.spec))]
    out += [f"vega-lite {json.loads(el.proto.spec).get('title')}: {p}" for el in at.get("vega_lite_chart")
            for p in vega_problems(json.loads(el.proto.spec))]
    out += [f"image {img.url}: no alt text" for el in at.get("imgs") for img in el.proto.imgs if not img.alt]
    return out


def test_home_lists_every_topic():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    links = {link.proto.page for link in at.get("page_link")}
    labels = " ".join(link.proto.label for link in at.get("page_link"))
    text = " ".join(m.value for m in at.markdown)
    for topic in TOPICS:
        assert topic.title in labels and topic.blurb in text
    assert len(links) == len(TOPICS)


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.url_path)
def test_page_renders_with_defaults(topic):
    at = open_page(topic.path)
    assert not at.exception, at.exception
    assert at.title and at.title[0].value == topic.title
    assert chart_problems(at) == []


@pytest.mark.parametrize("topic", [t for t in TOPICS if t.main_control], ids=lambda t: t.url_path)
def test_main_control_changes_what_is_shown(topic):
    key, value = topic.main_control
    at = open_page(topic.path)
    before = shown(at)
    widget = find_widget(at, key, topic.url_path)
    assert widget is not None, f"no widget for setting {key!r}"
    widget.set_value(value).run()
    assert not at.exception, at.exception
    assert shown(at) != before


def test_main_control_is_read_from_the_url():
    topic = next(t for t in TOPICS if t.main_control)
    key, value = topic.main_control
    at = open_page(topic.path, {key: str(value)})
    assert find_widget(at, key, topic.url_path).value == value


@pytest.mark.parametrize("topic", [t for t in TOPICS if t.training], ids=lambda t: t.url_path)
def test_training_page_starts_and_the_loss_falls(topic):
    at = open_page(topic.path)
    start = [b for b in at.button if b.label == "Start"]
    assert start, "a training page has the shared Start button"
    start[0].click().run()
    assert not at.exception, at.exception
    states = panel_states(at)
    assert states
    def trained(at) -> bool:  # the runs train in workers meanwhile
        steps = [len(S.history(name)["steps"]) for S in states for name in S.names] or [0]
        return min(steps) >= 30 or not any(R.active or R.building for R in states)

    tick_until(at, trained)
    assert chart_problems(at) == []  # the live charts with their curves
    for S in states:
        for name in S.names:
            losses = [r["loss"] for r in S.history(name)["steps"]]
            assert len(losses) >= 10, "training made progress"
            k = max(3, len(losses) // 5)
            assert statistics.fmean(losses[-k:]) < statistics.fmean(losses[:k]), "the loss falls"


def test_catalog_follows_the_books_order():
    from playground.catalog import CHAPTERS, by_chapter, section_key

    chapters = list(by_chapter())
    assert chapters == sorted(chapters, key=CHAPTERS.index)
    for topics in by_chapter().values():
        keys = [section_key(t) for t in topics]
        assert keys == sorted(keys)
    assert {t.url_path for t in TOPICS}.isdisjoint({"home"}) and len({t.url_path for t in TOPICS}) == len(TOPICS)
