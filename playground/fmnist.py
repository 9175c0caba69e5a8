"""Fashion-MNIST on a page: the real data set through playground.data (cached,
with a download offer), or a clearly labelled synthetic stand-in; and the
book's classifier trainer on it (cross-entropy, SGD, accuracy)."""
from __future__ import annotations

from core.data.fashion_mnist import FashionMNIST, load_fashion_mnist, stand_in_fashion_mnist
from core.train.trainer import Batches, Supervised, Trainer

from .data import dataset

STAND_IN = ("6,000 training and 1,000 test images of ten simple shapes (bars, a square, a ring...) at random "
            "brightness and position, with noise: not clothing")


def is_stand_in(data: FashionMNIST) -> bool:
    """True for stand_in_fashion_mnist's data: the real set knows where its files are."""
    return not data.paths


def fashion_mnist(device, *, stand_in: bool = True) -> FashionMNIST | None:
    """The data on `device`, or None after the page has said what is missing.
    Every Fashion-MNIST page comes here: one cache key, so the server holds one
    copy of the real set, and one stand-in (core's stand_in_fashion_mnist)."""
    return dataset("Fashion-MNIST", lambda **kw: load_fashion_mnist(device, **kw),
                   cache_key=("fmnist", str(device)),
                   stand_in=(STAND_IN, lambda: stand_in_fashion_mnist(device=device)) if stand_in else None)


def classifier(net_fn, data: FashionMNIST, *, lr: float, num_epochs: int = 10, batch_size: int = 256,
               seed: int = 0, device="cpu", config: dict | None = None) -> Trainer:
    """The book's train_ch3/ch6 set-up: cross-entropy, minibatch SGD, accuracy;
    test loss and accuracy each epoch in eval mode."""
    return Trainer(net_fn, Batches(data.X_train, data.y_train, batch_size=batch_size),
                   test=Batches(data.X_test, data.y_test, batch_size=batch_size, shuffle=False),
                   objective=Supervised("cross_entropy", accuracy=True), lr=lr, num_epochs=num_epochs,
                   seed=seed, device=device, config=config)
