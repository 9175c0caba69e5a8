"""A copied link reproduces the page, in a real browser: every URL-bound
setting of a page, each set to a value other than its default (the slider's
minimum where it can be), survives the page load and a later change of another
control. The settings and their possible values are read from the page itself
(through AppTest), so a new control is covered.

Every page binds its settings through the same code (playground.controls), and
test_links.py checks every setting of every page through AppTest; in the
browser one page a chapter is enough (SAMPLE), the pages with text boxes
among them (the whole catalog took 6 of a loaded machine's 60 test minutes).

Where Chromium or Playwright is missing these tests are skipped with the reason
printed, except under CI (CI=true), where a missing browser is a failure."""
from __future__ import annotations

import pytest
from apptest_support import find_widget
from apptest_support import open_page as open_app
from browser_support import (
    no_exceptions,
    open_page,
    press_slider,
    query,
    require_browser,
    use_stand_in_if_missing,
    wait_query,
)

from core.experiments.schema import encode
from playground.catalog import TOPICS

pytestmark = pytest.mark.browser
require_browser()


def other_value(widget) -> str | None:
    """URL text of a valid value other than the widget's current one; None to leave
    it out (choices: AppTest sees their labels, not the keys a link holds; the
    AppTest link tests in test_links.py cover them)."""
    proto, value = widget.proto, widget.value
    kind = type(widget).__name__
    if kind == "Slider":
        low, high = proto.min, proto.max
        target = low if value != low else high  # the minimum: links once lost it
        return encode(int(target) if isinstance(value, int) else float(target))
    if kind == "Toggle":
        return "false" if value else "true"
    if kind == "TextInput":
        return "abc"
    return None


def link_for(topic) -> tuple[dict[str, str], dict[str, tuple[str, bool]]]:
    """(the link's settings, the labels of its sliders) for a page."""
    at = open_app(topic.path)
    params, sliders = {}, {}
    for name in sorted(at.session_state[f"_values:{topic.url_path}"]):
        widget = find_widget(at, name, topic.url_path)
        text = other_value(widget) if widget is not None else None
        if text is not None:
            params[name] = text
            if type(widget).__name__ == "Slider":  # label, and whether the link puts it at its maximum
                sliders[name] = (widget.label, float(text) == widget.proto.max)
    return params, sliders


# one page a chapter (3, 4, 5, 6, 7, 8, 9, 10, 12), with text settings on softmax_regression, backprop
# and beam_search, and the two-task bidirectional page
SAMPLE = ["linear_regression", "softmax_regression", "backprop", "layers_parameters", "lenet", "modern_cnns",
          "rnn", "bidirectional_rnn", "beam_search", "convexity"]


def test_the_sample_has_a_page_of_every_chapter():
    assert {t.chapter for t in TOPICS if t.url_path in SAMPLE} == {t.chapter for t in TOPICS}
    assert set(SAMPLE) <= {t.url_path for t in TOPICS}


@pytest.mark.parametrize("topic", [t for t in TOPICS if t.url_path in SAMPLE], ids=lambda t: t.url_path)
def test_a_copied_link_keeps_every_setting(topic, app_url, page):
    params, sliders = link_for(topic)
    if not params:
        pytest.skip("no slider, toggle or text setting on this page")
    url = f"{app_url}/{topic.url_path}?" + "&".join(f"{k}={v}" for k, v in params.items())
    open_page(page, url, topic.title)
    use_stand_in_if_missing(page)
    for name, value in params.items():
        wait_query(page, name, value, timeout=10_000)
    assert {k: query(page).get(k) for k in params} == params
    page.reload()  # the link as copied reproduces itself
    page.wait_for_selector(f"h1:has-text('{topic.title}')", timeout=60_000)
    for name, value in params.items():
        wait_query(page, name, value, timeout=10_000)
    if sliders:  # moving one control keeps every other value in the link
        moved, (label, at_max) = next(iter(sliders.items()))
        key = "ArrowLeft" if at_max else "ArrowRight"
        press_slider(page, label, key, 1)
        page.wait_for_function("([n, v]) => new URLSearchParams(location.search).get(n) !== v",
                               arg=[moved, params[moved]], timeout=10_000)
        for name, value in params.items():
            if name != moved:
                assert query(page).get(name) == value, (name, query(page))
    no_exceptions(page)
