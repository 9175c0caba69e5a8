"""What the exporters of chapters 8-10 share: the parts of a script that are
the same for every page (the header, the command line, the run's generators,
the JSON line per step) and the language models' text pipeline (The Time
Machine, its vocabulary, the held-out end, sequential and random
partitioning, the book's train_ch8 loop), written once here as code strings
and pasted into each script, so every script stays self-contained.

The code strings are plain Python (no format fields): a script is assembled by
concatenation, and the values of its Config go in as constants (`constants`).
"""
from __future__ import annotations

import textwrap


def constants(**values) -> str:
    """`NAME = value` lines, one per value, in the order given (repr of a
    number or a string, so a float keeps every digit)."""
    return "".join(f"{name} = {value!r}\n" for name, value in values.items())


def header(title: str, what: str, *, seed: int, data: str = "") -> str:
    """The script's docstring and imports (torch and the standard library only)."""
    doc = textwrap.fill(what, 88)
    data_line = f"\n{textwrap.fill(data, 88)}\n" if data else ""
    return (
        f'"""{title}\n\n{doc}\n{data_line}\n'
        "Exported from the d2l playground: it reproduces the page's run with seed "
        f"{seed} on the CPU, step by step\n(the same initial weights, minibatch order "
        "and updates). Needs torch only.\n\n"
        "    python run.py              # all num_epochs\n"
        "    python run.py --steps 10   # the first 10 minibatches\n\n"
        'Each minibatch prints one JSON line, {"step": i, "loss": float.hex(loss)}: the loss\n'
        "exact to the last bit (float.fromhex reads it back).\n"
        '"""\n'
    )


ARGS = '''
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=None,
                    help="stop after this many minibatches (default: all num_epochs)")
parser.add_argument("--data-dir", default=DATA_DIR, help="the folder that holds the data file")
args = parser.parse_args()
'''

GENERATORS = '''
# Every random number of the run comes from its own generators, as the playground's
# trainer draws them: the initial weights, each epoch's minibatch order, the dropout masks.
gen_init = torch.Generator().manual_seed(SEED)
gen_data = torch.Generator().manual_seed(SEED + 1)
gen_noise = torch.Generator().manual_seed(SEED + 2)
'''

REPORT = '''

def report(step, l):
    """One JSON line per minibatch: the loss as float.hex, exact to the last bit."""
    print(json.dumps({"step": step, "loss": float(l.detach()).hex()}), flush=True)
'''

# ------------------------------------------------------------- the vocabulary
VOCAB = '''class Vocab:
    """Vocabulary (section 9.2): <unk>, the reserved tokens, then the tokens
    seen at least min_freq times by falling frequency."""

    def __init__(self, tokens, min_freq=0, reserved_tokens=()):
        counter = collections.Counter(token for line in tokens for token in line)
        self.token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
        self.idx_to_token = ["<unk>"] + list(reserved_tokens)
        self.token_to_idx = {token: idx for idx, token in enumerate(self.idx_to_token)}
        for token, freq in self.token_freqs:
            if freq < min_freq:
                break
            if token not in self.token_to_idx:
                self.idx_to_token.append(token)
                self.token_to_idx[token] = len(self.idx_to_token) - 1

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, 0)
        return [self.__getitem__(token) for token in tokens]
'''

# ------------------------------------------------------------- The Time Machine
TIME_MACHINE = '''

# ------------------------------------------------------ The Time Machine (9.2, 9.3)
def read_time_machine(data_dir):
    """The lines of The Time Machine, letters only, lower case (section 9.2)."""
    with open(os.path.join(data_dir, "timemachine.txt"), encoding="utf-8") as f:
        lines = f.readlines()
    return [re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in lines]


''' + VOCAB + '''

def load_corpus_time_machine(data_dir):
    """Token indices and the vocabulary of The Time Machine, by characters."""
    tokens = [list(line) for line in read_time_machine(data_dir)]
    vocab = Vocab(tokens)
    corpus = [vocab[token] for line in tokens for token in line]
    return corpus, vocab


corpus, vocab = load_corpus_time_machine(args.data_dir)
# The end of the text (NUM_VALID characters, at most a fifth) is held out for
# validation and never trained on; training reads the first MAX_TOKENS of the rest.
num_valid = min(NUM_VALID, len(corpus) // 5)
train_corpus = corpus[:len(corpus) - num_valid]
if MAX_TOKENS:
    train_corpus = train_corpus[:MAX_TOKENS]
train_corpus = torch.tensor(train_corpus, dtype=torch.int64)
valid_corpus = torch.tensor(corpus[len(corpus) - num_valid:], dtype=torch.int64)
'''

SEQ_ITERS = '''

def seq_data_iter_sequential(corpus, batch_size, num_steps, generator=None):
    """Sequential partitioning (section 9.3): the epoch starts at a random offset
    in [0, num_steps] (0 without a generator); minibatch i + 1 continues every
    row of minibatch i, so the hidden state may carry over."""
    offset = 0 if generator is None else int(torch.randint(0, num_steps + 1, (1,), generator=generator))
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = corpus[offset: offset + num_tokens].reshape(batch_size, -1)
    Ys = corpus[offset + 1: offset + 1 + num_tokens].reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        yield Xs[:, i: i + num_steps], Ys[:, i: i + num_steps]


def seq_data_iter_random(corpus, batch_size, num_steps, generator):
    """Random sampling (section 9.3): a random offset in [0, num_steps - 1], then
    subsequences of num_steps tokens in a shuffled order."""
    offset = int(torch.randint(0, num_steps, (1,), generator=generator))
    num_subseqs = (len(corpus) - offset - 1) // num_steps
    initial_indices = torch.arange(0, num_subseqs * num_steps, num_steps) + offset
    initial_indices = initial_indices[torch.randperm(num_subseqs, generator=generator)]
    steps = torch.arange(num_steps)
    for i in range(0, batch_size * (num_subseqs // batch_size), batch_size):
        idx = initial_indices[i: i + batch_size, None] + steps
        yield corpus[idx], corpus[idx + 1]


# the held-out part is read in order, in as many rows as fit (at most BATCH_SIZE)
valid_rows = min(BATCH_SIZE, (len(valid_corpus) - NUM_STEPS - 1) // NUM_STEPS)
'''

# ---------------------------------------------------------------- the cells
RNN_SCRATCH = '''

class RNNScratch(nn.Module):
    """The RNN from scratch (section 9.5): H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h)."""

    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        self.num_hiddens = num_hiddens
        self.W_xh = nn.Parameter(torch.randn(num_inputs, num_hiddens, generator=gen_init) * sigma)
        self.W_hh = nn.Parameter(torch.randn(num_hiddens, num_hiddens, generator=gen_init) * sigma)
        self.b_h = nn.Parameter(torch.zeros(num_hiddens))

    def begin_state(self, batch_size):
        return torch.zeros((batch_size, self.num_hiddens))

    def forward(self, inputs, H):
        outputs = []
        for X in inputs:  # inputs: (num_steps, batch_size, num_inputs)
            H = torch.tanh(X @ self.W_xh + H @ self.W_hh + self.b_h)
            outputs.append(H)
        return torch.stack(outputs), H
'''

GRU_SCRATCH = '''

def triple(num_inputs, num_hiddens, sigma):
    """W_x (inputs, hiddens), W_h (hiddens, hiddens) ~ N(0, sigma^2), b = 0."""
    return (nn.Parameter(torch.randn(num_inputs, num_hiddens, generator=gen_init) * sigma),
            nn.Parameter(torch.randn(num_hiddens, num_hiddens, generator=gen_init) * sigma),
            nn.Parameter(torch.zeros(num_hiddens)))


class GRUScratch(nn.Module):
    """The GRU from scratch (section 10.2)."""

    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        self.num_hiddens = num_hiddens
        self.W_xz, self.W_hz, self.b_z = triple(num_inputs, num_hiddens, sigma)  # update gate
        self.W_xr, self.W_hr, self.b_r = triple(num_inputs, num_hiddens, sigma)  # reset gate
        self.W_xh, self.W_hh, self.b_h = triple(num_inputs, num_hiddens, sigma)  # candidate hidden state

    def begin_state(self, batch_size):
        return torch.zeros((batch_size, self.num_hiddens))

    def forward(self, inputs, H):
        outputs = []
        for X in inputs:
            Z = torch.sigmoid(X @ self.W_xz + H @ self.W_hz + self.b_z)
            R = torch.sigmoid(X @ self.W_xr + H @ self.W_hr + self.b_r)
            H_tilde = torch.tanh(X @ self.W_xh + (R * H) @ self.W_hh + self.b_h)
            H = Z * H + (1 - Z) * H_tilde
            outputs.append(H)
        return torch.stack(outputs), H
'''

LSTM_SCRATCH = '''

def triple(num_inputs, num_hiddens, sigma):
    """W_x (inputs, hiddens), W_h (hiddens, hiddens) ~ N(0, sigma^2), b = 0."""
    return (nn.Parameter(torch.randn(num_inputs, num_hiddens, generator=gen_init) * sigma),
            nn.Parameter(torch.randn(num_hiddens, num_hiddens, generator=gen_init) * sigma),
            nn.Parameter(torch.zeros(num_hiddens)))


class LSTMScratch(nn.Module):
    """The LSTM from scratch (section 10.1)."""

    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        self.num_hiddens = num_hiddens
        self.W_xi, self.W_hi, self.b_i = triple(num_inputs, num_hiddens, sigma)  # input gate
        self.W_xf, self.W_hf, self.b_f = triple(num_inputs, num_hiddens, sigma)  # forget gate
        self.W_xo, self.W_ho, self.b_o = triple(num_inputs, num_hiddens, sigma)  # output gate
        self.W_xc, self.W_hc, self.b_c = triple(num_inputs, num_hiddens, sigma)  # input node

    def begin_state(self, batch_size):
        zeros = torch.zeros((batch_size, self.num_hiddens))
        return zeros, zeros.clone()

    def forward(self, inputs, H_C):
        H, C = H_C
        outputs = []
        for X in inputs:
            I = torch.sigmoid(X @ self.W_xi + H @ self.W_hi + self.b_i)
            F_ = torch.sigmoid(X @ self.W_xf + H @ self.W_hf + self.b_f)
            O = torch.sigmoid(X @ self.W_xo + H @ self.W_ho + self.b_o)
            C_tilde = torch.tanh(X @ self.W_xc + H @ self.W_hc + self.b_c)
            C = F_ * C + I * C_tilde
            H = O * torch.tanh(C)
            outputs.append(H)
        return torch.stack(outputs), (H, C)
'''

STACKED_SCRATCH = '''

class StackedRNNScratch(nn.Module):
    """The deep RNN from scratch (section 10.3): layer l reads the hidden states of layer l - 1."""

    def __init__(self, num_inputs, num_hiddens, num_layers, sigma=0.01):
        super().__init__()
        self.rnns = nn.ModuleList([CELL(num_inputs if i == 0 else num_hiddens, num_hiddens, sigma)
                                   for i in range(num_layers)])

    def begin_state(self, batch_size):
        return [rnn.begin_state(batch_size) for rnn in self.rnns]

    def forward(self, inputs, Hs):
        outputs, new_states = inputs, []
        for rnn, H in zip(self.rnns, Hs):
            outputs, H = rnn(outputs, H)
            new_states.append(H)
        return outputs, new_states
'''

CONCISE = '''

def concise_rnn(num_inputs, num_hiddens):
    """torch's recurrent layer (sections 9.6, 10.1-10.4), its weights drawn from
    U(-1/sqrt(h), 1/sqrt(h)) as torch does, here from the run's generator."""
    rnn = CELL(num_inputs, num_hiddens, num_layers=NUM_LAYERS, bidirectional=BIDIRECTIONAL)
    bound = 1 / math.sqrt(num_hiddens)
    with torch.no_grad():
        for p in rnn.parameters():
            nn.init.uniform_(p, -bound, bound, generator=gen_init)
    return rnn
'''

RNNLM = '''

class RNNLM(nn.Module):
    """The RNN language model (sections 9.5-9.6): one-hot characters, the
    recurrent layer, a Linear output layer (W_hq ~ N(0, sigma^2), b_q = 0)."""

    def __init__(self, rnn, vocab_size, num_hiddens, sigma=0.01):
        super().__init__()
        self.rnn, self.vocab_size = rnn, vocab_size
        self.output = nn.Linear(num_hiddens * NUM_DIRECTIONS, vocab_size)
        with torch.no_grad():
            self.output.weight.normal_(0, sigma, generator=gen_init)
            self.output.bias.zero_()

    def begin_state(self, batch_size):
        if hasattr(self.rnn, "begin_state"):  # from scratch
            return self.rnn.begin_state(batch_size)
        zeros = torch.zeros((NUM_LAYERS * NUM_DIRECTIONS, batch_size, self.rnn.hidden_size))
        return (zeros, zeros.clone()) if isinstance(self.rnn, nn.LSTM) else zeros

    def forward(self, X, state):
        embs = F.one_hot(X.T, self.vocab_size).float()  # (num_steps, batch_size, vocab_size)
        outputs, state = self.rnn(embs, state)
        return self.output(outputs).swapaxes(0, 1), state
'''

LM_TRAIN = '''

# --------------------------------------------------------- training (section 9.5)
def detach(state):
    """Truncated backpropagation through time: keep the state's values, drop its history."""
    if isinstance(state, (tuple, list)):
        return type(state)(detach(s) for s in state)
    return state.detach()


def evaluate(net, corpus, batch_size):
    """Mean cross-entropy per character over `corpus`, read in order (no offset, no shuffling)."""
    net.eval()
    loss_sum, n, state = 0.0, 0, None
    with torch.no_grad():
        for X, Y in seq_data_iter_sequential(corpus, batch_size, NUM_STEPS):
            state = net.begin_state(X.shape[0]) if state is None else state
            y_hat, state = net(X, state)
            loss_sum += float(F.cross_entropy(y_hat.reshape(-1, y_hat.shape[-1]), Y.reshape(-1))) * Y.numel()
            n += Y.numel()
    net.train()
    return loss_sum / n


def train(net, corpus, lr, num_epochs, max_steps=None):
    """The book's train_ch8: minibatch SGD on the cross-entropy per character,
    gradients clipped to norm GRAD_CLIP (grad_clipping, as torch's clip_grad_norm_)."""
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    step = 0
    for epoch in range(num_epochs):
        state, loss_sum, n = None, 0.0, 0
        if USE_RANDOM_ITER:
            data_iter = seq_data_iter_random(corpus, BATCH_SIZE, NUM_STEPS, gen_data)
        else:
            data_iter = seq_data_iter_sequential(corpus, BATCH_SIZE, NUM_STEPS, gen_data)
        for X, Y in data_iter:
            if state is None or USE_RANDOM_ITER:
                state = net.begin_state(X.shape[0])  # a fresh state for each random subsequence
            else:
                state = detach(state)  # carried over from the minibatch before
            net.train()
            y_hat, state = net(X, state)
            l = F.cross_entropy(y_hat.reshape(-1, y_hat.shape[-1]), Y.reshape(-1))
            trainer.zero_grad(set_to_none=True)
            l.backward()
            nn.utils.clip_grad_norm_(net.parameters(), GRAD_CLIP)
            trainer.step()
            step += 1
            report(step, l)
            loss_sum, n = loss_sum + float(l.detach()) * Y.numel(), n + Y.numel()
            if step == max_steps:
                return
        line = f"epoch {epoch + 1}: perplexity {math.exp(loss_sum / n):.2f}"
        if valid_rows >= 1:
            line += f", validation perplexity {math.exp(evaluate(net, valid_corpus, valid_rows)):.2f}"
        print(line, flush=True)
'''


def lm_script(*, title: str, what: str, seed: int, data_dir: str, config: dict, model: str,
              net_line: str) -> str:
    """A language-model script: `config` the constants (besides SEED, DATA_DIR
    and the held-out part), `model` the code of its cells (the strings above),
    `net_line` the statement that builds `net`."""
    from core.train.lm import VALID_TOKENS

    return script_of(
        header(title, what, seed=seed,
               data="The data: timemachine.txt (H. G. Wells, The Time Machine) in DATA_DIR, the book's "
                    "d2l-data copy; --data-dir points elsewhere."),
        "# The page's settings (its Config)\n",
        constants(**config),
        constants(NUM_VALID=VALID_TOKENS, SEED=int(seed), DATA_DIR=str(data_dir)),
        ARGS, GENERATORS, REPORT, TIME_MACHINE, SEQ_ITERS, model, RNNLM, LM_TRAIN,
        "\n\n", net_line.strip(), "\n",
        "train(net, train_corpus, LR, NUM_EPOCHS, args.steps)\n")

# ------------------------------------------------- examples in shuffled minibatches
SUPERVISED_TRAIN = '''

# --------------------------------------------------------------------- training
def data_iter(batch_size, features, labels, generator):
    """The examples in minibatches, in an order drawn anew every epoch (section 3.2)."""
    order = torch.randperm(len(features), generator=generator)
    for i in range(0, len(features), batch_size):
        idx = order[i: i + batch_size]
        yield features[idx], labels[idx]


def train(net, features, labels, loss, updater, num_epochs, max_steps=None):
    """Minibatch training: the loss averaged over each minibatch, its gradient,
    one step of the optimizer (gradients clipped to norm GRAD_CLIP, if any);
    epoch_summary(net) after every epoch."""
    step = 0
    for epoch in range(num_epochs):
        for X, y in data_iter(BATCH_SIZE, features, labels, gen_data):
            net.train()
            y_hat = net(X)
            l = loss(y_hat, y).mean()
            updater.zero_grad(set_to_none=True)
            l.backward()
            if GRAD_CLIP:
                nn.utils.clip_grad_norm_(net.parameters(), GRAD_CLIP)
            updater.step()
            step += 1
            report(step, l)
            if step == max_steps:
                return
        print(f"epoch {epoch + 1}: {epoch_summary(net)}", flush=True)
'''


STDLIB = ("argparse", "collections", "gzip", "json", "math", "os", "re", "struct")


def script_of(header_: str, *parts: str) -> str:
    """The header (`header`), the imports the code uses (the standard library's
    and torch's), then the parts joined."""
    import re

    body = "".join(parts)
    imports = [f"import {m}\n" for m in STDLIB if re.search(rf"\b{m}\.", body)]
    imports.append("\nimport torch\nfrom torch import nn\n")
    if re.search(r"\bF\.", body):
        imports.append("from torch.nn import functional as F\n")
    return header_ + "".join(imports) + "\n" + body
