"""Presenter mode, settings hidden by the link and the students' link
(playground.presenter, playground.hiding, controls.bound), through AppTest:
one page opened the way a teacher's link opens it, then changed from the sidebar."""
from __future__ import annotations

import urllib.parse

import pytest
from apptest_support import find_widget, live_charts, open_page, panel, plotly_spec

from core.experiments import linear_regression as lr_exp
from core.experiments import schema
from playground import charts, presenter

PAGE = "linear_regression"
LINK = {"present": "1", "hide": "lr,bogus", "lr": "0.1", "num_epochs": "5"}


@pytest.fixture(scope="module")
def at():
    return open_page(f"topics/{PAGE}.py", LINK)


def toggle(at):
    return next(t for t in at.sidebar.toggle if t.label == "Presenter mode")


def link(at) -> tuple[str, dict[str, list[str]]]:
    (text,) = [c.value for c in at.sidebar.code]
    url = urllib.parse.urlsplit(text)
    return url.path, urllib.parse.parse_qs(url.query)


def test_a_hidden_setting_is_not_drawn_and_the_run_has_the_links_value(at):
    assert not at.exception
    assert find_widget(at, "lr", PAGE) is None  # hidden
    assert find_widget(at, "num_epochs", PAGE).value == 5  # drawn, from the link
    R = panel(at, PAGE)
    assert R.spec.cfg.lr == 0.1 and R.spec.cfg.num_epochs == 5  # the run the teacher set up
    assert lr_exp.Config().lr != 0.1
    assert at.query_params["lr"] == "0.1"  # never dropped from the URL
    assert at.query_params["present"] == "1"


def test_unknown_hidden_names_are_ignored_with_a_notice(at):
    notices = [i.value for i in at.info if "hides" in i.value]
    assert notices == ["The link hides `bogus`, which this page does not have as settings: ignored."]


def test_presenter_mode_makes_every_chart_font_larger(at):
    assert toggle(at).value is True
    specs = live_charts(at)
    assert set(specs) >= {"Loss", "Minibatch loss"}
    for entry in specs.values():
        spec = entry["spec"]
        assert spec["title"]["fontSize"] == 21 == round(1.5 * charts.TITLE_PX)
        assert spec["config"] == {"axis": {"labelFontSize": 16, "titleFontSize": 18},
                                  "legend": {"labelFontSize": 16, "titleFontSize": 16}, "text": {"fontSize": 16}}
    layout = plotly_spec(at, "linreg:surface")["layout"]
    assert layout["font"]["size"] == 18 == 1.5 * charts.FONT_PX
    assert layout["title"]["font"]["size"] == 21


def test_the_students_link_has_every_setting_present_and_hide(at):
    path, query = link(at)
    assert path == f"/{PAGE}"
    cfg = panel(at, PAGE).spec.cfg
    drawn = {"lr", "batch_size", "num_epochs", "impl", "noise"}
    assert drawn <= set(schema.controls(lr_exp.Config))
    for name in drawn:  # defaults included: the run is pinned even if a default changes
        assert query[name] == [schema.encode(getattr(cfg, name))], name
    assert query["seed"] == ["0"] and query["device"] == ["auto"]
    assert query["present"] == ["1"] and query["hide"] == ["lr"]  # the unknown name is not passed on
    assert set(query) == drawn | {"seed", "device", "present", "hide"}


def test_ticking_a_setting_hides_it_and_turning_presenter_mode_off_restores_the_fonts(at):
    choice = next(m for m in at.sidebar.multiselect if m.label == "Hide from students")
    assert choice.value == ["lr"]
    choice.set_value(["lr", "num_epochs"]).run()
    assert at.query_params["hide"] == "lr,num_epochs"
    assert find_widget(at, "num_epochs", PAGE) is None
    assert at.query_params["num_epochs"] == "5" and panel(at, PAGE).spec.cfg.num_epochs == 5
    assert link(at)[1]["hide"] == ["lr,num_epochs"]

    toggle(at).set_value(False).run()
    assert "present" not in at.query_params
    for entry in live_charts(at).values():
        assert "config" not in entry["spec"] and entry["spec"]["title"]["fontSize"] == charts.TITLE_PX
    assert "font" not in plotly_spec(at, "linreg:surface")["layout"]
    assert presenter.student_link("x").startswith("x?")  # outside a page run: the link still says present=1


def test_presenter_mode_is_kept_on_the_next_page(at):
    toggle(at).set_value(True).run()
    assert at.query_params["present"] == "1"
    at.switch_page("topics/weight_decay.py").run()
    assert not at.exception
    assert toggle(at).value is True and at.query_params["present"] == "1"
    hides = at.query_params.get("hide", "").split(",")  # (AppTest keeps the query on a page switch; a browser not)
    assert (find_widget(at, "num_epochs", "weight_decay") is None) == ("num_epochs" in hides)
    assert all(e["spec"]["config"]["axis"]["labelFontSize"] == 16 for e in live_charts(at).values())


def test_hostile_present_and_hide_values_leave_the_page_working():
    script = "<script>alert(1)</script>"
    at = open_page("topics/weight_decay.py", {"present": "maybe", "hide": f"{script},num_epochs," + "x" * 3000})
    assert not at.exception
    assert toggle(at).value is False  # not a bool: off, and said under the toggle
    assert any("is not true or false; using false instead" in c.value for c in at.sidebar.caption)
    assert all("config" not in e["spec"] for e in live_charts(at).values())
    assert find_widget(at, "num_epochs", "weight_decay") is None
    assert find_widget(at, "weight_decay", "weight_decay") is not None
    (notice,) = [i.value for i in at.info if "hides" in i.value]
    assert "`<script>alert(1)</script>`" in notice and "x" * 41 not in notice  # as code, cut short
