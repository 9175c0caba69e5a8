"""Predicting house prices on Kaggle (book section 5.7; 4.10 in the 0.x editions)."""
from __future__ import annotations

import hashlib
import math
from dataclasses import replace

import streamlit as st

from core.data import house
from core.experiments import house_prices as hp
from playground import controls
from playground.data import dataset, per_text
from playground.house_prices_figures import prices_figure
from playground.live import MINIBATCH, Chart, Readout, View, live_panel
from playground.messages import code, literal, upload_problem

BOOK = hp.BOOK
KEY = "house_prices"
BAND = (min(hp.BOOK_VALID.values()), max(hp.BOOK_VALID.values()),
        f"the book's average valid log RMSE, {hp.BOOK_VALID['0.17.5']} (0.17.5) / {hp.BOOK_VALID['zh']} (zh), "
        f"{BOOK.k} folds")

st.title("Predicting house prices on Kaggle")
st.markdown(
    "The book's first project from raw data to a competition entry: predict the sale prices of houses in Ames, "
    "Iowa, from 79 features (lot size, quality, year built, neighbourhood, ...) in Kaggle's *House Prices* "
    "competition. The features are a mix of numbers and categories with gaps, so they are **preprocessed** first. "
    "Prices range from tens of thousands to hundreds of thousands of dollars, and an error of \\$100,000 is "
    "terrible on a \\$125,000 house but fine on a \\$4 million one: what counts is the **relative** error, so "
    "the competition scores the root-mean-squared error of the **logarithms** of the prices. Hyperparameters are "
    "chosen by **k-fold cross-validation**; the final model is trained on all the training houses and its "
    "predictions for the test houses are the submission."
)


# ------------------------------------------------------------------- the data
def read_train(raw: bytes):
    return house.validate_house_csv(raw, kind="train")


def read_test(raw: bytes):
    return house.validate_house_csv(raw, kind="test")


def uploaded(label: str, key: str, parse, kind: str):
    """(DataFrame, its content key) of a valid upload, else (None, None) after
    saying on the page why the file cannot be used."""
    file = st.file_uploader(label, type=["csv"], key=key, max_upload_size=5,  # MB, as core's check
                            help="A CSV with the columns of Kaggle's file (Id, the 79 features"
                                 + (", SalePrice" if kind == "train" else "") + "), UTF-8, at most 5 MB.")
    if file is None:
        return None, None
    raw = file.getvalue()
    try:
        df = per_text(parse, raw)
    except ValueError as err:
        st.error(f"That file ({code(file.name)}) cannot be used: {upload_problem(err)} "
                 f"The bundled {kind}.csv is used instead.", icon=":material/error:")
        return None, None
    extra = house.extra_columns(df, kind)
    note = (f" It has {len(extra)} column(s) the book's data has not, ignored: "
            f"{literal(', '.join(extra[:8]))}{' ...' if len(extra) > 8 else ''}." if extra else "")
    st.info(f"Using your {kind}.csv {code(file.name)} ({len(df):,} houses) instead of the bundled one.{note}",
            icon=":material/upload_file:")
    return df, hashlib.sha1(raw).hexdigest()[:16]


@st.cache_resource(max_entries=8, show_spinner="Preprocessing the houses...")
def prepared(key: tuple, _train, _test) -> tuple[hp.HouseData, dict]:
    """The run's data and the before/after table, once per pair of files (by `key`)."""
    return hp.make_data(_train, _test), hp.preprocessing_table(_train, _test, rows=10)


loaded = dataset("Kaggle house prices", lambda **kw: house.load_house(**kw), cache_key="house:kaggle")
if loaded is None:
    st.stop()
train_df, test_df = loaded
with st.expander("Use your own CSV files instead of the bundled ones", icon=":material/upload_file:"):
    left, right = st.columns(2)
    with left:
        own_train, train_key = uploaded("Your train.csv", f"{KEY}:upload_train", read_train, "train")
    with right:
        own_test, test_key = uploaded("Your test.csv", f"{KEY}:upload_test", read_test, "test")
if own_train is not None:
    train_df = own_train
if own_test is not None:
    test_df = own_test
data_key = f"{train_key or 'bundled'}:{test_key or 'bundled'}"
data, table = prepared((data_key,), train_df, test_df)

st.subheader("Preprocessing")
st.markdown(
    f"{len(train_df):,} training houses with their SalePrice and {len(test_df):,} test houses without. As the "
    "book does, training and test features are preprocessed together: every numeric feature is standardised with "
    "the mean and standard deviation of all houses, and a missing number becomes 0, which is now the mean. Every "
    "categorical feature becomes one indicator column per value, with one more for *missing* (`dummy_na=True`)."
)
st.latex(r"x \leftarrow \frac{x - \mu}{\sigma}, \qquad \text{missing } x \leftarrow 0")
before, after = st.columns([2, 3])
before.markdown(f"**Before**: the first {len(table['before'])} houses, {len(table['before'].columns)} of "
                f"{table['shape_before'][1]} features (*None*: missing)")
before.dataframe(table["before"], hide_index=True)
after.markdown(f"**After**: the columns they became ({table['shape_after'][1]} in all)")
numeric = [c for c in table["after"].columns if c in house.NUMERIC]
after.dataframe(table["after"].style.format("{:.3f}", subset=numeric).format(
    "{:.0f}", subset=[c for c in table["after"].columns if c not in numeric]), hide_index=True)
st.caption(
    f"All {table['shape_before'][0]:,} houses: {table['shape_before'][1]} features before, "
    f"{table['shape_after'][1]} columns after. "
    + " ".join(f"{c}: μ = {m:,.1f}, σ = {s:,.1f}." for c, (m, s) in table["stats"].items())
    + " A category's columns hold 1 where the house has that value; the `_nan` column marks it missing."
)

# ------------------------------------------------------------- the training
st.subheader("Training with k-fold cross-validation")
st.markdown(
    "The book's model is linear, trained with Adam on the squared error of the prices; the metric is the RMSE "
    "of the logs, with predictions below 1 raised to 1 first so the logarithm stays finite. k-fold "
    "cross-validation cuts the training houses in order into k folds; fold i validates the model trained on "
    "the other k − 1, and the k validation errors are averaged."
)
st.latex(r"L = \frac{1}{n}\sum_{i=1}^{n}\left(\hat{y}_i - y_i\right)^2, \qquad "
         r"\text{log RMSE} = \sqrt{\frac{1}{n}\sum_{i=1}^{n}\left(\log \max(\hat{y}_i, 1) - \log y_i\right)^2}")
form = controls.Form(hp.Config)
k, model, lr, weight_decay, batch_size, num_epochs = form.draw(
    "k", "model", "lr", "weight_decay", "batch_size", "num_epochs", columns=3)
cfg = form.config()
fold_size = len(data.X) // k
st.latex(rf"\text{{avg valid log RMSE}} = \frac{{1}}{{{k}}}\sum_{{i=1}}^{{{k}}} \text{{log RMSE}}"
         rf"\big(f_{{-i}}, \text{{fold}}_i\big), \qquad |\text{{fold}}_i| = \lfloor {len(data.X)} / {k} \rfloor"
         rf" = {fold_size}")
problem = hp.folds_problem(len(data.X), k)
if problem:
    st.warning(f"{problem['n']} training house(s) cannot be cut into {problem['k']} folds of at least one: "
               "choose a smaller k or a larger training file. Training on all the houses still works.",
               icon=":material/warning:")
at_book = replace(cfg, fold=BOOK.fold) == BOOK and data_key == "bundled:bundled"
st.caption(
    f"{'The book' if at_book else 'Your settings'}: {k} folds, {num_epochs} epochs, "
    f"{hp.MODELS[model]} model, Adam with lr {lr:g} and weight decay {weight_decay:g}, batch {batch_size}"
    + (f" ({hp.MODELS['mlp']}: {BOOK.num_hiddens} ReLU units)" if model == "mlp" else "")
    + ". *Start* trains the final model on all the training houses; the cross-validation button trains the "
      f"{k} folds and the final model side by side from the same seed, one colour each (valid solid, train dashed)."
)


def fold_summary(seen: dict) -> None:
    """The folds' final log RMSE and their average beside the book's."""
    if not seen["folds"] and problem:
        return  # no folds to train: the warning above says why
    if not seen["folds"]:
        st.info(f"Press **{k}-fold cross-validation and the final model** to train the folds; the average of "
                "their valid log RMSE then shows here beside the book's.", icon=":material/info:")
        return
    n = seen["folds"]
    first, second, third = st.columns(3)
    first.metric(f"average train log RMSE ({n} folds)", f"{seen['avg_train']:.4f}",
                 help=f"The book (0.17.5, its settings): {hp.BOOK_TRAIN}")
    second.metric(f"average valid log RMSE ({n} folds)", f"{seen['avg_valid']:.4f}",
                  delta=f"{seen['avg_valid'] - hp.BOOK_VALID['0.17.5']:+.4f} vs the book's 0.1705" if at_book else None,
                  delta_color="off", help="Compared with the book's figure only at the book's settings and data.")
    third.markdown(f"The book, at its settings: average train **{hp.BOOK_TRAIN}**, valid "
                   f"**{hp.BOOK_VALID['0.17.5']}** (0.17.5; zh edition {hp.BOOK_VALID['zh']}).")
    def fmt(value, missing: str) -> str:
        return missing if value is None else f"{value:.4f}"

    rows = [{"run": name, "epoch": r["epoch"], "train log RMSE": fmt(r["train"], "not yet"),
             "valid log RMSE": fmt(r["valid"], "not yet" if r["fold"] != hp.ALL else "no fold held out")}
            for name, r in seen["runs"].items()]
    st.dataframe(rows, hide_index=True)


def submission_view(seen: dict) -> None:
    """The final model's predictions: their spread, the first rows, submission.csv."""
    st.subheader("Predictions and the submission")
    if not seen["runs"]:
        st.info("The submission comes from the model trained on all the training houses: press *Start*, or the "
                "cross-validation button, which trains it beside the folds.", icon=":material/info:")
        return
    name, run = next(iter(seen["runs"].items()))
    if run["epoch"] == 0:
        st.info("The final model has not finished an epoch yet; its predictions show after the first.",
                icon=":material/info:")
        return
    if not all(math.isfinite(p) for p in run["prices"]):
        st.warning("The final model's predictions are not all finite numbers (its training diverged), so there is "
                   "no submission: try a smaller lr.", icon=":material/warning:")
        return
    done = f"after epoch {run['epoch']}" + (f" (train log RMSE {run['train']:.4f})" if run["train"] else "")
    left, right = st.columns([3, 2])
    left.plotly_chart(prices_figure(train_df[house.LABEL].tolist(), run["prices"],
                                    f"Predicted prices of the {len(run['prices']):,} test houses, {done}"),
                      key=f"{KEY}:prices", width="stretch")
    sub = hp.submission(run["ids"], run["prices"])
    right.markdown("Kaggle's format: a header `Id,SalePrice`, then one row per test house.")
    right.dataframe(sub.head(8).style.format({house.LABEL: "{:,.0f}"}), hide_index=True)
    right.download_button("Download submission.csv", hp.submission_csv(run["ids"], run["prices"]),
                          file_name="submission.csv", mime="text/csv", icon=":material/download:",
                          key=f"{KEY}:download", on_click="ignore", type="primary")
    right.caption(f"From the model trained on all {len(data.X):,} training houses, {done}. A prediction below "
                  "\\$1 would be written as 1 (none of a trained model's are).")


seed, device = controls.seed(), controls.device()
live_panel(
    KEY, cfg, "house_prices", data=data, data_key=f"house:{data_key}", seed=seed, device=device,
    context={"data": data_key},
    charts_=[Chart("log RMSE", [("train_metric", "train"), ("test_metric", "valid")], log_y=True,
                   reference=[BAND] if at_book else []),
             replace(MINIBATCH, title="Minibatch loss (MSE of the prices)")],
    readouts=[Readout("train_metric", "train log RMSE", "{:.4f}"), Readout("test_metric", "valid log RMSE", "{:.4f}")],
    label=lambda c: f"{c.model}, lr {c.lr:g}, wd {c.weight_decay:g}, batch {c.batch_size}, k {c.k}",
    views=[View("core.experiments.house_prices:summary", fold_summary, every="epoch"),
           View("core.experiments.house_prices:predictions", submission_view, every="epoch")],
    presets=[] if problem else [hp.folds_preset(k)],
)

with st.expander("What to look for"):
    st.markdown(
        f"- **At the book's settings** ({BOOK.k} folds, {BOOK.num_epochs} epochs, lr {BOOK.lr:g}, no weight decay, "
        f"batch {BOOK.batch_size}) the folds end near the book's figures: measured here with seed 0, average train "
        "log RMSE 0.1652 and valid 0.1701 (the book: 0.1656 and 0.1705). The grey band on the chart is the book's "
        "average valid figure.\n"
        "- **The folds differ**: from the same seed their valid errors spread from about 0.155 to 0.19. One fold "
        "alone would be a noisy guide; the average is what the book uses to compare settings.\n"
        "- **Train below valid**: each fold's model fits the houses it saw better than the ones held out. A large "
        "gap is overfitting; try weight decay.\n"
        "- **lr**: Adam moves every weight by about lr per step whatever the scale of the gradient, so the book "
        "can use lr 5 on prices in the hundreds of thousands. With lr 0.01 the linear model barely starts in 100 "
        "epochs (the 1.0 edition's setting trains much longer).\n"
        "- **The MLP** (one hidden layer of 64) at lr 5 reaches a lower average valid log RMSE with some seeds "
        "(measured 0.154, 0.163, 0.163 for seeds 0-2) but fits the training houses far better still (its final "
        "model's train log RMSE about 0.06): it overfits. Try weight decay or a smaller lr against the folds' "
        "average, the way the book invites you to improve on its linear model.\n"
        "- **The submission** comes from the model trained on all the training houses, the book's "
        "`train_and_pred`; its predicted prices should spread like the training prices."
    )
