"""GPUs (book 6.7) in core: GFLOP/s from a fake clock, the book's try_gpu /
try_all_gpus falling back to the CPU (and picking GPUs when torch reports
some), the device listing on this CPU-only machine, the MLP timing's rate.
The CUDA path (synchronize around the timings) is not run here: no GPU."""
from __future__ import annotations

import itertools

import pytest
import torch

from core.ops import devices


def fake_clock(step: float):
    """A clock that advances `step` seconds each time it is read."""
    ticks = itertools.count()
    return lambda: next(ticks) * step


def test_gflops_is_two_n_cubed_over_the_seconds():
    assert devices.gflops(1000, 2.0) == pytest.approx(1.0)  # 2e9 operations in 2 s
    assert devices.gflops(4096, 1.0) == pytest.approx(2 * 4096 ** 3 / 1e9)


def test_matmul_timing_from_a_fake_clock():
    # each product "takes" 0.25 s (two readings per product): budget 1 s -> 4 products
    out = devices.time_matmul(64, "cpu", budget=1.0, clock=fake_clock(0.25))
    assert out["repeats"] == 4 and out["seconds"] == pytest.approx(0.25)
    assert out["gflops"] == pytest.approx(2 * 64 ** 3 / 0.25 / 1e9)
    assert out["median_gflops"] == pytest.approx(out["gflops"]) and out["device"] == "cpu"
    # a budget smaller than one product still times one; max_repeats caps the count
    assert devices.time_matmul(32, budget=0.0, clock=fake_clock(5.0))["repeats"] == 1
    assert devices.time_matmul(32, budget=100.0, max_repeats=3, clock=fake_clock(0.1))["repeats"] == 3


def test_matmul_timing_on_the_real_clock_is_a_positive_speed():
    out = devices.time_matmul(128, budget=0.05)
    assert out["repeats"] >= 1 and out["seconds"] > 0 and out["gflops"] > 0
    assert out["threads"] == torch.get_num_threads()


def test_mlp_timing_rate_from_a_fake_clock():
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(600, 1, 28, 28, generator=g), torch.randint(0, 10, (600,), generator=g)
    out = devices.time_mlp_epoch(X, y, max_batches=3, batch_size=100, clock=fake_clock(0.5))
    # one untimed minibatch, then 3 timed; the clock is read twice around them: 0.5 s for 300 examples
    assert out["batches"] == 3 and out["examples"] == 300 and out["seconds"] == pytest.approx(0.5)
    assert out["examples_per_sec"] == pytest.approx(600.0) and out["epoch_seconds"] == pytest.approx(1.0)
    assert torch.isfinite(torch.tensor(out["loss"]))
    # fewer examples than asked for: what there is
    assert devices.time_mlp_epoch(X[:250], y[:250], max_batches=10, batch_size=100,
                                  clock=fake_clock(1.0))["examples"] == 150


def test_try_gpu_falls_back_to_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert devices.try_gpu() == torch.device("cpu") and devices.try_gpu(3) == torch.device("cpu")
    assert devices.try_all_gpus() == [torch.device("cpu")]


def test_try_gpu_picks_the_gpus_torch_reports(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert devices.try_gpu() == torch.device("cuda:0") and devices.try_gpu(1) == torch.device("cuda:1")
    assert devices.try_gpu(2) == torch.device("cpu")  # the book's: no third GPU, the CPU
    assert devices.try_all_gpus() == [torch.device("cuda:0"), torch.device("cuda:1")]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the listing of a CPU-only machine")
def test_device_listing_on_this_cpu_machine():
    seen = devices.list_devices()
    assert seen["cuda_available"] is False and seen["count"] == 0 and seen["gpus"] == []
    assert seen["training_device"] == "cpu"
    assert seen["threads"] == torch.get_num_threads() and seen["cores"] >= 1
    assert seen["torch"] == torch.__version__
    assert devices.try_gpu() == torch.device("cpu") and devices.try_all_gpus() == [torch.device("cpu")]


def test_capped_n_keeps_the_estimated_time_under_the_limit():
    sizes = (256, 512, 1024, 2048, 4096)
    # 512 took 0.01 s: 4096 would take 0.01 * 8^3 = 5.12 s, 2048 0.64 s
    assert devices.capped_n(4096, sizes, measured_n=512, measured_seconds=0.01) == (2048, pytest.approx(0.64))
    assert devices.capped_n(1024, sizes, measured_n=512, measured_seconds=0.01) == (1024, pytest.approx(0.08))
    assert devices.capped_n(4096, sizes, measured_n=512, measured_seconds=0.01, limit=10)[0] == 4096
    # a very slow device: the smallest size, whatever its estimate
    assert devices.capped_n(4096, sizes, measured_n=512, measured_seconds=30.0)[0] == 256
