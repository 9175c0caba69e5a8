"""The playground's chart style (playground.charts): log axes that label what
they show, and empty figures that say so instead of drawing made-up axes."""
from __future__ import annotations

import pytest
from apptest_support import live_charts, open_page, series_points, tick_until_stopped

from playground import charts


def layout(fig) -> dict:
    return fig.to_plotly_json()["layout"]


def test_a_log_y_axis_labels_powers_of_ten_in_plain_or_e_notation():
    y = layout(charts.figure("Loss", log_y=True))["yaxis"]
    assert y["type"] == "log"
    assert y["exponentformat"] == "e"  # 1e-4, never the SI "100μ"
    assert y["minorloglabels"] == "none"  # the 2..9 between powers get grid lines, not bare digits
    assert y["hoverformat"] == ".4~g"
    linear = layout(charts.figure("Accuracy"))["yaxis"]
    assert linear["type"] == "linear" and "exponentformat" not in linear and "minorloglabels" not in linear


def test_an_empty_figure_says_so_over_hidden_axes_until_points_arrive():
    fig = charts.figure("Loss", log_y=True)
    charts.add_line(fig, [], [], "train")
    charts.add_line(fig, [], [], "test")
    lay = layout(fig)
    assert [a["text"] for a in lay["annotations"]] == [charts.EMPTY_TEXT]
    assert lay["xaxis"]["visible"] is False and lay["yaxis"]["visible"] is False
    charts.add_line(fig, [1, 2], [0.5, 0.25], "train")
    lay = layout(fig)
    assert lay.get("annotations", []) == []
    assert "visible" not in lay["xaxis"] and "visible" not in lay["yaxis"]
    assert lay["yaxis"]["type"] == "log"  # the axis keeps its own settings
    charts.add_line(fig, [], [], "later, still empty")
    assert layout(fig).get("annotations", []) == []  # other lines have points: no placeholder


def test_a_figure_with_points_from_the_start_gets_no_placeholder():
    fig = charts.add_line(charts.figure("f"), [0, 1], [1, 2], "f")
    assert layout(fig).get("annotations", []) == [] and "visible" not in layout(fig)["xaxis"]


def test_placeholder_can_be_asked_for_with_other_words():
    fig = charts.placeholder(charts.figure("Tree"), "Press Next")
    charts.placeholder(fig, "Press Next")
    assert [a["text"] for a in layout(fig)["annotations"]] == ["Press Next"]


@pytest.fixture
def weight_decay_page():
    at = open_page("topics/weight_decay.py")
    yield at
    at.session_state["live:weight_decay"].close()


def test_the_live_panel_charts_are_placeholders_before_start_and_log_axes_after(weight_decay_page):
    at = weight_decay_page
    before = live_charts(at)
    assert set(before) >= {"Loss", "Minibatch loss", "L2 norm of w"}
    for title in ("Loss", "Minibatch loss", "L2 norm of w"):
        spec = before[title]["spec"]
        assert spec["encoding"]["text"]["value"] == charts.EMPTY_TEXT and "layer" not in spec, title
    at.button(key="weight_decay:step").click().run()
    assert not at.exception, at.exception
    tick_until_stopped(at)
    after = live_charts(at)
    for title in ("Loss", "Minibatch loss", "L2 norm of w"):
        assert series_points(after[title]), title
    y = after["Loss"]["spec"]["layer"][0]["encoding"]["y"]
    assert y["scale"] == {"type": "log"} and y["axis"]["labelExpr"] == charts.LOG_LABELS


def test_live_lines_keep_their_spec_while_points_arrive():
    """The chart is updated in place only while its spec stays the same: more
    points change the data, never the spec."""
    def lines(n):
        return charts.live_lines("Loss", [charts.Series("train", list(range(n)), [1 / (i + 1) for i in range(n)],
                                                        charts.PALETTE[0])], log_y=True)

    (d5, s5), (d50, s50) = lines(5), lines(50)
    assert s5 == s50 and len(d5) == 5 and len(d50) == 50
    data, _ = charts.live_lines("Loss", [charts.Series("a", [1, 2, 3], [1.0, 0.0, float("nan")], "#000")],
                                log_y=True)
    assert data["y"].tolist() == [1.0]  # a log axis cannot show 0 or nan: left out, not drawn as junk


def test_a_figure_holding_other_traces_gets_no_placeholder():
    fig = charts.heatmap([[1, 2], [3, 4]])
    charts.add_line(fig, [], [], "nothing yet")
    assert layout(fig).get("annotations", []) == []
    fig = charts.figure("bars")
    fig.add_bar(x=["a"], y=[1])
    charts.add_line(fig, [], [], "nothing yet")
    assert layout(fig).get("annotations", []) == []
