"""The house-prices page through AppTest: the preprocessing table shows the
book's standardisation, the k-fold preset trains the folds and the final model
with their average beside the book's and a submission in Kaggle's format,
every kind of bad upload gives its message (the bundled file is used), a good
upload replaces the bundled data, and a bad link falls back with a notice."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from apptest_support import live_charts, metric, open_page, panel, series_points, tick_until, tick_until_stopped
from http_fixture import real_file

from core.data import house
from core.experiments import house_prices as hp

PAGE, KEY = "topics/house_prices.py", "house_prices"


@pytest.fixture(scope="module")
def real():
    real_file(house.TRAIN_NAME), real_file(house.TEST_NAME)
    train = pd.read_csv(real_file(house.TRAIN_NAME))
    return train, pd.read_csv(real_file(house.TEST_NAME))


def uploader(at, which: str):
    return next(u for u in at.file_uploader if u.proto.id.endswith(f"{KEY}:upload_{which}"))


def test_the_preprocessing_table_is_the_books(real):
    at = open_page(PAGE)
    assert not at.exception, at.exception
    before, after = at.dataframe[0].value, at.dataframe[1].value
    train, test = real
    assert before["LotArea"].tolist()[:3] == [8450, 9600, 11250]
    both = pd.concat((train["LotArea"], test["LotArea"]))
    assert after["LotArea"].tolist()[:3] == pytest.approx(((train["LotArea"][:3] - both.mean()) / both.std()).tolist(),
                                                          rel=1e-5)
    assert after["LotFrontage"].tolist()[7] == 0.0  # house 8 has no LotFrontage: 0, the mean
    assert np.isnan(train["LotFrontage"][7])
    assert after[["MSZoning_RL", "MSZoning_RM", "MSZoning_nan"]].iloc[0].tolist() == [1, 0, 0]
    maths = " ".join(l.value for l in at.latex)
    assert r"\lfloor 1460 / 5 \rfloor = 292" in maths and r"\log \max(\hat{y}_i, 1)" in maths
    assert "2,919 houses: 79 features before, 330 columns after" in " ".join(c.value for c in at.caption)


def test_the_folds_train_side_by_side_with_their_average_and_a_submission():
    at = open_page(PAGE, {"num_epochs": "10", "k": "3"})
    S = panel(at, KEY)
    tick_until(at, lambda at: not S.building)
    assert "Press **3-fold cross-validation" in " ".join(i.value for i in at.info)
    next(b for b in at.button if b.label == "3-fold cross-validation and the final model").click().run()
    tick_until_stopped(at)
    at.run()
    assert not at.exception, at.exception
    assert S.names == ["fold 1", "fold 2", "fold 3", "all training data"]
    last = {n: S.history(n)["epochs"][-1] for n in S.names}
    assert all(r["epoch"] == 10 for r in last.values())
    valid = [last[f"fold {i}"]["test_metric"] for i in (1, 2, 3)]
    train = [last[f"fold {i}"]["train_metric"] for i in (1, 2, 3)]
    assert last["all training data"].get("test_metric") is None  # no fold held out
    assert metric(at, "average valid log RMSE (3 folds)") == f"{sum(valid) / 3:.4f}"
    assert metric(at, "average train log RMSE (3 folds)") == f"{sum(train) / 3:.4f}"
    for name in S.names:  # training lowered every run's log RMSE
        epochs = S.history(name)["epochs"]
        assert epochs[-1]["train_metric"] < epochs[0]["train_metric"]
    sub = next(d.value for d in at.dataframe if "SalePrice" in getattr(d.value, "columns", []))
    assert list(sub.columns) == ["Id", "SalePrice"] and sub["Id"].tolist()[:3] == [1461, 1462, 1463]
    labels = [d.proto.label for d in at.get("download_button")]  # the submission and the page's script
    assert sorted(labels) == ["Download run.py", "Download submission.csv"]
    # the log RMSE chart has one train and one valid curve per fold, a train curve for the final model
    points = series_points(live_charts(at)["log RMSE"])
    assert {f"fold {i} · {c}" for i in (1, 2, 3) for c in ("train", "valid")} | {"all training data · train"} \
        == set(points) and set(points.values()) == {10}


def bad_numbers() -> bytes:
    df = pd.DataFrame({c: [1, 2] for c in house.COLUMNS})
    df["GrLivArea"] = ["big", "1"]
    return df.to_csv(index=False).encode()


def negative_price() -> bytes:
    df = pd.DataFrame({c: [1, 2] for c in house.COLUMNS})
    df["SalePrice"] = [100_000, 0]
    return df.to_csv(index=False).encode()


@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty."),
    (b"Id,LotArea\n1,2\n", "The CSV lacks 79 required column(s): MSSubClass, MSZoning, LotFrontage, Street, "
     "Alley, LotShape, LandContour, Utilities and 71 more. Expected the columns of Kaggle's house prices train.csv."),
    (b"a,b\n1,2\n1,2,3\n", "The file is not a readable CSV (Error tokenizing data. C error: Expected 2 fields in "
     "line 3, saw 3)."),
    (negative_price(), "SalePrice must be a positive number in every row."),
    (b"Id,Caf\xe9\n1,2\n", "is not UTF-8 text (bad byte at position 6"),
    (b"Id\n" + b"1\n" * 2_600_000, "The file is too large: 5,200,003 bytes; the limit is 5,000,000 bytes."),
    (pd.DataFrame(columns=house.COLUMNS).to_csv(index=False).encode(), "The CSV has a header but no rows."),
    (bad_numbers(), "Column(s) GrLivArea must hold numbers but contain text."),
    (b"Id,\x00\x01", "This looks like a binary file, not a CSV file"),
])
def test_every_bad_upload_gives_its_message_and_the_bundled_file_is_used(content, message):
    at = open_page(PAGE)
    uploader(at, "train").set_value(("mine.csv", content, "text/csv")).run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert "That file (`mine.csv`) cannot be used:" in errors and message in errors
    assert "The bundled train.csv is used instead." in errors
    assert "1,460 training houses" in " ".join(m.value for m in at.markdown)


@pytest.mark.parametrize("content, message", [
    (b"Id,LotArea\n1,2\n", "该 CSV 缺少 79 个必需的列：MSSubClass, MSZoning, LotFrontage, Street, Alley, LotShape, "
     "LandContour, Utilities 等，另有 71 列。应包含 Kaggle 房价数据 train.csv 的各列。"),
    (negative_price(), "每一行的 SalePrice 都必须是正数。"),
])
def test_a_bad_upload_in_chinese(content, message):
    """Core says what is wrong by a code and its names; the page says it in the reader's language."""
    at = open_page(PAGE, {"lang": "zh"})
    uploader(at, "train").set_value(("mine.csv", content, "text/csv")).run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert f"无法使用该文件（`mine.csv`）：{message}改用自带的 train.csv。" in errors, errors


def test_an_upload_replaces_the_bundled_data_and_extra_columns_are_named(real):
    train, test = real
    mine = train.head(400).assign(Notes="x")
    at = open_page(PAGE)
    uploader(at, "train").set_value(("mine.csv", mine.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception, at.exception
    infos = " ".join(i.value for i in at.info)
    assert "Using your train.csv `mine.csv` (400 houses)" in infos and "ignored: Notes" in infos
    assert "400 training houses" in " ".join(m.value for m in at.markdown)
    assert r"\lfloor 400 / 5 \rfloor = 80" in " ".join(l.value for l in at.latex)
    tiny = train.head(3)
    uploader(at, "train").set_value(("tiny.csv", tiny.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception, at.exception
    assert "3 training house(s) cannot be cut into 5 folds" in " ".join(w.value for w in at.warning)
    assert not any("cross-validation" in b.label for b in at.button)  # no preset that cannot be built
    mine_test = test.head(7)
    uploader(at, "test").set_value(("t.csv", mine_test.to_csv(index=False).encode(), "text/csv")).run()
    assert "Using your test.csv `t.csv` (7 houses)" in " ".join(i.value for i in at.info)


def test_a_bad_link_falls_back_with_a_notice():
    at = open_page(PAGE, {"k": "99", "lr": "7", "model": "<b>x</b>"})
    assert not at.exception, at.exception
    notes = " ".join(c.value for c in at.caption)
    assert "using 5 instead" in notes and "k" not in at.query_params
    assert r"\frac{1}{5}" in " ".join(l.value for l in at.latex)


def test_submission_csv_bytes_are_kaggles_format():
    csv = hp.submission_csv([1461, 1462], [123456.5, 98765.25])
    assert pd.read_csv(io.BytesIO(csv)).to_dict("list") == {"Id": [1461, 1462], "SalePrice": [123456.5, 98765.25]}
