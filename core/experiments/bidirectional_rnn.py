"""Bidirectional recurrent neural networks (book section 10.4).

Two tasks on The Time Machine, each trained by a bidirectional net and by its
one-directional twin:

- `task="lm"`, the book's experiment: a character language model. The
  bidirectional LSTM reaches a low *training* perplexity (the 0.x editions
  print 1.1) yet generates garbage, because the backward direction at step t
  has read x_{t+1}, the very character it must predict: during training the
  answer is in its input, at prediction time the future is not there.
- `task="blank"`, a task where reading both ways is legitimate: fill in a
  masked character from `context` characters on each side. The input is a
  window of 2k + 1 characters whose centre is replaced by a mask token, the
  target the centre character; the net predicts from its (concatenated)
  hidden state at the masked position, so a one-directional net sees only
  the left context there, a bidirectional one both sides.

    H_t(fwd) = φ(X_t W_xh^(f) + H_{t-1}(fwd) W_hh^(f) + b_h^(f))
    H_t(bwd) = φ(X_t W_xh^(b) + H_{t+1}(bwd) W_hh^(b) + b_h^(b))
    H_t = [H_t(fwd), H_t(bwd)],   O_t = H_t W_hq + b_q
"""
from __future__ import annotations

import math
from dataclasses import replace

import torch
from torch import nn
from torch.nn import functional as F

from core.experiments.gru_lstm import text_of, text_setting, valid_of
from core.experiments.schema import Preset, config, setting
from core.models.rnn import predict, rnn_lm
from core.train.lm import LMObjective, SeqBatches, perplexity, valid_batches
from core.train.trainer import Batches, Supervised, Trainer

TASKS = {"lm": "language model", "blank": "fill in the blank"}


@config
class Config:
    """The book's settings (0.x editions): a 2-layer bidirectional LSTM, 256
    hidden units, lr 1, 500 epochs, batch 32, 35 time steps, clip 1, the first
    10,000 characters. The fill-in-the-blank task is the playground's."""

    task: str = setting("lm", "Task", kind="segmented", options=tuple(TASKS), labels=TASKS,
                        help="The book's language model, or filling in one masked character.")
    bidirectional: bool = setting(True, "bidirectional",
                                  help="Off: the same net reading left to right only.")
    cell: str = setting("lstm", "Cell", options=("gru", "lstm"), labels={"gru": "GRU", "lstm": "LSTM"})
    num_layers: int = setting(2, "layers", options=(1, 2), help="The book stacks 2.")
    num_hiddens: int = setting(256, "hidden units per direction", options=(16, 32, 64, 128, 256),
                               help="The book uses 256.")
    max_tokens: int = text_setting()
    context: int = setting(5, "characters each side of the blank", options=(2, 5, 10),
                           help="Fill in the blank: the window is this many characters, the blank, this many.")
    num_epochs: int = setting(500, "epochs", min=5, max=1000, step=5, live=True,
                              help="The book trains 500 epochs.")
    lr: float = setting(1.0, "learning rate", min=0.1, max=4.0, step=0.1, live=True,
                        help="Changes take effect at the next minibatch, even mid-run.")
    batch_size: int = 32
    num_steps: int = 35
    grad_clip: float = 1.0
    blank_batch_size: int = 32


BOOK = Config()
# The page's defaults: one layer of 64 units at lr 2, so that both lessons show within a minute on a laptop CPU.
PAGE = replace(BOOK, num_layers=1, num_hiddens=64, num_epochs=60, lr=2.0)
PRESETS = [Preset("Bidirectional against unidirectional",
                  {"bidirectional": {"bidirectional": True}, "unidirectional": {"bidirectional": False}})]
# The 0.x editions' training perplexity of the 2-layer bidirectional LSTM (256 hidden units,
# 500 epochs), printed beside the generation "time travellerererererererer..."
BOOK_TRAIN_PERPLEXITY = 1.1


# ------------------------------------------------------- fill in the blank
def blank_windows(corpus, context: int, mask_id: int, stride: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Windows of 2*context + 1 consecutive tokens, one starting every `stride`
    tokens from the first: X (n, 2*context + 1) with its centre replaced by
    `mask_id`, y (n,) the centre token it hid. Empty when the corpus is shorter
    than a window."""
    if context < 1 or stride < 1:
        raise ValueError("context and stride must be at least 1")
    tokens = torch.as_tensor(corpus, dtype=torch.int64).reshape(-1)
    width = 2 * context + 1
    n = max(0, (len(tokens) - width) // stride + 1)
    idx = torch.arange(n)[:, None] * stride + torch.arange(width)
    X = tokens[idx].clone() if n else torch.zeros((0, width), dtype=torch.int64)
    y = X[:, context].clone()
    X[:, context] = mask_id
    return X, y


class BlankFiller(nn.Module):
    """One-hot characters (and the mask token) -> a GRU/LSTM, one- or
    bidirectional -> Linear at the masked position (the window's centre).
    forward(X (batch, width) int64) -> logits (batch, vocab_size)."""

    def __init__(self, vocab_size: int, num_hiddens: int, *, context: int = 5, kind: str = "lstm",
                 num_layers: int = 1, bidirectional: bool = True, generator: torch.Generator | None = None,
                 sigma: float = 0.01):
        super().__init__()
        self.vocab_size, self.num_inputs = vocab_size, vocab_size + 1  # the mask is one more token
        self.mask_id, self.context = vocab_size, context
        self.rnn = (nn.GRU if kind == "gru" else nn.LSTM)(self.num_inputs, num_hiddens, num_layers=num_layers,
                                                          bidirectional=bidirectional)
        self.output = nn.Linear(num_hiddens * (2 if bidirectional else 1), vocab_size)
        bound = 1 / math.sqrt(num_hiddens)
        with torch.no_grad():  # torch's default ranges, drawn from the run's generator
            for p in self.rnn.parameters():
                nn.init.uniform_(p, -bound, bound, generator=generator)
            self.output.weight.normal_(0, sigma, generator=generator)
            self.output.bias.zero_()

    def hidden(self, X: torch.Tensor) -> torch.Tensor:
        """The top layer's states (batch, width, num_hiddens * directions)."""
        outputs, _ = self.rnn(F.one_hot(X.T, self.num_inputs).float())
        return outputs.swapaxes(0, 1)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.output(self.hidden(X)[:, self.context])


def blank_net(vocab_size: int, cfg: Config):
    def net_fn(gen: torch.Generator) -> BlankFiller:
        return BlankFiller(vocab_size, cfg.num_hiddens, context=cfg.context, kind=cfg.cell, num_layers=cfg.num_layers,
                           bidirectional=cfg.bidirectional, generator=gen)

    return net_fn


# ------------------------------------------------------------------ build
def build(cfg: Config, data, *, seed: int = 0, device="cpu") -> Trainer:
    """The language model (the book's, `task="lm"`) or the blank filler, as a
    Trainer. `data` is (corpus, vocab)."""
    corpus, vocab = data
    vocab_size = vocab if isinstance(vocab, int) else len(vocab)
    train_text, valid_text = text_of(corpus, cfg), valid_of(corpus)
    if cfg.task == "lm":
        train = SeqBatches(train_text, cfg.batch_size, cfg.num_steps, device=device)
        valid = valid_batches(valid_text, cfg.batch_size, cfg.num_steps, device=device)
        net_fn = rnn_lm(vocab_size, cfg.num_hiddens, kind=cfg.cell, impl="concise", num_layers=cfg.num_layers,
                        bidirectional=cfg.bidirectional)
        objective = LMObjective()
    else:
        # a window every context + 1 characters: every character is a blank once per epoch or so,
        # and an epoch costs about twice the text's characters whatever the window
        X, y = blank_windows(train_text, cfg.context, vocab_size, stride=cfg.context + 1)
        if len(X) == 0:
            raise ValueError("the text is shorter than one window around a blank")
        train = Batches(X.to(device), y.to(device), batch_size=cfg.blank_batch_size)
        X_valid, y_valid = blank_windows(valid_text, cfg.context, vocab_size, stride=cfg.context + 1)
        valid = (Batches(X_valid.to(device), y_valid.to(device), batch_size=1024, shuffle=False)
                 if len(X_valid) else None)
        net_fn, objective = blank_net(vocab_size, cfg), Supervised("cross_entropy", accuracy=True)
    return Trainer(net_fn, train, test=valid, objective=objective, optimizer="sgd", lr=cfg.lr,
                   num_epochs=cfg.num_epochs, seed=seed, device=device, grad_clip=cfg.grad_clip)


# ------------------------------------------------------------ the page's view
def fill_blank(net: BlankFiller, left: str, right: str, vocab, k: int = 3) -> list[tuple[str, float]]:
    """The net's k likeliest characters for the blank between `left` and
    `right` (cut or padded with spaces to the net's window), with their
    probabilities."""
    device = next(net.parameters()).device
    context = net.context
    left = left[-context:].rjust(context)
    right = right[:context].ljust(context)
    ids = [vocab[c] for c in left] + [net.mask_id] + [vocab[c] for c in right]
    was_training = net.training
    net.eval()
    with torch.no_grad():
        probs = F.softmax(net(torch.tensor([ids], device=device)), dim=-1)[0]
    net.train(was_training)
    top = torch.topk(probs, min(k, len(probs)))
    return [(vocab.idx_to_token[int(i)], float(p)) for p, i in zip(top.values, top.indices)]


def look(trainers, data, *, prefix: str = "", left: str = "", right: str = "", num_preds: int = 50) -> dict:
    """The page's view (in the run's worker, between two steps, reading only):
    per run, whether it reads both ways, its last epoch's figures, and for the
    language model its greedy generation after `prefix`, for the blank task its
    likeliest fills of the blank between `left` and `right`."""
    _, vocab = data
    runs = []
    for name, t in trainers.items():
        last = t.history.epochs[-1] if t.history.epochs else {}
        net = t.net
        row = {"name": name, "epoch": t.epoch, "bidirectional": bool(net.rnn.bidirectional)}
        if isinstance(net, BlankFiller):
            row.update(task="blank", accuracy=last.get("train_metric"), valid_accuracy=last.get("test_metric"),
                       fills=fill_blank(net, left, right, vocab) if (left or right) else [])
        else:
            row.update(task="lm", perplexity=perplexity(last["train_loss"]) if last else None,
                       valid_perplexity=(perplexity(last["test_loss"]) if last.get("test_loss") is not None
                                         else None),
                       text=predict(prefix, num_preds, net, vocab, t.device) if prefix else "")
        runs.append(row)
    return {"runs": runs}
