"""Predicting house prices on Kaggle (book section 5.7; 4.10 in the 0.x editions).

The data: Kaggle's Ames house prices, 1460 training houses with their
SalePrice and 1459 test houses without, 79 features each, preprocessed as
the book does (core.data.house.preprocess_house: numeric features
standardised, missing numbers set to 0, categories one-hot with a column for
"missing"; 330 columns).

The model: the book's linear model `nn.Linear(330, 1)` (or, as the book
suggests trying, an MLP with one hidden layer), the squared loss
`nn.MSELoss()` on the prices, Adam, and the metric the competition scores,

    log RMSE = sqrt(mean((log max(y_hat, 1) - log y)^2))

(core.train.metrics.log_rmse; `log_rmse` below is the book's function).

K-fold cross-validation as the book's get_k_fold_data: the training set cut
in order into k folds of n // k houses (a remainder is left out), fold i
validates the model trained on the other k - 1. A Config's `fold` says which
fold a run validates, or `ALL` (-1) for the book's train_and_pred: train on
every training house and predict the test set (the page's own run).
`folds_preset(k)` is the k folds and that final model as a preset: k + 1
runs side by side from one seed, one curve each.

Views (called in the run's worker between two steps, reading only the
records and a forward pass under `Trainer.probe`): `summary`, the folds'
final log RMSE and their average, and `predictions`, the test set's
predicted prices from a run trained on all the data (Kaggle's submission).
"""
from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Mapping

import pandas as pd
import torch
from torch import nn

from core.data import house
from core.experiments.schema import Preset, config, setting
from core.train.trainer import Batches, Supervised, Trainer

ALL = -1  # `fold` of a run on all the training data (the book's train_and_pred)
MODELS = {"linear": "linear (the book's)", "mlp": "MLP, one hidden layer"}
LRS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 5.0, 10.0, 30.0)
WEIGHT_DECAYS = (0.0, 0.01, 0.1, 1.0, 10.0, 100.0)
BATCH_SIZES = (16, 32, 64, 128, 256, 512)

# The book's printed result at its settings (5 folds, 100 epochs, lr 5, weight decay 0, batch 64):
# the average over the folds of the final train and valid log RMSE.
BOOK_TRAIN = 0.1656  # 0.17.5 edition
BOOK_VALID = {"0.17.5": 0.1705, "zh": 0.1703}


@config
class Config:
    """The book's settings (0.17.5 edition, section 4.10; d2l 1.0 section 5.7)."""

    k: int = setting(5, "k (folds)", min=2, max=10,
                     help="The training houses are cut in order into k folds; each fold validates the model "
                          "trained on the other k - 1. A change starts new runs.")
    model: str = setting("linear", "model", options=tuple(MODELS), labels=MODELS,
                         help="The book's linear model, or an MLP with one hidden layer of ReLU units "
                              "(it does better with a smaller lr, e.g. 0.01).")
    lr: float = setting(5.0, "lr (Adam's learning rate)", options=LRS, live=True,
                        help="Takes effect at the next minibatch. The book uses 5 for its linear model.")
    weight_decay: float = setting(0.0, "weight decay", options=WEIGHT_DECAYS, live=True,
                                  help="Adam's L2 penalty on every parameter; takes effect at the next minibatch.")
    batch_size: int = setting(64, "batch_size", options=BATCH_SIZES,
                              help="Houses per minibatch. A change starts new runs.")
    num_epochs: int = setting(100, "num_epochs", min=10, max=500, step=10, live=True)
    fold: int = ALL  # which fold the run validates; ALL: trained on every training house
    num_hiddens: int = 64  # the MLP's hidden units


BOOK = Config()


ALL_NAME = "all training data"


def folds_preset(k: int) -> Preset:
    """The k folds of k-fold cross-validation and the model on all the
    training data (the book's train_and_pred, whose predictions are the
    submission), trained side by side from one seed."""
    runs = {fold_name(i): {"fold": i} for i in range(k)}
    return Preset(f"{k}-fold cross-validation and the final model", {**runs, ALL_NAME: {"fold": ALL}})


def fold_name(i: int) -> str:
    return f"fold {i + 1}"


# ----------------------------------------------------------------------- data
@dataclasses.dataclass(frozen=True)
class HouseData:
    """The preprocessed data a run trains on: X (n, d) float32, y (n, 1) the
    prices, X_test (m, d), test_ids (m,) Kaggle's Id of each test house, and
    the names of the d columns."""

    X: torch.Tensor
    y: torch.Tensor
    X_test: torch.Tensor
    test_ids: torch.Tensor
    features: tuple[str, ...]


def make_data(train: pd.DataFrame, test: pd.DataFrame) -> HouseData:
    """HouseData from the two DataFrames (the bundled files or uploads)."""
    X, y, X_test, names = house.preprocess_house(train, test)
    return HouseData(X, y, X_test, torch.tensor(test["Id"].to_numpy(dtype="int64")), tuple(names))


def load_data(data_dir=None, *, progress=None, allow_download=True) -> HouseData:
    """The book's files, preprocessed (a loader as the pages' `dataset` calls it)."""
    return make_data(*house.load_house(data_dir, progress=progress, allow_download=allow_download))


def get_k_fold_data(k: int, i: int, X: torch.Tensor, y: torch.Tensor):
    """The book's get_k_fold_data: fold i of k (folds of n // k rows in order,
    a remainder left out) as the validation set, the other folds concatenated
    in order as the training set. Returns X_train, y_train, X_valid, y_valid."""
    if k < 2:
        raise ValueError(f"k-fold needs k >= 2, got {k}")
    fold_size = X.shape[0] // k
    if fold_size < 1 or not 0 <= i < k:
        raise ValueError(f"no fold {i} of {k} for {X.shape[0]} examples")
    parts = [(X[j * fold_size:(j + 1) * fold_size], y[j * fold_size:(j + 1) * fold_size]) for j in range(k)]
    X_valid, y_valid = parts[i]
    X_train = torch.cat([p[0] for j, p in enumerate(parts) if j != i])
    y_train = torch.cat([p[1] for j, p in enumerate(parts) if j != i])
    return X_train, y_train, X_valid, y_valid


def folds_problem(n: int, k: int) -> dict | None:
    """None when n examples split into k folds of at least one; else the numbers ({"n", "k"})."""
    return None if n // k >= 1 else {"n": n, "k": k}


# ---------------------------------------------------------------- the model
def _linear(fan_in: int, fan_out: int, gen: torch.Generator) -> nn.Linear:
    """nn.Linear(fan_in, fan_out) with torch's default initial values,
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, drawn from `gen`
    (skip_init: nn.Linear's own initialisation would draw from the global RNG)."""
    layer = nn.utils.skip_init(nn.Linear, fan_in, fan_out)
    bound = 1 / math.sqrt(fan_in)
    with torch.no_grad():
        layer.weight.copy_(torch.empty(fan_out, fan_in).uniform_(-bound, bound, generator=gen))
        layer.bias.copy_(torch.empty(fan_out).uniform_(-bound, bound, generator=gen))
    return layer


def get_net(in_features: int, model: str = "linear", num_hiddens: int = 64):
    """net_fn of the book's get_net: nn.Sequential(nn.Linear(in_features, 1)),
    or an MLP in_features -> num_hiddens (ReLU) -> 1."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}: use one of {list(MODELS)}")

    def net_fn(gen: torch.Generator) -> nn.Module:
        if model == "linear":
            return nn.Sequential(_linear(in_features, 1, gen))
        return nn.Sequential(_linear(in_features, num_hiddens, gen), nn.ReLU(), _linear(num_hiddens, 1, gen))

    return net_fn


def mse(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The book's nn.MSELoss() per example: (y_hat - y)^2, no 1/2."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2


def log_rmse(net: nn.Module, features: torch.Tensor, labels: torch.Tensor) -> float:
    """The book's log_rmse: predictions clamped to [1, inf), then
    sqrt(MSELoss(log(clipped), log(labels)))."""
    with torch.no_grad():
        clipped = torch.clamp(net(features), 1, float("inf"))
        return float(torch.sqrt(nn.MSELoss()(torch.log(clipped), torch.log(labels))))


# ------------------------------------------------------------------- the run
def build(cfg: Config = BOOK, data: HouseData | None = None, *, seed: int = 0, device="cpu") -> Trainer:
    """The book's training of one fold (cfg.fold in 0..k-1: its train and
    valid log RMSE over the whole fold after each epoch, as `train_metric` and
    `test_metric`) or, with fold ALL, of the model on every training house
    (train log RMSE only). `data` is HouseData, or None to read the book's
    files. Adam on the MSE of the prices."""
    data = data if data is not None else load_data(allow_download=False)
    if cfg.fold == ALL:
        X, y, valid = data.X, data.y, None
    else:
        X, y, X_valid, y_valid = get_k_fold_data(cfg.k, cfg.fold, data.X, data.y)
        valid = Batches(X_valid.to(device), y_valid.to(device), batch_size=len(X_valid), shuffle=False)
    return Trainer(
        get_net(X.shape[1], cfg.model, cfg.num_hiddens),
        Batches(X.to(device), y.to(device), batch_size=cfg.batch_size),
        test=valid, objective=Supervised(loss=mse, metric="log_rmse"), optimizer="adam",
        lr=cfg.lr, weight_decay=cfg.weight_decay, num_epochs=cfg.num_epochs, seed=seed, device=device,
        eval_train=True, config=dataclasses.asdict(cfg),
    )


# -------------------------------------------------------------- the views
def summary(trainers: Mapping[str, Trainer]) -> dict:
    """Each run's last epoch's train and valid log RMSE (None before its first
    epoch) and, over the runs that validate a fold and have finished an epoch,
    their averages: the book's 'avg train log rmse', 'avg valid log rmse'."""
    runs = {}
    for name, t in trainers.items():
        last = t.history.epochs[-1] if t.history.epochs else {}
        runs[name] = {"fold": t.config.get("fold", ALL), "epoch": t.epoch, "num_epochs": t.num_epochs,
                      "train": last.get("train_metric"), "valid": last.get("test_metric")}
    folds = [r for r in runs.values() if r["fold"] != ALL and r["valid"] is not None]
    mean = (lambda key: sum(r[key] for r in folds) / len(folds)) if folds else (lambda key: None)
    return {"runs": runs, "folds": len(folds), "avg_train": mean("train"), "avg_valid": mean("valid")}


def predict(net: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """The book's `net(test_features)`, as a vector of prices, below 1 raised
    to 1 (the clamp the metric applies: a price must be positive)."""
    return torch.clamp(net(X).reshape(-1), min=1.0)


def predictions(trainers: Mapping[str, Trainer], data: HouseData) -> dict:
    """The test set's predicted prices from each run trained on all the
    training data (fold ALL), after its last step: {"runs": {name: {"ids",
    "prices", "epoch", "train"}}}. The forward pass runs under the run's probe
    (eval mode, no gradients, its generators put back)."""
    out = {}
    for name, t in trainers.items():
        if t.config.get("fold", ALL) != ALL:
            continue
        with t.probe(train=False):
            prices = predict(t.net, data.X_test.to(t.device)).cpu()
        last = t.history.epochs[-1] if t.history.epochs else {}
        out[name] = {"ids": data.test_ids.tolist(), "prices": prices.tolist(), "epoch": t.epoch,
                     "train": last.get("train_metric")}
    return {"runs": out}


def submission(ids, prices) -> pd.DataFrame:
    """Kaggle's submission: the columns Id and SalePrice, one row per test house."""
    return pd.DataFrame({"Id": [int(i) for i in ids], house.LABEL: [float(p) for p in prices]})


def submission_csv(ids, prices) -> bytes:
    """The submission as the book writes it (to_csv, no index), UTF-8."""
    buf = io.StringIO()
    submission(ids, prices).to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8")


# ------------------------------------------------- preprocessing, before/after
SHOWN = ("MSSubClass", "MSZoning", "LotFrontage", "LotArea", "Street", "Alley")


def preprocessing_table(train: pd.DataFrame, test: pd.DataFrame, columns=SHOWN, rows: int = 5) -> dict:
    """The book's preprocessing on the first `rows` training houses, for a few
    raw `columns`: `before` (the raw values) and `after` (every column those
    became: a numeric one standardised, a categorical one as its one-hot
    columns, 'nan' the missing), plus the shapes of all the features (train
    and test together) before and after, and the mean and std of each shown
    numeric column (over train and test together)."""
    X, _, X_test, names = house.preprocess_house(train, test)
    before = train[list(columns)].head(rows).reset_index(drop=True)
    keep = [j for j, n in enumerate(names) if n in columns or any(n.startswith(f"{c}_") for c in columns
                                                                  if c not in house.NUMERIC)]
    after = pd.DataFrame(X[:rows, keep].numpy(), columns=[names[j] for j in keep])
    both = pd.concat((train[house.FEATURES], test[house.FEATURES]))
    stats = {c: (float(both[c].mean()), float(both[c].std())) for c in columns if c in house.NUMERIC}
    return {"before": before, "after": after, "shape_before": (len(both), len(house.FEATURES)),
            "shape_after": (len(both), len(names)), "stats": stats}
