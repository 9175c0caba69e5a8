"""Kaggle house prices: loading, the book's preprocessing, CSV uploads."""
import numpy as np
import pandas as pd
import pytest
import torch
from http_fixture import real_file, sha1_of

from core.data import download as dl
from core.data import house
from core.data.files import UploadError

CATEGORICAL = [c for c in house.FEATURES if c not in house.NUMERIC]


def frame(n, start=0, label=True):
    """n rows with every column: numbers 1, 2, ... and categories 'A'/'B'."""
    rows = {"Id": np.arange(start + 1, start + n + 1)}
    for col in house.FEATURES:
        rows[col] = (np.arange(n) + 1.0) if col in house.NUMERIC else ["A", "B"][: n] * (n // 2) + ["A"] * (n % 2)
    if label:
        rows["SalePrice"] = 100000.0 * (np.arange(n) + 1)
    return pd.DataFrame(rows)


def csv_bytes(df) -> bytes:
    return df.to_csv(index=False).encode()


def test_column_lists():
    assert len(house.COLUMNS) == 81 and len(house.FEATURES) == 79
    assert len(house.NUMERIC) == 36 and len(CATEGORICAL) == 43
    assert set(house.NUMERIC) <= set(house.FEATURES)


def test_preprocess_standardises_fills_and_one_hot_encodes():
    train, test = frame(2), frame(2, start=2, label=False)
    train["LotArea"], test["LotArea"] = [1.0, 2.0], [3.0, np.nan]
    train["MSZoning"], test["MSZoning"] = ["RL", None], ["RM", "RL"]
    X, y, X_test, names = house.preprocess_house(train, test)
    assert X.dtype == y.dtype == X_test.dtype == torch.float32
    assert X.shape == (2, len(names)) and X_test.shape == (2, len(names)) and y.shape == (2, 1)
    # 36 numeric + per category column: 'A', 'B' and 'nan'; MSZoning: RL, RM, nan
    assert len(names) == 36 + 42 * 3 + 3
    lot = names.index("LotArea")  # combined mean 2, std 1; missing -> 0 (the mean)
    assert X[:, lot].tolist() == [-1.0, 0.0] and X_test[:, lot].tolist() == [1.0, 0.0]
    zoning = [names.index(f"MSZoning_{v}") for v in ("RL", "RM", "nan")]
    assert X[:, zoning].tolist() == [[1, 0, 0], [0, 0, 1]]
    assert X_test[:, zoning].tolist() == [[0, 1, 0], [1, 0, 0]]
    assert y.ravel().tolist() == [100000.0, 200000.0]
    assert "Id" not in names and "SalePrice" not in names


def test_preprocess_ignores_column_order_and_extras():
    train, test = frame(4), frame(3, start=4, label=False)
    X, _, X_test, names = house.preprocess_house(train, test)
    shuffled = train[list(reversed(train.columns))].assign(Extra=1)
    X2, _, X_test2, names2 = house.preprocess_house(shuffled, test)
    assert names2 == names and torch.equal(X2, X) and torch.equal(X_test2, X_test)


def test_load_house_from_data_dir_and_download(isolated, http_server, monkeypatch):
    data, cache = isolated
    train, test = csv_bytes(frame(4)), csv_bytes(frame(3, start=4, label=False))
    (data / house.TRAIN_NAME).write_bytes(train)
    monkeypatch.setitem(dl.DATA_HUB, house.TRAIN_NAME, (dl.DATA_HUB[house.TRAIN_NAME][0], sha1_of(train)))
    monkeypatch.setitem(dl.DATA_HUB, house.TEST_NAME, (http_server.add(house.TEST_NAME, test), sha1_of(test)))
    train_df, test_df = house.load_house()
    assert train_df.shape == (4, 81) and test_df.shape == (3, 80)
    assert http_server.requests == [house.TEST_NAME] and (cache / house.TEST_NAME).read_bytes() == test


def test_load_house_explicit_folder(isolated, tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name, df in ((house.TRAIN_NAME, frame(2)), (house.TEST_NAME, frame(2, label=False))):
        (folder / name).write_bytes(csv_bytes(df))
        monkeypatch.setitem(dl.DATA_HUB, name, (dl.DATA_HUB[name][0], dl.sha1(folder / name)))
    assert house.locate_house(data_dir=folder, allow_download=False) == (
        folder / house.TRAIN_NAME, folder / house.TEST_NAME)
    with pytest.raises(dl.DataUnavailable, match="kaggle_house_pred_train.csv"):
        house.load_house(isolated[0], allow_download=False)


def test_validate_accepts_train_and_test():
    df = house.validate_house_csv(csv_bytes(frame(3)))
    assert df.shape == (3, 81) and df["SalePrice"].tolist() == [100000, 200000, 300000]
    assert house.validate_house_csv(csv_bytes(frame(2, label=False)), kind="test").shape == (2, 80)
    bom = b"\xef\xbb\xbf" + csv_bytes(frame(2))
    assert list(house.validate_house_csv(bom).columns) == house.COLUMNS


def bad_numbers():
    df = frame(3)
    df["LotArea"] = ["12", "big", "7"]
    return csv_bytes(df)


def negative_price():
    df = frame(3)
    df.loc[1, "SalePrice"] = -5
    return csv_bytes(df)


@pytest.mark.parametrize("data, kind, code, details", [
    (b"", "train", "empty", {}),
    (b"Id\n" + b"1\n" * 3000, "train", "too_large", {"size": 6003, "limit": 5000}),
    (b"Id,\x00\x01", "train", "binary", {"kind": "csv"}),
    (b"Id,Caf\xe9\n1,2\n", "train", "not_utf8", {"position": 6}),
    (b"a,b\n1,2\n1,2,3\n", "train", "not_csv",
     {"error": "Error tokenizing data. C error: Expected 2 fields in line 3, saw 3"}),
    (b"Id,LotArea\n1,2\n", "train", "missing_columns",
     {"n": 79, "columns": tuple(c for c in house.COLUMNS if c not in ("Id", "LotArea"))}),
    (csv_bytes(frame(2, label=False)), "train", "missing_columns", {"n": 1, "columns": ("SalePrice",)}),
    (csv_bytes(frame(0)), "train", "no_rows", {}),
    (bad_numbers(), "train", "not_numbers", {"columns": ("LotArea",)}),
    (negative_price(), "train", "not_positive", {"column": "SalePrice"}),
])
def test_validate_rejects_with_a_code_and_its_details(data, kind, code, details):
    with pytest.raises(UploadError) as err:
        house.validate_house_csv(data, max_bytes=5000, kind=kind)
    assert (err.value.code, err.value.details) == (code, details)


@pytest.mark.realdata
def test_real_house(monkeypatch):
    folder = real_file(house.TRAIN_NAME).parent
    real_file(house.TEST_NAME)
    monkeypatch.setenv("PLAYGROUND_DATA_DIR", str(folder))
    train, test = house.load_house(allow_download=False)
    assert train.shape == (1460, 81) and test.shape == (1459, 80)
    X, y, X_test, names = house.preprocess_house(train, test)
    # 36 numeric + 251 category values + 43 "missing" columns = 330; the book's
    # own code (text columns as object dtype) gives the same (2919, 330) here.
    assert X.shape == (1460, 330) and X_test.shape == (1459, 330) and len(names) == 330
    assert y[:3].ravel().tolist() == [208500.0, 181500.0, 223500.0]
    assert not torch.isnan(X).any() and not torch.isnan(X_test).any()
    assert house.validate_house_csv(real_file(house.TRAIN_NAME).read_bytes()).shape == (1460, 81)
    assert house.validate_house_csv(real_file(house.TEST_NAME).read_bytes(), kind="test").shape == (1459, 80)
