"""GRU and LSTM language models as the book trains them (sections 10.1-10.2),
packaged for the playground's page and benchmark: the book's settings, the
trainer, the gate equations, a stand-in text and the untrained twin of a run.

The book (d2l, PyTorch) trains on the first 10,000 characters of The Time
Machine with batch 32, num_steps 35, 256 hidden units, SGD lr 1, gradients
clipped at norm 1, for 500 epochs (sequential partitioning).
"""
from __future__ import annotations

import hashlib
import re

import numpy as np
import torch

from core.data.text import corpus_from_lines, lines_from_text, validate_text_upload
from core.models.rnn import RNNLM, rnn_lm
from core.train.lm import LMObjective, SeqBatches
from core.train.trainer import Trainer

BOOK = {"batch_size": 32, "num_steps": 35, "num_hiddens": 256, "lr": 1.0, "grad_clip": 1.0,
        "num_epochs": 500, "max_tokens": 10_000}
# The page's defaults: smaller than the book's so that learning shows within a
# minute on a laptop CPU (benchmarks/lm_perplexity.py measures them).
PAGE_DEFAULTS = {"num_hiddens": 128, "num_epochs": 300, "max_tokens": 10_000, "lr": 1.0}

# Which traced arrays the gate view shows, and how: (key of gate_trace, label).
GATES = {
    "gru": [("R", "reset gate R"), ("Z", "update gate Z")],
    "lstm": [("I", "input gate I"), ("F", "forget gate F"), ("O", "output gate O"), ("C", "memory cell C")],
}

_X = r"\mathbf{X}_t"
_H = r"\mathbf{H}_{t-1}"
EQUATIONS = {
    "gru": [
        rf"\mathbf{{R}}_t = \sigma({_X} \mathbf{{W}}_{{xr}} + {_H} \mathbf{{W}}_{{hr}} + \mathbf{{b}}_r)"
        r"\qquad\text{reset gate}",
        rf"\mathbf{{Z}}_t = \sigma({_X} \mathbf{{W}}_{{xz}} + {_H} \mathbf{{W}}_{{hz}} + \mathbf{{b}}_z)"
        r"\qquad\text{update gate}",
        rf"\tilde{{\mathbf{{H}}}}_t = \tanh({_X} \mathbf{{W}}_{{xh}} + (\mathbf{{R}}_t \odot {_H}) "
        r"\mathbf{W}_{hh} + \mathbf{b}_h)\qquad\text{candidate hidden state}",
        rf"\mathbf{{H}}_t = \mathbf{{Z}}_t \odot {_H} + (1 - \mathbf{{Z}}_t) \odot \tilde{{\mathbf{{H}}}}_t",
    ],
    "lstm": [
        rf"\mathbf{{I}}_t = \sigma({_X} \mathbf{{W}}_{{xi}} + {_H} \mathbf{{W}}_{{hi}} + \mathbf{{b}}_i)"
        r"\qquad\text{input gate}",
        rf"\mathbf{{F}}_t = \sigma({_X} \mathbf{{W}}_{{xf}} + {_H} \mathbf{{W}}_{{hf}} + \mathbf{{b}}_f)"
        r"\qquad\text{forget gate}",
        rf"\mathbf{{O}}_t = \sigma({_X} \mathbf{{W}}_{{xo}} + {_H} \mathbf{{W}}_{{ho}} + \mathbf{{b}}_o)"
        r"\qquad\text{output gate}",
        rf"\tilde{{\mathbf{{C}}}}_t = \tanh({_X} \mathbf{{W}}_{{xc}} + {_H} \mathbf{{W}}_{{hc}} + \mathbf{{b}}_c)"
        r"\qquad\text{input node}",
        r"\mathbf{C}_t = \mathbf{F}_t \odot \mathbf{C}_{t-1} + \mathbf{I}_t \odot \tilde{\mathbf{C}}_t,"
        r"\qquad \mathbf{H}_t = \mathbf{O}_t \odot \tanh(\mathbf{C}_t)",
    ],
}
# torch's nn.GRU (and cuDNN) applies the reset gate after the product with W_hh.
NN_GRU_CANDIDATE = (rf"\tilde{{\mathbf{{H}}}}_t = \tanh({_X} \mathbf{{W}}_{{xh}} + \mathbf{{b}}_h + \mathbf{{R}}_t"
                    rf" \odot ({_H} \mathbf{{W}}_{{hh}} + \mathbf{{b}}_{{hn}}))")

# The stand-in: a few sentences written for the playground, repeated so that a
# minibatch of 32 x 35 characters fits many times over.
STAND_IN_TEXT = """\
The traveller came back to the laboratory at dawn and sat down by the fire.
He told us that time is only a kind of space, and that a machine might move along it.
We laughed at him, and the doctor asked where the machine was now.
The traveller smiled and said that it stood in the laboratory, ready for the journey.
In the morning the machine was gone, and so was the traveller.
"""
STAND_IN_REPEATS = 12


def stand_in_corpus():
    """(corpus, vocab) of STAND_IN_TEXT repeated STAND_IN_REPEATS times."""
    return corpus_from_lines(lines_from_text(STAND_IN_TEXT * STAND_IN_REPEATS))


def corpus_from_upload(data: bytes):
    """(corpus, vocab) of an uploaded text; ValueError with a message for a person."""
    corpus, vocab = corpus_from_lines(lines_from_text(validate_text_upload(data)))
    need = BOOK["batch_size"] * BOOK["num_steps"] + BOOK["num_steps"] + 1  # SeqBatches at every offset
    if len(corpus) < need:
        raise ValueError(f"The text has {len(corpus):,} characters after preprocessing; "
                         f"one minibatch of {BOOK['batch_size']} x {BOOK['num_steps']} needs at least {need:,}.")
    return corpus, vocab


def fingerprint(corpus, vocab) -> str:
    """A short, stable identity of a corpus and its vocabulary (for the page's config)."""
    h = hashlib.sha1(np.asarray(corpus, dtype=np.int32).tobytes())
    h.update("\0".join(vocab.idx_to_token).encode())
    return h.hexdigest()[:12]


def clean_text(text: str) -> str:
    """A user's prefix as the book preprocesses text: letters only, lower case,
    everything else one space (leading spaces dropped, a trailing one kept)."""
    return re.sub("[^A-Za-z]+", " ", text).lower().lstrip()


def make_trainer(corpus, vocab_size: int, *, kind: str = "gru", impl: str = "scratch",
                 num_hiddens: int = BOOK["num_hiddens"], num_epochs: int = BOOK["num_epochs"],
                 lr: float = BOOK["lr"], seed: int = 0, device="cpu", batch_size: int = BOOK["batch_size"],
                 num_steps: int = BOOK["num_steps"], grad_clip: float = BOOK["grad_clip"],
                 random: bool = False) -> Trainer:
    """The book's train_ch8 for a GRU or LSTM language model, as a Trainer."""
    data = SeqBatches(corpus, batch_size, num_steps, random=random, device=device)
    return Trainer(rnn_lm(vocab_size, num_hiddens, kind=kind, impl=impl), data,
                   objective=LMObjective(random=random), optimizer="sgd", lr=lr, num_epochs=num_epochs,
                   seed=seed, device=device, grad_clip=grad_clip)


def untrained_net(trainer: Trainer) -> RNNLM:
    """A fresh copy of the run's initial net (epoch 0): the same seed drawn the
    same way as Trainer.reset, without touching the run."""
    return trainer.net_fn(torch.Generator().manual_seed(trainer.seed)).to(trainer.device).eval()
