"""Predicting house prices (book 5.7): the book's k-fold split, its log_rmse,
training that lowers the valid log RMSE, seeded replays, the views (fold
averages, the submission) leaving the run alone, the preprocessing table."""
from __future__ import annotations

import io
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from http_fixture import real_file
from torch import nn

from core.data import house
from core.experiments import house_prices as hp
from core.train.metrics import log_rmse as log_rmse_metric


def book_get_k_fold_data(k, i, X, y):
    """The book's get_k_fold_data, verbatim (0.17.5, section 4.10)."""
    assert k > 1
    fold_size = X.shape[0] // k
    X_train, y_train = None, None
    for j in range(k):
        idx = slice(j * fold_size, (j + 1) * fold_size)
        X_part, y_part = X[idx, :], y[idx]
        if j == i:
            X_valid, y_valid = X_part, y_part
        elif X_train is None:
            X_train, y_train = X_part, y_part
        else:
            X_train = torch.cat([X_train, X_part], 0)
            y_train = torch.cat([y_train, y_part], 0)
    return X_train, y_train, X_valid, y_valid


@pytest.mark.parametrize("n, k", [(20, 5), (23, 5), (1460, 5), (31, 2), (50, 10)])
def test_fold_split_equals_the_books(n, k):
    X = torch.arange(n * 3, dtype=torch.float32).reshape(n, 3)
    y = torch.arange(n, dtype=torch.float32).reshape(n, 1) * 10
    for i in range(k):
        ours, book = hp.get_k_fold_data(k, i, X, y), book_get_k_fold_data(k, i, X, y)
        assert all(torch.equal(a, b) for a, b in zip(ours, book))
        assert len(ours[2]) == n // k and len(ours[0]) == (k - 1) * (n // k)  # a remainder is left out


def test_fold_split_refuses_what_cannot_be_split():
    X, y = torch.zeros(3, 2), torch.zeros(3, 1)
    with pytest.raises(ValueError):
        hp.get_k_fold_data(1, 0, X, y)
    with pytest.raises(ValueError):
        hp.get_k_fold_data(5, 0, X, y)  # 3 // 5 = 0 houses a fold
    assert hp.folds_problem(3, 5) == {"n": 3, "k": 5} and hp.folds_problem(10, 5) is None


def test_log_rmse_is_the_books_formula():
    g = torch.Generator().manual_seed(0)
    y = torch.rand(50, 1, generator=g) * 4e5 + 5e4
    y_hat = y * (1 + 0.3 * torch.randn(50, 1, generator=g))
    y_hat[:5] = torch.tensor([[-3.0], [0.0], [0.5], [1.0], [-1e6]])  # clamped to 1 before the log
    expected = math.sqrt(np.mean((np.log(np.maximum(y_hat.double().numpy(), 1.0)) - np.log(y.double().numpy())) ** 2))
    net = nn.Identity()
    assert hp.log_rmse(net, y_hat, y) == pytest.approx(expected, rel=1e-5)
    assert log_rmse_metric(y_hat, y) == pytest.approx(expected, rel=1e-5)  # what the runs record
    assert hp.log_rmse(net, y, y) == 0.0


def frame(n: int, seed: int = 0) -> pd.DataFrame:
    """n houses with every column; the price grows with LotArea and OverallQual."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"Id": np.arange(1, n + 1)})
    for col in house.FEATURES:
        df[col] = rng.normal(size=n) if col in house.NUMERIC else rng.choice(["A", "B", None], size=n)
    df["SalePrice"] = np.exp(12 + 0.3 * df["LotArea"] + 0.2 * df["OverallQual"] + 0.05 * rng.normal(size=n))
    return df


@pytest.fixture(scope="module")
def small():
    train, test = frame(120), frame(40, seed=1).drop(columns="SalePrice")
    test["Id"] += 1000
    return hp.make_data(train, test)


def test_make_data_keeps_the_test_ids(small):
    assert small.X.shape == (120, len(small.features)) and small.X_test.shape == (40, len(small.features))
    assert small.test_ids.tolist() == list(range(1001, 1041)) and small.y.shape == (120, 1)


def test_a_fold_trains_on_the_other_folds_and_validates_on_its_own(small):
    t = hp.build(replace(hp.BOOK, fold=2, k=4, num_epochs=1), small)
    X_train, y_train, X_valid, y_valid = book_get_k_fold_data(4, 2, small.X, small.y)
    assert torch.equal(t.train.tensors[0], X_train) and torch.equal(t.test.tensors[1], y_valid)
    assert t.optimizer_name == "adam" and t.hparams["lr"] == 5.0 and t.hparams["weight_decay"] == 0.0
    assert [type(m) for m in t.net] == [nn.Linear] and t.net[0].in_features == small.X.shape[1]
    all_data = hp.build(replace(hp.BOOK, num_epochs=1), small)
    assert all_data.test is None and torch.equal(all_data.train.tensors[0], small.X)
    mlp = hp.build(replace(hp.BOOK, model="mlp", num_epochs=1), small)
    assert [type(m) for m in mlp.net] == [nn.Linear, nn.ReLU, nn.Linear] and mlp.net[0].out_features == 64


def test_initial_weights_follow_torchs_default_bound_and_the_seed(small):
    d = small.X.shape[1]
    a, b = (hp.get_net(d)(torch.Generator().manual_seed(3)) for _ in range(2))
    assert torch.equal(a[0].weight, b[0].weight) and torch.equal(a[0].bias, b[0].bias)
    assert a[0].weight.abs().max() <= 1 / math.sqrt(d) and a[0].weight.std() > 0.5 / math.sqrt(3 * d)


def test_training_lowers_the_valid_log_rmse(small):
    t = hp.build(replace(hp.BOOK, fold=0, num_epochs=30), small, seed=0)
    t.advance()
    train = [e["train_metric"] for e in t.history.epochs]
    valid = [e["test_metric"] for e in t.history.epochs]
    assert valid[-1] < 0.5 * valid[0] and train[-1] < 0.5 * train[0]
    # the recorded figures are the book's log_rmse over the whole fold after the epoch
    _, _, X_valid, y_valid = hp.get_k_fold_data(5, 0, small.X, small.y)
    t.net.eval()
    assert valid[-1] == pytest.approx(hp.log_rmse(t.net, X_valid, y_valid), rel=1e-5)


def test_same_seed_replays_bit_for_bit(small):
    cfg = replace(hp.BOOK, fold=1, num_epochs=3, model="mlp", lr=0.1)
    a, b = hp.build(cfg, small, seed=7), hp.build(cfg, small, seed=7)
    a.advance(), b.advance()
    assert [r["loss"] for r in a.history.steps] == [r["loss"] for r in b.history.steps]
    c = hp.build(cfg, small, seed=8)
    c.advance()
    assert [r["loss"] for r in c.history.steps] != [r["loss"] for r in a.history.steps]


def test_the_folds_preset_trains_every_fold():
    preset = hp.folds_preset(4)
    configs = preset.configs(replace(hp.BOOK, k=4, lr=1.0))
    assert list(configs) == ["fold 1", "fold 2", "fold 3", "fold 4", "all training data"]
    assert [c.fold for c in configs.values()] == [0, 1, 2, 3, hp.ALL] and {c.lr for c in configs.values()} == {1.0}


def test_summary_averages_the_folds(small):
    trainers = {hp.fold_name(i): hp.build(replace(hp.BOOK, fold=i, k=3, num_epochs=2), small) for i in range(3)}
    before = hp.summary(trainers)
    assert before["folds"] == 0 and before["avg_valid"] is None
    for t in trainers.values():
        t.advance()
    s = hp.summary(trainers)
    last = [t.history.epochs[-1] for t in trainers.values()]
    assert s["folds"] == 3 and s["runs"]["fold 2"]["fold"] == 1
    assert s["avg_train"] == pytest.approx(sum(e["train_metric"] for e in last) / 3)
    assert s["avg_valid"] == pytest.approx(sum(e["test_metric"] for e in last) / 3)


def test_submission_from_the_model_on_all_the_data(small):
    t = hp.build(replace(hp.BOOK, num_epochs=20), small)
    t.advance(max_steps=7)  # 2 minibatches an epoch: mid-way through epoch 4
    losses = [r["loss"] for r in t.history.steps]
    seen = hp.predictions({"": t}, small)["runs"][""]  # between two steps: must not change the run
    t.advance()
    again = hp.build(replace(hp.BOOK, num_epochs=20), small)
    again.advance()
    assert [r["loss"] for r in t.history.steps] == [r["loss"] for r in again.history.steps]
    assert losses == [r["loss"] for r in again.history.steps][:7]
    assert seen["epoch"] == 3 and len(seen["prices"]) == 40
    final = hp.predictions({"": t}, small)["runs"][""]
    with torch.no_grad():
        expected = t.net(small.X_test).reshape(-1).clamp(min=1)
    assert final["prices"] == pytest.approx(expected.tolist())
    csv = hp.submission_csv(final["ids"], final["prices"])
    df = pd.read_csv(io.BytesIO(csv))
    assert list(df.columns) == ["Id", "SalePrice"] and len(df) == 40
    assert df["Id"].tolist() == list(range(1001, 1041)) and (df["SalePrice"] > 0).all()
    assert csv.startswith(b"Id,SalePrice\n1001,")
    # a fold's run is not a submission
    assert hp.predictions({"fold 1": hp.build(replace(hp.BOOK, fold=0), small)}, small) == {"runs": {}}


def test_predictions_below_one_are_raised_to_one():
    net = nn.Identity()
    assert hp.predict(net, torch.tensor([[-5.0], [0.2], [3.0], [2e5]])).tolist() == [1.0, 1.0, 3.0, 2e5]


def test_preprocessing_table_before_and_after():
    train, test = frame(6), frame(4, seed=1).drop(columns="SalePrice")
    train.loc[0, "LotArea"] = np.nan
    table = hp.preprocessing_table(train, test, columns=("LotArea", "MSZoning"), rows=3)
    assert list(table["before"].columns) == ["LotArea", "MSZoning"] and len(table["before"]) == 3
    assert list(table["after"].columns) == ["LotArea", "MSZoning_A", "MSZoning_B", "MSZoning_nan"]
    both = pd.concat((train["LotArea"], test["LotArea"]))
    mean, std = table["stats"]["LotArea"]
    assert mean == pytest.approx(both.mean()) and std == pytest.approx(both.std())
    after = table["after"]["LotArea"].tolist()
    assert after[0] == 0.0  # missing -> 0, the mean
    assert after[1:] == pytest.approx(((train["LotArea"][1:3] - mean) / std).tolist(), rel=1e-5)
    zoning = table["after"][["MSZoning_A", "MSZoning_B", "MSZoning_nan"]].to_numpy()
    assert (zoning.sum(axis=1) == 1).all()
    for row, value in zip(zoning, train["MSZoning"][:3]):
        assert row[["A", "B"].index(value) if isinstance(value, str) else 2] == 1
    assert table["shape_before"] == (10, 79) and table["shape_after"][0] == 10


@pytest.mark.realdata
def test_real_data_a_fold_at_the_books_settings_improves():
    folder = real_file(house.TRAIN_NAME).parent
    real_file(house.TEST_NAME)
    data = hp.load_data(folder, allow_download=False)
    assert data.X.shape == (1460, 330) and data.test_ids[:2].tolist() == [1461, 1462]
    t = hp.build(replace(hp.BOOK, fold=0, num_epochs=10), data, seed=0)
    t.advance()
    valid = [e["test_metric"] for e in t.history.epochs]
    assert valid[-1] < 0.5 * valid[0]  # 3.75 -> 1.51 in 10 of the book's 100 epochs (0.157 after 100)
    table = hp.preprocessing_table(*house.load_house(folder, allow_download=False))
    assert table["shape_before"] == (2919, 79) and table["shape_after"] == (2919, 330)
    assert table["before"]["LotArea"].tolist()[:2] == [8450, 9600]
