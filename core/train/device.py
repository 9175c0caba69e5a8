"""Devices and threads: CUDA when present, else CPU."""
from __future__ import annotations

import os

import torch

_threads_set = False


def cuda_available() -> bool:
    return torch.cuda.is_available()


def pick_device(name: str = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU. Asking for 'cuda' without one falls back to CPU."""
    if name in ("auto", "cuda") and cuda_available():
        return torch.device("cuda")
    return torch.device("cpu")


def device_label(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return "cpu"


def set_threads_once(num_threads: int | None = None) -> int:
    """Set torch's intra-op threads once per process (idempotent).

    Default: PLAYGROUND_THREADS, else cores divided among the training slots."""
    global _threads_set
    if not _threads_set:
        if num_threads is None:
            env = os.environ.get("PLAYGROUND_THREADS")
            cores = os.cpu_count() or 1
            num_threads = int(env) if env else max(1, cores // default_slots())
        torch.set_num_threads(max(1, num_threads))
        _threads_set = True
    return torch.get_num_threads()


def default_workers() -> int:
    """Worker processes of the local executor (PLAYGROUND_WORKERS, else one per
    slot, at most one per core)."""
    env = os.environ.get("PLAYGROUND_WORKERS")
    return max(1, int(env)) if env else max(1, min(default_slots(), os.cpu_count() or 1))


def default_slots() -> int:
    """How many trainings may run at once server-wide (PLAYGROUND_SLOTS, else the cores)."""
    env = os.environ.get("PLAYGROUND_SLOTS")
    return max(1, int(env)) if env else max(1, os.cpu_count() or 1)
