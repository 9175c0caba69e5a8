"""Moving any view control of any training page while it trains never touches
the run: the losses of a run whose pictures were changed between every tick
equal those of a run left alone. Catalog-driven: a page's view controls are the
URL-bound settings it draws that are not its experiment's settings."""
from __future__ import annotations

import time

import pytest
from apptest_support import find_widget, open_page, panel_states, tick_until

from playground.catalog import TOPICS

STEPS = 12  # minibatches compared, at least
MOVES = 3  # view-control moves in the disturbed run, at least
SECONDS = 120.0  # at most, on a slow or loaded machine; a fast one is done as soon as both are reached
SKIP = {"beam_mode"}  # switches the beam page to its toy example, where no run is drawn


def panel(at):
    (R,) = panel_states(at)  # a training page has one live panel
    return R


def view_controls(at, topic) -> list[str]:
    R = panel(at)
    run_settings = {name for name, _ in R.key[0]} | set(R.live)
    names = at.session_state[f"_values:{topic.url_path}"]
    return [n for n in sorted(names) if n not in run_settings and n not in SKIP]


def move(widget) -> None:
    kind = type(widget).__name__
    if kind == "Slider":
        low, high = widget.proto.min, widget.proto.max
        target = high if widget.value != high else low
        widget.set_value(type(widget.value)(target))
    elif kind == "Toggle":
        widget.set_value(not widget.value)
    elif kind == "TextInput":
        widget.set_value("the time machine" if widget.value != "the time machine" else "a traveller")
    elif kind == "Selectbox" and len(widget.options) > 1:
        widget.select_index((widget.index + 1) % len(widget.options))


def fewest_steps(R) -> int:
    """Minibatches trained so far by the run's trainer that has trained fewest."""
    return min((len(r["steps"]) for r in R.records.values()), default=0)


def losses(at, disturb: bool, topic) -> tuple[dict[str, list[float]], int, bool]:
    """Train until STEPS minibatches (and, when `disturb`, MOVES moves of a
    view control, one before every rerun: each makes the view probe the run in
    its worker) or the run's end, then pause; the losses by trainer, the number
    of moves, and whether the run finished (a tiny experiment, such as the ten
    updates of the learned 1x2 kernel, ends before the page reruns: its
    picture's own core test calls it between every two steps instead)."""
    key = next(str(k) for k in at.session_state if str(k).startswith("live:"))[5:]
    R = panel(at)
    tick_until(at, lambda at: not R.building)
    at.button(key=f"{key}:start").click().run()
    names = view_controls(at, topic) if disturb else []
    moves, deadline = 0, time.monotonic() + SECONDS
    while time.monotonic() < deadline and R.active and (fewest_steps(R) < STEPS or (names and moves < MOVES)):
        if names:
            widget = find_widget(at, names[moves % len(names)], topic.url_path)
            if widget is not None:
                move(widget)
                moves += 1
        at.run()
        assert not at.exception, at.exception
    if R.active:
        at.button(key=f"{key}:pause").click().run()
    assert "Training stopped" not in str(R.error) and R.state != "failed", R.error
    return {name: [r["loss"] for r in R.history(name)["steps"]] for name in R.names}, moves, R.state == "finished"


@pytest.mark.parametrize("topic", [t for t in TOPICS if t.training], ids=lambda t: t.url_path)
def test_view_controls_moved_mid_run_leave_the_losses_alone(topic):
    at = open_page(topic.path)
    controls_ = view_controls(at, topic)  # a page whose pictures have no controls of their own is checked too
    quiet, _, quiet_done = losses(at, False, topic)
    moved, moves, moved_done = losses(open_page(topic.path), True, topic)
    finished = quiet_done and moved_done  # the whole run compared: no time to move anything mid-run
    assert quiet.keys() == moved.keys()
    # a short run may end before MOVES reruns fit (a loaded machine): then as many as fitted, at least one
    assert moves >= MOVES or not controls_ or finished or (moved_done and moves >= 1)
    for name in quiet:
        n = min(len(quiet[name]), len(moved[name]))
        assert n >= STEPS or (finished and len(quiet[name]) == len(moved[name])), (name, n)
        assert moved[name][:n] == quiet[name][:n], name
