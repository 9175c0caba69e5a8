"""Predicting house prices on Kaggle (book section 5.7; 4.10 in the 0.x editions)."""
from __future__ import annotations

import hashlib
import math
from dataclasses import replace

import streamlit as st

from core.data import house
from core.experiments import house_prices as hp
from core.experiments.schema import Preset
from playground import controls
from playground.data import dataset, per_text
from playground.house_prices_figures import prices_figure
from playground.i18n import t
from playground.live import MINIBATCH, Chart, Readout, View, live_panel
from playground.messages import code, literal, upload_problem

BOOK = hp.BOOK
KEY = "house_prices"
BAND = (min(hp.BOOK_VALID.values()), max(hp.BOOK_VALID.values()),
        t("house_prices.band", v175=hp.BOOK_VALID["0.17.5"], vzh=hp.BOOK_VALID["zh"], k=BOOK.k))

st.title(t("page.house_prices"))
st.markdown(t("house_prices.intro"))


# ------------------------------------------------------------------- the data
def read_train(raw: bytes):
    return house.validate_house_csv(raw, kind="train")


def read_test(raw: bytes):
    return house.validate_house_csv(raw, kind="test")


def uploaded(label: str, key: str, parse, kind: str):
    """(DataFrame, its content key) of a valid upload, else (None, None) after
    saying on the page why the file cannot be used."""
    file = st.file_uploader(label, type=["csv"], key=key, max_upload_size=5,  # MB, as core's check
                            help=t(f"house_prices.upload.help_{kind}"))
    if file is None:
        return None, None
    raw = file.getvalue()
    try:
        df = per_text(parse, raw)
    except ValueError as err:
        st.error(t("house_prices.upload.cannot_use", file=code(file.name), problem=upload_problem(err), kind=kind),
                 icon=":material/error:")
        return None, None
    extra = house.extra_columns(df, kind)
    note = t("house_prices.upload.extra", n=len(extra), columns=literal(", ".join(extra[:8])),
             more=" ..." if len(extra) > 8 else "") if extra else ""
    st.info(t("house_prices.upload.using", kind=kind, file=code(file.name), n=f"{len(df):,}", note=note),
            icon=":material/upload_file:")
    return df, hashlib.sha1(raw).hexdigest()[:16]


@st.cache_resource(max_entries=8, show_spinner=False)
def prepared(key: tuple, _train, _test) -> tuple[hp.HouseData, dict]:
    """The run's data and the before/after table, once per pair of files (by `key`)."""
    return hp.make_data(_train, _test), hp.preprocessing_table(_train, _test, rows=10)


loaded = dataset(t("house_prices.dataset"), lambda **kw: house.load_house(**kw), cache_key="house:kaggle")
if loaded is None:
    st.stop()
train_df, test_df = loaded
with st.expander(t("house_prices.upload.expander"), icon=":material/upload_file:"):
    left, right = st.columns(2)
    with left:
        own_train, train_key = uploaded(t("house_prices.upload.label", kind="train"), f"{KEY}:upload_train",
                                        read_train, "train")
    with right:
        own_test, test_key = uploaded(t("house_prices.upload.label", kind="test"), f"{KEY}:upload_test",
                                      read_test, "test")
if own_train is not None:
    train_df = own_train
if own_test is not None:
    test_df = own_test
data_key = f"{train_key or 'bundled'}:{test_key or 'bundled'}"
with st.spinner(t("house_prices.preprocessing_spinner")):  # (shown only when it takes a while: not cached yet)
    data, table = prepared((data_key,), train_df, test_df)

st.subheader(t("house_prices.preprocessing"))
st.markdown(t("house_prices.preprocessing_text", n_train=f"{len(train_df):,}", n_test=f"{len(test_df):,}"))
st.latex(rf"x \leftarrow \frac{{x - \mu}}{{\sigma}}, \qquad \text{{{t('house_prices.latex_missing')}}} x "
         r"\leftarrow 0")
before, after = st.columns([2, 3])
before.markdown(t("house_prices.before", rows=len(table["before"]), shown=len(table["before"].columns),
                  features=table["shape_before"][1]))
before.dataframe(table["before"], hide_index=True)
after.markdown(t("house_prices.after", columns=table["shape_after"][1]))
numeric = [c for c in table["after"].columns if c in house.NUMERIC]
after.dataframe(table["after"].style.format("{:.3f}", subset=numeric).format(
    "{:.0f}", subset=[c for c in table["after"].columns if c not in numeric]), hide_index=True)
st.caption(
    t("house_prices.shapes", houses=f"{table['shape_before'][0]:,}", features=table["shape_before"][1],
      columns=table["shape_after"][1]) + " "
    + " ".join(f"{c}: μ = {m:,.1f}, σ = {s:,.1f}." for c, (m, s) in table["stats"].items())
    + " " + t("house_prices.one_hot_note")
)

# ------------------------------------------------------------- the training
st.subheader(t("house_prices.training"))
st.markdown(t("house_prices.training_text"))
st.latex(r"L = \frac{1}{n}\sum_{i=1}^{n}\left(\hat{y}_i - y_i\right)^2, \qquad "
         r"\text{log RMSE} = \sqrt{\frac{1}{n}\sum_{i=1}^{n}\left(\log \max(\hat{y}_i, 1) - \log y_i\right)^2}")
form = controls.Form(hp.Config)
k, model, lr, weight_decay, batch_size, num_epochs = form.draw(
    "k", "model", "lr", "weight_decay", "batch_size", "num_epochs", columns=3)
cfg = form.config()
fold_size = len(data.X) // k
avg_valid, fold_word = t("house_prices.latex_avg_valid"), t("house_prices.latex_fold")
st.latex(rf"\text{{{avg_valid}}} = \frac{{1}}{{{k}}}\sum_{{i=1}}^{{{k}}} \text{{log RMSE}}"
         rf"\big(f_{{-i}}, \text{{{fold_word}}}_i\big), \qquad |\text{{{fold_word}}}_i| = "
         rf"\lfloor {len(data.X)} / {k} \rfloor = {fold_size}")
problem = hp.folds_problem(len(data.X), k)
if problem:
    st.warning(t("house_prices.folds_problem", n=problem["n"], k=problem["k"]), icon=":material/warning:")
at_book = replace(cfg, fold=BOOK.fold) == BOOK and data_key == "bundled:bundled"
model_name = t(f"house_prices.option.model.{model}")
st.caption(t("house_prices.settings_caption", whose=t("house_prices.the_book" if at_book else "house_prices.yours"),
             k=k, num_epochs=num_epochs, model=model_name, lr=f"{lr:g}", weight_decay=f"{weight_decay:g}",
             batch_size=batch_size,
             mlp=t("house_prices.mlp_units", mlp=t("house_prices.option.model.mlp"), units=BOOK.num_hiddens)
             if model == "mlp" else ""))


def fold_summary(seen: dict) -> None:
    """The folds' final log RMSE and their average beside the book's."""
    if not seen["folds"] and problem:
        return  # no folds to train: the warning above says why
    if not seen["folds"]:
        st.info(t("house_prices.press_folds", preset=t("house_prices.folds_preset", k=k)), icon=":material/info:")
        return
    n = seen["folds"]
    first, second, third = st.columns(3)
    first.metric(t("house_prices.avg_train", n=n), f"{seen['avg_train']:.4f}",
                 help=t("house_prices.avg_train_help", value=hp.BOOK_TRAIN))
    second.metric(t("house_prices.avg_valid", n=n), f"{seen['avg_valid']:.4f}",
                  delta=t("house_prices.vs_book", delta=f"{seen['avg_valid'] - hp.BOOK_VALID['0.17.5']:+.4f}",
                          book=hp.BOOK_VALID["0.17.5"]) if at_book else None,
                  delta_color="off", help=t("house_prices.avg_valid_help"))
    third.markdown(t("house_prices.book_figures", train=hp.BOOK_TRAIN, valid=hp.BOOK_VALID["0.17.5"],
                     zh=hp.BOOK_VALID["zh"]))

    def fmt(value, missing: str) -> str:
        return missing if value is None else f"{value:.4f}"

    not_yet = t("house_prices.not_yet")
    rows = [{t("house_prices.column_run"): name, t("house_prices.column_epoch"): r["epoch"],
             t("house_prices.column_train"): fmt(r["train"], not_yet),
             t("house_prices.column_valid"): fmt(r["valid"], not_yet if r["fold"] != hp.ALL
                                                 else t("house_prices.no_fold"))}
            for name, r in seen["runs"].items()]
    st.dataframe(rows, hide_index=True)


def submission_view(seen: dict) -> None:
    """The final model's predictions: their spread, the first rows, submission.csv."""
    st.subheader(t("house_prices.submission"))
    if not seen["runs"]:
        st.info(t("house_prices.no_submission"), icon=":material/info:")
        return
    name, run = next(iter(seen["runs"].items()))
    if run["epoch"] == 0:
        st.info(t("house_prices.no_epoch_yet"), icon=":material/info:")
        return
    if not all(math.isfinite(p) for p in run["prices"]):
        st.warning(t("house_prices.not_finite"), icon=":material/warning:")
        return
    done = t("house_prices.after_epoch", epoch=run["epoch"]) + (
        t("house_prices.after_epoch_train", value=f"{run['train']:.4f}") if run["train"] else "")
    left, right = st.columns([3, 2])
    left.plotly_chart(prices_figure(train_df[house.LABEL].tolist(), run["prices"],
                                    t("house_prices.prices_title", n=f"{len(run['prices']):,}", done=done)),
                      key=f"{KEY}:prices", width="stretch")
    sub = hp.submission(run["ids"], run["prices"])
    right.markdown(t("house_prices.format"))
    right.dataframe(sub.head(8).style.format({house.LABEL: "{:,.0f}"}), hide_index=True)
    right.download_button(t("house_prices.download"), hp.submission_csv(run["ids"], run["prices"]),
                          file_name="submission.csv", mime="text/csv", icon=":material/download:",
                          key=f"{KEY}:download", on_click="ignore", type="primary")
    right.caption(t("house_prices.from_model", n=f"{len(data.X):,}", done=done))


def folds_preset(k: int) -> Preset:
    """hp.folds_preset(k) in this session's language: its button and its runs' names."""
    preset = hp.folds_preset(k)
    names = {hp.fold_name(i): t("house_prices.fold_name", n=i + 1) for i in range(k)}
    names[hp.ALL_NAME] = t("house_prices.all_name")
    return Preset(t("house_prices.folds_preset", k=k), {names[n]: v for n, v in preset.runs.items()})


seed, device = controls.seed(), controls.device()
live_panel(
    KEY, cfg, "house_prices", data=data, data_key=f"house:{data_key}", seed=seed, device=device,
    context={"data": data_key},
    charts_=[Chart(t("house_prices.chart_log_rmse"), [("train_metric", t("live.curve_train")),
                                                      ("test_metric", t("house_prices.curve_valid"))],
                   log_y=True, reference=[BAND] if at_book else []),
             replace(MINIBATCH, title=t("house_prices.chart_minibatch"))],
    readouts=[Readout("train_metric", t("house_prices.column_train"), "{:.4f}"),
              Readout("test_metric", t("house_prices.column_valid"), "{:.4f}")],
    label=lambda c: t("house_prices.run_label", model=c.model, lr=f"{c.lr:g}", wd=f"{c.weight_decay:g}",
                      batch_size=c.batch_size, k=c.k),
    views=[View("core.experiments.house_prices:summary", fold_summary, every="epoch"),
           View("core.experiments.house_prices:predictions", submission_view, every="epoch")],
    presets=[] if problem else [folds_preset(k)],
)

with st.expander(t("common.what_to_look_for")):
    st.markdown(t("house_prices.look", k=BOOK.k, num_epochs=BOOK.num_epochs, lr=f"{BOOK.lr:g}",
                  batch_size=BOOK.batch_size))
