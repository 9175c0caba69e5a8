"""The distribution-shift page through AppTest: the maths follows the amount of
shift, a bad link falls back with a notice, the preset trains the uncorrected
and the corrected classifier side by side (the corrected one wins on the
shifted test set, the picture sizes the points by core's beta and draws both
boundaries), and the label-shift and sweep numbers shown are core's."""
from __future__ import annotations

import base64
import json

import numpy as np
from apptest_support import errors, live_charts, metric, open_page, panel, references, tick_until_stopped

from core.data import shift as sd
from core.experiments import distribution_shift as ds
from playground.shift_figures import sizes

PAGE, KEY = "topics/distribution_shift.py", "distribution_shift"


def plotly(at, key: str) -> dict | None:
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith("-" + key):
            return json.loads(el.proto.spec)
    return None


def array(values) -> np.ndarray:
    """A plotly array: a list, or typed-array JSON {'dtype', 'bdata', 'shape'}."""
    if isinstance(values, dict):
        flat = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        return flat.reshape([int(n) for n in str(values.get("shape", len(flat))).split(",")])
    return np.asarray(values, dtype=float)


def latex(at) -> str:
    return " ".join(l.value for l in at.latex)


def test_the_maths_follows_the_shift():
    at = open_page(PAGE, {"shift": "3", "num_examples": "500"})
    assert not at.exception, at.exception
    assert r"\boldsymbol{\mu}_{\text{test}} = (2, 2)" in latex(at)
    assert r"\beta_i = \frac{q(\mathbf{x}_i)}{p(\mathbf{x}_i)}" in latex(at) and r"C^{-1}" in latex(at)
    at.slider(key="distribution_shift.shift").set_value(0.0).run()
    assert r"\boldsymbol{\mu}_{\text{test}} = (-1, 0.5)" in latex(at)
    assert at.query_params["shift"] == "0" and at.query_params["num_examples"] == "500"
    at.slider(key="distribution_shift.shift").set_value(2.0).run()
    assert "shift" not in at.query_params  # the default leaves the link


def test_a_bad_link_falls_back_with_a_notice():
    at = open_page(PAGE, {"shift": "7", "num_examples": "123", "label_shift": "nan", "model": "<b>"})
    assert not at.exception, at.exception
    notes = " ".join(c.value for c in at.caption)
    assert "is above the maximum 3; using 2 instead" in notes
    assert "is not one of the choices" in notes and r"is not a finite number; using 0\.8 instead" in notes
    assert at.slider(key="distribution_shift.shift").value == 2.0
    assert not errors(at)


def test_the_preset_trains_uncorrected_and_corrected_side_by_side():
    at = open_page(PAGE, {"shift": "2.5", "num_epochs": "5"})
    next(b for b in at.button if b.label == "Uncorrected vs corrected").click().run()
    R = panel(at, KEY)
    tick_until_stopped(at)
    assert not at.exception and not errors(at)
    last = {name: R.history(name)["epochs"][-1] for name in R.names}
    assert set(last) == {"uncorrected", "corrected (β)"} and all(r["epoch"] == 5 for r in last.values())
    assert last["corrected (β)"]["test_metric"] > last["uncorrected"]["test_metric"] + 0.2
    assert last["uncorrected"]["train_metric"] > last["uncorrected"]["test_metric"]  # fine at home, lost abroad
    spec = live_charts(at)["Accuracy"]["spec"]
    best = sd.bayes_accuracy(ds.make_data(ds.Config(shift=2.5), 0)["X_test"])
    labels = [row["label"] for row in references(spec)]
    assert labels == [f"best possible on this test set (Bayes), {best:.3f}"]
    assert last["corrected (β)"]["test_metric"] <= best + 0.03
    # the same runs as core builds them, bit for bit
    alone = ds.make_trainer(shift=2.5, num_epochs=5, weighting="importance")
    alone.advance()
    assert [r["loss"] for r in R.history("corrected (β)")["steps"]] == [r["loss"] for r in alone.history.steps]
    at.run()  # the picture of the finished runs
    fig = plotly(at, "distribution_shift:scatter")
    names = [t.get("name", "") for t in fig["data"]]
    assert "learned boundary: uncorrected" in names and "learned boundary: corrected (β)" in names
    d = ds.make_data(ds.Config(shift=2.5), 0)
    ones = next(t for t in fig["data"] if t.get("name") == "train, y = 1 (size: β)")
    m = (d["y"][:400] == 1).numpy()
    assert np.allclose(array(ones["x"]), d["X"][:400, 0].numpy()[m])
    assert np.allclose(array(ones["marker"]["size"]), sizes(d["beta"][:400].numpy())[m])
    assert f"worth an **effective sample size** of (Σβ)²/Σβ² = {sd.effective_sample_size(d['beta']):.0f}" in \
        " ".join(c.value for c in at.caption)


def test_the_label_shift_numbers_are_cores():
    at = open_page(PAGE, {"label_shift": "1", "label_examples": "1000"})
    assert not at.exception, at.exception
    res = ds.label_shift(ds.LabelConfig(label_shift=1.0, label_examples=1000), seed=0)
    assert metric(at, "accuracy on the target, before") == f"{res['acc_before']:.3f}"
    assert metric(at, "after (β = q̂/p)") == f"{res['acc_after']:.3f}"
    assert metric(at, "error of q̂") == f"{res['error']:.3f}"
    bars = {t["name"]: array(t["y"]) for t in plotly(at, "distribution_shift:priors")["data"]}
    assert np.allclose(bars["true q(y)"], sd.SKEWED)
    assert np.allclose(bars["estimate q̂ = C⁻¹μ"], res["q_hat"])
    assert np.abs(bars["estimate q̂ = C⁻¹μ"] - sd.SKEWED).max() < np.abs(bars["predicted frequencies μ(ŷ), "
                                                                            "uncorrected"] - sd.SKEWED).max()


def test_the_sweep_is_computed_when_asked_and_is_cores():
    at = open_page(PAGE, {"num_examples": "500"})
    assert plotly(at, "distribution_shift:sweep_chart") is None
    next(b for b in at.button if b.label.startswith("Compute accuracy for every")).click().run()
    assert not at.exception, at.exception
    out = ds.covariate_sweep(np.arange(0.0, 3.01, 0.5), model="logistic", n=500, seed=0)
    lines = {t["name"]: t for t in plotly(at, "distribution_shift:sweep_chart")["data"]}
    assert np.allclose(array(lines["corrected (β)"]["y"]), out["corrected"])
    assert np.allclose(array(lines["uncorrected"]["x"]), [0, 0.5, 1, 1.5, 2, 2.5, 3])
    assert out["corrected"][-1] > out["uncorrected"][-1] + 0.2
