"""The book's character-level RNN language model (sections 9.4-9.6), from
scratch (`RNNScratch`, the book's H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h))
or concise (torch's nn.RNN), packaged for the playground's page and benchmark.

The 0.x editions train on the first 10,000 characters of The Time Machine with
batch 32, num_steps 35, 512 hidden units, SGD lr 1, gradients clipped at norm
1, for 500 epochs, sequential partitioning (random sampling as the variant);
they print training perplexity. The 1.0 edition trains 32 hidden units with
batch 1024, 32 steps, lr 1 for 100 epochs and prints validation perplexity.
"""
from __future__ import annotations

from dataclasses import replace

import torch

from core.experiments.gru_lstm import (  # the same text, stand-in and upload checks as the GRU/LSTM page
    clean_text,
    corpus_from_upload,
    fingerprint,
    stand_in_corpus,
    text_of,
    text_setting,
    valid_of,
)
from core.experiments.schema import Preset, config, setting
from core.models.rnn import RNNLM, gate_trace, predict, rnn_lm
from core.train.lm import LMObjective, SeqBatches, perplexity, valid_batches
from core.train.trainer import Trainer

__all__ = ["BOOK", "Config", "PAGE", "PRESETS", "build", "clean_text", "corpus_from_upload", "fingerprint",
           "hidden_states", "look", "make_trainer", "next_token", "one_hot", "stand_in_corpus", "text_of",
           "untrained_net", "valid_of"]

PARTITIONS = {"sequential": "sequential", "random": "random sampling"}


@config
class Config:
    """The book's settings (0.x editions): 512 hidden units, 500 epochs, batch 32,
    35 time steps, SGD lr 1, gradients clipped at norm 1, the first 10,000
    characters, sequential partitioning."""

    impl: str = setting("scratch", "Implementation", options=("scratch", "concise"),
                        labels={"scratch": "scratch (RNNScratch)", "concise": "concise (nn.RNN)"},
                        help="scratch: the book's equations in PyTorch; concise: torch's nn.RNN.")
    partition: str = setting("sequential", "Partitioning", options=tuple(PARTITIONS), labels=PARTITIONS,
                             help="sequential: minibatches continue each other, the hidden state carries over "
                                  "(detached); random sampling: random subsequences, a fresh state for each.")
    num_hiddens: int = setting(512, "hidden units", options=(16, 32, 64, 128, 256, 512),
                               help="The 0.x editions use 512, the 1.0 edition 32.")
    max_tokens: int = text_setting()
    num_epochs: int = setting(500, "epochs", min=10, max=1000, step=10, live=True,
                              help="The 0.x editions train 500 epochs.")
    lr: float = setting(1.0, "learning rate", min=0.1, max=4.0, step=0.1, live=True,
                        help="Changes take effect at the next minibatch, even mid-run.")
    batch_size: int = 32
    num_steps: int = 35
    grad_clip: float = 1.0


BOOK = Config()
# The page's defaults: smaller than the book's so that learning shows within a
# minute on a laptop CPU.
PAGE = replace(BOOK, num_hiddens=128, num_epochs=100)
PRESETS = [
    Preset("Scratch and nn.RNN side by side", {"scratch": {"impl": "scratch"}, "nn.RNN": {"impl": "concise"}}),
    Preset("Sequential and random partitioning", {"sequential": {"partition": "sequential"},
                                                  "random": {"partition": "random"}}),
]
# The book's printed perplexities (../shared/book-results.md): the 0.x editions print training
# perplexity after 500 epochs with 512 hidden units (scratch 1.0, 1.5 with random sampling;
# concise 1.3), the 1.0 edition validation perplexity (32 hidden units, lr 1, 100 epochs, batch 1024).
BOOK_TRAIN_PERPLEXITY = {("scratch", "sequential"): 1.0, ("scratch", "random"): 1.5,
                         ("concise", "sequential"): 1.3, ("concise", "random"): 1.3}
BOOK_VALID_PERPLEXITY = {"scratch": 7.24, "concise": 7.19}


def build(cfg: Config, data, *, seed: int = 0, device="cpu") -> Trainer:
    """The book's train_ch8 for the RNN language model, as a Trainer. `data` is
    (corpus, vocab): the token indices and the vocabulary (or its size)."""
    corpus, vocab = data
    vocab_size = vocab if isinstance(vocab, int) else len(vocab)
    random = cfg.partition == "random"
    train = SeqBatches(text_of(corpus, cfg), cfg.batch_size, cfg.num_steps, random=random, device=device)
    valid = valid_batches(valid_of(corpus), cfg.batch_size, cfg.num_steps, device=device)
    return Trainer(rnn_lm(vocab_size, cfg.num_hiddens, kind="rnn", impl=cfg.impl), train, test=valid,
                   objective=LMObjective(random=random), optimizer="sgd", lr=cfg.lr, num_epochs=cfg.num_epochs,
                   seed=seed, device=device, grad_clip=cfg.grad_clip)


def make_trainer(corpus, vocab_size: int, *, seed: int = 0, device="cpu", **settings) -> Trainer:
    """build() on the whole corpus (less its validation part) with settings as keywords (tests, benchmarks)."""
    cfg = replace(BOOK, max_tokens=0, **settings)
    return build(cfg, (corpus, vocab_size), seed=seed, device=device)


def untrained_net(trainer: Trainer) -> RNNLM:
    """A fresh copy of the run's initial net (epoch 0), drawn as Trainer.reset
    draws it, without touching the run."""
    return trainer.net_fn(torch.Generator().manual_seed(trainer.seed)).to(trainer.device).eval()


def hidden_states(net: RNNLM, text, vocab, device=None) -> dict:
    """The hidden state H_t after each character of `text`: {'H': (len, num_hiddens),
    'tokens': the tokens as the vocabulary reads them}. nn.RNN is read through
    the scratch cell holding its weights (the same function)."""
    return gate_trace(net, text, vocab, device)


def one_hot(text, vocab) -> dict:
    """The book's one-hot input of `text`: {'X': (len(text), len(vocab)) of 0/1,
    'tokens': the tokens as the vocabulary reads them, 'ids': their indices}."""
    ids = [vocab[tok] for tok in text]
    X = torch.nn.functional.one_hot(torch.tensor(ids, dtype=torch.int64), len(vocab)).numpy()
    return {"X": X, "tokens": [vocab.idx_to_token[i] for i in ids], "ids": ids}


@torch.no_grad()
def next_token(net: RNNLM, prefix, vocab, device=None, k: int = 5) -> list[tuple[str, float]]:
    """The output layer's softmax after reading `prefix`: the k likeliest next
    tokens with their probabilities, likeliest first."""
    device = device or next(net.parameters()).device
    was_training = net.training
    net.eval()
    logits, _ = net(torch.tensor([[vocab[tok] for tok in prefix]], device=device))
    net.train(was_training)
    probs = torch.softmax(logits[0, -1].double().cpu(), 0)
    top = torch.topk(probs, min(k, len(probs)))
    return [(vocab.idx_to_token[int(i)], float(p)) for p, i in zip(top.values, top.indices)]


def look(trainers, data, *, prefix: str = "", state_text: str = "", compare: bool = True,
         num_preds: int = 50) -> dict:
    """The page's view (called in the run's worker between two steps): for
    every run, its greedy generation after `prefix` and the softmax of the
    next character after it ('next': the 5 likeliest), its last perplexities and
    its hidden states on `state_text`; with `compare`, the untrained twin's
    hidden states too. Reads the nets in eval mode and draws no random numbers."""
    _, vocab = data
    out = {}
    for name, t in trainers.items():
        last = t.history.epochs[-1] if t.history.epochs else {}
        seen = {"epoch": t.epoch, "impl": "scratch" if t.net.scratch else "concise",
                "perplexity": perplexity(last["train_loss"]) if last else None,
                "valid_perplexity": perplexity(last["test_loss"]) if last.get("test_loss") is not None else None,
                "text": predict(prefix, num_preds, t.net, vocab, t.device) if prefix else "",
                "next": next_token(t.net, prefix, vocab, t.device) if prefix else [], "states": {}}
        if state_text:
            seen["states"]["trained"] = hidden_states(t.net, state_text, vocab, t.device)
            if compare:
                seen["states"]["untrained"] = hidden_states(untrained_net(t), state_text, vocab, t.device)
        out[name] = seen
    return out
