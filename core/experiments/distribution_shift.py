"""Environment and distribution shift (book section 4.7): covariate shift and
its correction by importance weights, label shift and its estimate from a
confusion matrix.

Covariate shift (core.data.shift): a classifier is trained on source inputs
and tested on target inputs drawn elsewhere, with the same p(y | x). The book's
correction (4.7.3.1):

1. train a binary classifier h by logistic regression to tell target inputs
   (z = 1) from source inputs (z = -1), h(x) = w . x + b its logit;
2. weigh each source example by beta_i = exp(h(x_i)) (= p / (1 - p)), times
   n_source / n_target when the two samples differ in size (the book assumes
   equal sizes), which estimates q(x_i) / p(x_i);
3. train the classifier on the source with the loss of example i weighted by beta_i.

The live run (`build`) trains one classifier on the source by minibatch SGD,
its loss weighted by beta (weighting "importance", the weights scaled to mean 1)
or not ("none"); its test set is the target. The preset trains both side by
side from the same seed and data.

Label shift (4.7.3.3): p(y) changes, p(x | y) stays. With a classifier f
trained on the source, its confusion matrix on source validation data,
C_ij = P(f(x) = i | y = j), and the mean of its predictions on the target
inputs mu(y_hat), the target's label distribution solves C q(y) = mu(y_hat).
`label_shift` computes that estimate and retrains with beta_i = q(y_i) / p(y_i).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from core.data import shift as data
from core.experiments.schema import Preset, config, setting
from core.train import metrics
from core.train.protocols import StepOut
from core.train.trainer import Batches, Trainer

MODELS = {"logistic": "logistic regression", "mlp": "small MLP (2-16-16-2, ReLU)"}
WEIGHTINGS = {"none": "none (plain loss)", "importance": "importance weights β (corrected)"}
NUM_EXAMPLES = (100, 200, 500, 1000, 2000, 5000)
LRS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
NUM_HIDDENS = 16
RIDGE = 1e-4  # a tiny L2 penalty keeps the domain classifier's Newton steps finite on separable data


@config
class Config:
    """The covariate-shift run. Section 4.7 has no code of its own: the training
    is the book's softmax regression (4.4-4.5): minibatch SGD with lr 0.1 on the
    cross-entropy, here batch size 32 on the smaller data."""

    shift: float = setting(2.0, "amount of shift", min=0.0, max=3.0, step=0.25,
                           help="How far the test inputs lie from the training inputs, along the class boundary "
                                "(the distance in x₁ between the two means; 0: no shift).")
    num_examples: int = setting(1000, "examples (train and test each)", options=NUM_EXAMPLES,
                                help="Source examples to train on; as many unlabeled target inputs are used to fit "
                                     "the domain classifier and, with their labels, to test.")
    model: str = setting("logistic", "model", options=tuple(MODELS), labels=MODELS,
                         help="Logistic regression cannot bend its boundary: it learns the part of the parabola "
                              "where the training data lies. The MLP can bend, but only learns where it has data.")
    weighting: str = setting("none", "loss weighting", options=tuple(WEIGHTINGS), labels=WEIGHTINGS,
                             help="Importance weights β = exp(h(x)) from the domain classifier h make the training "
                                  "loss estimate the loss on the test distribution.")
    lr: float = setting(0.1, "lr (learning rate)", options=LRS, live=True,
                        help="Takes effect at the next minibatch. Very large values make the loss diverge.")
    num_epochs: int = setting(20, "num_epochs", min=1, max=100, live=True)
    batch_size: int = 32


@config
class LabelConfig:
    """The label-shift section (computed on the page, no live run)."""

    label_shift: float = setting(0.8, "amount of label shift", min=0.0, max=1.0, step=0.1,
                                 help="The target's p(y) moves from uniform (0) to (0.1, 0.2, 0.7) (1); "
                                      "p(x | y) stays the same.")
    label_examples: int = setting(2000, "examples per set", options=NUM_EXAMPLES,
                                  help="Source training, source validation and target sets each have this many.")


BOOK = Config()
PRESETS = [
    Preset("Uncorrected vs corrected", {"uncorrected": {"weighting": "none"},
                                        "corrected (β)": {"weighting": "importance"}}),
    Preset("Both models, uncorrected vs corrected", {
        "logistic": {"model": "logistic", "weighting": "none"},
        "logistic, β": {"model": "logistic", "weighting": "importance"},
        "MLP": {"model": "mlp", "weighting": "none"},
        "MLP, β": {"model": "mlp", "weighting": "importance"}}),
]


# ------------------------------------------------------------ the domain classifier
def domain_classifier(X_source: torch.Tensor, X_target: torch.Tensor, *, ridge: float = RIDGE,
                      iterations: int = 50) -> tuple[torch.Tensor, float]:
    """Logistic regression telling target (z = 1) from source (z = 0) inputs,
    fitted exactly by Newton's method in float64 (with a tiny L2 penalty on w):
    returns (w, b) of the logit h(x) = w . x + b."""
    X = torch.cat([X_source, X_target]).to(torch.float64)
    z = torch.cat([torch.zeros(len(X_source)), torch.ones(len(X_target))]).to(torch.float64)
    A = torch.cat([X, torch.ones(len(X), 1, dtype=torch.float64)], dim=1)
    theta = torch.zeros(A.shape[1], dtype=torch.float64)
    penalty = torch.full((A.shape[1],), ridge * len(X), dtype=torch.float64)
    penalty[-1] = 0.0  # not on b
    for _ in range(iterations):
        p = torch.sigmoid(A @ theta)
        grad = A.T @ (p - z) + penalty * theta
        hess = (A * (p * (1 - p))[:, None]).T @ A + torch.diag(penalty) + 1e-12 * torch.eye(A.shape[1],
                                                                                            dtype=torch.float64)
        delta = torch.linalg.solve(hess, grad)
        theta = theta - delta
        if float(delta.abs().max()) < 1e-10:
            break
    return theta[:-1], float(theta[-1])


def importance_weights(X: torch.Tensor, w: torch.Tensor, b: float, n_source: int, n_target: int) -> torch.Tensor:
    """The book's beta_i = exp(h(x_i)), times n_source / n_target (the odds of
    the domain classifier include the ratio of the sample sizes): an estimate
    of q(x_i) / p(x_i), float64."""
    return torch.exp(X.to(torch.float64) @ w + b) * (n_source / n_target)


def covariate_weights(X: torch.Tensor, X_target: torch.Tensor) -> torch.Tensor:
    """beta for the source inputs X, from a domain classifier fitted on X and X_target."""
    w, b = domain_classifier(X, X_target)
    return importance_weights(X, w, b, len(X), len(X_target))


# --------------------------------------------------------------------- the models
def _linear(n_in: int, n_out: int, gen: torch.Generator) -> nn.Linear:
    """nn.Linear with torch's default initial values, U(-1/sqrt(n_in), 1/sqrt(n_in)),
    drawn from `gen` (skip_init: no draw from the global generator)."""
    layer = nn.utils.skip_init(nn.Linear, n_in, n_out)
    bound = 1 / math.sqrt(n_in)
    with torch.no_grad():
        layer.weight.copy_(torch.empty(n_out, n_in).uniform_(-bound, bound, generator=gen))
        layer.bias.copy_(torch.empty(n_out).uniform_(-bound, bound, generator=gen))
    return layer


def make_net(model: str, num_classes: int, gen: torch.Generator, num_inputs: int = 2) -> nn.Module:
    """Logistic (softmax) regression: nn.Linear(2, k); or the small MLP 2-16-16-k with ReLU."""
    if model == "logistic":
        return _linear(num_inputs, num_classes, gen)
    if model == "mlp":
        return nn.Sequential(_linear(num_inputs, NUM_HIDDENS, gen), nn.ReLU(), _linear(NUM_HIDDENS, NUM_HIDDENS, gen),
                             nn.ReLU(), _linear(NUM_HIDDENS, num_classes, gen))
    raise ValueError(f"unknown model {model!r}: use one of {list(MODELS)}")


class Weighted:
    """The objective on batches (X, y, beta): the mean over the batch of
    beta_i * cross-entropy(net(x_i), y_i); the metric is plain accuracy."""

    metric = metrics.accuracy

    def __call__(self, net: nn.Module, batch: tuple) -> StepOut:
        X, y, beta = batch
        y_hat = net(X)
        l = (beta * F.cross_entropy(y_hat, y, reduction="none")).mean()
        y_hat = y_hat.detach()
        return StepOut(l, len(X), self.metric.batch_sum(y_hat, y), y_hat)


# -------------------------------------------------------------------- the run
def make_data(cfg: Config, seed: int = 0) -> dict:
    """The run's data: source and target sets, and beta for the source examples."""
    d = data.covariate_data(cfg.shift, cfg.num_examples, cfg.num_examples, seed)
    d["beta"] = covariate_weights(d["X"], d["X_test"])
    return d


def build(cfg: Config = BOOK, data_=None, *, seed: int = 0, device="cpu") -> Trainer:
    """The classifier trained on the source, tested on the target. The loss
    weights are beta scaled to mean 1 (the same minimiser; lr keeps its meaning)
    with weighting "importance", else 1. The data is drawn from the seed
    (`data_` is unused: every experiment's build takes the same arguments)."""
    d = make_data(cfg, seed)
    beta = (d["beta"] / d["beta"].mean()).float() if cfg.weighting == "importance" else torch.ones(len(d["X"]))
    X, y, X_test, y_test = (d[k].to(device) for k in ("X", "y", "X_test", "y_test"))
    return Trainer(
        lambda gen: make_net(cfg.model, 2, gen),
        Batches(X, y, beta.to(device), batch_size=cfg.batch_size),
        test=Batches(X_test, y_test, torch.ones(len(X_test), device=device), batch_size=len(X_test), shuffle=False),
        objective=Weighted(), lr=cfg.lr, num_epochs=cfg.num_epochs, seed=seed, device=device,
        config=dataclasses.asdict(cfg),
    )


def make_trainer(*, seed: int = 0, device="cpu", **settings) -> Trainer:
    """build() with any setting as a keyword (tests, benchmarks)."""
    return build(dataclasses.replace(BOOK, **settings), seed=seed, device=device)


# --------------------------------------------------------------- the picture
def picture(trainers: Mapping[str, Trainer], *, grid: int = 61, max_points: int = 400) -> dict:
    """The page's view (in the run's worker, between two steps): the source
    and target examples (the first `max_points` of each), beta of each source
    example, the true boundary, and each run's p(y = 1 | x) on a grid (its
    decision boundary is where it crosses 0.5). Reads the run's data again from
    its seed and settings; never touches the run's generators or weights."""
    first = next(iter(trainers.values()))
    cfg = Config(**{k: v for k, v in first.config.items() if k in {f.name for f in dataclasses.fields(Config)}})
    d = make_data(cfg, first.seed)
    X, X_test = d["X"], d["X_test"]
    both = torch.cat([X, X_test])
    lo, hi = both.min(0).values - 0.5, both.max(0).values + 0.5
    x1s = torch.linspace(float(lo[0]), float(hi[0]), grid)
    x2s = torch.linspace(float(lo[1]), float(hi[1]), grid)
    G1, G2 = torch.meshgrid(x1s, x2s, indexing="xy")
    points = torch.stack([G1.reshape(-1), G2.reshape(-1)], dim=1)
    runs = {}
    for name, t in trainers.items():
        with torch.no_grad():
            was = t.net.training
            t.net.eval()
            p = torch.softmax(t.net(points.to(t.device)), dim=1)[:, 1].reshape(grid, grid).cpu()
            t.net.train(was)
        finite = bool(torch.isfinite(p).all())
        runs[name] = {"p": p.numpy() if finite else None, "epoch": t.epoch,
                      "weighting": t.config.get("weighting"), "model": t.config.get("model")}
    curve = torch.linspace(float(lo[0]), float(hi[0]), 200)
    beta = d["beta"]
    k = max_points
    return {
        "runs": runs, "x1": x1s.numpy(), "x2": x2s.numpy(),
        "boundary": {"x1": curve.numpy(), "x2": data.boundary(curve).numpy()},
        "source": {"X": X[:k].numpy(), "y": d["y"][:k].numpy(), "beta": beta[:k].numpy()},
        "target": {"X": X_test[:k].numpy(), "y": d["y_test"][:k].numpy()},
        "ess": data.effective_sample_size(beta), "n": len(X), "beta_max": float(beta.max()),
        "bayes": data.bayes_accuracy(X_test),
    }


# ------------------------------------------------------- fast fits for the page
def fit(X: torch.Tensor, y: torch.Tensor, beta: torch.Tensor | None = None, *, model: str = "logistic",
        num_classes: int = 2, seed: int = 0, max_iter: int = 100) -> nn.Module:
    """A classifier fitted to convergence on the whole set at once (L-BFGS on
    the beta-weighted mean cross-entropy, initial weights from a generator
    seeded `seed`): the minimiser the live run's SGD approaches, in well under
    a second for these toys. The tolerances stop it once the loss has settled
    (pushing on costs many times as long, in tiny steps, for no change in accuracy)."""
    net = make_net(model, num_classes, torch.Generator().manual_seed(seed), X.shape[1])
    beta = torch.ones(len(X)) if beta is None else (beta / beta.mean()).float()
    opt = torch.optim.LBFGS(net.parameters(), lr=1.0, max_iter=max_iter, tolerance_grad=1e-7,
                            tolerance_change=1e-9, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        l = (beta * F.cross_entropy(net(X), y, reduction="none")).mean()
        l.backward()
        return l

    opt.step(closure)
    return net


@torch.no_grad()
def predict(net: nn.Module, X: torch.Tensor) -> torch.Tensor:
    return net(X).argmax(dim=1)


def accuracy(net: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    return float((predict(net, X) == y).double().mean())


def covariate_sweep(shifts, *, model: str = "logistic", n: int = 1000, seed: int = 0) -> dict:
    """Target accuracy of the fitted classifier without and with importance
    weights, for each amount of shift (fits to convergence, `fit`), and the
    best possible (Bayes) accuracy on the same target inputs."""
    out: dict = {"shift": [], "uncorrected": [], "corrected": [], "bayes": [], "ess": []}
    for s in shifts:
        d = make_data(Config(shift=float(s), num_examples=n), seed)
        plain = fit(d["X"], d["y"], model=model, seed=seed)
        weighted = fit(d["X"], d["y"], d["beta"], model=model, seed=seed)
        out["shift"].append(float(s))
        out["uncorrected"].append(accuracy(plain, d["X_test"], d["y_test"]))
        out["corrected"].append(accuracy(weighted, d["X_test"], d["y_test"]))
        out["bayes"].append(data.bayes_accuracy(d["X_test"]))
        out["ess"].append(data.effective_sample_size(d["beta"]))
    return out


# -------------------------------------------------------------------- label shift
def confusion_matrix(y_hat: torch.Tensor, y: torch.Tensor, k: int) -> torch.Tensor:
    """C_ij = P(y_hat = i | y = j) on a labelled set (each column sums to 1; a
    class absent from the set leaves a column of zeros), float64."""
    counts = torch.zeros(k, k, dtype=torch.float64)
    counts.index_put_((y_hat, y), torch.ones(len(y), dtype=torch.float64), accumulate=True)
    totals = counts.sum(0, keepdim=True)
    return counts / totals.clamp(min=1)


def estimate_target_prior(C: torch.Tensor, mu: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Solve C q = mu for q (least squares, so a singular C still gives an
    answer), then clip negative entries to 0 and renormalise to a distribution.
    Returns (q, the raw solution)."""
    raw = torch.linalg.lstsq(C, mu.reshape(-1, 1).to(C.dtype)).solution.reshape(-1)
    q = raw.clamp(min=0)
    q = q / q.sum() if float(q.sum()) > 0 else torch.full_like(q, 1 / len(q))
    return q, raw


def label_shift(cfg: LabelConfig = LabelConfig(), *, model: str = "logistic", seed: int = 0) -> dict:
    """The book's label-shift correction on the three-class toy: f trained on
    the source; C on the source validation set; mu(y_hat) on the target inputs;
    q(y) estimated from C q = mu; f retrained with beta_i = q(y_i) / p(y_i), p
    the source's label frequencies. Returns the numbers the page shows."""
    d = data.label_shift_data(cfg.label_shift, cfg.label_examples, seed)
    k = len(data.CLASS_MEANS)
    f = fit(d["X"], d["y"], model=model, num_classes=k, seed=seed)
    C = confusion_matrix(predict(f, d["X_valid"]), d["y_valid"], k)
    mu = torch.bincount(predict(f, d["X_target"]), minlength=k).double() / len(d["X_target"])
    q, raw = estimate_target_prior(C, mu)
    p = torch.bincount(d["y"], minlength=k).double() / len(d["y"])
    ratio = torch.where(p > 0, q / p.clamp(min=1e-12), torch.zeros_like(q))
    beta = ratio[d["y"]]
    corrected = fit(d["X"], d["y"], beta, model=model, num_classes=k, seed=seed)
    true_q = torch.tensor(data.target_prior(cfg.label_shift), dtype=torch.float64)
    empirical = torch.bincount(d["y_target"], minlength=k).double() / len(d["y_target"])
    return {
        "C": C.numpy(), "mu": mu.numpy(), "q_hat": q.numpy(), "q_raw": raw.numpy(), "q_true": true_q.numpy(),
        "q_empirical": empirical.numpy(), "p_source": p.numpy(), "ratio": ratio.numpy(),
        "naive": mu.numpy(),  # the predicted frequencies themselves, the estimate without C
        "acc_source": accuracy(f, d["X_valid"], d["y_valid"]),
        "acc_before": accuracy(f, d["X_target"], d["y_target"]),
        "acc_after": accuracy(corrected, d["X_target"], d["y_target"]),
        "error": float((q - empirical).abs().sum() / 2),  # total variation to the target's label frequencies
        "error_naive": float((mu - empirical).abs().sum() / 2),
    }


def as_lists(result: Mapping) -> dict:
    """numpy arrays as lists (for a page's tables)."""
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in result.items()}
