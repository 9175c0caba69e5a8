"""Trained models on disk, so a class demo starts in seconds.

A run that finishes at a page's settings is saved once, keyed by everything it
was built from (the experiment, its settings, the seed, the device kind and the
data's identity): a later session with the same settings can start from it
instead of training for minutes. Files hold only plain values (each trainer's
`Snapshot.to_dict()` with its history) and are read back with
`torch.load(weights_only=True)`; they live in the server's own folder
(PLAYGROUND_MODELS_DIR, else <cache>/models), never in anything a user uploads.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from core.data.download import cache_dir
from core.data.files import atomic_write
from core.train.trainer import Snapshot, Trainer

FORMAT = 1


class CheckpointError(ValueError):
    """A saved file that cannot be used (damaged, another format, other trainers)."""


def models_dir() -> Path:
    value = os.environ.get("PLAYGROUND_MODELS_DIR")
    return Path(value).expanduser() if value else cache_dir() / "models"


def identity_key(identity: Mapping[str, Any]) -> str:
    """A short, stable name for what a run was built from."""
    text = json.dumps(identity, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def path_for(experiment: str, identity: Mapping[str, Any], folder: Path | None = None) -> Path:
    safe = "".join(ch for ch in experiment if ch.isalnum() or ch in "_-") or "run"
    return (folder or models_dir()) / f"{safe}-{identity_key(identity)}.pt"


def save(path: Path, trainers: Mapping[str, Trainer | Mapping[str, Any]]) -> None:
    """The trainers' whole state and history, written in one step: trainers,
    or their `snapshot(history=True).to_dict()` (what a run's handle sends)."""
    payload = {"format": FORMAT,
               "trainers": {name: t.snapshot(history=True).to_dict() if isinstance(t, Trainer) else dict(t)
                            for name, t in trainers.items()}}
    with atomic_write(path) as f:
        torch.save(payload, f)


def load(path: Path) -> dict[str, Snapshot]:
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise CheckpointError("format")
        return {str(name): Snapshot.from_dict(d) for name, d in payload["trainers"].items()}
    except CheckpointError:
        raise
    except Exception as err:  # noqa: BLE001 - any damage: the file cannot be used
        raise CheckpointError(type(err).__name__) from err


def restore(trainers: Mapping[str, Trainer], snaps: Mapping[str, Snapshot]) -> None:
    """Each trainer back to its saved state (same names, built with the same settings)."""
    if set(trainers) != set(snaps):
        raise CheckpointError("trainers")
    for name, t in trainers.items():
        t.restore(snaps[name])


def start_from(trainer: Trainer, state_dict: Mapping[str, torch.Tensor]) -> None:
    """Make `trainer` start from the weights `state_dict` (e.g. an uploaded
    model) instead of its seed's: its net_fn draws the seed's weights as
    before (so the generators' streams are those of a fresh run) and then
    loads these over them; the trainer is reset, and every later `reset()`
    comes back to the same weights. Raises like `load_state_dict` when the keys
    or shapes are not the net's (check them first to say which)."""
    weights = {str(k): v.detach().to("cpu", copy=True) for k, v in state_dict.items()}
    net_fn = trainer.net_fn

    def from_weights(gen: torch.Generator):
        net = net_fn(gen)
        net.load_state_dict(weights)
        return net

    trainer.net_fn = from_weights
    trainer.reset()
