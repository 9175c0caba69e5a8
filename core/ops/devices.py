"""GPUs (book section 6.7): which devices this server has, and how fast each
multiplies matrices and trains the book's MLP.

`try_gpu(i)` and `try_all_gpus()` are the book's: the i-th GPU if there is
one, else the CPU; every GPU, else [CPU]. `list_devices` says what torch sees.
`time_matmul` and `time_mlp_epoch` time the same work on a device; on CUDA,
whose kernels run asynchronously, `torch.cuda.synchronize` is called before the
clock starts and before it stops, so the time is the work's and not the
launch's. Every timing takes a `clock` (default time.perf_counter), so a test
can drive it with a fake one.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable

import torch
from torch import nn

from core.train.device import pick_device


def try_gpu(i: int = 0) -> torch.device:
    """The book's try_gpu: gpu(i) if it exists, otherwise cpu()."""
    if torch.cuda.is_available() and torch.cuda.device_count() >= i + 1:
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")


def try_all_gpus() -> list[torch.device]:
    """The book's try_all_gpus: every GPU, or [cpu()] when there is none."""
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return [torch.device(f"cuda:{i}") for i in range(count)] or [torch.device("cpu")]


def list_devices() -> dict:
    """What torch sees: CUDA available or not, how many GPUs and for each its
    name, memory (bytes), compute capability and multiprocessors; the CPU's
    cores and torch's intra-op threads; the versions; the device the
    playground trains on (core.train.device.pick_device)."""
    available = torch.cuda.is_available()
    gpus = []
    for i in range(torch.cuda.device_count() if available else 0):
        p = torch.cuda.get_device_properties(i)
        gpus.append({"index": i, "device": f"cuda:{i}", "name": p.name, "memory": int(p.total_memory),
                     "capability": f"{p.major}.{p.minor}", "multiprocessors": int(p.multi_processor_count)})
    return {"cuda_available": available, "count": len(gpus), "gpus": gpus,
            "cores": os.cpu_count() or 1, "threads": torch.get_num_threads(),
            "torch": torch.__version__, "cuda_version": torch.version.cuda,
            "training_device": str(pick_device("auto"))}


def worker_info() -> dict:
    """Which process computes (the GPUs page's timings run in a training
    worker, not in the web process) and its torch threads."""
    import os

    return {"pid": os.getpid(), "threads": torch.get_num_threads()}


def gflops(n: int, seconds: float) -> float:
    """GFLOP/s of one n x n by n x n product done in `seconds`: 2 n^3 floating
    point operations (n multiplications and n additions for each of n^2 outputs)."""
    return 2 * n ** 3 / seconds / 1e9


def synchronize(device: torch.device | str) -> None:
    """Wait for the device's queued kernels (CUDA); nothing on the CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_matmul(n: int, device: torch.device | str = "cpu", *, budget: float = 1.0, max_repeats: int = 20,
                clock: Callable[[], float] = time.perf_counter, seed: int = 0) -> dict:
    """Time X @ Y for two n x n float32 matrices (drawn from `seed`) on
    `device`: one small product first, untimed (it starts CUDA's libraries), then
    products timed one by one until `budget` seconds are spent or
    `max_repeats` are done (at least one). Returns n, the device, the
    repeats, the fastest product's seconds and its GFLOP/s, and the median's."""
    device = torch.device(device)
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, n, generator=gen).to(device)
    Y = torch.randn(n, n, generator=gen).to(device)
    synchronize(device)
    k = min(n, 256)
    torch.mm(X[:k, :k], Y[:k, :k])
    synchronize(device)
    times: list[float] = []
    while not times or (sum(times) < budget and len(times) < max_repeats):
        start = clock()
        torch.mm(X, Y)
        synchronize(device)
        times.append(clock() - start)
    best = min(times)
    median = sorted(times)[len(times) // 2]
    return {"n": n, "device": str(device), "repeats": len(times), "seconds": best, "gflops": gflops(n, best),
            "median_seconds": median, "median_gflops": gflops(n, median), "threads": torch.get_num_threads()}


def time_mlp_epoch(X: torch.Tensor, y: torch.Tensor, device: torch.device | str = "cpu", *, max_batches: int = 20,
                   batch_size: int = 256, num_hiddens: int = 256, lr: float = 0.1, seed: int = 0,
                   clock: Callable[[], float] = time.perf_counter) -> dict:
    """Train the book's MLP (784-num_hiddens-10, ReLU, N(0, 0.01^2) weights,
    cross-entropy, SGD) on the first `max_batches` minibatches of (X, y) on
    `device`, after one untimed minibatch: examples/sec, and the seconds a
    whole epoch of len(X) examples would take at that rate. The minibatches
    are taken in order (no shuffling): the timing does not depend on which."""
    from core.experiments.mlp import mlp

    device = torch.device(device)
    net = mlp(28 * 28, [num_hiddens], 10, "relu", sigma=0.01)(torch.Generator().manual_seed(seed)).to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    batches = [(X[i:i + batch_size].to(device), y[i:i + batch_size].to(device))
               for i in range(0, min(len(X), (max_batches + 1) * batch_size), batch_size)]

    def step(Xb, yb) -> float:
        loss = loss_fn(net(Xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    step(*batches[0])  # untimed: allocations, CUDA's start
    synchronize(device)
    timed = batches[1:] or batches
    start = clock()
    for Xb, yb in timed:
        last = step(Xb, yb)
    synchronize(device)
    seconds = clock() - start
    examples = sum(len(b[1]) for b in timed)
    rate = examples / seconds
    return {"device": str(device), "batches": len(timed), "examples": examples, "seconds": seconds,
            "examples_per_sec": rate, "epoch_seconds": len(X) / rate, "loss": float(last.detach()),
            "threads": torch.get_num_threads()}


def capped_n(n: int, options, *, measured_n: int, measured_seconds: float, limit: float = 2.0) -> tuple[int, float]:
    """(the largest size among `options` up to `n` whose product is expected
    to take at most `limit` seconds, that estimate), from one measured product
    of size `measured_n` and the n^3 growth of the work; the smallest option
    when none fits. So a page times a size it can afford instead of holding a
    slow server for tens of seconds."""
    def estimate(m: int) -> float:
        return measured_seconds * (m / measured_n) ** 3

    fitting = [m for m in sorted(options) if m <= n and estimate(m) <= limit]
    chosen = fitting[-1] if fitting else min(options)
    return chosen, estimate(chosen)
