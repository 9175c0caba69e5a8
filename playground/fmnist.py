"""Fashion-MNIST on a page: the real data set through playground.data (cached,
with a download offer), or a clearly labelled synthetic stand-in. The book's
classifier trainer is core.experiments.classifier."""
from __future__ import annotations

from core.data.fashion_mnist import FashionMNIST, load_fashion_mnist, stand_in_fashion_mnist

from .data import dataset
from .i18n import t


def is_stand_in(data: FashionMNIST) -> bool:
    """True for stand_in_fashion_mnist's data: the real set knows where its files are."""
    return not data.paths


def fashion_mnist(device, *, stand_in: bool = True) -> FashionMNIST | None:
    """The data on `device`, or None after the page has said what is missing.
    Every Fashion-MNIST page comes here: one cache key, so the server holds one
    copy of the real set, and one stand-in (core's stand_in_fashion_mnist)."""
    return dataset("Fashion-MNIST", lambda **kw: load_fashion_mnist(device, **kw),
                   cache_key=("fmnist", str(device)),
                   stand_in=(t("fmnist.stand_in"), lambda: stand_in_fashion_mnist(device=device)) if stand_in else None)
