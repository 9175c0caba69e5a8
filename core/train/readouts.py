"""Probe functions for runs that train in a worker: `handle.probe("core.train.readouts:outputs", n=8)`.

Each is called as fn(trainers, **kwargs) between two steps, in the worker,
and returns plain values (numbers, lists, dicts, numpy arrays) that cross a
pipe or the network. Anything that sends data through a net goes through
`Trainer.probe`, which puts back the run's generators, buffers and modes, so
a run probed after every step trains bit for bit like one never probed.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import torch

from core.train.trainer import Trainer


def process_id(trainers: Mapping[str, Trainer]) -> int:
    """The id of the process the run trains in (which worker hosts it)."""
    return os.getpid()


def hparams(trainers: Mapping[str, Trainer]) -> dict[str, dict]:
    """Each trainer's hyperparameters now and its mid-run changes."""
    return {name: {"now": dict(t.hparams), "changes": [dict(r) for r in t.history.hparams], "step": t.step,
                   "epoch": t.epoch} for name, t in trainers.items()}


def param_norms(trainers: Mapping[str, Trainer]) -> dict[str, dict[str, float]]:
    """‖θ‖ of every parameter of every net, by the parameter's name."""
    return {name: {p: float(v.detach().norm()) for p, v in t.net.named_parameters()} for name, t in trainers.items()}


def outputs(trainers: Mapping[str, Trainer], *, n: int = 8, train: bool = False,
            seed: int | None = None) -> dict[str, np.ndarray]:
    """Each net's outputs on the first `n` examples of its test data (its
    training data when it has none), in training mode when `train` (dropout
    then draws masks from the run's noise generator, which the probe puts
    back, or from a fresh one seeded with `seed`)."""
    out = {}
    for name, t in trainers.items():
        data = t.test if t.test is not None else t.train
        X = next(iter(data.epoch(None)))[0][:n]
        with t.probe(train=train, seed=seed):
            out[name] = torch.as_tensor(t.net(X)).detach().cpu().numpy()
    return out


def structure(trainers: Mapping[str, Trainer]) -> dict[str, list[dict]]:
    """Each net's modules in order: path, class name, and the dropout
    probability of those that have one."""
    return {name: [{"path": path, "type": type(m).__name__,
                    **({"p": float(m.p)} if isinstance(getattr(m, "p", None), (int, float)) else {})}
                   for path, m in t.net.named_modules() if path]
            for name, t in trainers.items()}


def num_examples(trainers: Mapping[str, Trainer]) -> dict[str, int | None]:
    """Each run's number of training examples per epoch (None when its data does not say)."""
    return {name: getattr(t.train, "num_examples", None) for name, t in trainers.items()}
