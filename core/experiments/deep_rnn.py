"""Deep recurrent neural networks (book section 10.3): GRU or LSTM language
models with 1 to 4 stacked layers on The Time Machine, each layer reading the
hidden states of the layer below:

    H_t^(l) = φ(H_t^(l-1) W_xh^(l) + H_{t-1}^(l) W_hh^(l) + b_h^(l)),   O_t = H_t^(L) W_hq + b_q

The book's 0.x editions train a 2-layer LSTM (torch's nn.LSTM(num_layers=2))
with 256 hidden units, lr 2, 500 epochs, batch 32, 35 time steps, gradients
clipped at norm 1, on the first 10,000 characters; the 1.0 edition a 2-layer
GRU with 32 hidden units (batch 1024, lr 2). The data, the validation part and
the stand-in text are the GRU/LSTM page's (core.experiments.gru_lstm).
"""
from __future__ import annotations

from dataclasses import replace

from core.experiments.gru_lstm import text_of, text_setting, valid_of
from core.experiments.schema import Preset, config, setting
from core.models.rnn import RNNLM, layer_states, predict, rnn_lm
from core.train.lm import LMObjective, SeqBatches, perplexity, valid_batches
from core.train.trainer import Trainer

DEPTHS = (1, 2, 3, 4)


@config
class Config:
    """The book's settings (0.x editions): a 2-layer LSTM, 256 hidden units, lr 2,
    500 epochs, batch 32, 35 time steps, clip 1, the first 10,000 characters."""

    cell: str = setting("lstm", "Cell", options=("gru", "lstm"), labels={"gru": "GRU", "lstm": "LSTM"})
    impl: str = setting("concise", "Implementation", options=("concise", "scratch"),
                        help="concise: torch's nn.GRU / nn.LSTM(num_layers=L); scratch: the book's cells stacked "
                             "by hand (StackedScratch).")
    num_layers: int = setting(2, "layers", options=DEPTHS, help="Hidden layers stacked; the book uses 2.")
    num_hiddens: int = setting(256, "hidden units per layer", options=(16, 32, 64, 128, 256),
                               help="The 0.x editions use 256, the 1.0 edition 32.")
    max_tokens: int = text_setting()
    num_epochs: int = setting(500, "epochs", min=10, max=1000, step=10, live=True,
                              help="The book trains 500 epochs.")
    lr: float = setting(2.0, "learning rate", min=0.1, max=4.0, step=0.1, live=True,
                        help="The book uses 2. Changes take effect at the next minibatch, even mid-run.")
    batch_size: int = 32
    num_steps: int = 35
    grad_clip: float = 1.0


BOOK = Config()
# The page's defaults: small enough that a 2-layer GRU learns visibly within a minute on a laptop CPU.
PAGE = replace(BOOK, cell="gru", num_hiddens=64, num_epochs=150)
PRESETS = [Preset("Perplexity against depth: 1, 2, 3, 4 layers",
                  {f"{n} layer{'s' if n > 1 else ''}": {"num_layers": n} for n in DEPTHS})]
# The book's printed perplexities (../shared/book-results.md). 0.x editions: training perplexity of
# the 2-layer LSTM (256 hidden units, 500 epochs, lr 2). 1.0 edition: the concise 2-layer GRU's
# training / validation perplexity (32 hidden units, batch 1024, 32 steps, lr 2).
BOOK_LSTM_TRAIN_PERPLEXITY = 1.0
BOOK_GRU_TRAIN_PERPLEXITY, BOOK_GRU_VALID_PERPLEXITY = 4.13, 6.11


def build(cfg: Config, data, *, seed: int = 0, device="cpu", random: bool = False) -> Trainer:
    """The book's deep RNN language model as a Trainer. `data` is (corpus, vocab)."""
    corpus, vocab = data
    vocab_size = vocab if isinstance(vocab, int) else len(vocab)
    train = SeqBatches(text_of(corpus, cfg), cfg.batch_size, cfg.num_steps, random=random, device=device)
    valid = valid_batches(valid_of(corpus), cfg.batch_size, cfg.num_steps, device=device)
    net_fn = rnn_lm(vocab_size, cfg.num_hiddens, kind=cfg.cell, impl=cfg.impl, num_layers=cfg.num_layers)
    return Trainer(net_fn, train, test=valid, objective=LMObjective(random=random), optimizer="sgd", lr=cfg.lr,
                   num_epochs=cfg.num_epochs, seed=seed, device=device, grad_clip=cfg.grad_clip)


def _last_perplexities(t: Trainer) -> tuple[float | None, float | None]:
    last = t.history.epochs[-1] if t.history.epochs else {}
    train = perplexity(last["train_loss"]) if last else None
    valid = perplexity(last["test_loss"]) if last.get("test_loss") is not None else None
    return train, valid


def depth_table(trainers: dict) -> list[dict]:
    """One row per run: its name, depth, epoch and last training / validation perplexity."""
    rows = []
    for name, t in trainers.items():
        net: RNNLM = t.net
        train, valid = _last_perplexities(t)
        rows.append({"name": name, "num_layers": net.num_layers, "epoch": t.epoch, "perplexity": train,
                     "valid_perplexity": valid})
    return rows


def look(trainers, data, *, prefix: str = "", text: str = "", num_preds: int = 50) -> dict:
    """The page's view (called in the run's worker between two steps, reading
    only): every run's depth and perplexities, its greedy generation after
    `prefix`, and its hidden states, layer by layer, reading `text`."""
    _, vocab = data
    runs = depth_table(trainers)
    for row, t in zip(runs, trainers.values()):
        row["text"] = predict(prefix, num_preds, t.net, vocab, t.device) if prefix else ""
        row["states"] = layer_states(t.net, text, vocab, t.device) if text else None
        row["tokens"] = [vocab.idx_to_token[vocab[c]] for c in text]
    return {"runs": runs}
