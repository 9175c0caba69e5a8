"""The engine driven by live-panel ticks versus a plain PyTorch loop.

Trains the book's MLP (784-256-10, ReLU, SGD lr 0.1, batch 256) on Fashion-MNIST
(the real files when they can be found, else random data of the same shape) for
the same epochs both ways, and prints examples/sec for each and their ratio.
The engine side runs exactly as the page does, minus the browser: ticks of
`advance(max_seconds=BUDGET)` each followed by building the panel's figures.
Target: the engine keeps at least 0.9 of the plain loop's rate.

    .venv/bin/python benchmarks/engine_vs_loop.py [--epochs 2] [--repeats 2]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.train.device import pick_device, set_threads_once  # noqa: E402
from core.train.trainer import Batches, Supervised, Trainer  # noqa: E402


def load_data(device):
    try:
        from core.data.fashion_mnist import load_fashion_mnist

        d = load_fashion_mnist(device=device, allow_download=False)
        return d.X_train, d.y_train, d.X_test, d.y_test, "Fashion-MNIST"
    except Exception as err:  # noqa: BLE001 - any reason: fall back to random data
        print(f"(Fashion-MNIST not available: {err}; using random data of the same shape)")
        g = torch.Generator().manual_seed(0)
        X = torch.rand(60000, 1, 28, 28, generator=g)
        y = torch.randint(0, 10, (60000,), generator=g)
        return X.to(device), y.to(device), X[:10000].to(device), y[:10000].to(device), "random"


def mlp(gen: torch.Generator) -> nn.Module:
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                m.weight.normal_(0, 0.01, generator=gen)
                m.bias.zero_()
    return net


def plain_loop(X, y, Xt, yt, epochs, device) -> float:
    """The book's train_ch3 loop: per-batch loss and accuracy sums, test accuracy per epoch."""
    gen = torch.Generator().manual_seed(0)
    net = mlp(gen).to(device)
    loss = nn.CrossEntropyLoss(reduction="none")
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    data_gen = torch.Generator().manual_seed(1)
    start = time.perf_counter()
    for _ in range(epochs):
        net.train()
        metric = [0.0, 0.0, 0]
        order = torch.randperm(len(X), generator=data_gen).to(device)
        for i in range(0, len(X), 256):
            idx = order[i : i + 256]
            Xb, yb = X[idx], y[idx]
            y_hat = net(Xb)
            l = loss(y_hat, yb).mean()
            opt.zero_grad()
            l.backward()
            opt.step()
            metric[0] += float(l.detach()) * len(yb)
            metric[1] += float((y_hat.argmax(1) == yb).sum())
            metric[2] += len(yb)
        net.eval()
        with torch.no_grad():
            correct = sum(float((net(Xt[i : i + 256]).argmax(1) == yt[i : i + 256]).sum())
                          for i in range(0, len(Xt), 256))
        acc = correct / len(Xt)
    elapsed = time.perf_counter() - start
    print(f"  plain loop: last test accuracy {acc:.3f}")
    return epochs * len(X) / elapsed


def engine_ticks(X, y, Xt, yt, epochs, device, budget) -> float:
    from core.train.live_run import LiveRun
    from playground.live import ACCURACY, LOSS, MINIBATCH, _figure

    t = Trainer(mlp, Batches(X, y, batch_size=256), test=Batches(Xt, yt, batch_size=256, shuffle=False),
                objective=Supervised("cross_entropy", accuracy=True), lr=0.1, num_epochs=epochs, device=device)
    R = LiveRun()  # the panel's state machine, without a slot pool
    R.load(t)
    R.start()
    start = time.perf_counter()
    ticks = 0
    while R.active:
        R.tick(budget)
        for chart in (LOSS, ACCURACY, MINIBATCH):  # the redraw the page does after every tick
            data, spec = _figure(R, "bench", chart)
            data.to_dict("records")  # what Streamlit serialises
        ticks += 1
    elapsed = time.perf_counter() - start
    print(f"  engine: {ticks} ticks, last test accuracy {t.history.epochs[-1]['test_metric']:.3f}")
    return epochs * len(X) / elapsed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--budget", type=float, default=0.2, help="seconds of training per tick (the page's)")
    p.add_argument("--device", default="auto")
    args = p.parse_args()
    threads = set_threads_once()
    device = pick_device(args.device)
    X, y, Xt, yt, name = load_data(device)
    print(f"data: {name} {tuple(X.shape)}, device: {device}, torch threads: {threads}, epochs: {args.epochs}")
    plain, engine = [], []
    for _ in range(args.repeats):  # interleaved, best of each, to be fair to both
        plain.append(plain_loop(X, y, Xt, yt, args.epochs, device))
        engine.append(engine_ticks(X, y, Xt, yt, args.epochs, device, args.budget))
    best_plain, best_engine = max(plain), max(engine)
    print(f"plain loop   : {best_plain:10,.0f} examples/sec (runs: {', '.join(f'{v:,.0f}' for v in plain)})")
    print(f"engine ticks : {best_engine:10,.0f} examples/sec (runs: {', '.join(f'{v:,.0f}' for v in engine)})")
    print(f"ratio engine/plain: {best_engine / best_plain:.3f} (target >= 0.9)")


if __name__ == "__main__":
    main()
