"""Fashion-MNIST on a page: the real data set through playground.data (cached,
with a download offer), or a clearly labelled synthetic stand-in; and the
book's classifier trainer on it (cross-entropy, SGD, accuracy)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from core.data.fashion_mnist import FashionMNIST, load_fashion_mnist
from core.train.trainer import Batches, Supervised, Trainer

from .data import dataset

STAND_IN = ("a synthetic 10-class set of 28×28 images (6,000 train, 1,000 test): one smooth random "
            "template per class plus pixel noise, drawn from a fixed-seed generator")


def make_stand_in(device="cpu", n_train: int = 6000, n_test: int = 1000, seed: int = 0) -> FashionMNIST:
    """Ten smooth random templates (7x7 noise upsampled to 28x28), each image one
    template times a random contrast plus uniform noise, clipped to [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    templates = F.interpolate(torch.rand(10, 1, 7, 7, generator=g), size=(28, 28), mode="bilinear",
                              align_corners=False)

    def draw(n):
        y = torch.randint(0, 10, (n,), generator=g)
        contrast = 0.6 + 0.4 * torch.rand(n, 1, 1, 1, generator=g)
        X = (templates[y] * contrast + 0.35 * torch.rand(n, 1, 28, 28, generator=g)).clamp_(0, 1)
        return X.to(device), y.to(device)

    (X, y), (Xt, yt) = draw(n_train), draw(n_test)
    return FashionMNIST(X, y, Xt, yt, text_labels=[f"class {i}" for i in range(10)])


def is_stand_in(data: FashionMNIST) -> bool:
    return not data.paths


def fashion_mnist(device, *, stand_in: bool = True) -> FashionMNIST | None:
    """The data on `device`, or None after the page has said what is missing.
    The cache key is the one every Fashion-MNIST page uses, so the server
    holds one copy."""
    return dataset("Fashion-MNIST", lambda **kw: load_fashion_mnist(device, **kw),
                   cache_key=("fmnist", str(device)),
                   stand_in=(STAND_IN, lambda: make_stand_in(device)) if stand_in else None)


def classifier(net_fn, data: FashionMNIST, *, lr: float, num_epochs: int = 10, batch_size: int = 256,
               seed: int = 0, device="cpu", config: dict | None = None) -> Trainer:
    """The book's train_ch3/ch6 set-up: cross-entropy, minibatch SGD, accuracy;
    test loss and accuracy each epoch in eval mode."""
    return Trainer(net_fn, Batches(data.X_train, data.y_train, batch_size=batch_size),
                   test=Batches(data.X_test, data.y_test, batch_size=batch_size, shuffle=False),
                   objective=Supervised("cross_entropy", accuracy=True), lr=lr, num_epochs=num_epochs,
                   seed=seed, device=device, config=config)
