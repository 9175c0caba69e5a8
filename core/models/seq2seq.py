"""The book's sequence-to-sequence model (section "Sequence to Sequence Learning"):
a GRU encoder, a GRU decoder fed the context at every step, masked
cross-entropy, teacher forcing, translation by greedy or beam search, BLEU.

Determinism: the GRUs are stacks of one-layer nn.GRU(dropout=0) and the
dropout between layers (what nn.GRU(num_layers, dropout) does) is applied
here with masks from `self.generator`, which the trainer sets to the run's
noise generator. So a seed replays a run exactly.
"""
from __future__ import annotations

import collections
import math
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from core.data.translation import truncate_pad
from core.ops.beam import Node, beam_search
from core.train.trainer import StepOut


class StackedGRU(nn.Module):
    """nn.GRU(num_inputs, num_hiddens, num_layers, dropout=dropout), one layer
    at a time, dropout on the outputs of every layer but the last (in training
    mode). forward(inputs (num_steps, batch, num_inputs), state (num_layers,
    batch, num_hiddens) or None) -> (outputs of the last layer, state)."""

    def __init__(self, num_inputs: int, num_hiddens: int, num_layers: int = 1, dropout: float = 0.0):
        super().__init__()
        self.num_hiddens, self.num_layers, self.dropout = num_hiddens, num_layers, float(dropout)
        self.layers = nn.ModuleList(
            nn.GRU(num_inputs if i == 0 else num_hiddens, num_hiddens) for i in range(num_layers))
        self.generator: torch.Generator | None = None

    def forward(self, inputs: torch.Tensor, state: torch.Tensor | None = None):
        if state is None:
            state = torch.zeros((self.num_layers, inputs.shape[1], self.num_hiddens), device=inputs.device)
        finals, X = [], inputs
        for i, layer in enumerate(self.layers):
            X, H = layer(X, state[i:i + 1])
            finals.append(H)
            if self.training and self.dropout > 0 and i < self.num_layers - 1:
                keep = torch.rand(X.shape, generator=self.generator, device=X.device) >= self.dropout
                X = X * keep / (1 - self.dropout)
        return X, torch.cat(finals)


def init_seq2seq(module: nn.Module, gen: torch.Generator) -> None:
    """The book's init_seq2seq (Xavier-uniform for Linear and GRU weights), with
    everything else as torch's defaults (embeddings N(0, 1), biases
    U(-1/√fan, 1/√fan)), all drawn from `gen`."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, generator=gen)
            elif isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight, generator=gen)
                bound = 1 / math.sqrt(m.in_features)
                nn.init.uniform_(m.bias, -bound, bound, generator=gen)
            elif isinstance(m, nn.GRU):
                bound = 1 / math.sqrt(m.hidden_size)
                for name, p in m.named_parameters():
                    if "weight" in name:
                        nn.init.xavier_uniform_(p, generator=gen)
                    else:
                        nn.init.uniform_(p, -bound, bound, generator=gen)


class Seq2SeqEncoder(nn.Module):
    """forward(X (batch, num_steps)) -> (outputs (num_steps, batch, num_hiddens),
    state (num_layers, batch, num_hiddens))."""

    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int, num_layers: int, dropout: float = 0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = StackedGRU(embed_size, num_hiddens, num_layers, dropout)

    def forward(self, X: torch.Tensor, *args):
        embs = self.embedding(X.t().type(torch.int64))  # (num_steps, batch, embed_size)
        return self.rnn(embs)


class Seq2SeqDecoder(nn.Module):
    """The decoder's state is (context, hidden): the context is the encoder's
    top-layer output at the last time step (batch, num_hiddens), concatenated
    to the embedding of every decoder input; hidden (num_layers, batch,
    num_hiddens) starts as the encoder's final state.
    forward(X (batch, num_steps), state) -> (logits (batch, num_steps, vocab_size), state)."""

    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int, num_layers: int, dropout: float = 0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = StackedGRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_all_outputs, *args):
        enc_outputs, hidden = enc_all_outputs
        return enc_outputs[-1], hidden

    def forward(self, X: torch.Tensor, state):
        context, hidden = state
        embs = self.embedding(X.t().type(torch.int64))  # (num_steps, batch, embed_size)
        context_rep = context.repeat(embs.shape[0], 1, 1)
        outputs, hidden = self.rnn(torch.cat((embs, context_rep), -1), hidden)
        return self.dense(outputs).swapaxes(0, 1), (context, hidden)


class EncoderDecoder(nn.Module):
    """forward(enc_X, dec_X, *args) -> decoder logits (batch, num_steps, tgt_vocab_size)."""

    def __init__(self, encoder: Seq2SeqEncoder, decoder: Seq2SeqDecoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, enc_X, dec_X, *args):
        enc_all_outputs = self.encoder(enc_X, *args)
        dec_state = self.decoder.init_state(enc_all_outputs, *args)
        return self.decoder(dec_X, dec_state)[0]


def seq2seq(src_vocab_size: int, tgt_vocab_size: int, embed_size: int = 32, num_hiddens: int = 32,
            num_layers: int = 2, dropout: float = 0.1):
    """net_fn(gen) for the trainer: the book's GRU encoder-decoder."""

    def net_fn(gen: torch.Generator) -> EncoderDecoder:
        net = EncoderDecoder(
            Seq2SeqEncoder(src_vocab_size, embed_size, num_hiddens, num_layers, dropout),
            Seq2SeqDecoder(tgt_vocab_size, embed_size, num_hiddens, num_layers, dropout))
        init_seq2seq(net, gen)
        return net

    return net_fn


# ---------------------------------------------------------------------- loss


def sequence_mask(X: torch.Tensor, valid_len: torch.Tensor, value: float = 0) -> torch.Tensor:
    """The book's sequence_mask: entries of X (batch, num_steps, ...) past each
    row's valid length set to `value` (on a copy)."""
    maxlen = X.size(1)
    mask = torch.arange(maxlen, device=X.device)[None, :] < valid_len[:, None]
    X = X.clone()
    X[~mask] = value
    return X


class MaskedSoftmaxCELoss(nn.CrossEntropyLoss):
    """The book's loss: pred (batch, num_steps, vocab), label (batch, num_steps),
    valid_len (batch,) -> per-sequence loss (batch,): the cross-entropy of the
    valid tokens summed and divided by num_steps (padding counts as 0)."""

    def forward(self, pred, label, valid_len):
        weights = sequence_mask(torch.ones_like(label, dtype=pred.dtype), valid_len)
        self.reduction = "none"
        unweighted_loss = super().forward(pred.permute(0, 2, 1), label)
        return (unweighted_loss * weights).mean(dim=1)


class Seq2SeqObjective:
    """Teacher forcing for the engine. batch = (X, X_valid_len, Y, Y_valid_len);
    the decoder reads <bos> followed by Y[:, :-1]. StepOut(loss per valid target
    token, number of valid tokens, None): the book's summed masked loss divided
    by the number of tokens, so the engine's epoch mean is per token."""

    has_metric = False

    def __init__(self, bos: int):
        self.bos = bos

    def __call__(self, net: EncoderDecoder, batch) -> StepOut:
        X, X_valid_len, Y, Y_valid_len = batch
        bos = torch.full((Y.shape[0], 1), self.bos, dtype=Y.dtype, device=Y.device)
        dec_input = torch.cat([bos, Y[:, :-1]], 1)
        Y_hat = net(X, dec_input, X_valid_len)
        losses = F.cross_entropy(Y_hat.permute(0, 2, 1), Y, reduction="none")
        mask = sequence_mask(torch.ones_like(losses), Y_valid_len)
        num_tokens = int(Y_valid_len.sum())
        return StepOut((losses * mask).sum() / max(num_tokens, 1), num_tokens, None)


# --------------------------------------------------------------- translating


@dataclass
class Translation:
    """What `translate` returns: ranked candidates and the search tree."""

    candidates: list[dict]  # each: tokens (list[str], <eos> dropped), text, log_prob, score, ended
    tree: list[list[Node]]  # core.ops.beam's tree; node tokens are target-vocabulary ids
    src_tokens: list[str]  # the source as read (before <eos> and padding)
    unknown: list[str] = field(default_factory=list)  # source words the vocabulary lacks

    @property
    def text(self) -> str:
        return self.candidates[0]["text"]


@torch.no_grad()
def translate(net: EncoderDecoder, src_sentence, src_vocab, tgt_vocab, num_steps: int,
              device=None, k: int = 1, alpha: float = 0.75, max_children: int | None = None) -> Translation:
    """The book's predict_seq2seq, by beam search (k=1: greedy).

    `src_sentence` is a string (lower-cased and split on spaces, as the book)
    or a list of tokens. Like the training data it gets <eos> and is padded
    (or cut) to num_steps. The encoder runs once; the decoder runs once per
    step on all live hypotheses, each with its own hidden state. At most
    num_steps target tokens are generated. `device=None`: the net's."""
    device = device or next(net.parameters()).device
    for vocab, needed in ((src_vocab, ("<eos>", "<pad>")), (tgt_vocab, ("<bos>", "<eos>"))):
        missing = [t for t in needed if t not in vocab.token_to_idx]
        if missing:
            raise ValueError(f"the vocabulary lacks the reserved tokens {missing}")
    src = src_sentence.lower().split() if isinstance(src_sentence, str) else list(src_sentence)
    unknown = [w for w in src if w not in src_vocab.token_to_idx]
    was_training = net.training
    net.eval()
    ids = truncate_pad(src_vocab[src] + [src_vocab["<eos>"]], num_steps, src_vocab["<pad>"])
    enc_X = torch.tensor([ids], dtype=torch.int64, device=device)
    enc_valid_len = torch.tensor([min(len(src) + 1, num_steps)], device=device)
    context, hidden = net.decoder.init_state(net.encoder(enc_X, enc_valid_len), enc_valid_len)

    def step_fn(prefixes, states):  # states hypothesis-first: (context (n, h), hidden (n, layers, h))
        ctx, hid = states
        logits, (_, hid) = net.decoder(prefixes[:, -1:], (ctx, hid.transpose(0, 1).contiguous()))
        return F.log_softmax(logits[:, -1].double(), dim=-1), (ctx, hid.transpose(0, 1))

    result = beam_search(step_fn, tgt_vocab["<bos>"], tgt_vocab["<eos>"], k, num_steps, alpha,
                         init_state=(context, hidden.transpose(0, 1)), device=device, max_children=max_children)
    net.train(was_training)
    eos = tgt_vocab["<eos>"]
    candidates = []
    for c in result.candidates:
        ended = bool(c.tokens) and c.tokens[-1] == eos
        words = tgt_vocab.to_tokens(c.tokens[:-1] if ended else c.tokens)
        candidates.append({"tokens": words, "text": " ".join(words), "log_prob": c.log_prob,
                           "score": c.score, "ended": ended})
    return Translation(candidates, result.tree, src, unknown)


@torch.no_grad()
def greedy_translate(net: EncoderDecoder, sentences, src_vocab, tgt_vocab, num_steps: int, device=None) -> list[str]:
    """The book's predict_seq2seq (greedy) for several sentences at once: one
    encoder pass and at most num_steps decoder passes for all of them, each
    sentence ending at its own <eos>. The same words as translate(k=1), a
    sentence at a time (tests check), at a fraction of the cost."""
    device = device or next(net.parameters()).device
    srcs = [s.lower().split() if isinstance(s, str) else list(s) for s in sentences]
    eos, pad, bos = src_vocab["<eos>"], src_vocab["<pad>"], tgt_vocab["<bos>"]
    X = torch.tensor([truncate_pad(src_vocab[s] + [eos], num_steps, pad) for s in srcs], dtype=torch.int64,
                     device=device)
    X_len = torch.tensor([min(len(s) + 1, num_steps) for s in srcs], device=device)
    was_training = net.training
    net.eval()
    state = net.decoder.init_state(net.encoder(X, X_len), X_len)
    dec_X = torch.full((len(srcs), 1), bos, dtype=torch.int64, device=device)
    words: list[list[int]] = [[] for _ in srcs]
    done = [False] * len(srcs)
    tgt_eos = tgt_vocab["<eos>"]
    for _ in range(num_steps):
        Y, state = net.decoder(dec_X, state)
        dec_X = Y.argmax(dim=2)
        for i, token in enumerate(dec_X[:, 0].tolist()):
            if not done[i]:
                done[i] = token == tgt_eos
                if not done[i]:
                    words[i].append(token)
        if all(done):
            break
    net.train(was_training)
    return [" ".join(tgt_vocab.to_tokens(w)) for w in words]


# ---------------------------------------------------------------------- BLEU


def bleu(pred_seq: str, label_seq: str, k: int) -> float:
    """The book's BLEU: exp(min(0, 1 - len_label / len_pred)) · Π_{n=1..k} p_n^(1/2^n),
    p_n the clipped n-gram precision; tokens split on single spaces."""
    pred_tokens, label_tokens = pred_seq.split(" "), label_seq.split(" ")
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    score = math.exp(min(0, 1 - len_label / len_pred))
    for n in range(1, min(k, len_pred) + 1):
        num_matches, label_subs = 0, collections.defaultdict(int)
        for i in range(len_label - n + 1):
            label_subs[" ".join(label_tokens[i: i + n])] += 1
        for i in range(len_pred - n + 1):
            if label_subs[" ".join(pred_tokens[i: i + n])] > 0:
                num_matches += 1
                label_subs[" ".join(pred_tokens[i: i + n])] -= 1
        score *= math.pow(num_matches / (len_pred - n + 1), math.pow(0.5, n))
    return score
