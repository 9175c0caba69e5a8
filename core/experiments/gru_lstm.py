"""GRU and LSTM language models as the book trains them (sections 10.1-10.2),
packaged for the playground's page and benchmark: the book's settings, the
trainer, a stand-in text and the untrained twin of a run.

The book (d2l, PyTorch) trains on the first 10,000 characters of The Time
Machine with batch 32, num_steps 35, 256 hidden units, SGD lr 1, gradients
clipped at norm 1, for 500 epochs (sequential partitioning).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import replace

import numpy as np
import torch

from core.data.text import corpus_from_lines, lines_from_text, validate_text_upload
from core.experiments.schema import Preset, config, setting
from core.models.rnn import RNNLM, gate_trace, predict, rnn_lm
from core.train.lm import LMObjective, SeqBatches, holdout, perplexity, valid_batches
from core.train.trainer import Trainer

TEXTS = {10_000: "the first 10k", 50_000: "the first 50k", 0: "all"}  # characters trained on (0: all)


def text_setting():
    """`max_tokens`, the same on every language-model page: how much of The Time Machine trains."""
    return setting(10_000, "characters trained on", options=tuple(TEXTS), labels=TEXTS,
                   help="The first 10k (the book's choice), 50k, or all of the text.")


@config
class Config:
    """The book's settings (0.x editions): 256 hidden units, 500 epochs, batch 32,
    35 time steps, SGD lr 1, gradients clipped at norm 1, the first 10,000 characters."""

    cell: str = setting("gru", "Cell", options=("gru", "lstm"), labels={"gru": "GRU", "lstm": "LSTM"})
    impl: str = setting("scratch", "Implementation", options=("scratch", "concise"),
                        help="scratch: the book's equations in PyTorch; concise: torch's nn.GRU / nn.LSTM.")
    num_hiddens: int = setting(256, "hidden units", options=(8, 16, 32, 64, 128, 256),
                               help="The book uses 256.")
    max_tokens: int = text_setting()
    num_epochs: int = setting(500, "epochs", min=10, max=1000, step=10, live=True,
                              help="The book trains 500 epochs.")
    lr: float = setting(1.0, "learning rate", min=0.1, max=4.0, step=0.1, live=True,
                        help="Changes take effect at the next minibatch, even mid-run.")
    batch_size: int = 32
    num_steps: int = 35
    grad_clip: float = 1.0


BOOK = Config()
# The page's defaults: smaller than the book's so that learning shows within a
# minute on a laptop CPU (benchmarks/lm_perplexity.py measures them).
PAGE = replace(BOOK, num_hiddens=128, num_epochs=300)
PRESETS = [Preset("Compare GRU and LSTM", {"GRU": {"cell": "gru"}, "LSTM": {"cell": "lstm"}})]
# The book's printed perplexities of the scratch cells (../shared/book-results.md): the 0.x
# editions print training perplexity (256 hidden units, 500 epochs), the 1.0 edition
# validation perplexity (32 hidden units, batch 1024, 32 steps, lr 4, 50 epochs).
BOOK_TRAIN_PERPLEXITY = {"gru": 1.1, "lstm": 1.1}
BOOK_VALID_PERPLEXITY = {"gru": 6.74, "lstm": 7.42}
GATES = {"gru": ("R", "Z"), "lstm": ("I", "F", "O", "C")}  # what gate_trace returns per cell

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
    need = BOOK.batch_size * BOOK.num_steps + BOOK.num_steps + 1  # SeqBatches at every offset
    if len(holdout(corpus)[0]) < need:
        raise ValueError(f"The text has {len(corpus):,} characters after preprocessing; one minibatch of "
                         f"{BOOK.batch_size} x {BOOK.num_steps} needs at least {need:,}, besides the end held "
                         "out for validation (a fifth of the text, at most 5,000 characters).")
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


def text_of(corpus, cfg: Config):
    """The part of the corpus the run trains on: the first max_tokens (0: all)
    of what is left after the validation part is held out."""
    train, _ = holdout(corpus)
    return train[:cfg.max_tokens] if cfg.max_tokens else train


def valid_of(corpus):
    """The held-out end of the corpus the run is validated on (never trained on)."""
    return holdout(corpus)[1]


def build(cfg: Config, data, *, seed: int = 0, device="cpu", random: bool = False) -> Trainer:
    """The book's train_ch8 for a GRU or LSTM language model, as a Trainer.
    `data` is (corpus, vocab): the token indices and the vocabulary (or its size)."""
    corpus, vocab = data
    vocab_size = vocab if isinstance(vocab, int) else len(vocab)
    data = SeqBatches(text_of(corpus, cfg), cfg.batch_size, cfg.num_steps, random=random, device=device)
    valid = valid_batches(valid_of(corpus), cfg.batch_size, cfg.num_steps, device=device)
    return Trainer(rnn_lm(vocab_size, cfg.num_hiddens, kind=cfg.cell, impl=cfg.impl), data, test=valid,
                   objective=LMObjective(random=random), optimizer="sgd", lr=cfg.lr, num_epochs=cfg.num_epochs,
                   seed=seed, device=device, grad_clip=cfg.grad_clip)


def make_trainer(corpus, vocab_size: int, *, kind: str = "gru", seed: int = 0, device="cpu", random: bool = False,
                 **settings) -> Trainer:
    """build() on the whole corpus (less its validation part) with settings as keywords (tests, benchmarks)."""
    cfg = replace(BOOK, cell=kind, max_tokens=0, **settings)
    return build(cfg, (corpus, vocab_size), seed=seed, device=device, random=random)


def untrained_net(trainer: Trainer) -> RNNLM:
    """A fresh copy of the run's initial net (epoch 0): the same seed drawn the
    same way as Trainer.reset, without touching the run."""
    return trainer.net_fn(torch.Generator().manual_seed(trainer.seed)).to(trainer.device).eval()


def look(trainers, data, *, prefix: str = "", gate_text: str = "", compare: bool = True,
         num_preds: int = 50) -> dict:
    """The page's view (called in the run's worker between two steps): the
    first run's greedy generation after `prefix`, its training perplexity over
    the last epoch and its validation perplexity after it, and its gates on
    `gate_text`, beside those of its untrained twin with `compare`. `data` is the run's (corpus, vocab)."""
    _, vocab = data
    name, t = next(iter(trainers.items()))
    last = t.history.epochs[-1] if t.history.epochs else {}
    seen = {"name": name, "epoch": t.epoch, "kind": t.net.kind,
            "perplexity": perplexity(last["train_loss"]) if last else None,
            "valid_perplexity": perplexity(last["test_loss"]) if last.get("test_loss") is not None else None,
            "text": predict(prefix, num_preds, t.net, vocab, t.device) if prefix else "", "traces": {}}
    if gate_text:
        seen["traces"][f"trained (epoch {t.epoch})"] = gate_trace(t.net, gate_text, vocab, t.device)
        if compare:
            seen["traces"]["untrained (epoch 0)"] = gate_trace(untrained_net(t), gate_text, vocab, t.device)
    return seen
