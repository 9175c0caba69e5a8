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
from core.models.seq2seq import Seq2SeqObjective, bleu, greedy_translate, seq2seq, sequence_mask, translate
from core.train.probe import probe
from core.train.trainer import Batches, Trainer


@config
class Config:
    """The book's settings (section 10.7). The seq2seq page draws the
    architecture's controls; the beam-search page uses the same run."""

    num_epochs: int = setting(300, "epochs", min=10, max=300, step=10, live=True)
    lr: float = setting(0.005, "learning rate (Adam)", options=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05), live=True,
                        help="The book uses 0.005. Changes take effect at the next minibatch, even mid-run.")
    embed_size: int = setting(32, "embedding size", options=(8, 16, 32, 64, 128), help="The book uses 32.")
    num_hiddens: int = setting(32, "hidden units", options=(8, 16, 32, 64, 128), help="The book uses 32.")
    num_layers: int = setting(2, "GRU layers", min=1, max=4, help="In the encoder and in the decoder; the book uses 2.")
    dropout: float = setting(0.1, "dropout", min=0.0, max=0.5, step=0.05,
                             help="Between GRU layers (none with one layer); the book uses 0.1.")
    num_steps: int = 10
    num_examples: int = 600
    batch_size: int = 64
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
# The BLEU (k = 2) of the greedy translations the book prints after 300 epochs:
# (0.17.5, zh 2.0). The figures of one run of 600 pairs: they vary with the draw.
BOOK_BLEU = {"go .": (1.000, 1.000), "i lost .": (0.000, 1.000), "he's calm .": (0.548, 0.658),
             "i'm home .": (1.000, 0.447)}
RUN_KEY = "seq2seq"  # the live panel's key and the settings' namespace: one model for both pages

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
                   grad_clip=cfg.grad_clip, num_epochs=cfg.num_epochs, seed=seed, device=device,
                   callbacks=[("epoch_end", BookBleu(data, cfg.num_steps))])


def bleu_key(sentence: str) -> str:
    """The epoch records' key of a book sentence's BLEU."""
    return f"bleu:{sentence}"


class BookBleu:
    """epoch_end: {bleu_key(s): BLEU (k = 2)} of the greedy translations of the
    book's four sentences against its references. greedy_translate works in
    eval mode, without gradients and without any random draw, so the run
    trains exactly as without it."""

    event = "epoch_end"

    def __init__(self, data: NMTData, num_steps: int):
        self.data, self.num_steps = data, num_steps

    def __call__(self, trainer, record: dict) -> dict:
        texts = greedy_translate(trainer.net, list(BOOK_EXAMPLES), self.data.src_vocab, self.data.tgt_vocab,
                                 self.num_steps, trainer.device)
        return {bleu_key(src): bleu(text, ref, 2) for text, (src, ref) in zip(texts, BOOK_EXAMPLES.items())}


def make_trainer(data: NMTData, *, seed: int = 0, device: torch.device | str = "cpu", **settings) -> Trainer:
    """build() with settings as keywords (tests, benchmarks)."""
    return build(replace(BOOK, **settings), data, seed=seed, device=device)


def translation(trainers, data: NMTData, *, src: str, num_steps: int = BOOK.num_steps, k: int = 2,
                alpha: float = 0.75, branches: int = 3):
    """The beam page's view (called in the run's worker between two steps):
    core.models.seq2seq.translate of `src` with the run's model as it is now."""
    t = next(iter(trainers.values()))
    return translate(t.net, src, data.src_vocab, data.tgt_vocab, num_steps, t.device, k, alpha, branches)


# ---------------------------------------------------------- what the page shows


def _tokens(vocab, ids, length: int | None = None) -> list[str]:
    ids = [int(i) for i in ids]
    return vocab.to_tokens(ids if length is None else ids[:length])


def first_pairs(data: NMTData, rows: int):
    """The data's first `rows` pairs as a batch (X, X_valid_len, Y, Y_valid_len)."""
    return data.src_array[:rows], data.src_valid_len[:rows], data.tgt_array[:rows], data.tgt_valid_len[:rows]


def decoder_input(Y: torch.Tensor, bos: int) -> torch.Tensor:
    """Teacher forcing: the decoder reads <bos> followed by the target shifted by one."""
    return torch.cat([torch.full((Y.shape[0], 1), bos, dtype=Y.dtype, device=Y.device), Y[:, :-1]], 1)


def teacher_forcing(data: NMTData, rows: int = 4) -> dict:
    """One batch as training sees it: the source, the target, the decoder's
    input (<bos> + the target shifted by one), the valid lengths and the mask
    of the target positions the loss counts (1) or ignores (0: padding)."""
    X, X_len, Y, Y_len = first_pairs(data, rows)
    dec = decoder_input(Y, data.tgt_vocab["<bos>"])
    mask = sequence_mask(torch.ones(Y.shape), Y_len)
    return {"src": [_tokens(data.src_vocab, x) for x in X], "tgt": [_tokens(data.tgt_vocab, y) for y in Y],
            "dec_input": [_tokens(data.tgt_vocab, d) for d in dec], "src_valid_len": X_len.tolist(),
            "tgt_valid_len": Y_len.tolist(), "mask": mask.numpy()}


def architecture(cfg: Config, data: NMTData) -> list[tuple[str, tuple[int, ...]]]:
    """(what, shape) along one training minibatch of `cfg.batch_size` pairs,
    read off a forward pass of the model the settings build (untrained)."""
    net = seq2seq(len(data.src_vocab), len(data.tgt_vocab), cfg.embed_size, cfg.num_hiddens, cfg.num_layers,
                  cfg.dropout)(torch.Generator().manual_seed(0))
    X, X_len, Y, _ = first_pairs(data, cfg.batch_size)
    dec = decoder_input(Y, data.tgt_vocab["<bos>"])
    names = ["encoder.embedding", "encoder.rnn", "decoder.embedding", "decoder.rnn", "decoder.dense"]
    with probe(net, train=False, capture=names) as p:
        logits = net(X, dec, X_len)
    enc_outputs, enc_state = p.outputs["encoder.rnn"]
    return [
        ("source X (batch, num_steps)", tuple(X.shape)),
        ("encoder embedding (num_steps, batch, embed_size)", tuple(p.outputs["encoder.embedding"].shape)),
        ("encoder GRU outputs, top layer (num_steps, batch, num_hiddens)", tuple(enc_outputs.shape)),
        ("encoder final state (num_layers, batch, num_hiddens): the decoder's initial state",
         tuple(enc_state.shape)),
        ("context c: the top layer's output at the last step (batch, num_hiddens)", tuple(enc_outputs[-1].shape)),
        ("decoder input: <bos> + target shifted (batch, num_steps)", tuple(dec.shape)),
        ("decoder embedding (num_steps, batch, embed_size)", tuple(p.outputs["decoder.embedding"].shape)),
        ("decoder GRU input: embedding and context concatenated (num_steps, batch, embed_size + num_hiddens)",
         tuple(p.inputs["decoder.rnn"].shape)),
        ("decoder GRU outputs (num_steps, batch, num_hiddens)", tuple(p.outputs["decoder.rnn"][0].shape)),
        ("logits after the dense layer (batch, num_steps, target vocabulary)", tuple(logits.shape)),
    ]


def look(trainers, data: NMTData, *, rows: int = 6) -> dict:
    """The seq2seq page's view (in the run's worker, between two steps): the
    per-token cross-entropy of the first `rows` pairs under teacher forcing
    (masked: padding positions are NaN), the greedy prediction at each
    position, and the greedy translations of the book's four sentences with
    their BLEU. Eval mode, no gradients, nothing of the run changes."""
    name, t = next(iter(trainers.items()))
    X, X_len, Y, Y_len = (a.to(t.device) for a in first_pairs(data, rows))
    dec = decoder_input(Y, data.tgt_vocab["<bos>"])
    with probe(t.net, train=False):
        logits = t.net(X, dec, X_len)
        losses = torch.nn.functional.cross_entropy(logits.permute(0, 2, 1), Y, reduction="none")
    mask = sequence_mask(torch.ones_like(losses), Y_len).bool()
    shown = torch.where(mask, losses, torch.full_like(losses, float("nan"))).cpu().numpy()
    translations = []
    for src, ref in BOOK_EXAMPLES.items():
        tr = translate(t.net, src, data.src_vocab, data.tgt_vocab, Y.shape[1], t.device, k=1)
        translations.append({"src": src, "translation": tr.text, "reference": ref, "bleu": bleu(tr.text, ref, 2),
                             "unknown": tr.unknown})
    return {"name": name, "epoch": t.epoch, "losses": shown, "mask": mask.cpu().numpy(),
            "loss_per_token": float(losses[mask].mean()),
            "tgt": [_tokens(data.tgt_vocab, y) for y in Y.cpu()],
            "src": [" ".join(_tokens(data.src_vocab, x, int(n) - 1)) for x, n in zip(X.cpu(), X_len.cpu())],
            "predicted": [_tokens(data.tgt_vocab, y) for y in logits.argmax(-1).cpu()],
            "translations": translations}
