"""The book's dropout experiment (section 5.6): an MLP with two hidden layers of
256 ReLU units on Fashion-MNIST, dropout after each, minibatch SGD."""
from __future__ import annotations

from core.data.fashion_mnist import FashionMNIST
from core.experiments.classifier import classifier
from core.experiments.schema import Preset, config, setting
from core.models.mlp import dropout_mlp, dropout_probe
from core.train.trainer import Trainer

_P = dict(min=0.0, max=0.9, step=0.05, help="A change starts a new run; the finished one stays for comparison.")


@config
class Config:
    dropout1: float = setting(0.2, "dropout p1 (after hidden layer 1)", **_P)
    dropout2: float = setting(0.5, "dropout p2 (after hidden layer 2)", **_P)
    num_epochs: int = setting(10, "epochs", min=1, max=30, live=True)
    lr: float = 0.5
    batch_size: int = 256
    num_hiddens1: int = 256
    num_hiddens2: int = 256


BOOK = Config()
PRESETS = [Preset(f"Compare p1 = p2 = 0 with the book's p1 = {BOOK.dropout1:g}, p2 = {BOOK.dropout2:g}",
                  {"no dropout": {"dropout1": 0.0, "dropout2": 0.0},
                   "book's dropout": {"dropout1": BOOK.dropout1, "dropout2": BOOK.dropout2}})]


def build(cfg: Config, data: FashionMNIST, *, seed: int = 0, device="cpu") -> Trainer:
    net_fn = dropout_mlp(num_hiddens1=cfg.num_hiddens1, num_hiddens2=cfg.num_hiddens2,
                         dropout1=cfg.dropout1, dropout2=cfg.dropout2)
    return classifier(net_fn, data, lr=cfg.lr, num_epochs=cfg.num_epochs, batch_size=cfg.batch_size, seed=seed,
                      device=device)


def picture(trainers, data: FashionMNIST, *, probe: int = 0, eval_mode: bool = False, seed: int = 0) -> dict:
    """The page's view (called in the run's worker between two steps): test
    image `probe` through the first run's net (core.models.mlp.dropout_probe),
    in eval mode or with a picture-only mask drawn from `seed` and the step."""
    name, t = next(iter(trainers.items()))
    x = data.X_test[probe:probe + 1].to(t.device)
    res = dropout_probe(t.net, x, train=not eval_mode, seed=seed * 100_003 + t.step)
    return {"res": res, "step": t.step, "name": name}
