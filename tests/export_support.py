"""Run an exported script (core.export) and the engine side by side, step by step."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def script_losses(source: str, steps: int, folder: Path, timeout: float = 300) -> list[float]:
    """The losses the script prints for its first `steps` steps. It runs in
    isolated mode (`python -I`: no PYTHONPATH, not even the script's folder)
    from `folder`, so it cannot import the project: it is self-contained."""
    path = Path(folder) / "run.py"
    path.write_text(source, encoding="utf-8")
    out = subprocess.run([sys.executable, "-I", str(path), "--steps", str(steps)], cwd=folder,
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    records = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert [r["step"] for r in records] == list(range(1, steps + 1)), out.stdout[-2000:]
    return [float.fromhex(r["loss"]) for r in records]


def engine_losses(trainer, steps: int) -> list[float]:
    """The engine's losses for the first `steps` steps of `trainer` (a Trainer
    as the experiment's build() returns it)."""
    trainer.advance(max_steps=steps)
    return [r["loss"] for r in trainer.history.steps[:steps]]
