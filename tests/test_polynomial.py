"""The book's polynomial regression (model selection, underfitting, overfitting):
its data, the three cases, and the validation curve and K-fold cross-validation
trained many models at once (checked against the Trainer, one model at a time)."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from core.experiments import polynomial as poly
from core.experiments.polynomial import BOOK, Config, make_data, make_trainer
from core.train.trainer import Batches, Supervised, Trainer


def final(num_features: int, seed: int = 0, **settings) -> tuple[dict, Trainer]:
    t = make_trainer(num_features, seed=seed, **settings)
    t.advance()
    return t.history.epochs[-1], t


def test_the_features_are_x_to_the_i_over_i_factorial():
    (X, y), (X_test, y_test) = make_data(0)
    assert X.shape == (100, 20) and y.shape == (100, 1) and X_test.shape == (100, 20) and y_test.shape == (100, 1)
    x = torch.cat([X, X_test])[:, 1].double()
    book = torch.stack([x ** i / math.factorial(i) for i in range(20)], dim=1)
    assert torch.allclose(torch.cat([X, X_test]).double(), book, rtol=1e-5, atol=1e-38)  # float32 (x^19: 19 roundings)
    assert torch.equal(torch.cat([X, X_test])[:, 0], torch.ones(200))
    assert torch.allclose(poly.poly_features(x), book, rtol=1e-12, atol=0)


def test_the_labels_are_the_books_cubic_plus_noise():
    (X, y), (X_test, y_test) = make_data(3)
    assert poly.true_w().tolist() == [5.0, 1.2, -3.4, 5.6] + [0.0] * 16
    x = torch.cat([X, X_test])[:, 1].double()
    cubic = 5 + 1.2 * x - 3.4 * x ** 2 / 2 + 5.6 * x ** 3 / 6
    assert torch.allclose(poly.true_function(x), cubic, rtol=1e-12)
    noise = torch.cat([y, y_test])[:, 0].double() - cubic
    assert 0.08 < float(noise.std()) < 0.12 and abs(float(noise.mean())) < 0.03  # N(0, 0.1^2), 200 draws
    assert 0.8 < float(x.std()) < 1.2  # x ~ N(0, 1)


def test_the_run_is_the_books_model_and_replays_bit_for_bit():
    t = make_trainer(4, seed=5)
    assert isinstance(t.net, torch.nn.Linear) and t.net.bias is None and t.net.weight.shape == (1, 4)
    assert t.train.batch_size == 10 and len(t.train) == 10 and t.hparams["lr"] == 0.01 and t.num_epochs == 400
    assert make_trainer(4, n_train=10).train.batch_size == 10 and make_trainer(4, n_train=15).train.batch_size == 10
    bound = 1 / math.sqrt(4)
    assert float(t.net.weight.detach().abs().max()) <= bound  # nn.Linear's own initialisation
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    a = make_trainer(4, seed=5, num_epochs=3)
    a.advance()
    assert torch.equal(torch.random.get_rng_state(), state)  # the global generator is never touched
    torch.manual_seed(999)
    b = make_trainer(4, seed=5, num_epochs=3)
    b.advance()
    def values(t):
        return [{k: v for k, v in r.items() if k not in ("elapsed", "examples_per_sec")} for r in t.history.epochs]

    assert values(a) == values(b) and len(values(a)) == 3
    assert torch.equal(a.net.weight, b.net.weight)
    c = make_trainer(4, seed=6, num_epochs=3)
    c.advance()
    assert not torch.equal(a.net.weight, c.net.weight)


def test_the_epoch_records_carry_the_losses_and_coefficients():
    t = make_trainer(4, num_epochs=2)
    t.advance()
    last = t.history.epochs[-1]
    w = t.net.weight.detach()[0].tolist()
    assert [last[f"w{i}"] for i in range(4)] == w
    (X, y), (X_test, y_test) = poly.split(replace(BOOK, num_features=4))
    with torch.no_grad():
        assert last["test_loss"] == pytest.approx(float(((t.net(X_test) - y_test) ** 2).mean()), rel=1e-5)
        assert last["train_loss"] == pytest.approx(float(((t.net(X) - y) ** 2).mean()), rel=1e-5)  # MSE, no 1/2
    under = make_trainer(2, num_epochs=1)
    under.advance()
    assert "w1" in under.history.epochs[-1] and "w2" not in under.history.epochs[-1]


def test_four_features_learn_the_true_weights():
    """The book's 400 epochs bring the losses down a hundredfold; w3 (its feature
    x^3/3! is small for most x) converges slowly, as in the book's own printout
    (0.17.5: 5.06 for 5.6). Trained on to 2000 epochs (fit_models trains as the
    Trainer does, see below), the weights reach the true ones."""
    last, t = final(4)
    losses = [r["test_loss"] for r in t.history.epochs]
    assert losses[-1] < losses[0] / 100 and last["test_loss"] < 0.2
    assert torch.allclose(t.net.weight.detach()[0, :3], torch.tensor(poly.TRUE_W[:3]), atol=0.25)
    early = (t.net.weight.detach()[0] - torch.tensor(poly.TRUE_W)).abs().max()
    (X, y), (X_test, y_test) = poly.split(BOOK)
    out = poly.fit_models(X[None], y[None], X_test[None], y_test[None], [4], lr=0.01, batch_size=10,
                          num_epochs=2000, seed=0)
    w, train, test = out["w"][0, 0], float(out["train_loss"][0, 0]), float(out["eval_loss"][0, 0])
    assert torch.allclose(w, torch.tensor(poly.TRUE_W), atol=0.1), w
    assert (w - torch.tensor(poly.TRUE_W)).abs().max() <= early
    assert 0.005 < train < 0.02 and 0.005 < test < 0.02  # the noise's variance, 0.01
    assert 0.5 < test / train < 2  # no gap


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_four_features_learn_the_true_weights_whatever_the_data(seed):
    cfg = replace(BOOK, num_epochs=2000)
    (X, y), (X_test, y_test) = poly.split(cfg, seed)
    w = poly.fit_models(X[None], y[None], X_test[None], y_test[None], [4], lr=cfg.lr, batch_size=10,
                        num_epochs=cfg.num_epochs, seed=seed)["w"][0, 0]
    assert torch.allclose(w, torch.tensor(poly.TRUE_W), atol=0.1), w


def test_more_epochs_approach_the_least_squares_solution():
    """The book's exercise: the problem has an exact solution; SGD goes towards it."""
    (X, y), (X_test, y_test) = poly.split(BOOK)
    exact = torch.linalg.lstsq(X.double(), y.double()).solution[:, 0].float()

    def error(num_epochs):
        out = poly.fit_models(X[None], y[None], X_test[None], y_test[None], [4], lr=0.01, batch_size=10,
                              num_epochs=num_epochs, seed=0)
        return float((out["w"][0, 0] - exact).abs().max())

    assert error(1000) < error(100) / 5 and error(2000) < 0.01


@pytest.mark.parametrize("seed", [0, 1])
def test_two_features_underfit(seed):
    under, t = final(2, seed)
    normal = poly.validation_curve(BOOK, seed)  # 4 features, trained as the Trainer does
    assert under["train_loss"] > 50 * normal["train_loss"][3] and under["test_loss"] > 50 * normal["test_loss"][3]
    assert under["train_loss"] > 1  # the book's plot: about 2.5-2.9
    # no line does much better: the least-squares line's training loss is what SGD reached
    (X, y), _ = poly.split(replace(BOOK, num_features=2), seed)
    exact = torch.linalg.lstsq(X.double(), y.double()).solution
    best = float(((X.double() @ exact - y.double()) ** 2).mean())
    assert best > 1 and under["train_loss"] < 1.05 * best


@pytest.mark.parametrize("seed", [0, 1])
def test_twenty_features_with_few_examples_overfit(seed):
    over, _ = final(20, seed, n_train=10, num_epochs=1500)
    assert over["test_loss"] > 2 * over["train_loss"]


@pytest.mark.parametrize("num_features", [1, 4, 20])
def test_fit_models_trains_exactly_as_the_trainer(num_features):
    cfg = replace(BOOK, n_train=25, num_epochs=30)  # 25: a short last minibatch each epoch
    curve = poly.validation_curve(cfg, seed=4)
    t = poly.build(replace(cfg, num_features=num_features), seed=4)
    t.advance()
    last = t.history.epochs[-1]
    j = curve["num_features"].index(num_features)
    assert curve["train_loss"][j] == pytest.approx(last["train_loss"], rel=1e-4)
    assert curve["test_loss"][j] == pytest.approx(last["test_loss"], rel=1e-4)


def test_the_validation_curve_drops_at_four_features():
    """At the book's 400 epochs: every model with the cubic's 4 features or more
    beats every model with fewer by an order of magnitude."""
    curve = poly.validation_curve(BOOK, seed=0)
    assert curve["num_features"] == list(range(1, 21))
    test, train = curve["test_loss"], curve["train_loss"]
    assert min(test[:3]) > 10 * max(test[3:]) and min(train[:3]) > 10 * max(train[3:])
    assert test[curve["best"] - 1] == min(test) and curve["best"] >= 4


@pytest.mark.parametrize("seed", [0, 1])
def test_trained_to_convergence_the_validation_curve_is_lowest_near_four_features(seed):
    curve = poly.validation_curve(replace(BOOK, num_epochs=2000), seed=seed)
    test = curve["test_loss"]
    assert 4 <= curve["best"] <= 6 and test[3] < 1.2 * min(test)
    assert min(test[:3]) > 100 * test[3]
    assert 0.005 < test[3] < 0.02  # about the noise's variance


def test_k_fold_means_are_the_means_of_the_folds():
    cfg = replace(BOOK, n_train=52, num_epochs=40)
    kf = poly.k_fold(cfg, seed=1, k=5)
    assert kf["fold_size"] == 10 and kf["k"] == 5 and len(kf["valid_loss"]) == 20
    for folds, mean in zip(kf["valid_loss"], kf["mean_valid_loss"]):
        assert len(folds) == 5 and mean == pytest.approx(sum(folds) / 5, rel=1e-6)
    assert kf["best"] == 1 + min(range(20), key=lambda j: kf["mean_valid_loss"][j])


def test_a_fold_is_the_trainer_on_the_other_folds():
    """Fold 2 of 4 (the book's get_k_fold_data: folds in order, the remainder left out)."""
    cfg = replace(BOOK, n_train=42, num_epochs=20)
    kf = poly.k_fold(cfg, seed=2, k=4)
    (X, y), _ = poly.split(replace(cfg, num_features=20), seed=2)
    fold = 42 // 4
    valid = slice(2 * fold, 3 * fold)
    keep = torch.cat([torch.arange(0, 2 * fold), torch.arange(3 * fold, 4 * fold)])
    for d in (3, 4):
        t = Trainer(poly.linear(d), Batches(X[keep, :d], y[keep], batch_size=10),
                    test=Batches(X[valid, :d], y[valid], batch_size=fold, shuffle=False),
                    objective=Supervised(loss=poly.mse), lr=0.01, num_epochs=20, seed=2)
        t.advance()
        assert kf["valid_loss"][d - 1][2] == pytest.approx(t.history.epochs[-1]["test_loss"], rel=1e-4)


@pytest.mark.parametrize("seed", [0, 1])
def test_k_fold_picks_about_four_features_without_the_test_set(seed):
    kf = poly.k_fold(replace(BOOK, num_epochs=2000), seed=seed, k=5)
    valid = kf["mean_valid_loss"]
    assert 4 <= kf["best"] <= 6 and valid[3] < 1.2 * min(valid) and min(valid[:3]) > 100 * valid[3]


def test_k_fold_refuses_more_folds_than_examples():
    with pytest.raises(ValueError):
        poly.k_fold(replace(BOOK, n_train=10), k=11)
    with pytest.raises(ValueError):
        poly.k_fold(BOOK, k=1)


def test_the_picture_is_the_runs_model():
    trainers = {"a": make_trainer(4, num_epochs=5), "b": make_trainer(2, num_epochs=5)}
    for t in trainers.values():
        t.advance()
    seen = poly.picture(trainers, points=11)
    grid = torch.tensor(seen["grid"], dtype=torch.float64)
    assert len(grid) == 11 and seen["true_w"][:4] == list(poly.TRUE_W)
    (X, y), (X_test, y_test) = make_data(0)
    assert seen["train"]["x"] == X[:, 1].tolist() and seen["train"]["y"] == y[:, 0].tolist()
    assert seen["test"]["y"] == y_test[:, 0].tolist()
    assert grid.min() == min(seen["train"]["x"] + seen["test"]["x"])
    for name, t in trainers.items():
        w = t.net.weight.detach()[0]
        assert seen["runs"][name]["w"] == w.tolist()
        expected = poly.poly_features(grid, len(w)).float() @ w
        assert torch.allclose(torch.tensor(seen["runs"][name]["fitted"]), expected, rtol=1e-5, atol=1e-5)
    assert torch.allclose(torch.tensor(seen["true"], dtype=torch.float64),
                          5 + 1.2 * grid - 1.7 * grid ** 2 + 5.6 / 6 * grid ** 3)


def test_the_presets_are_the_books_three_cases():
    (preset,) = poly.PRESETS
    cfgs = preset.configs(replace(BOOK, n_train=40))
    assert sorted(c.num_features for c in cfgs.values()) == [2, 4, 20]
    assert all(c.n_train == 40 for c in cfgs.values())
    assert Config().num_features == 4 and Config().num_epochs == 400 and Config().lr == 0.01
