"""The book's polynomial regression: model selection, underfitting and overfitting.

The experiment of the 0.x editions' section 4.4 "Model Selection, Underfitting,
and Overfitting" (d2l 1.0 discusses the same curve fitting in 3.6
"Generalization", without code). Labels come from a cubic,

    y = 5 + 1.2 x - 3.4 x^2 / 2! + 5.6 x^3 / 3! + eps,  eps ~ N(0, 0.1^2),  x ~ N(0, 1),

and a linear model without bias is fitted on the first `num_features` of the
features x^i / i! (i < max_degree = 20), the book's `poly_features` divided by
gamma(i + 1): 4 features is the true model ("normal"), 2 a line ("underfit"),
20 a degree-19 polynomial ("overfit"). The book's training: nn.Linear(d, 1,
bias=False), MSE, SGD with lr 0.01, batch min(10, n_train), 400 epochs.

Besides the live run (`build`), the model-selection pictures: the validation
curve (final losses for every number of features, 1..20) and K-fold
cross-validation over the training set. They train many tiny models at once
(`fit_models`: the same SGD, the same minibatch order and the same initial
weights as a Trainer built by `build` from the same seed, vectorised over the
models), so all twenty take a fraction of a second.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

import torch
from torch import nn

from core.experiments.schema import Preset, config, setting
from core.train.trainer import Batches, Supervised, Trainer

MAX_DEGREE = 20
TRUE_W = (5.0, 1.2, -3.4, 5.6)  # w_0..w_3; every higher coefficient is 0
NOISE_STD = 0.1
TRACKED = 4  # the coefficients recorded each epoch (w0..w3, the ones that are not 0)

# The book's printed results, d2l 0.17.5 (the executed notebook of the PyTorch edition):
# the learned weights (printed) and the final train / test losses (read off its plots,
# +-5%); the same notebook built by 0.17.4 / an earlier 0.17.5 build gave the second figures.
BOOK_WEIGHTS = {
    4: (4.9471197, 1.3744701, -3.2939832, 5.0603127),
    2: (3.6676598, 2.8224483),
    20: (4.9818273, 1.2266821, -3.340848, 5.3491354, -0.31759828, 1.2608479, 0.20881772, -0.04725569,
         0.14892168, -0.20024225, -0.16775228, 0.00766933, -0.20316945, 0.1516963, 0.13061754, -0.15200172,
         -0.09289141, -0.14818175, 0.12615891, 0.06182469),
}
BOOK_LOSSES = {  # num_features: ((train, test) in 0.17.5, (train, test) in the 0.17.4 build); 20 features: 1500 epochs
    4: ((0.023, 0.048), (0.0085, 0.010)),
    2: ((2.46, 11.3), (2.88, 22.1)),
    20: ((0.0128, 0.0137), (0.0086, 0.082)),
}
CASES = {4: "normal", 2: "underfit", 20: "overfit"}


@config
class Config:
    """The book's settings; `num_features` is the model's complexity (degree + 1)."""

    num_features: int = setting(4, "number of features (degree + 1)", min=1, max=MAX_DEGREE,
                                help="The model uses 1, x, x²/2!, ... up to this many features. "
                                     "4 is the true cubic (the book's normal case), 2 a line (underfit), "
                                     "20 a degree-19 polynomial (overfit).")
    n_train: int = setting(100, "training examples", min=10, max=100, step=5,
                           help="The first n of the book's 100 training examples; the 100 test examples stay "
                                "the same. Fewer examples make overfitting easier.")
    num_epochs: int = setting(400, "epochs", min=20, max=2000, step=20, live=True,
                              help="The book trains 400 epochs (1500 for the overfit case).")
    lr: float = 0.01
    batch_size: int = 10  # the book's min(10, n_train)
    n_test: int = 100
    max_degree: int = MAX_DEGREE


BOOK = Config()
PRESETS = [Preset("Three cases: 4, 2 and 20 features", {
    "normal (4)": {"num_features": 4}, "underfit (2)": {"num_features": 2}, "overfit (20)": {"num_features": 20}})]


# ------------------------------------------------------------------- the data
def true_w(max_degree: int = MAX_DEGREE) -> torch.Tensor:
    """The book's true_w: [5, 1.2, -3.4, 5.6, 0, 0, ...] (float64)."""
    w = torch.zeros(max_degree, dtype=torch.float64)
    w[:len(TRUE_W)] = torch.tensor(TRUE_W, dtype=torch.float64)
    return w


def poly_features(x: torch.Tensor, max_degree: int = MAX_DEGREE) -> torch.Tensor:
    """The book's features of x (any shape, flattened): column i is x^i / i!."""
    x = x.reshape(-1, 1)
    i = torch.arange(max_degree, dtype=x.dtype)
    return x ** i / torch.exp(torch.lgamma(i + 1))  # gamma(i + 1) = i!


def true_function(x: torch.Tensor) -> torch.Tensor:
    """The noise-free cubic the labels come from, at x."""
    return poly_features(x.to(torch.float64), len(TRUE_W)) @ torch.tensor(TRUE_W, dtype=torch.float64)


def make_data(seed: int = 0, n_train: int = 100, n_test: int = 100, max_degree: int = MAX_DEGREE):
    """The book's data from a generator seeded by `seed`: x ~ N(0, 1), features
    x^i / i!, labels from TRUE_W plus N(0, 0.1^2) noise, computed in float64 and
    then stored as float32 (as the book does). Returns (features, labels) of the
    training and of the test set: ((n_train, max_degree), (n_train, 1)), ..."""
    g = torch.Generator().manual_seed(seed + 2000)
    x = torch.normal(0.0, 1.0, (n_train + n_test, 1), generator=g, dtype=torch.float64)
    features = poly_features(x, max_degree)
    labels = features @ true_w(max_degree)
    labels = labels + torch.normal(0.0, NOISE_STD, labels.shape, generator=g, dtype=torch.float64)
    features, labels = features.float(), labels.float().reshape(-1, 1)
    return (features[:n_train], labels[:n_train]), (features[n_train:], labels[n_train:])


def split(cfg: Config, seed: int = 0, device="cpu"):
    """The run's data: the first cfg.n_train of the book's 100 training examples
    (the test set is always the same 100) and their first cfg.num_features
    features."""
    (X, y), (X_test, y_test) = make_data(seed, BOOK.n_train, cfg.n_test, cfg.max_degree)
    d, n = cfg.num_features, cfg.n_train
    return (X[:n, :d].to(device), y[:n].to(device)), (X_test[:, :d].to(device), y_test.to(device))


# -------------------------------------------------------------------- the run
def init_weight(num_features: int, generator: torch.Generator) -> torch.Tensor:
    """nn.Linear's default initial weight, U(-1/sqrt(d), 1/sqrt(d)) of shape
    (1, d), drawn from `generator` (never the global one)."""
    bound = 1 / math.sqrt(num_features)
    return torch.empty(1, num_features).uniform_(-bound, bound, generator=generator)


def linear(num_features: int):
    """net_fn: the book's nn.Linear(num_features, 1, bias=False); the weight drawn from the run's generator."""

    def net_fn(gen: torch.Generator) -> nn.Module:
        net = nn.utils.skip_init(nn.Linear, num_features, 1, bias=False)  # no draw from the global RNG
        with torch.no_grad():
            net.weight.copy_(init_weight(num_features, gen))
        return net

    return net_fn


def mse(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The book's nn.MSELoss(reduction='none'): (y_hat - y)^2 per example, no 1/2."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2


def coefficients_record(trainer: Trainer, record: dict) -> dict:
    """epoch_end: the learned w0..w3 (those the model has) as w0, w1, ..."""
    w = trainer.net.weight.detach()[0, :TRACKED].tolist()
    return {f"w{i}": v for i, v in enumerate(w)}


def batch_size(cfg: Config, n_train: int | None = None) -> int:
    """The book's min(10, n_train)."""
    return min(cfg.batch_size, cfg.n_train if n_train is None else n_train)


def build(cfg: Config = BOOK, data=None, *, seed: int = 0, device="cpu") -> Trainer:
    """The book's training of one polynomial: epoch records carry the train and
    test loss (MSE over the whole set, after the epoch, as the book's
    evaluate_loss) and the first coefficients w0..w3. The data is drawn from
    the seed (`data` is unused: every experiment's build takes the same arguments)."""
    (X, y), (X_test, y_test) = split(cfg, seed, device)
    return Trainer(
        linear(cfg.num_features),
        Batches(X, y, batch_size=batch_size(cfg)),
        test=Batches(X_test, y_test, batch_size=cfg.n_test, shuffle=False),
        objective=Supervised(loss=mse), lr=cfg.lr, num_epochs=cfg.num_epochs, seed=seed, device=device,
        eval_train=True, callbacks=[("epoch_end", coefficients_record)],
    )


def make_trainer(num_features: int = 4, *, seed: int = 0, device="cpu", **settings) -> Trainer:
    """build() with the number of features and any other setting as keywords (tests, benchmarks)."""
    return build(replace(BOOK, num_features=num_features, **settings), seed=seed, device=device)


# -------------------------------------------------------- the page's picture
def picture(trainers: Mapping[str, Trainer], *, points: int = 121) -> dict:
    """The page's view (called in the run's worker between two steps): each
    run's learned weights beside the true ones, its fitted polynomial on a grid
    of x spanning the data, and the data (the runs of a preset share it)."""
    first = next(iter(trainers.values()))
    y, y_test = first.train.tensors[1], first.test.tensors[1]
    (X_all, _), (X_test_all, _) = make_data(first.seed)  # x is feature 1 (the run may not have it)
    x, x_test = X_all[:len(y), 1], X_test_all[:, 1]
    lo, hi = float(min(x.min(), x_test.min())), float(max(x.max(), x_test.max()))
    grid = torch.linspace(lo, hi, points, dtype=torch.float64)
    runs = {}
    for name, t in trainers.items():
        d = t.net.weight.shape[1]
        with t.probe():
            fitted = t.net(poly_features(grid, d).float().to(t.device))
        runs[name] = {"w": t.net.weight.detach()[0].cpu().tolist(), "fitted": fitted[:, 0].cpu().tolist(),
                      "epoch": t.epoch}
    return {
        "runs": runs, "true_w": true_w().tolist(), "grid": grid.tolist(), "true": true_function(grid).tolist(),
        "train": {"x": x.tolist(), "y": y[:, 0].cpu().tolist()},
        "test": {"x": x_test.tolist(), "y": y_test[:, 0].cpu().tolist()},
    }


# ------------------------------------------------------ many models at once
def fit_models(X: torch.Tensor, y: torch.Tensor, X_eval: torch.Tensor, y_eval: torch.Tensor,
               num_features: Sequence[int], *, lr: float, batch_size: int, num_epochs: int, seed: int) -> dict:
    """Train one model per entry of `num_features` on each of F training sets at
    once, exactly as `build` would train each (the same initial weights from a
    generator seeded `seed`, the same minibatch order from one seeded
    `seed + 1`, minibatch SGD on the MSE), vectorised: X (F, m, D), y (F, m, 1),
    X_eval (F, n, D), y_eval (F, n, 1). Model j uses the first num_features[j]
    columns. Returns {"train_loss", "eval_loss": (F, M) tensors, "w": (F, M, D)}."""
    F_, m, D = X.shape
    ds = list(num_features)
    W = torch.zeros(len(ds), D)
    for j, d in enumerate(ds):
        W[j, :d] = init_weight(d, torch.Generator().manual_seed(seed))[0]
    mask = (torch.arange(D)[None, :] < torch.tensor(ds)[:, None]).to(X.dtype)  # (M, D): model j's features
    W = W.expand(F_, -1, -1).clone()  # (F, M, D)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for _ in range(num_epochs):
            order = torch.randperm(m, generator=gen)
            for i in range(0, m, batch_size):
                idx = order[i:i + batch_size]
                Xb = X[:, idx]  # (F, b, D)
                err = torch.bmm(Xb, W.transpose(1, 2)) - y[:, idx]  # y_hat - y of every model: (F, b, M)
                grad = torch.bmm(err.transpose(1, 2), Xb).mul_(mask)  # the sum over the batch of err * x
                W.sub_(grad, alpha=lr * 2 / len(idx))  # d MSE / dw = 2/b sum err x

    def loss(Xs, ys):
        return ((torch.bmm(Xs, W.transpose(1, 2)) - ys) ** 2).mean(dim=1)

    return {"train_loss": loss(X, y), "eval_loss": loss(X_eval, y_eval), "w": W}


def validation_curve(cfg: Config = BOOK, seed: int = 0) -> dict:
    """Final train and test loss of the book's training for every number of
    features 1..max_degree, from the same data and seed as the live run (each
    point is what `build` with that num_features reaches). `best` is the number
    of features with the lowest test loss."""
    (X, y), (X_test, y_test) = split(replace(cfg, num_features=cfg.max_degree), seed)
    ds = list(range(1, cfg.max_degree + 1))
    out = fit_models(X[None], y[None], X_test[None], y_test[None], ds, lr=cfg.lr, batch_size=batch_size(cfg),
                     num_epochs=cfg.num_epochs, seed=seed)
    test = out["eval_loss"][0].tolist()
    return {"num_features": ds, "train_loss": out["train_loss"][0].tolist(), "test_loss": test,
            "best": ds[min(range(len(ds)), key=lambda j: _key(test[j]))]}


def k_fold(cfg: Config = BOOK, seed: int = 0, k: int = 5) -> dict:
    """K-fold cross-validation over the training set (the book's get_k_fold_data:
    folds of n_train // k examples in order, any remainder left out), for every
    number of features 1..max_degree: fold i validates the model trained on the
    other k - 1. The test set is not used. Returns per-fold and mean losses by
    number of features, and `best`, the number of features with the lowest mean
    validation loss."""
    fold = cfg.n_train // k
    if k < 2 or fold < 1:
        raise ValueError(f"k-fold needs 2 <= k <= n_train: k={k}, n_train={cfg.n_train}")
    (X, y), _ = split(replace(cfg, num_features=cfg.max_degree), seed)
    parts = [(X[i * fold:(i + 1) * fold], y[i * fold:(i + 1) * fold]) for i in range(k)]
    train = [(torch.cat([p[0] for j, p in enumerate(parts) if j != i]),
              torch.cat([p[1] for j, p in enumerate(parts) if j != i])) for i in range(k)]
    ds = list(range(1, cfg.max_degree + 1))
    out = fit_models(torch.stack([t[0] for t in train]), torch.stack([t[1] for t in train]),
                     torch.stack([p[0] for p in parts]), torch.stack([p[1] for p in parts]), ds, lr=cfg.lr,
                     batch_size=batch_size(cfg, (k - 1) * fold), num_epochs=cfg.num_epochs, seed=seed)
    valid = out["eval_loss"].T.tolist()  # (M, k)
    mean_valid = out["eval_loss"].mean(dim=0).tolist()
    return {"num_features": ds, "k": k, "fold_size": fold, "valid_loss": valid, "mean_valid_loss": mean_valid,
            "mean_train_loss": out["train_loss"].mean(dim=0).tolist(),
            "best": ds[min(range(len(ds)), key=lambda j: _key(mean_valid[j]))]}


def _key(value: float) -> float:
    """Sort key that puts a diverged (NaN) loss last."""
    return value if math.isfinite(value) else math.inf
