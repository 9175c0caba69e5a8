"""Kaggle house prices (Ames), loaded and preprocessed as in the book."""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import torch

from core.data import download as dl
from core.data.files import UploadError, decode_upload

TRAIN_NAME = "kaggle_house_pred_train.csv"
TEST_NAME = "kaggle_house_pred_test.csv"
LABEL = "SalePrice"
# The training file's columns: Id, 79 features, SalePrice.
COLUMNS = """Id MSSubClass MSZoning LotFrontage LotArea Street Alley LotShape LandContour
Utilities LotConfig LandSlope Neighborhood Condition1 Condition2 BldgType HouseStyle
OverallQual OverallCond YearBuilt YearRemodAdd RoofStyle RoofMatl Exterior1st Exterior2nd
MasVnrType MasVnrArea ExterQual ExterCond Foundation BsmtQual BsmtCond BsmtExposure
BsmtFinType1 BsmtFinSF1 BsmtFinType2 BsmtFinSF2 BsmtUnfSF TotalBsmtSF Heating HeatingQC
CentralAir Electrical 1stFlrSF 2ndFlrSF LowQualFinSF GrLivArea BsmtFullBath BsmtHalfBath
FullBath HalfBath BedroomAbvGr KitchenAbvGr KitchenQual TotRmsAbvGrd Functional Fireplaces
FireplaceQu GarageType GarageYrBlt GarageFinish GarageCars GarageArea GarageQual GarageCond
PavedDrive WoodDeckSF OpenPorchSF EnclosedPorch 3SsnPorch ScreenPorch PoolArea PoolQC Fence
MiscFeature MiscVal MoSold YrSold SaleType SaleCondition SalePrice""".split()
FEATURES = COLUMNS[1:-1]
NUMERIC = """MSSubClass LotFrontage LotArea OverallQual OverallCond YearBuilt YearRemodAdd
MasVnrArea BsmtFinSF1 BsmtFinSF2 BsmtUnfSF TotalBsmtSF 1stFlrSF 2ndFlrSF LowQualFinSF
GrLivArea BsmtFullBath BsmtHalfBath FullBath HalfBath BedroomAbvGr KitchenAbvGr
TotRmsAbvGrd Fireplaces GarageYrBlt GarageCars GarageArea WoodDeckSF OpenPorchSF
EnclosedPorch 3SsnPorch ScreenPorch PoolArea MiscVal MoSold YrSold""".split()


def locate_house(*, data_dir=None, progress=None, allow_download=True) -> tuple[Path, Path]:
    """Paths of the train and test CSV (SHA-1 checked); `data_dir` is looked in first."""
    folders = ([Path(data_dir)] if data_dir else []) + dl.default_candidates()
    return tuple(dl.locate(name, candidates=folders, allow_download=allow_download,
                           progress=progress) for name in (TRAIN_NAME, TEST_NAME))


def load_house(data_dir=None, *, progress=None, allow_download=True):
    """(train, test) DataFrames of the Kaggle house price competition."""
    train_path, test_path = locate_house(data_dir=data_dir, progress=progress,
                                         allow_download=allow_download)
    return pd.read_csv(train_path), pd.read_csv(test_path)


def preprocess_house(train: pd.DataFrame, test: pd.DataFrame):
    """The book's preprocessing: standardise numeric features with the mean and
    std of train and test together, replace missing numbers by 0 (the mean),
    one-hot encode the rest with a column for "missing".
    Returns (X_train, y_train (SalePrice, shape (n, 1)), X_test, feature_names)."""
    all_features = pd.concat((train[FEATURES], test[FEATURES]))
    numeric = all_features.select_dtypes(include="number").columns
    all_features[numeric] = all_features[numeric].apply(lambda x: (x - x.mean()) / x.std())
    all_features[numeric] = all_features[numeric].fillna(0)
    categorical = [c for c in all_features.columns if c not in numeric]
    all_features = pd.get_dummies(all_features, columns=categorical, dummy_na=True)
    values = torch.tensor(all_features.to_numpy(dtype="float32"))
    n_train = len(train)
    y_train = torch.tensor(train[LABEL].to_numpy(dtype="float32").reshape(-1, 1))
    return values[:n_train], y_train, values[n_train:], list(all_features.columns)


def validate_house_csv(data: bytes, max_bytes: int = 5_000_000, *, kind: str = "train"):
    """Check an uploaded house CSV and return it as a DataFrame. The checks every
    upload gets, and those of a CSV that is not the house data, raise
    UploadError (core.data.files) with a code: `not_csv`, `missing_columns`
    (in the file's expected order), `no_rows`, `not_numbers`, `not_positive`.
    `kind='test'` makes SalePrice optional."""
    text = decode_upload(data, max_bytes, "csv")
    try:
        df = pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise UploadError("not_csv", error=str(e).strip()) from e
    required = COLUMNS if kind == "train" else COLUMNS[:-1]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise UploadError("missing_columns", n=len(missing), columns=tuple(missing))
    if df.empty:
        raise UploadError("no_rows")
    wanted = NUMERIC + ([LABEL] if LABEL in df.columns else [])
    bad = [c for c in wanted if pd.to_numeric(df[c], errors="coerce").isna().sum() > df[c].isna().sum()]
    if bad:
        raise UploadError("not_numbers", columns=tuple(bad))
    if LABEL in df.columns and (df[LABEL].isna().any() or (df[LABEL] <= 0).any()):
        raise UploadError("not_positive", column=LABEL)
    return df


def extra_columns(df: pd.DataFrame, kind: str = "train") -> list[str]:
    """The columns of an uploaded CSV that the house data has not (they are
    ignored by the preprocessing), in the file's order."""
    known = set(COLUMNS if kind == "train" else COLUMNS[:-1])
    return [str(c) for c in df.columns if c not in known]
