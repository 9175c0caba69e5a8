"""Linear regression (book sections 3.1-3.5): the book's synthetic data, the
model, squared loss and minibatch SGD written from scratch (3.4), and the same
model with torch's building blocks (3.5).

The data (3.3): X ~ N(0, 1) with two features, y = Xw + b + eps,
eps ~ N(0, 0.01^2), true w = [2, -3.4], b = 4.2, 1000 examples.

From scratch: w ~ N(0, 0.01^2) of shape (2, 1) and b = 0, y_hat = X @ w + b,
the squared loss (y_hat - y)^2 / 2 averaged over the minibatch, and the book's
sgd, w <- w - lr * grad (the mean in the loss is the book's division by the
batch size). Concise: nn.Linear(2, 1) holding the same initial values,
nn.MSELoss and torch.optim.SGD (see `ConciseLoss` for the 1/2).

Every step record carries w1, w2 and b after the step, so a page draws the SGD
path from the records; each epoch record adds the error of each estimate
(true minus learned, as the book prints it). `picture` is the page's view.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from core.data.synthetic import synthetic_data
from core.experiments.schema import Preset, config, setting
from core.train.protocols import StepOut
from core.train.trainer import Batches, Supervised, Trainer

TRUE_W = (2.0, -3.4)
TRUE_B = 4.2
LRS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0)
BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 1000)
NOISES = (0.0, 0.01, 0.1, 0.5, 1.0)
IMPLS = {"scratch": "from scratch (3.4)", "concise": "concise (3.5)"}


@config
class Config:
    """The book's settings (sections 3.2-3.5 of the 0.17 edition: batch 10, lr 0.03, 3 epochs)."""

    lr: float = setting(0.03, "lr (learning rate)", options=LRS, live=True,
                        help="Takes effect at the next minibatch. Try 1.5, then 3: the updates overshoot.")
    batch_size: int = setting(10, "batch_size", options=BATCH_SIZES,
                              help="Examples per minibatch; 1000 is plain gradient descent. A change starts a new run.")
    num_epochs: int = setting(3, "num_epochs", min=1, max=20, live=True)
    impl: str = setting("scratch", "implementation", options=tuple(IMPLS), labels=IMPLS,
                        help="The same model, loss and update written out (3.4) or from torch's parts (3.5); "
                             "from the same seed both follow the same path.")
    noise: float = setting(0.01, "noise σ of the data", options=NOISES,
                           help="The standard deviation of ε in y = Xw + b + ε. A change draws new data.")
    num_examples: int = 1000
    sigma: float = 0.01  # the standard deviation of the initial w


BOOK = Config()
# What the book prints after 3 epochs at these settings (one unseeded run; the
# concise code prints twice the loss, see ConciseLoss).
BOOK_LOSS = 0.00005
BOOK_ERROR = {"w": (0.0005, -0.0002), "b": 0.0005}
PRESETS = [Preset("Compare scratch and concise", {"scratch": {"impl": "scratch"}, "concise": {"impl": "concise"}})]


# ----------------------------------------------------------------------- data
def make_data(seed: int = 0, num_examples: int = 1000, noise: float = 0.01, device="cpu"):
    """The run's data, drawn from its own generator (the seed + 1000, so the
    data and the initial weights are independent draws)."""
    g = torch.Generator().manual_seed(seed + 1000)
    X, y = synthetic_data(torch.tensor(TRUE_W), TRUE_B, num_examples, g, noise=noise)
    return X.to(device), y.to(device)


def least_squares(X: torch.Tensor, y: torch.Tensor) -> tuple[list[float], float]:
    """The exact minimiser of the squared loss (in float64): (w, b)."""
    A = torch.cat([X.double(), torch.ones(len(X), 1, dtype=torch.float64)], dim=1)
    sol = torch.linalg.lstsq(A, y.double().reshape(-1, 1)).solution.reshape(-1)
    return sol[:-1].tolist(), float(sol[-1])


def noise_floor(noise: float) -> float:
    """The expected squared loss of the true w, b on new data: E[eps^2 / 2] = noise^2 / 2."""
    return noise ** 2 / 2


# ---------------------------------------------------------------- the models
def init_params(num_inputs: int, sigma: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The book's initial values: w ~ N(0, sigma^2) of shape (num_inputs, 1), b = 0."""
    return torch.normal(0.0, sigma, (num_inputs, 1), generator=gen), torch.zeros(1)


class LinearRegressionScratch(nn.Module):
    """The book's linreg: y_hat = X @ w + b. The book keeps w and b as plain
    tensors with requires_grad=True; here they are nn.Parameters (the same
    tensors, registered with the module) so a snapshot of the run holds them."""

    def __init__(self, w: torch.Tensor, b: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)
        self.b = nn.Parameter(b)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return torch.matmul(X, self.w) + self.b


def linreg(num_inputs: int = 2, sigma: float = 0.01):
    """net_fn of the scratch model."""

    def net_fn(gen: torch.Generator) -> nn.Module:
        return LinearRegressionScratch(*init_params(num_inputs, sigma, gen))

    return net_fn


def linear(num_inputs: int = 2, sigma: float = 0.01):
    """net_fn of the concise model: nn.Linear(num_inputs, 1) holding the scratch
    model's initial values (drawn the same way from the same generator).
    skip_init leaves out nn.Linear's own initialisation, which would draw from
    torch's global random generator."""

    def net_fn(gen: torch.Generator) -> nn.Module:
        w, b = init_params(num_inputs, sigma, gen)
        net = nn.utils.skip_init(nn.Linear, num_inputs, 1)
        with torch.no_grad():
            net.weight.copy_(w.reshape(1, -1))
            net.bias.copy_(b)
        return net

    return net_fn


def get_w_b(net: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """(w as a vector, b as a 1-vector) of either model, detached."""
    if isinstance(net, nn.Linear):
        return net.weight.detach().reshape(-1), net.bias.detach().reshape(-1)
    return net.w.detach().reshape(-1), net.b.detach().reshape(-1)


class ConciseLoss:
    """The concise objective: nn.MSELoss, halved.

    nn.MSELoss is mean((y_hat - y)^2), without the book's 1/2, so its gradient
    is twice the squared loss's. The book's concise code keeps lr = 0.03 with
    it, which is twice the step of its scratch code (and it prints a loss twice
    as large, 0.0001 against 0.00005). Halving the loss gives exactly the
    book's squared loss with torch's parts: the same lr means the same step,
    the same numbers are plotted, and from one seed the scratch and concise
    runs follow the same path (equal up to float rounding: nn.Linear computes
    X w^T + b in one addmm and torch's SGD adds -lr * grad in one fused step,
    where the scratch code does matmul, then +b, and lr * grad, then -)."""

    metric = None

    def __init__(self):
        self.loss = nn.MSELoss()

    def __call__(self, net: nn.Module, batch: tuple) -> StepOut:
        X, y = batch
        y_hat = net(X)
        l = self.loss(y_hat, y) / 2
        return StepOut(l, len(X), None, y_hat.detach())


# ----------------------------------------------------------------- callbacks
def params_record(trainer: Trainer, record: dict) -> dict:
    """step_end: w1, w2, ..., b after the step (the SGD path)."""
    w, b = get_w_b(trainer.net)
    values = torch.cat([w, b]).tolist()
    return {**{f"w{i + 1}": v for i, v in enumerate(values[:-1])}, "b": values[-1]}


def errors_record(trainer: Trainer, record: dict) -> dict:
    """epoch_end: w and b, and the error in estimating each (true minus learned)."""
    values = params_record(trainer, record)
    err = estimation_error(trainer.net)
    return {**values, **{f"err_w{i + 1}": e for i, e in enumerate(err["w"])}, "err_b": err["b"]}


def estimation_error(net: nn.Module, true_w=TRUE_W, true_b: float = TRUE_B) -> dict:
    """The book's `error in estimating w` and `... b`: true minus learned."""
    w, b = get_w_b(net)
    return {"w": [t - v for t, v in zip(true_w, w.tolist())], "b": true_b - float(b[0])}


# -------------------------------------------------------------------- build
def build(cfg: Config = BOOK, data=None, *, seed: int = 0, device="cpu") -> Trainer:
    """The run for `cfg`. `data` is (X, y), or None to draw the book's data
    from the seed. The epoch's loss is the squared loss over all the examples
    after the epoch, as the book prints it."""
    X, y = data if data is not None else make_data(seed, cfg.num_examples, cfg.noise)
    X, y = X.to(device), y.to(device)
    scratch = cfg.impl == "scratch"
    num_inputs = X.shape[1]
    return Trainer(
        linreg(num_inputs, cfg.sigma) if scratch else linear(num_inputs, cfg.sigma),
        Batches(X, y, batch_size=cfg.batch_size),
        objective=Supervised("squared") if scratch else ConciseLoss(),
        optimizer="sgd_scratch" if scratch else "sgd",  # the book's sgd / torch.optim.SGD
        lr=cfg.lr, num_epochs=cfg.num_epochs, seed=seed, device=device, eval_train=True,
        callbacks=[("step_end", params_record), ("epoch_end", errors_record)],
    )


# ---------------------------------------------------------------- pictures
def window(span: float = 4.5, true_w=TRUE_W) -> tuple[tuple[float, float], tuple[float, float]]:
    """The (w1, w2) ranges pictured: `span` either side of the true w, which
    takes in the start near the origin."""
    return (true_w[0] - span, true_w[0] + span), (true_w[1] - span, true_w[1] + span)


def loss_surface(X: torch.Tensor, y: torch.Tensor, b: float, w1s, w2s) -> np.ndarray:
    """The squared loss (1/n) sum (x_i . w + b - y_i)^2 / 2 on (X, y) at every
    (w1, w2) of the grid w1s x w2s, with b fixed: an array (len(w2s), len(w1s))
    (rows w2, columns w1, as a contour plot takes it). Computed in float64
    from the data's moments, L(w) = (w^T S w + 2 w^T c + d) / 2 with
    S = X^T X / n, c = X^T (b - y) / n and d = mean((b - y)^2)."""
    X = X.detach().double().cpu()
    r = b - y.detach().double().cpu().reshape(-1)
    n = len(X)
    S, c, d = X.T @ X / n, X.T @ r / n, float((r * r).mean())
    W1, W2 = torch.meshgrid(torch.as_tensor(w1s, dtype=torch.float64), torch.as_tensor(w2s, dtype=torch.float64),
                            indexing="xy")
    W = torch.stack([W1.reshape(-1), W2.reshape(-1)])  # (2, grid points)
    quad = (W * (S @ W)).sum(0) + 2 * (c @ W) + d
    return (quad / 2).reshape(W1.shape).numpy()


def plane(w, b: float, x1s, x2s) -> np.ndarray:
    """The fitted plane y_hat = w1 x1 + w2 x2 + b over the grid x1s x x2s (rows x2)."""
    X1, X2 = np.meshgrid(np.asarray(x1s, dtype=float), np.asarray(x2s, dtype=float))
    return w[0] * X1 + w[1] * X2 + b


def trajectory(trainer: Trainer, max_points: int = 2000) -> dict:
    """The SGD path of (w1, w2, b) read from the step records, from the initial
    values (step 0; `net_fn` rebuilt from the seed as `reset()` builds it) to
    the last step. Longer paths keep every k-th point and the last one."""
    w0, b0 = get_w_b(trainer.net_fn(torch.Generator().manual_seed(trainer.seed)))
    steps = trainer.history.steps
    k = max(1, math.ceil(len(steps) / max_points))
    kept = steps[k - 1::k]
    if steps and (not kept or kept[-1] is not steps[-1]):
        kept.append(steps[-1])
    return {"step": [0] + [r["step"] for r in kept],
            "w1": [float(w0[0])] + [r["w1"] for r in kept],
            "w2": [float(w0[1])] + [r["w2"] for r in kept],
            "b": [float(b0[0])] + [r["b"] for r in kept]}


def left_at(path: Mapping, w1_range, w2_range) -> int | None:
    """The first step whose (w1, w2) is outside the window or not finite; None
    when the whole path stays inside."""
    for step, w1, w2 in zip(path["step"], path["w1"], path["w2"]):
        inside = (math.isfinite(w1) and math.isfinite(w2) and w1_range[0] <= w1 <= w1_range[1]
                  and w2_range[0] <= w2 <= w2_range[1])
        if not inside:
            return step
    return None


def picture(trainers: Mapping[str, Trainer], *, grid: int = 61, span: float = 4.5, n_points: int = 200,
            max_points: int = 2000) -> dict:
    """The page's view (called in the run's worker between two steps).

    For each run: its current w and b, the errors of the estimates, its SGD
    path and where the path left the window. Once, for the first run's data:
    the loss surface over (w1, w2) at the first run's current b (the true b
    once its path has left the window), as log10 of the loss; the first `n_points`
    examples; the fitted plane of the first run over (x1, x2)."""
    w1_range, w2_range = window(span)
    runs = {}
    for name, t in trainers.items():
        w, b = get_w_b(t.net)
        path = trajectory(t, max_points)
        runs[name] = {"w": w.tolist(), "b": float(b[0]), "error": estimation_error(t.net), "step": t.step,
                      "epoch": t.epoch, "path": path, "left_at": left_at(path, w1_range, w2_range)}
    first = next(iter(trainers.values()))
    X, y = first.train.tensors
    current = runs[next(iter(runs))]
    finite = math.isfinite(current["b"]) and all(math.isfinite(v) for v in current["w"])
    b_is_current = finite and current["left_at"] is None  # a run that flew off: the surface at the true b
    b_surface = current["b"] if b_is_current else TRUE_B
    w1s, w2s = np.linspace(*w1_range, grid), np.linspace(*w2_range, grid)
    loss = loss_surface(X, y, b_surface, w1s, w2s)
    x_lim = 3.0
    x1s = x2s = np.linspace(-x_lim, x_lim, 41)
    return {
        "runs": runs, "true_w": list(TRUE_W), "true_b": TRUE_B,
        "w1": w1s, "w2": w2s, "b_surface": b_surface, "b_is_current": b_is_current,
        "log_loss": np.log10(np.maximum(loss, 1e-12)), "min_loss": float(loss.min()),
        "X": X[:n_points].detach().cpu().numpy(), "y": y[:n_points].detach().cpu().numpy().reshape(-1),
        "x1": x1s, "x2": x2s, "plane": plane(current["w"], current["b"], x1s, x2s) if finite else None,
    }
