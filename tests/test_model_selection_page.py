"""The model-selection page through AppTest: its maths follows the number of
features, a bad link falls back with a notice, Start trains the run live (the
loss falls, the picture is the run's model), the three cases train side by
side, and the validation curve and K-fold results shown are core's."""
from __future__ import annotations

import json
from dataclasses import replace

from apptest_support import errors, live_charts, open_page, panel, references, tick_until, tick_until_stopped

from core.experiments import polynomial as poly

PAGE = "topics/model_selection.py"


def plotly(at, key: str) -> dict | None:
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith("-" + key):
            return json.loads(el.proto.spec)
    return None


def latex(at) -> str:
    return " ".join(l.value for l in at.latex)


def text(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_the_page_shows_the_books_polynomial_and_follows_the_number_of_features():
    at = open_page(PAGE)
    assert not at.exception, at.exception
    assert "5 + 1.2x - 3.4\\frac{x^2}{2!} + 5.6\\frac{x^3}{3!}" in latex(at)
    assert "\\sum_{i=0}^{3} w_i" in latex(at) and "the book's **normal** case" in text(at)
    at.slider(key="model_selection.num_features").set_value(2).run()
    assert "\\sum_{i=0}^{1} w_i" in latex(at) and "**underfits**" in text(at)
    assert "nn.Linear(2, 1, bias=False)" in " ".join(c.value for c in at.caption)
    assert at.query_params["num_features"] == "2"


def test_a_bad_link_falls_back_with_a_notice():
    at = open_page(PAGE, {"num_features": "50", "n_train": "7", "k": "nan"})
    assert not at.exception, at.exception
    notes = " ".join(c.value for c in at.caption)
    assert "is above the maximum 20; using 4 instead" in notes
    assert "is below the minimum 10; using 100 instead" in notes
    assert "is not a finite number; using 5 instead" in notes
    assert at.slider(key="model_selection.num_features").value == 4


def test_start_trains_and_the_picture_is_the_runs_model():
    at = open_page(PAGE, {"num_epochs": "100"})
    next(b for b in at.button if b.label == "Start").click().run()
    R = panel(at, "model_selection")
    tick_until_stopped(at)
    assert not at.exception and not errors(at)
    epochs = R.history("")["epochs"]
    assert len(epochs) == 100 and epochs[-1]["test_loss"] < epochs[0]["test_loss"] / 5
    at.run()  # the pictures of the finished run
    coef = plotly(at, "model_selection:coef")
    learned = next(t for t in coef["data"] if t["name"] == "learned")
    assert learned["y"] == [epochs[-1][f"w{i}"] for i in range(4)]
    true = next(t for t in coef["data"] if t["name"] == "true")
    assert true["y"] == list(poly.TRUE_W)
    table = next(df.value for df in at.dataframe if "book 0.17.5, 4 features" in df.value.columns)
    assert table["book 0.17.5, 4 features"].tolist() == list(poly.BOOK_WEIGHTS[4])  # the book's printout beside
    assert table["learned"].tolist() == learned["y"] and table["true w"].tolist() == list(poly.TRUE_W)
    fit = plotly(at, "model_selection:fit")
    assert {t["name"] for t in fit["data"]} >= {"training examples", "test examples", "true cubic", "4 features"}
    points = live_charts(at)["Coefficients w₀ to w₃"]["data"]
    assert set(points["series"]) == {"w₀", "w₁", "w₂", "w₃"}
    loss = live_charts(at)["Loss"]["spec"]  # the book's figures for this case beside the run
    labels = [row["label"] for row in references(loss)]
    assert any(label == "book 0.17.5, 4 features, 400 epochs: train 0.023, test 0.048" for label in labels)
    assert any(label.startswith("σ² = 0.01") for label in labels)


def test_three_cases_train_side_by_side():
    at = open_page(PAGE)  # the book's 400 epochs
    next(b for b in at.button if b.label.startswith("Three cases")).click().run()
    R = panel(at, "model_selection")
    tick_until_stopped(at)
    assert not at.exception, at.exception
    last = {name: R.history(name)["epochs"][-1] for name in R.names}
    assert set(last) == {"normal (4)", "underfit (2)", "overfit (20)"}
    assert last["underfit (2)"]["train_loss"] > 10 * last["normal (4)"]["train_loss"]
    assert last["underfit (2)"]["test_loss"] > 10 * last["normal (4)"]["test_loss"]
    assert last["overfit (20)"]["train_loss"] < last["overfit (20)"]["test_loss"]
    assert at.slider(key="model_selection.num_features").value == 4  # no widget moved
    series = set(live_charts(at)["Loss"]["data"]["series"])
    assert {f"{name} · {curve}" for name in last for curve in ("train", "test")} <= series


def test_the_curves_shown_are_cores():
    at = open_page(PAGE, {"num_epochs": "60", "n_train": "50", "k": "4"})
    assert plotly(at, "model_selection:curve") is None  # computed only when asked
    next(b for b in at.button if b.label.startswith("Compute the validation curve")).click().run()
    assert not at.exception, at.exception
    cfg = replace(poly.BOOK, n_train=50, num_epochs=60)
    vc, kf = poly.validation_curve(cfg, 0), poly.k_fold(cfg, 0, 4)
    curve = plotly(at, "model_selection:curve")
    test = next(t for t in curve["data"] if t["name"] == "test")
    assert test["x"] == list(range(1, 21)) and test["y"] == vc["test_loss"]
    folds = plotly(at, "model_selection:kfold")
    mean = next(t for t in folds["data"] if t["name"] == "mean of the folds")
    assert mean["y"] == kf["mean_valid_loss"] and sum(t["name"].startswith("fold ") for t in folds["data"]) == 4
    assert f"K-fold picks **{kf['best']} features**" in text(at)
    at.slider(key="model_selection.k").set_value(5).run()  # the curves follow the settings once shown
    mean = next(t for t in plotly(at, "model_selection:kfold")["data"] if t["name"] == "mean of the folds")
    assert mean["y"] == poly.k_fold(cfg, 0, 5)["mean_valid_loss"]


def test_more_features_on_few_examples_open_a_gap():
    at = open_page(PAGE, {"num_features": "20", "n_train": "10", "num_epochs": "600"})
    next(b for b in at.button if b.label == "Start").click().run()
    R = panel(at, "model_selection")
    tick_until(at, lambda at: not R.active and not R.building, timeout=300)
    last = R.history("")["epochs"][-1]
    assert last["test_loss"] > 2 * last["train_loss"]
