"""Numerical stability and initialization (book section 5.4) as an experiment:
a deep MLP (`num_layers` hidden layers of `num_hiddens` units, one activation)
on Fashion-MNIST, its weights drawn by one of the book's schemes (all zero,
N(0, 0.01²), N(0, 1), Xavier, He), trained by minibatch SGD with the book's
MLP settings (lr 0.1, batch 256, 10 epochs). The per-layer activation and
gradient statistics are computed on one batch, before training
(`initial_stats`, in the web process) and between two steps while it trains
(`layer_view`, in the run's worker, through the trainer's probe)."""
from __future__ import annotations

from collections.abc import Mapping

import torch

from core.data.fashion_mnist import FashionMNIST
from core.experiments.classifier import classifier
from core.experiments.schema import Preset, config, setting
from core.ops.initialization import ACTIVATIONS, INITS, SHORT, deep_mlp, layer_stats
from core.train.callbacks import GradNorms
from core.train.trainer import Trainer

LRS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
STATS_BATCH = 64  # test images in the batch the per-layer statistics are computed on


@config
class Config:
    init: str = setting("xavier", "initialization", options=tuple(INITS), labels=INITS,
                        help="How every weight matrix is drawn (biases start at zero). A change starts a new run.")
    activation: str = setting("tanh", "activation", options=tuple(ACTIVATIONS), labels=ACTIVATIONS,
                              help="The same activation after every hidden layer.")
    num_layers: int = setting(10, "hidden layers (depth)", min=1, max=50,
                              help="Deep nets make the products of many per-layer factors: try 50.")
    num_hiddens: int = setting(128, "units per hidden layer (width)", min=16, max=512, step=16)
    lr: float = setting(0.1, "learning rate η", options=LRS, live=True,
                        help="The book's MLP uses 0.1. Takes effect at the next minibatch.")
    num_epochs: int = setting(10, "epochs", min=1, max=30, live=True)
    batch_size: int = 256


BOOK = Config()
PRESETS = [Preset("Train the five initializations side by side",
                  {SHORT[key]: {"init": key} for key in INITS})]
GRAD_LAYERS = ("linear1", "output")  # the gradient norms recorded at every step: first and last layer


def net_fn(cfg: Config, init: str | None = None):
    return deep_mlp(num_layers=cfg.num_layers, num_hiddens=cfg.num_hiddens, activation=cfg.activation,
                    init=init or cfg.init)


def build(cfg: Config, data: FashionMNIST, *, seed: int = 0, device="cpu") -> Trainer:
    """The book's classifier set-up (cross-entropy, SGD, accuracy) on the deep
    MLP; every step's record carries ‖dl/dW‖ of the first hidden layer and of
    the output layer (grad_norm/linear1, grad_norm/output)."""
    t = classifier(net_fn(cfg), data, lr=cfg.lr, num_epochs=cfg.num_epochs, batch_size=cfg.batch_size, seed=seed,
                   device=device)
    t.add_callback("after_backward", GradNorms(GRAD_LAYERS))
    return t


def stats_batch(data: FashionMNIST, size: int = STATS_BATCH) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed batch the statistics are computed on: the first `size` test images."""
    return data.X_test[:size], data.y_test[:size]


def initial_stats(cfg: Config, X: torch.Tensor, y: torch.Tensor, *, seed: int = 0,
                  inits=tuple(INITS)) -> dict[str, dict]:
    """{init: layer_stats} of the net `cfg` describes, initialized by each
    scheme from the generator a run with `seed` draws its weights from (so the
    entry for cfg.init is the run's net before its first step)."""
    return {init: layer_stats(net_fn(cfg, init)(torch.Generator().manual_seed(int(seed))), X, y)
            for init in inits}


def layer_view(trainers: Mapping[str, Trainer], data: FashionMNIST, *, size: int = STATS_BATCH) -> dict:
    """The page's live view (in the run's worker, between two steps): every
    trainer's layer_stats on the first `size` test images, with its step and
    epoch. Inside the trainer's probe; layer_stats only reads the weights."""
    out = {}
    for name, t in trainers.items():
        X, y = (v.to(t.device) for v in stats_batch(data, size))
        with t.probe(train=False):
            stats = layer_stats(t.net, X, y)
        out[name] = {**stats, "step": t.step, "epoch": t.epoch}
    return out
