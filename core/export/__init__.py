"""Show the PyTorch: for a training page, a self-contained script (torch and the
standard library only, plus the data file's path) that reproduces the page's
current run: the same Config values, seed, model, data order and optimizer.

One module per experiment, named as the experiment (`core.export.dropout` for
`core.experiments.dropout`), with

    script(cfg, *, seed: int, data_dir: str) -> str

returning the script's source. Run as `python run.py --steps N` the script
trains N minibatch steps (all of `num_epochs` without `--steps`) and prints one
JSON line per step, `{"step": i, "loss": float.hex(loss)}`, so a test compares
its losses with the engine's bit for bit (`tests/export_support.py`)."""
from __future__ import annotations

import importlib
from typing import Any


def exporter(experiment: str):
    """The experiment's exporter module, or None when it has none yet."""
    try:
        return importlib.import_module(f"core.export.{experiment}")
    except ModuleNotFoundError as err:
        if err.name != f"core.export.{experiment}":
            raise
        return None


def script_for(experiment: str, cfg: Any, *, seed: int, data_dir: str = "") -> str | None:
    """The script reproducing a run of `experiment` at `cfg` and `seed`; None
    when the experiment has no exporter."""
    mod = exporter(experiment)
    return None if mod is None else mod.script(cfg, seed=seed, data_dir=data_dir)
