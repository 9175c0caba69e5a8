"""Recurrent cells from scratch (the vanilla RNN, GRU, LSTM), the book's RNN
language model, character generation and gate traces.

The scratch cells follow the book's equations literally:

RNN   H = tanh(X W_xh + H W_hh + b_h)        (section 9.5)

GRU   R = σ(X W_xr + H W_hr + b_r)          reset gate
      Z = σ(X W_xz + H W_hz + b_z)          update gate
      H̃ = tanh(X W_xh + (R ⊙ H) W_hh + b_h) candidate hidden state
      H = Z ⊙ H + (1 − Z) ⊙ H̃

LSTM  I, F, O = σ(X W_x· + H W_h· + b_·)    input, forget, output gates
      C̃ = tanh(X W_xc + H W_hc + b_c)       input node (candidate cell)
      C = F ⊙ C + I ⊙ C̃,   H = O ⊙ tanh(C)

Every initial weight is drawn from the generator handed in, so a seed
reproduces a run.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

# ----------------------------------------------------------------- the cells


def _normal(shape, sigma: float, generator: torch.Generator | None) -> nn.Parameter:
    return nn.Parameter(torch.randn(*shape, generator=generator) * sigma)


class GRUScratch(nn.Module):
    """The book's GRU from scratch.

    forward(inputs (num_steps, batch, num_inputs), H (batch, num_hiddens) or None,
    record=False) -> (outputs (num_steps, batch, num_hiddens), H).

    With `record=True` the cell keeps `self.trace`: the reset gate 'R', update
    gate 'Z', candidate 'H_tilde' and hidden state 'H', each a detached tensor
    (num_steps, batch, num_hiddens).

    `reset_after=True` is the variant used by torch's nn.GRU (and cuDNN):
    H̃ = tanh(X W_xh + b_h + R ⊙ (H W_hh + b_hn)); the reset gate multiplies
    after the matrix product, with an extra bias b_hn. The book (Cho et al.'s
    original) applies R before it: (R ⊙ H) W_hh. The two are different
    functions even with b_hn = 0, since r_j Σ_k h_k W_kj ≠ Σ_k r_k h_k W_kj.
    """

    def __init__(self, num_inputs: int, num_hiddens: int, sigma: float = 0.01,
                 generator: torch.Generator | None = None, reset_after: bool = False):
        super().__init__()
        self.num_inputs, self.num_hiddens, self.reset_after = num_inputs, num_hiddens, reset_after

        def triple():
            return (_normal((num_inputs, num_hiddens), sigma, generator),
                    _normal((num_hiddens, num_hiddens), sigma, generator),
                    nn.Parameter(torch.zeros(num_hiddens)))

        self.W_xz, self.W_hz, self.b_z = triple()  # update gate
        self.W_xr, self.W_hr, self.b_r = triple()  # reset gate
        self.W_xh, self.W_hh, self.b_h = triple()  # candidate hidden state
        if reset_after:
            self.b_hn = nn.Parameter(torch.zeros(num_hiddens))
        self.trace: dict[str, torch.Tensor] | None = None

    def begin_state(self, batch_size: int, device=None) -> torch.Tensor:
        return torch.zeros((batch_size, self.num_hiddens), device=device)

    def forward(self, inputs: torch.Tensor, H: torch.Tensor | None = None, record: bool = False):
        if H is None:
            H = self.begin_state(inputs.shape[1], inputs.device)
        outputs, rec = [], {"R": [], "Z": [], "H_tilde": [], "H": []}
        for X in inputs:
            Z = torch.sigmoid(X @ self.W_xz + H @ self.W_hz + self.b_z)
            R = torch.sigmoid(X @ self.W_xr + H @ self.W_hr + self.b_r)
            if self.reset_after:
                H_tilde = torch.tanh(X @ self.W_xh + self.b_h + R * (H @ self.W_hh + self.b_hn))
            else:
                H_tilde = torch.tanh(X @ self.W_xh + (R * H) @ self.W_hh + self.b_h)
            H = Z * H + (1 - Z) * H_tilde
            outputs.append(H)
            if record:
                for name, value in (("R", R), ("Z", Z), ("H_tilde", H_tilde), ("H", H)):
                    rec[name].append(value.detach())
        if record:
            self.trace = {name: torch.stack(values) for name, values in rec.items()}
        return torch.stack(outputs), H


class LSTMScratch(nn.Module):
    """The book's LSTM from scratch.

    forward(inputs (num_steps, batch, num_inputs), state (H, C) or None,
    record=False) -> (outputs (num_steps, batch, num_hiddens), (H, C)).

    With `record=True` the cell keeps `self.trace`: gates 'I', 'F', 'O', the
    input node 'C_tilde', the cell 'C' and the hidden state 'H', each a
    detached tensor (num_steps, batch, num_hiddens)."""

    def __init__(self, num_inputs: int, num_hiddens: int, sigma: float = 0.01,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.num_inputs, self.num_hiddens = num_inputs, num_hiddens

        def triple():
            return (_normal((num_inputs, num_hiddens), sigma, generator),
                    _normal((num_hiddens, num_hiddens), sigma, generator),
                    nn.Parameter(torch.zeros(num_hiddens)))

        self.W_xi, self.W_hi, self.b_i = triple()  # input gate
        self.W_xf, self.W_hf, self.b_f = triple()  # forget gate
        self.W_xo, self.W_ho, self.b_o = triple()  # output gate
        self.W_xc, self.W_hc, self.b_c = triple()  # input node
        self.trace: dict[str, torch.Tensor] | None = None

    def begin_state(self, batch_size: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
        zeros = torch.zeros((batch_size, self.num_hiddens), device=device)
        return zeros, zeros.clone()

    def forward(self, inputs: torch.Tensor, H_C=None, record: bool = False):
        H, C = H_C if H_C is not None else self.begin_state(inputs.shape[1], inputs.device)
        outputs, rec = [], {k: [] for k in ("I", "F", "O", "C_tilde", "C", "H")}
        for X in inputs:
            I = torch.sigmoid(X @ self.W_xi + H @ self.W_hi + self.b_i)
            F_ = torch.sigmoid(X @ self.W_xf + H @ self.W_hf + self.b_f)
            O = torch.sigmoid(X @ self.W_xo + H @ self.W_ho + self.b_o)
            C_tilde = torch.tanh(X @ self.W_xc + H @ self.W_hc + self.b_c)
            C = F_ * C + I * C_tilde
            H = O * torch.tanh(C)
            outputs.append(H)
            if record:
                for name, value in (("I", I), ("F", F_), ("O", O), ("C_tilde", C_tilde), ("C", C), ("H", H)):
                    rec[name].append(value.detach())
        if record:
            self.trace = {name: torch.stack(values) for name, values in rec.items()}
        return torch.stack(outputs), (H, C)


class RNNScratch(nn.Module):
    """The book's RNN from scratch (section 9.5): H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h).

    forward(inputs (num_steps, batch, num_inputs), H (batch, num_hiddens) or None,
    record=False) -> (outputs (num_steps, batch, num_hiddens), H). With
    `record=True` the cell keeps `self.trace` = {'H': (num_steps, batch, num_hiddens)},
    detached."""

    def __init__(self, num_inputs: int, num_hiddens: int, sigma: float = 0.01,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.num_inputs, self.num_hiddens = num_inputs, num_hiddens
        self.W_xh = _normal((num_inputs, num_hiddens), sigma, generator)
        self.W_hh = _normal((num_hiddens, num_hiddens), sigma, generator)
        self.b_h = nn.Parameter(torch.zeros(num_hiddens))
        self.trace: dict[str, torch.Tensor] | None = None

    def begin_state(self, batch_size: int, device=None) -> torch.Tensor:
        return torch.zeros((batch_size, self.num_hiddens), device=device)

    def forward(self, inputs: torch.Tensor, H: torch.Tensor | None = None, record: bool = False):
        if H is None:
            H = self.begin_state(inputs.shape[1], inputs.device)
        outputs = []
        for X in inputs:
            H = torch.tanh(X @ self.W_xh + H @ self.W_hh + self.b_h)
            outputs.append(H)
        outputs = torch.stack(outputs)
        if record:
            self.trace = {"H": outputs.detach()}
        return outputs, H


# ------------------------------------------------- scratch <-> torch's layout
# torch stacks the gates' weights row-wise, as (gates * num_hiddens, inputs),
# and computes x W^T: the book's W_x· (inputs, hiddens) is torch's block transposed.
# GRU gate order r, z, n; LSTM gate order i, f, g (= input node), o.
_GRU_BLOCKS = (("W_xr", "W_hr", "b_r"), ("W_xz", "W_hz", "b_z"), ("W_xh", "W_hh", "b_h"))
_LSTM_BLOCKS = (("W_xi", "W_hi", "b_i"), ("W_xf", "W_hf", "b_f"),
                ("W_xc", "W_hc", "b_c"), ("W_xo", "W_ho", "b_o"))
_RNN_BLOCKS = (("W_xh", "W_hh", "b_h"),)  # nn.RNN (tanh): h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)


@torch.no_grad()
def load_weights_into_builtin(cell: GRUScratch | LSTMScratch | RNNScratch) -> nn.GRU | nn.LSTM | nn.RNN:
    """A one-layer nn.GRU / nn.LSTM / nn.RNN holding the scratch cell's weights.

    RNN: the two compute the same function (b_h goes into b_ih, b_hh = 0).

    LSTM: the two compute the same function (outputs and states agree to float
    rounding). GRU: torch computes the candidate as
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),
    the book as tanh(X W_xh + (R ⊙ H) W_hh + b_h). The mapping puts b_h into
    b_in and sets b_hr = b_hz = b_hn = 0 (the book has one bias per gate).
    With that the two agree exactly only for a cell built with
    `reset_after=True` (which holds its own b_hn); for the book's cell
    (`reset_after=False`) the reset gate sits on the other side of W_hh and
    the built-in GRU is a slightly different model with the same weights."""
    if isinstance(cell, GRUScratch):
        rnn, blocks = nn.GRU(cell.num_inputs, cell.num_hiddens), _GRU_BLOCKS
    elif isinstance(cell, LSTMScratch):
        rnn, blocks = nn.LSTM(cell.num_inputs, cell.num_hiddens), _LSTM_BLOCKS
    elif isinstance(cell, RNNScratch):
        rnn, blocks = nn.RNN(cell.num_inputs, cell.num_hiddens), _RNN_BLOCKS
    else:
        raise TypeError(f"expected GRUScratch, LSTMScratch or RNNScratch, got {type(cell).__name__}")
    rnn = rnn.to(next(cell.parameters()).device)
    rnn.weight_ih_l0.copy_(torch.cat([getattr(cell, wx).T for wx, _, _ in blocks]))
    rnn.weight_hh_l0.copy_(torch.cat([getattr(cell, wh).T for _, wh, _ in blocks]))
    rnn.bias_ih_l0.copy_(torch.cat([getattr(cell, b) for _, _, b in blocks]))
    rnn.bias_hh_l0.zero_()
    if isinstance(cell, GRUScratch) and cell.reset_after:
        rnn.bias_hh_l0[2 * cell.num_hiddens:] = cell.b_hn
    return rnn


@torch.no_grad()
def load_weights_into_scratch(rnn: nn.GRU | nn.LSTM | nn.RNN) -> GRUScratch | LSTMScratch | RNNScratch:
    """The reverse: a scratch cell computing exactly what a one-layer nn.GRU /
    nn.LSTM / nn.RNN (tanh) computes (for a GRU, a `reset_after=True` cell; the
    two biases of each block but the GRU's candidate fold into one)."""
    if rnn.num_layers != 1 or rnn.bidirectional or not rnn.bias:
        raise ValueError("only a one-layer, one-directional RNN with biases maps to a scratch cell")
    h, scratch_gen = rnn.hidden_size, torch.Generator()  # its draws are overwritten; keep the global RNG untouched
    if isinstance(rnn, nn.GRU):
        cell, blocks = GRUScratch(rnn.input_size, h, generator=scratch_gen, reset_after=True), _GRU_BLOCKS
    elif isinstance(rnn, nn.LSTM):
        cell, blocks = LSTMScratch(rnn.input_size, h, generator=scratch_gen), _LSTM_BLOCKS
    elif isinstance(rnn, nn.RNN):
        if rnn.nonlinearity != "tanh":
            raise ValueError("only a tanh nn.RNN maps to the book's RNN cell")
        cell, blocks = RNNScratch(rnn.input_size, h, generator=scratch_gen), _RNN_BLOCKS
    else:
        raise TypeError(f"expected nn.GRU, nn.LSTM or nn.RNN, got {type(rnn).__name__}")
    cell = cell.to(rnn.weight_ih_l0.device)
    for j, (wx, wh, b) in enumerate(blocks):
        rows = slice(j * h, (j + 1) * h)
        getattr(cell, wx).copy_(rnn.weight_ih_l0[rows].T)
        getattr(cell, wh).copy_(rnn.weight_hh_l0[rows].T)
        bias = rnn.bias_ih_l0[rows]
        if isinstance(rnn, nn.GRU) and wh == "W_hh":
            cell.b_hn.copy_(rnn.bias_hh_l0[rows])
        else:
            bias = bias + rnn.bias_hh_l0[rows]
        getattr(cell, b).copy_(bias)
    return cell


# ------------------------------------------------------------ deep (stacked)


class StackedScratch(nn.Module):
    """The book's deep RNN from scratch (section 10.3): `num_layers` scratch
    cells, layer l reading the hidden states of layer l - 1 (layer 1 the inputs):

        H_t^(l) = φ(H_t^(l-1) W_xh^(l) + H_{t-1}^(l) W_hh^(l) + b_h^(l))

    with φ the GRU or LSTM cell. forward(inputs (num_steps, batch, num_inputs),
    states (one per layer) or None, record=False) -> (outputs of the top layer
    (num_steps, batch, num_hiddens), states). With `record=True` each cell keeps
    its trace; `self.layer_outputs` then holds every layer's hidden states,
    detached, a list of (num_steps, batch, num_hiddens)."""

    def __init__(self, num_inputs: int, num_hiddens: int, num_layers: int, kind: str = "gru",
                 sigma: float = 0.01, generator: torch.Generator | None = None, reset_after: bool = False):
        super().__init__()
        if kind not in ("gru", "lstm"):
            raise ValueError(f"unknown kind {kind!r}: use 'gru' or 'lstm'")
        self.num_inputs, self.num_hiddens, self.num_layers, self.kind = num_inputs, num_hiddens, num_layers, kind

        def cell(n_in):
            if kind == "gru":
                return GRUScratch(n_in, num_hiddens, sigma=sigma, generator=generator, reset_after=reset_after)
            return LSTMScratch(n_in, num_hiddens, sigma=sigma, generator=generator)

        self.rnns = nn.ModuleList([cell(num_inputs if i == 0 else num_hiddens) for i in range(num_layers)])
        self.layer_outputs: list[torch.Tensor] | None = None

    def begin_state(self, batch_size: int, device=None) -> list:
        return [rnn.begin_state(batch_size, device) for rnn in self.rnns]

    def forward(self, inputs: torch.Tensor, Hs=None, record: bool = False):
        outputs = inputs
        if Hs is None:
            Hs = [None] * self.num_layers
        new_states, layers = [], []
        for rnn, H in zip(self.rnns, Hs):
            outputs, H = rnn(outputs, H, record=record)
            new_states.append(H)
            layers.append(outputs.detach())
        if record:
            self.layer_outputs = layers
        return outputs, new_states


@torch.no_grad()
def stack_into_builtin(stack: StackedScratch) -> nn.GRU | nn.LSTM:
    """An nn.GRU / nn.LSTM(num_layers=L) holding the stack's weights, layer by
    layer as `load_weights_into_builtin` maps one cell (the same function for an
    LSTM stack and for a GRU stack of `reset_after=True` cells)."""
    cells = [load_weights_into_builtin(rnn) for rnn in stack.rnns]
    cls = nn.GRU if stack.kind == "gru" else nn.LSTM
    deep = cls(stack.num_inputs, stack.num_hiddens, num_layers=stack.num_layers,
               device="meta").to_empty(device=next(stack.parameters()).device)
    for layer, one in enumerate(cells):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(deep, f"{name}_l{layer}").copy_(getattr(one, f"{name}_l0"))
    return deep


@torch.no_grad()
def builtin_layer(rnn: nn.GRU | nn.LSTM, layer: int, direction: int = 0) -> nn.GRU | nn.LSTM:
    """One layer (and direction) of a deep or bidirectional torch RNN as a
    one-layer, one-directional copy (same weights), to read its states alone."""
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    n_in = rnn.input_size if layer == 0 else rnn.hidden_size * (2 if rnn.bidirectional else 1)
    # built on the meta device, so no initial weights are drawn (the global RNG stays untouched)
    one = type(rnn)(n_in, rnn.hidden_size, device="meta").to_empty(device=rnn.weight_ih_l0.device)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(one, f"{name}_l0").copy_(getattr(rnn, name + suffix))
    return one


# ------------------------------------------------------------ language model


class RNNLM(nn.Module):
    """The book's RNN language model: one-hot tokens -> recurrent cell -> Linear.

    `rnn` is a scratch cell (RNNScratch / GRUScratch / LSTMScratch) or a
    one-layer nn.RNN / nn.GRU / nn.LSTM. forward(X (batch, num_steps) int64, state=None) ->
    (logits (batch, num_steps, vocab_size), state). The state is what the cell
    uses: (batch, h) for a scratch GRU, (1, batch, h) for nn.GRU, a pair of
    those for an LSTM."""

    def __init__(self, rnn: nn.Module, vocab_size: int, generator: torch.Generator | None = None,
                 sigma: float = 0.01):
        super().__init__()
        self.rnn, self.vocab_size = rnn, vocab_size
        self.num_hiddens = rnn.num_hiddens if hasattr(rnn, "num_hiddens") else rnn.hidden_size
        # a deep or bidirectional torch RNN: (layers * directions) states; the output reads both directions
        self.num_layers = getattr(rnn, "num_layers", 1)
        self.num_directions = 2 if getattr(rnn, "bidirectional", False) else 1
        self.output = nn.Linear(self.num_hiddens * self.num_directions, vocab_size)
        with torch.no_grad():  # the book's W_hq ~ N(0, sigma^2), b_q = 0
            self.output.weight.normal_(0, sigma, generator=generator)
            self.output.bias.zero_()

    @property
    def scratch(self) -> bool:
        return isinstance(self.rnn, (GRUScratch, LSTMScratch, RNNScratch, StackedScratch))

    @property
    def kind(self) -> str:
        if isinstance(self.rnn, StackedScratch):
            return self.rnn.kind
        if isinstance(self.rnn, (LSTMScratch, nn.LSTM)):
            return "lstm"
        return "rnn" if isinstance(self.rnn, (RNNScratch, nn.RNN)) else "gru"

    def begin_state(self, batch_size: int, device=None):
        if self.scratch:
            return self.rnn.begin_state(batch_size, device)
        zeros = torch.zeros((self.num_layers * self.num_directions, batch_size, self.num_hiddens), device=device)
        return (zeros, zeros.clone()) if self.kind == "lstm" else zeros

    def one_hot(self, X: torch.Tensor) -> torch.Tensor:
        """(batch, num_steps) -> (num_steps, batch, vocab_size), float."""
        return F.one_hot(X.T, self.vocab_size).float()

    def forward(self, X: torch.Tensor, state=None, record: bool = False):
        if state is None:
            state = self.begin_state(X.shape[0], X.device)
        if self.scratch:
            outputs, state = self.rnn(self.one_hot(X), state, record=record)
        else:
            outputs, state = self.rnn(self.one_hot(X), state)
        return self.output(outputs).swapaxes(0, 1), state


SCRATCH = {"rnn": RNNScratch, "gru": GRUScratch, "lstm": LSTMScratch}
BUILTIN = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def rnn_lm(vocab_size: int, num_hiddens: int, kind: str = "gru", impl: str = "scratch",
           sigma: float = 0.01, num_layers: int = 1, bidirectional: bool = False) -> Callable[[torch.Generator], RNNLM]:
    """net_fn(gen) for the trainer: an RNNLM with a vanilla RNN, a GRU or an
    LSTM, from scratch (weights N(0, sigma^2), zero biases, as the book) or
    torch's nn.RNN/nn.GRU/nn.LSTM (torch's default U(-1/√h, 1/√h), drawn from
    gen). `num_layers` > 1 stacks cells (scratch: a StackedScratch of GRU or
    LSTM cells; concise: num_layers=...); `bidirectional` (concise only) reads
    the sequence both ways."""
    if kind not in BUILTIN:
        raise ValueError(f"unknown kind {kind!r}: use 'rnn', 'gru' or 'lstm'")
    if kind == "rnn" and impl == "scratch" and num_layers > 1:
        raise ValueError("a deep scratch net stacks GRU or LSTM cells: use impl='concise' for a deep vanilla RNN")
    if impl not in ("scratch", "concise"):
        raise ValueError(f"unknown impl {impl!r}: use 'scratch' or 'concise'")
    if num_layers < 1:
        raise ValueError("num_layers must be at least 1")
    if bidirectional and impl == "scratch":
        raise ValueError("a bidirectional net is built with impl='concise'")

    def net_fn(gen: torch.Generator) -> RNNLM:
        if impl == "scratch" and num_layers > 1:
            rnn = StackedScratch(vocab_size, num_hiddens, num_layers, kind=kind, sigma=sigma, generator=gen)
        elif impl == "scratch":
            rnn = SCRATCH[kind](vocab_size, num_hiddens, sigma=sigma, generator=gen)
        else:
            rnn = BUILTIN[kind](vocab_size, num_hiddens, num_layers=num_layers, bidirectional=bidirectional)
            bound = 1 / math.sqrt(num_hiddens)
            with torch.no_grad():
                for p in rnn.parameters():
                    nn.init.uniform_(p, -bound, bound, generator=gen)
        return RNNLM(rnn, vocab_size, generator=gen, sigma=sigma)

    return net_fn


# ------------------------------------------------------------ using the model


@torch.no_grad()
def predict(prefix, num_preds: int, net: RNNLM, vocab, device=None) -> str:
    """The book's generation: warm up on `prefix` (a string of characters or a
    list of tokens), then append `num_preds` greedy (argmax) tokens. The
    tokens are joined with '' as in the book (characters). `device=None`: the net's."""
    if len(prefix) == 0:
        raise ValueError("the prefix needs at least one token")
    device = device or next(net.parameters()).device
    was_training = net.training
    net.eval()
    outputs = [vocab[tok] for tok in prefix]
    X = torch.tensor([outputs], device=device)
    logits, state = net(X)  # warm-up: the state after the whole prefix
    for _ in range(num_preds):
        outputs.append(int(logits[0, -1].argmax()))
        logits, state = net(torch.tensor([[outputs[-1]]], device=device), state)
    net.train(was_training)
    return "".join(vocab.idx_to_token[i] for i in outputs)


@torch.no_grad()
def gate_trace(net: RNNLM, text, vocab, device=None) -> dict[str, np.ndarray]:
    """Gates and states of `net` reading `text` (a string of characters or a
    list of tokens; unknown ones read as <unk>), one row per time step.

    RNN: 'H'; GRU: 'R', 'Z', 'H_tilde', 'H'; LSTM: 'I', 'F', 'O', 'C_tilde', 'C', 'H';
    each (len(text), num_hiddens). Also 'tokens': the tokens as the vocabulary
    reads them. A built-in nn.GRU/nn.LSTM is traced through the scratch cell
    that computes the same function (`load_weights_into_scratch`)."""
    if len(text) == 0:
        raise ValueError("the text needs at least one token")
    device = device or next(net.parameters()).device
    ids = [vocab[tok] for tok in text]
    X = torch.tensor([ids], device=device)
    cell = net.rnn if net.scratch else load_weights_into_scratch(net.rnn)
    cell(net.one_hot(X), None, record=True)
    trace = {name: value[:, 0].cpu().numpy() for name, value in cell.trace.items()}
    trace["tokens"] = np.array([vocab.idx_to_token[i] for i in ids])
    return trace


@torch.no_grad()
def layer_states(net: RNNLM, text, vocab, device=None) -> np.ndarray:
    """Every layer's hidden states of `net` reading `text` from a zero state:
    (num_layers, len(text), num_hiddens * directions). Layer 0 is the one that
    reads the characters. A torch RNN is read layer by layer through one-layer
    copies of its weights (`builtin_layer`); the last layer's states are exactly
    what the net's output layer reads."""
    if len(text) == 0:
        raise ValueError("the text needs at least one token")
    device = device or next(net.parameters()).device
    X = net.one_hot(torch.tensor([[vocab[tok] for tok in text]], device=device))
    rnn = net.rnn
    if isinstance(rnn, StackedScratch):
        rnn(X, None, record=True)
        layers = rnn.layer_outputs
    elif net.scratch:
        layers = [rnn(X, None)[0]]
    else:
        layers, inputs = [], X
        for layer in range(rnn.num_layers):
            outs = [builtin_layer(rnn, layer, 0)(inputs)[0]]
            if rnn.bidirectional:  # the backward direction reads the sequence reversed
                outs.append(builtin_layer(rnn, layer, 1)(inputs.flip(0))[0].flip(0))
            inputs = torch.cat(outs, dim=-1)
            layers.append(inputs)
    return torch.stack([h[:, 0] for h in layers]).cpu().numpy()
