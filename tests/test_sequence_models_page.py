"""The sequence-model page through AppTest: the formulas show tau, a run at the
book's settings ends near the book's loss, and the prediction charts are the
run's predictions (one-step = net(features), k-step for the page's k)."""
from __future__ import annotations

import numpy as np
from apptest_support import metric, open_page, panel, tick_until, tick_until_stopped
from apptest_support import plotly_array as array
from apptest_support import plotly_spec as plotly

from core.experiments import sequence_models as sm

PAGE, KEY = "topics/sequence_models.py", "sequence_models"


def trace(at, key: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    tr = next(t for t in plotly(at, key)["data"] if t.get("name") == name)
    return array(tr["x"]), array(tr["y"])


def test_the_maths_shows_tau_and_k_and_a_bad_link_falls_back():
    at = open_page(PAGE, {"tau": "10", "k": "99"})
    assert not at.exception, at.exception
    maths = " ".join(l.value for l in at.latex)
    assert "x_{t-10}" in maths and r"\tau = 10" in maths
    assert at.slider(key="sequence_models.k").value == 16  # out of range: the default, with a notice
    assert any("16" in c.value for c in at.caption if "warning" in c.value)


def test_a_run_at_the_books_settings_and_its_pictures():
    at = open_page(PAGE, {"k": "8"})
    S = panel(at, KEY)
    tick_until(at, lambda at: not S.building)
    next(b for b in at.button if b.label == "Start").click().run()
    tick_until_stopped(at)
    at.run()
    tick_until(at, lambda at: any("after epoch 5" in h.value for h in at.subheader))
    assert not at.exception, at.exception
    loss = float(metric(at, "train loss"))
    assert sm.NOISE_FLOOR < loss < 0.07  # the book's 0.051-0.056, above the noise's 0.04
    epochs = S.history(S.names[0])["epochs"]
    assert len(epochs) == 5 and epochs[-1]["train_loss"] < epochs[0]["train_loss"] * 1.05
    # the charts hold the run's predictions: rebuild the run from its seed and train it the same way
    t = sm.build(seed=0)
    t.advance()
    x = sm.make_data(0)
    t_one, one = trace(at, "seqm:one", "1-step preds")
    assert np.allclose(one, sm.one_step(t.net, x, 4).numpy(), atol=1e-5)  # same seed, same run, bit for bit on CPU
    assert t_one[0] == 5 and len(one) == 996
    t_multi, multi = trace(at, "seqm:multi", "multistep preds")
    assert t_multi[0] == 605 and np.allclose(multi, sm.multi_step(t.net, x, 4, 600)[604:].numpy(), atol=1e-5)
    names = {tr["name"] for tr in plotly(at, "seqm:k")["data"]}
    assert {"1-step preds", "4-step preds", "8-step preds (your k)", "16-step preds", "64-step preds"} <= names
    _, eight = trace(at, "seqm:k", "8-step preds (your k)")
    assert np.allclose(eight, sm.k_step(t.net, x, 4)[:, 4 + 8 - 1].numpy(), atol=1e-5)
    assert float(metric(at, "8-step error")) > float(metric(at, "1-step error after training data"))
