"""Helpers for the executor tests: small specs, the bare trainer's losses to
compare with, and `Watch`, which reads a handle's polls the way a page would
(a cursor, the records kept, a rewind replacing them)."""
from __future__ import annotations

import os
import time
from dataclasses import replace

from core.data.fashion_mnist import stand_in_fashion_mnist
from core.experiments import dropout, weight_decay
from core.train.runs import RunSpec, build_trainers

LONG = 100_000  # epochs: a run that trains until the test stops it
SMALL_CPU = 0.25  # what a test run asks of a Ray node, so many fit on a two-CPU test cluster


def wd_spec(num_epochs: int = 30, seed: int = 0, **settings) -> RunSpec:
    """The book's weight-decay run (20 examples, 4 minibatches an epoch)."""
    return RunSpec("weight_decay", replace(weight_decay.BOOK, num_epochs=num_epochs, **settings), seed=seed,
                   num_cpus=SMALL_CPU)


def dropout_spec(num_epochs: int = 6, seed: int = 0) -> RunSpec:
    """The dropout MLP, narrowed, on 64 stand-in images: one minibatch an
    epoch, so a Step is one step; dropout draws from the run's noise generator."""
    cfg = dropout.Config(num_epochs=num_epochs, batch_size=64, num_hiddens1=32, num_hiddens2=32)
    return RunSpec("dropout", cfg, seed=seed, data=stand_in_fashion_mnist(64, 32), num_cpus=SMALL_CPU)


def bare(spec: RunSpec, num_epochs: int | None = None, name: str = ""):
    """The spec's trainer built and trained here, without any executor."""
    t = build_trainers(spec)[name]
    if num_epochs is not None:
        t.num_epochs = num_epochs
    t.advance()
    return t


def losses(trainer) -> list[float]:
    return [r["loss"] for r in trainer.history.steps]


class Watch:
    """A page's view of one run: polls from its cursor and keeps the records."""

    def __init__(self, handle, name: str = ""):
        self.handle, self.name = handle, name
        self.cursor, self.rewinds = 0, 0
        self.steps: list[dict] = []
        self.epochs: list[dict] = []
        self.hparams: list[dict] = []
        self.last = None

    def poll(self):
        p = self.handle.poll(self.cursor)
        if p.rewound:
            self.rewinds += 1
            self.steps, self.epochs, self.hparams = [], [], []
        self.steps += p.steps.get(self.name, [])
        self.epochs += p.epochs.get(self.name, [])
        self.hparams += p.hparams.get(self.name, [])
        self.cursor, self.last = p.cursor, p
        return p

    @property
    def losses(self) -> list[float]:
        return [r["loss"] for r in self.steps]


def until(watch: Watch, pred, *others: Watch, timeout: float = 60.0, every: float = 0.02):
    """Poll `watch` (and keep `others` polled, so their leases hold) until
    pred(poll) holds; AssertionError with the last poll on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        p = watch.poll()
        for w in others:
            w.poll()
        if pred(p):
            return p
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: state {p.state}, place {p.place}, epoch {p.epoch}, error {p.error!r}")
        time.sleep(every)


def ray_unavailable() -> str | None:
    """Why the Ray variant cannot run here, or None."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        return "ray is not installed (pip install -r requirements-ray.txt; `make test-ray` does it)"
    if not os.environ.get("PLAYGROUND_TEST_RAY_ADDRESS"):
        return "PLAYGROUND_TEST_RAY_ADDRESS is not set (`make test-ray` starts a two-node test cluster)"
    return None


def ray_required() -> bool:
    """Under CI with the Ray tests asked for (PLAYGROUND_TEST_RAY=1), a missing cluster is a failure."""
    return os.environ.get("CI") == "true" and os.environ.get("PLAYGROUND_TEST_RAY") == "1"
