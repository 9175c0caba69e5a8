"""The book's English-French seq2seq set-up for a page or a benchmark: the
data with its reference translations, a small built-in stand-in, the trainer.

BOOK holds the book's settings (section 10.7): embed 32, hidden 32, 2 GRU
layers, dropout 0.1, num_steps 10, 600 sentence pairs, batch 64, Adam with
lr 0.005, gradient clipping at 1, 300 epochs."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch

from core.data.translation import FraNote, NMTData, build_nmt_data, load_fra, preprocess_nmt, tokenize_nmt
from core.experiments.schema import config, setting
from core.models.seq2seq import Seq2SeqObjective, seq2seq, translate
from core.train.trainer import Batches, Trainer


@config
class Config:
    """The book's settings (section 10.7); only the number of epochs is a control."""

    num_epochs: int = setting(300, "epochs", min=10, max=300, step=10, live=True)
    embed_size: int = 32
    num_hiddens: int = 32
    num_layers: int = 2
    dropout: float = 0.1
    num_steps: int = 10
    num_examples: int = 600
    batch_size: int = 64
    lr: float = 0.005
    grad_clip: float = 1.0


BOOK = Config()
# What the 0.17.5 edition prints after 300 epochs, and the same in this
# project's units. The book's MaskedSoftmaxCELoss averages each sequence's
# token losses over all num_steps positions (padding counted as 0) and its loop
# divides their sum by the number of valid tokens: its figure is the loss per
# valid token divided by num_steps (tests/test_seq2seq.py checks the identity).
BOOK_PRINTED_LOSS = 0.019
BOOK_LOSS_PER_TOKEN = BOOK_PRINTED_LOSS * BOOK.num_steps

# The book's four test sentences and their references (section 10.7.5).
BOOK_EXAMPLES = {"go .": "va !", "i lost .": "j'ai perdu .", "he's calm .": "il est calme .",
                 "i'm home .": "je suis chez moi ."}

# A stand-in when fra.txt is missing: short pairs in the style of the data's
# first lines (already preprocessed), the book's four examples among them.
STAND_IN_PAIRS = [
    ("go .", "va !"), ("run !", "cours !"), ("i lost .", "j'ai perdu ."), ("i won .", "j'ai gagné ."),
    ("i ran .", "j'ai couru ."), ("he lost .", "il a perdu ."), ("he won .", "il a gagné ."),
    ("he ran .", "il a couru ."), ("we lost .", "nous avons perdu ."), ("we won .", "nous avons gagné ."),
    ("he's calm .", "il est calme ."), ("i'm calm .", "je suis calme ."), ("he's sad .", "il est triste ."),
    ("i'm sad .", "je suis triste ."), ("he's late .", "il est en retard ."),
    ("i'm late .", "je suis en retard ."), ("i'm home .", "je suis chez moi ."),
    ("he's home .", "il est chez lui ."), ("i'm tired .", "je suis fatigué ."),
    ("he's tired .", "il est fatigué ."),
]


@dataclass
class Corpus:
    data: NMTData
    references: dict[str, str]  # preprocessed English -> its first French translation in the data
    label: str = "fra.txt"  # where the pairs come from
    path: Path | None = None  # the file read, if any
    notes: tuple[FraNote, ...] = ()  # what core.data.translation.check_fra says about it

    def reference(self, sentence: str) -> str | None:
        """The book's reference for its four examples, else the data's translation, else None."""
        s = normalize(sentence)
        return BOOK_EXAMPLES.get(s) or self.references.get(s)


def normalize(sentence: str) -> str:
    """The book's preprocessing (lower case, a space before , . ! ?), single spaces."""
    return " ".join(preprocess_nmt(sentence).split())


def load_corpus(num_steps: int = BOOK.num_steps, num_examples: int = BOOK.num_examples, *,
                batch_size: int = BOOK.batch_size, path=None, progress=None,
                allow_download: bool = True) -> Corpus:
    """fra.txt as the book loads it (load_data_nmt), with the references and
    what check_fra says about the file."""
    fra = load_fra(path, progress=progress, allow_download=allow_download)
    source, target = tokenize_nmt(preprocess_nmt(fra.text), num_examples)
    data = build_nmt_data(source, target, num_steps, batch_size)
    references: dict[str, str] = {}
    for s, t in zip(source, target):
        references.setdefault(" ".join(s), " ".join(t))
    return Corpus(data, references, path=fra.path, notes=fra.notes)


def stand_in_corpus(num_steps: int = BOOK.num_steps, batch_size: int = BOOK.batch_size) -> Corpus:
    """STAND_IN_PAIRS as a Corpus; every word is in the vocabularies (min_freq 1)."""
    source = [s.split() for s, _ in STAND_IN_PAIRS]
    target = [t.split() for _, t in STAND_IN_PAIRS]
    data = build_nmt_data(source, target, num_steps, batch_size, min_freq=1)
    return Corpus(data, dict(STAND_IN_PAIRS), "stand-in")


def build(cfg: Config, data: NMTData, *, seed: int = 0, device: torch.device | str = "cpu") -> Trainer:
    """The book's seq2seq and its training settings, on `data`."""
    device = torch.device(device)
    tensors = [t.to(device) for t in (data.src_array, data.src_valid_len, data.tgt_array, data.tgt_valid_len)]
    net_fn = seq2seq(len(data.src_vocab), len(data.tgt_vocab), cfg.embed_size, cfg.num_hiddens, cfg.num_layers,
                     cfg.dropout)
    return Trainer(net_fn, Batches(*tensors, batch_size=data.batch_size),
                   objective=Seq2SeqObjective(data.tgt_vocab["<bos>"]), optimizer="adam", lr=cfg.lr,
                   grad_clip=cfg.grad_clip, num_epochs=cfg.num_epochs, seed=seed, device=device)


def make_trainer(data: NMTData, *, seed: int = 0, device: torch.device | str = "cpu", **settings) -> Trainer:
    """build() with settings as keywords (tests, benchmarks)."""
    return build(replace(BOOK, **settings), data, seed=seed, device=device)


def translation(trainers, data: NMTData, *, src: str, num_steps: int = BOOK.num_steps, k: int = 2,
                alpha: float = 0.75, branches: int = 3):
    """The beam page's view (called in the run's worker between two steps):
    core.models.seq2seq.translate of `src` with the run's model as it is now."""
    t = next(iter(trainers.values()))
    return translate(t.net, src, data.src_vocab, data.tgt_vocab, num_steps, t.device, k, alpha, branches)
