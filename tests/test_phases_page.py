"""Phase stepping on the linear-regression page through AppTest: Forward,
Backward and Update each enable the next and add their pictures in that
order; the run's step count goes from 0 to 1 only after Update; the update's
Δ is −lr times the gradient drawn after Backward; Start finishes a step begun
by phases and counts it once, and the buttons wait while the run trains."""
from __future__ import annotations

import numpy as np
from apptest_support import open_page, panel, tick_until, tick_until_stopped
from apptest_support import plotly_array as array

PAGE, KEY = "topics/linear_regression.py", "linear_regression"


def buttons(at) -> dict[str, bool]:
    """Phase -> whether its button is enabled."""
    return {p: not at.button(key=f"{KEY}:phase:{p}").disabled for p in ("forward", "backward", "update")}


def charts(at, kind: str) -> dict[str, dict]:
    """Title -> figure of the phase pictures of one kind (fwd, grad, delta)."""
    import json

    out = {}
    for el in at.get("plotly_chart"):
        if f"-{KEY}:phase:{kind}:" in el.proto.id:
            spec = json.loads(el.proto.spec)
            out[spec["layout"]["title"]["text"]] = spec
    return out


def status(at) -> str:
    return next(c.value for c in at.caption if "step(s) done" in c.value)


def test_forward_backward_update_draw_in_order_and_count_one_step():
    at = open_page(PAGE, {"num_epochs": "1"})
    S = panel(at, KEY)
    tick_until(at, lambda at: not S.building)
    at.run()
    assert buttons(at) == {"forward": True, "backward": False, "update": False}
    assert status(at) == "next: forward · 0 step(s) done" and not charts(at, "fwd")

    at.button(key=f"{KEY}:phase:forward").click().run()
    assert not at.exception, at.exception
    assert buttons(at) == {"forward": False, "backward": True, "update": False}
    assert status(at) == "next: backward · 0 step(s) done" and S.steps == 0
    (title,) = charts(at, "fwd")  # the scratch net is one layer: ŷ of the first example
    assert title.startswith("net (1), ‖·‖ = ")
    assert not charts(at, "grad") and not charts(at, "delta")
    assert any("Forward" in m.value and "minibatch of 10" in m.value for m in at.markdown)

    at.button(key=f"{KEY}:phase:backward").click().run()
    assert buttons(at) == {"forward": False, "backward": False, "update": True}
    assert status(at) == "next: update · 0 step(s) done" and S.steps == 0
    grads = charts(at, "grad")
    assert sorted(t.split(" (")[0] for t in grads) == ["∇ b", "∇ w"] and len(charts(at, "fwd")) == 1
    grad_w = array(next(f for t, f in grads.items() if t.startswith("∇ w"))["data"][0]["z"])
    assert grad_w.shape == (2, 1)
    assert not charts(at, "delta")

    at.button(key=f"{KEY}:phase:update").click().run()
    assert buttons(at) == {"forward": True, "backward": False, "update": False}
    assert status(at) == "next: forward · 1 step(s) done" and S.steps == 1
    assert len(S.history()["steps"]) == 1
    deltas = charts(at, "delta")
    delta_w = array(next(f for t, f in deltas.items() if t.startswith("Δ w"))["data"][0]["z"])
    np.testing.assert_allclose(delta_w, -0.03 * grad_w, rtol=1e-4)  # plain SGD at the book's lr 0.03
    assert len(charts(at, "fwd")) == 1 and len(charts(at, "grad")) == 2 and len(deltas) == 2
    assert any("Plain SGD: Δ = −lr·∇" in m.value for m in at.markdown)

    # a new step: the old pictures go, the new forward's come
    at.button(key=f"{KEY}:phase:forward").click().run()
    assert len(charts(at, "fwd")) == 1 and not charts(at, "grad") and not charts(at, "delta")
    next(b for b in at.button if b.label == "Start").click().run()
    if S.active:
        assert buttons(at) == {"forward": False, "backward": False, "update": False}
        assert status(at).startswith("Training: the phase buttons wait for a pause.")
    tick_until_stopped(at)
    # 1 epoch of 100 minibatches: the step begun by phases was finished by Start and counted once
    assert S.steps == 100 and [r["step"] for r in S.history()["steps"]] == list(range(1, 101))
    assert buttons(at) == {"forward": False, "backward": False, "update": False}


def test_the_backprop_page_links_to_the_mlps_phases_with_the_same_names():
    at = open_page("topics/backprop.py", {"bp_step": "14"})
    assert not at.exception, at.exception
    (link,) = [el for el in at.get("page_link") if "phase by phase" in el.proto.label]
    assert link.proto.page == "mlp"  # the MLP page's address
    assert "forward, backward, update" in link.proto.label
    said = " ".join(m.value for m in at.markdown)
    assert "*Forward*" in said and "*Backward*" in said and "*Update*" in said
    captions = " ".join(c.value for c in at.caption)
    assert "Step 14 of 14: backward: ∂J/∂W⁽¹⁾" in captions and "an update phase would now move" in captions
