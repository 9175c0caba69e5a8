"""The timeline under the live panel, through AppTest on the LeNet page: after
a few steps and a pause, the slider's first point makes the feature maps those
of the untrained net (rebuilt here from the same seed) and the charts mark it;
"now" brings the trained ones back; Resume from here starts a new run from the
point, the original kept for the overlay, and the new run retraces it."""
from __future__ import annotations

import numpy as np
import pytest
from apptest_support import open_page, panel, tick_until
from apptest_support import plotly_array as array
from apptest_support import plotly_spec as plotly
from test_lenet_page import built

from core.data.fashion_mnist import load_fashion_mnist
from core.experiments import lenet as ln

PAGE, KEY = "topics/lenet.py", "lenet"


@pytest.fixture(scope="module")
def data():
    return load_fashion_mnist(allow_download=False)


def c1(at) -> list[np.ndarray]:
    return [array(tr["z"]) for tr in plotly(at, "lenet:C1")["data"] if tr["type"] == "heatmap"]


def rules(at) -> list[float]:
    """The x of the timeline's vertical rule on each live chart."""
    import json

    out = []
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        out += [layer["data"]["values"][0]["x"] for layer in spec.get("layer", [])
                if layer.get("mark", {}).get("type") == "rule" and "x" in layer.get("encoding", {})]
    return out


def test_scrub_to_the_first_point_shows_the_untrained_net_and_resume_branches_from_it(data):
    at = open_page(PAGE, {"modern": "true", "lr": "0.1", "index": "7"})
    S = built(at)
    try:
        next(b for b in at.button if b.label == "Start").click().run()
        tick_until(at, lambda at: len(S.history("")["steps"]) >= 2)
        next(b for b in at.button if b.label == "Pause").click().run()
        tick_until(at, lambda at: not S.active)
        at.run()
        assert not at.exception, at.exception
        steps = len(S.history("")["steps"])
        slider = at.select_slider(key=f"{KEY}:timeline")
        assert slider.options == ["epoch 0 (step 0)", f"now (step {steps})"] and slider.value == "now"
        assert at.button(key=f"{KEY}:branch").disabled
        trained = c1(at)
        assert rules(at) == []

        slider.set_value("0").run()
        assert not at.exception, at.exception
        untrained = ln.forward_maps(ln.build(ln.Config(modern=True, lr=0.1), data, seed=0).net, data.X_test[7])
        at_first = c1(at)
        for c in range(6):
            assert np.allclose(at_first[c], untrained["maps"]["C1"][c], atol=1e-5)
        assert not np.allclose(trained[0], at_first[0], atol=1e-3)
        assert rules(at) == [0.0]  # on the minibatch loss (the epoch charts are empty before an epoch ends)
        assert len(S.history("")["steps"]) == steps  # scrubbing trained nothing, and the run is where it was

        at.select_slider(key=f"{KEY}:timeline").set_value("now").run()
        assert all(np.array_equal(a, b) for a, b in zip(c1(at), trained))

        at.select_slider(key=f"{KEY}:timeline").set_value("0").run()
        original = [r["loss"] for r in S.history("")["steps"]]
        at.button(key=f"{KEY}:branch").click().run()
        assert not at.exception, at.exception
        assert [len(r.steps[""]) for r in S.runs] == [steps] and S.runs[0].stopped
        assert S.label.endswith("resumed at epoch 0")
        tick_until(at, lambda at: len(S.history("")["steps"]) >= 2)
        S.pause()
        resumed = [r["loss"] for r in S.history("")["steps"]]
        assert resumed[:2] == original[:2]  # the same run again from its first point, bit for bit
        at.run()
        assert at.select_slider(key=f"{KEY}:timeline").value == "now"
    finally:
        panel(at, KEY).close()
