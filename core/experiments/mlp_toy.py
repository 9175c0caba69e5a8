"""The MLP on a 2-D toy, as TensorFlow Playground shows it but with the book's
PyTorch model: two inputs (the point's coordinates), 1 to 3 hidden layers of
num_hiddens units with the chosen activation, two outputs, cross-entropy and
minibatch SGD. The data (two moons or a spiral, core.data.toy2d) are drawn
from the run's seed, half for training and half for testing.

`boundary` is the page's view: the network's probability of class 1 over a
grid on the plane (the decision boundary is where it crosses 1/2), and every
hidden unit's own output over the plane."""
from __future__ import annotations

from collections.abc import Mapping

import torch

from core.data import toy2d
from core.experiments.mlp import hidden_outputs, mlp
from core.experiments.schema import config, setting
from core.ops import activations
from core.train.trainer import Batches, Supervised, Trainer

WIDTHS = (1, 2, 3, 4, 5, 6, 8, 12, 16, 32)
LRS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
NOISES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
DATA_SEED = 2000  # the data come from seed + DATA_SEED, the weights from the seed: independent draws


@config
class Config:
    """Not from the book (it has no 2-D toy): settings under which the spiral, the harder
    of the two, is learned in a few hundred epochs (test accuracy about 0.93 after 300)."""

    dataset: str = setting("spiral", "data set", options=tuple(toy2d.DATASETS), labels=toy2d.DATASETS,
                           help="A change draws new points and starts a new run.")
    noise: float = setting(0.1, "noise", options=NOISES,
                           help="How far the points scatter from the curves. A change draws new points.")
    num_hiddens: int = setting(16, "num_hiddens (units per hidden layer)", options=WIDTHS)
    num_layers: int = setting(3, "hidden layers", min=1, max=3)
    activation: str = setting("relu", "activation", options=tuple(activations.NAMES), labels=activations.NAMES)
    lr: float = setting(0.1, "lr (learning rate)", options=LRS, live=True, help="Takes effect at the next minibatch.")
    num_epochs: int = setting(300, "num_epochs", min=10, max=3000, step=10, live=True,
                              help="Each epoch is one pass over the training points.")
    batch_size: int = 32
    num_train: int = 200
    num_test: int = 200


BOOK = Config()


def make_data(cfg: Config, seed: int = 0):
    """(X_train, y_train, X_test, y_test) of the run, from seed + DATA_SEED."""
    g = torch.Generator().manual_seed(seed + DATA_SEED)
    return toy2d.split(cfg.dataset, cfg.num_train, cfg.num_test, cfg.noise, g)


def build(cfg: Config = BOOK, data=None, *, seed: int = 0, device="cpu") -> Trainer:
    """The run for `cfg`; `data` is (X_train, y_train, X_test, y_test), or None
    to draw them from the seed. Weights: torch's default initialisation of
    nn.Linear, drawn from the run's generator."""
    X_train, y_train, X_test, y_test = (t.to(device) for t in (data if data is not None else make_data(cfg, seed)))
    net_fn = mlp(2, [cfg.num_hiddens] * cfg.num_layers, 2, cfg.activation, sigma=None, flatten=False)
    return Trainer(net_fn, Batches(X_train, y_train, batch_size=cfg.batch_size),
                   test=Batches(X_test, y_test, batch_size=len(X_test), shuffle=False),
                   objective=Supervised("cross_entropy", accuracy=True), lr=cfg.lr, num_epochs=cfg.num_epochs,
                   seed=seed, device=device)


@torch.no_grad()
def accuracy(net, X: torch.Tensor, y: torch.Tensor) -> float:
    return float((net(X).argmax(1) == y).float().mean())


@torch.no_grad()
def boundary(trainers: Mapping[str, Trainer], *, grid: int = 81, unit_grid: int = 41, max_units: int = 8) -> dict:
    """The page's view (called in the run's worker between two steps), of the
    first run: `prob` (grid x grid, rows along y), the softmax probability of
    class 1 over the plane; `units[l]` (units, unit_grid, unit_grid), the
    outputs of the first `max_units` units of hidden layer l over the plane;
    the points and their labels; the accuracies now. Only reads the net."""
    name, t = next(iter(trainers.items()))
    net = t.net
    xs, points = toy2d.grid(grid)
    prob = torch.softmax(net(points.to(t.device)), 1)[:, 1].reshape(grid, grid)
    uxs, upoints = toy2d.grid(unit_grid)
    _, post, _ = hidden_outputs(net, upoints.to(t.device))
    units = [h[:, :max_units].T.reshape(-1, unit_grid, unit_grid).cpu().numpy() for h in post]
    X_train, y_train = t.train.tensors
    X_test, y_test = t.test.tensors
    return {"name": name, "step": t.step, "epoch": t.epoch, "xs": xs.numpy(), "prob": prob.cpu().numpy(),
            "unit_xs": uxs.numpy(), "units": units, "widths": [h.shape[1] for h in post],
            "X_train": X_train.cpu().numpy(), "y_train": y_train.cpu().numpy(),
            "X_test": X_test.cpu().numpy(), "y_test": y_test.cpu().numpy(),
            "train_acc": accuracy(net, X_train, y_train), "test_acc": accuracy(net, X_test, y_test),
            "finite": bool(torch.isfinite(prob).all())}
