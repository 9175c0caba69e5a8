"""Pieces shared by the exporters of chapters 3-7 (core.export.linear_regression,
... core.export.batch_norm): the script's head (docstring, imports, the Config
values as constants), the run's three random streams, the book's data_iter, the
book's scratch SGD, the training loop that prints each step's loss, the
Fashion-MNIST reader and the script's command line.

Everything here is text: a script is assembled from these snippets and an
exporter's own (its data and its net), and must run with torch and the
standard library only. The snippets do exactly what core.train.trainer does,
in the same order, so the losses are the engine's bit for bit on the CPU:

- gen_init = Generator().manual_seed(SEED) draws the initial weights,
- gen_data = SEED + 1 draws one torch.randperm per epoch (Batches.epoch_from),
- gen_noise = SEED + 2 draws the dropout masks;
- a step is y_hat = net(X), l = loss(y_hat, y).mean(), zero_grad, backward,
  (clipping), the optimizer's step; the loss printed is float(l).
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from typing import Any

HEAD = '''"""{title} (Dive into Deep Learning, {section}), as the d2l playground trains it.

{about}

This script reproduces the playground's run at the settings below on the CPU,
step by step: the same initial weights, the same minibatch order{noise} and the
same updates. The playground draws everything random from three generators of
its own, seeded SEED (initial weights), SEED + 1 (each epoch's minibatch order)
and SEED + 2 (dropout masks), never from torch's global one; so does this script.

    python run.py                  # train all NUM_EPOCHS epochs
    python run.py --steps 5        # only the first 5 minibatch steps
    python run.py --data-dir DIR   # where the data files are{data_note}

Every step prints one JSON line, {{"step": i, "loss": float.hex(loss)}}
(float.fromhex gives the loss back exactly); each epoch ends with a line
of test figures. Needs torch and Python's standard library only.
"""
'''

GENERATORS = '''
# A matrix product or a sum is split among torch's threads and rounded per part:
# as many threads as the playground's worker give its numbers bit for bit.
torch.set_num_threads(THREADS)

# The run's three random streams (the playground's Trainer.reset).
gen_init = torch.Generator().manual_seed(SEED)       # the initial weights
gen_data = torch.Generator().manual_seed(SEED + 1)   # each epoch's minibatch order
gen_noise = torch.Generator().manual_seed(SEED + 2)  # dropout masks
'''

DATA_ITER = '''

def data_iter(batch_size, X, y, shuffle=True):
    """The minibatches of one epoch (the book's data_iter, 3.2): a random
    permutation of the examples drawn from gen_data, cut into batches."""
    num_examples = len(X)
    if shuffle:
        indices = torch.randperm(num_examples, generator=gen_data)
    for i in range(0, num_examples, batch_size):
        if shuffle:
            batch_indices = indices[i:i + batch_size]
            yield X[batch_indices], y[batch_indices]
        else:
            yield X[i:i + batch_size], y[i:i + batch_size]
'''

SGD = '''

class SGD:
    """The book's minibatch stochastic gradient descent from scratch (3.4):
    param <- param - lr * grad. The loss is already the minibatch's mean,
    so there is no division by the batch size here."""

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def step(self):
        with torch.no_grad():
            for param in self.params:
                if param.grad is not None:
                    param.sub_(self.lr * param.grad)

    def zero_grad(self):
        for param in self.params:
            param.grad = None
'''

TRAIN = '''

def train(net, train_data, test_data, loss, updater, num_epochs, max_steps=None):
    """The book's training loop (train_ch3, 4.4): each epoch one pass over the
    shuffled minibatches, then the test set in eval mode. Prints every step's
    loss; stops after max_steps steps when given."""
    step = 0
    for epoch in range(num_epochs):
        net.train()
        for X, y in data_iter(BATCH_SIZE, *train_data):
            y_hat = net(X)
            l = loss(y_hat, y).mean()
            updater.zero_grad()
            l.backward(){clip}
            updater.step()
            step += 1
            print(json.dumps({{"step": step, "loss": l.item().hex()}}), flush=True)
            if max_steps is not None and step >= max_steps:
                return net
        test_loss, test_acc = evaluate(net, test_data, loss)
        print(f"epoch {{epoch + 1}}: {eval_label} {{test_loss:.6g}}"
              + (f", accuracy {{test_acc:.3f}}" if test_acc is not None else ""), flush=True)
    return net


@torch.no_grad()
def evaluate(net, data, loss):
    """Mean loss (and accuracy, for a classifier) over `data` in eval mode."""
    net.eval()
    loss_sum, correct, n = 0.0, 0.0, 0
    for X, y in data_iter({eval_batch}, *data, shuffle=False):
        y_hat = net(X)
        loss_sum += float(loss(y_hat, y).mean()) * len(X)
        if y_hat.dim() == 2 and y.dim() == 1:  # a classifier: count the right answers
            correct += float((y_hat.argmax(dim=1) == y).sum())
        n += len(X)
    net.train()
    classifier = y_hat.dim() == 2 and y.dim() == 1
    return loss_sum / max(n, 1), (correct / max(n, 1) if classifier else None)
'''

# nn.Linear initialised as torch does, but from the script's gen_init (the engine draws it so).
LINEAR = '''def linear(n_in, n_out):
    """nn.Linear with torch's default initial values, U(-1/sqrt(n_in), 1/sqrt(n_in)), drawn from gen_init."""
    layer = nn.Linear(n_in, n_out)
    bound = 1 / math.sqrt(n_in)
    with torch.no_grad():
        layer.weight.copy_(torch.empty(n_out, n_in).uniform_(-bound, bound, generator=gen_init))
        layer.bias.copy_(torch.empty(n_out).uniform_(-bound, bound, generator=gen_init))
    return layer
'''

# The idx reader, shared by every Fashion-MNIST script (the modern CNNs' too).
READ_IDX = '''def read_idx(name, data_dir):
    """An idx file of Fashion-MNIST as a uint8 tensor: two zero bytes, a type
    code, the number of dimensions, each dimension as a big-endian uint32,
    then the data. Looked for in data_dir, data_dir/fashion-mnist and Debian's
    folder, gzip-compressed or not."""
    folders = [data_dir, os.path.join(data_dir, "fashion-mnist"), "/usr/share/datasets/fashion-mnist"]
    for folder in folders:
        for candidate in (name, name[:-3]):
            path = os.path.join(folder, candidate)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    raw = f.read()
                if raw[:2] == b"\\x1f\\x8b":
                    raw = gzip.decompress(raw)
                ndim = raw[3]
                shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
                return torch.frombuffer(bytearray(raw[4 + 4 * ndim:]), dtype=torch.uint8).reshape(shape)
    raise SystemExit(f"{name} not found in {folders}: pass --data-dir")
'''

FASHION_MNIST = '''

FASHION_MNIST = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                 "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


''' + READ_IDX + '''

def load_data_fashion_mnist(data_dir):
    """Fashion-MNIST (4.2): images as float32 in [0, 1] of shape (N, 1, 28, 28), labels int64."""
    data = {}
    for part, (images, labels) in FASHION_MNIST.items():
        X = read_idx(images, data_dir).unsqueeze(1).float().div_(255)
        y = read_idx(labels, data_dir).long()
        data[part] = (X, y)
    return data["train"], data["test"]
'''

MAIN = '''

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="train only this many minibatch steps")
    parser.add_argument("--data-dir", default=DATA_DIR, help="the folder with the data files")
    args = parser.parse_args()
    run(args.data_dir, args.steps)


if __name__ == "__main__":
    main()
'''


def constant(value: Any) -> str:
    """A Python literal for a Config value (floats by repr: exact)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'
    if isinstance(value, tuple):
        return "(" + ", ".join(constant(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def head(*, title: str, section: str, about: str, imports: list[str], constants: Mapping[str, Any],
         seed: int, data_dir: str, threads: int = 1, data_note: str = "", noise: bool = False,
         note: str = "") -> str:
    """The docstring, the imports and the settings (NAME = value lines, then
    SEED, THREADS and DATA_DIR), followed by the run's generators. `threads`:
    torch's threads in the worker that trains the run (rounding depends on how
    a sum is split among threads, so the script uses as many)."""
    std = sorted(i for i in imports if not i.startswith(("torch", "from torch")))
    lines = [HEAD.format(title=title, section=section, about=textwrap.fill(" ".join(about.split()), 78),
                         noise=", the same dropout masks" if noise else "",
                         data_note=f"\n\n{textwrap.fill(' '.join(data_note.split()), 78)}" if data_note else ""),
             *[f"import {m}" for m in std], "", "import torch", "from torch import nn", "",
             "# The run's settings (the page's Config values)" + (f"; {note}" if note else "")]
    width = max(len(k) for k in [*constants, "DATA_DIR"])
    for name, value in constants.items():
        lines.append(f"{name.ljust(width)} = {constant(value)}")
    lines.append(f"{'SEED'.ljust(width)} = {int(seed)}")
    lines.append(f"{'THREADS'.ljust(width)} = {int(threads)}  # torch threads, as the playground's worker")
    lines.append(f"{'DATA_DIR'.ljust(width)} = {data_dir!r}  # --data-dir overrides it")
    return "\n".join(lines) + "\n" + GENERATORS


def train_loop(*, eval_batch: str = "BATCH_SIZE", eval_label: str = "test loss", clip: str | None = None) -> str:
    """The train / evaluate pair; `clip` is the norm for clip_grad_norm_ (a constant's name)."""
    clip_code = (f"\n            nn.utils.clip_grad_norm_(net.parameters(), {clip})  # gradient clipping"
                 if clip else "")
    return TRAIN.format(clip=clip_code, eval_batch=eval_batch, eval_label=eval_label)


FASHION_NOTE = ("Fashion-MNIST's four idx files (train-images-idx3-ubyte.gz, ...) are read from DATA_DIR, "
                "DATA_DIR/fashion-mnist or /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).")

FASHION_MLP = '''

def init_normal(net, sigma, generator):
    """The book's initialisation (5.2.2): weights N(0, sigma^2) and zero biases,
    drawn from the run's generator."""
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, sigma, generator=generator)
                nn.init.zeros_(m.bias)
'''
