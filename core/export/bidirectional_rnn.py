"""Show the PyTorch for the bidirectional RNN page (section 10.4): the book's
bidirectional LSTM language model (task "lm"), or the page's fill-in-the-blank
task (task "blank"), each bidirectional or one-directional."""
from __future__ import annotations

from core.export import _text

NAMES = {"gru": "GRU", "lstm": "LSTM"}

BLANK = '''

# --------------------------------------------- fill in the blank: the windows
def blank_windows(corpus, context, mask_id, stride):
    """Windows of 2 * context + 1 characters, one every `stride` characters: X
    with its centre replaced by the mask token, y the centre character it hid."""
    tokens = torch.as_tensor(corpus, dtype=torch.int64)
    width = 2 * context + 1
    n = max(0, (len(tokens) - width) // stride + 1)
    idx = torch.arange(n)[:, None] * stride + torch.arange(width)
    X = tokens[idx].clone()
    y = X[:, context].clone()
    X[:, context] = mask_id
    return X, y


# a window every CONTEXT + 1 characters; the mask is one more token after the vocabulary
features, labels = blank_windows(train_corpus, CONTEXT, len(vocab), stride=CONTEXT + 1)
valid_features, valid_labels = blank_windows(valid_corpus, CONTEXT, len(vocab), stride=CONTEXT + 1)


class BlankFiller(nn.Module):
    """One-hot characters (and the mask) -> the recurrent layer, reading both
    ways when BIDIRECTIONAL -> a Linear layer on its state at the masked centre."""

    def __init__(self, vocab_size, num_hiddens, sigma=0.01):
        super().__init__()
        self.num_inputs = vocab_size + 1
        self.rnn = CELL(self.num_inputs, num_hiddens, num_layers=NUM_LAYERS, bidirectional=BIDIRECTIONAL)
        self.output = nn.Linear(num_hiddens * NUM_DIRECTIONS, vocab_size)
        bound = 1 / math.sqrt(num_hiddens)
        with torch.no_grad():  # torch's default ranges, drawn from the run's generator
            for p in self.rnn.parameters():
                nn.init.uniform_(p, -bound, bound, generator=gen_init)
            self.output.weight.normal_(0, sigma, generator=gen_init)
            self.output.bias.zero_()

    def forward(self, X):
        outputs, _ = self.rnn(F.one_hot(X.T, self.num_inputs).float())  # (width, batch, hiddens)
        return self.output(outputs.swapaxes(0, 1)[:, CONTEXT])


def epoch_summary(net):
    """Accuracy on the held-out windows."""
    net.eval()
    with torch.no_grad():
        acc = float((net(valid_features).argmax(dim=1) == valid_labels).float().mean()) if len(valid_labels) else 0.0
    net.train()
    return f"held-out accuracy {acc:.3f}"


net = BlankFiller(len(vocab), NUM_HIDDENS)
loss = nn.CrossEntropyLoss(reduction="none")
trainer = torch.optim.SGD(net.parameters(), lr=LR)
'''


def script(cfg, *, seed: int, data_dir: str) -> str:
    cell = NAMES[cfg.cell]
    ways = "bidirectional" if cfg.bidirectional else "one-directional"
    config = dict(NUM_LAYERS=cfg.num_layers, NUM_HIDDENS=cfg.num_hiddens, BIDIRECTIONAL=cfg.bidirectional,
                  NUM_DIRECTIONS=2 if cfg.bidirectional else 1, MAX_TOKENS=cfg.max_tokens,
                  NUM_EPOCHS=cfg.num_epochs, LR=cfg.lr, BATCH_SIZE=cfg.batch_size, NUM_STEPS=cfg.num_steps,
                  GRAD_CLIP=cfg.grad_clip)
    if cfg.task == "lm":
        return _text.lm_script(
            title=f"Bidirectional recurrent neural networks: a {ways} {cell} language model (d2l section 10.4)",
            what=f"A character-level language model on The Time Machine: one-hot characters, {cfg.num_layers} "
                 f"{ways} {cell} layer(s), a linear output layer; minibatch SGD with gradient clipping "
                 "(train_ch8), sequential partitioning. Read both ways, the net sees the very character it must "
                 "predict while training: a low training perplexity, garbage generation.",
            seed=seed, data_dir=data_dir, model=f"\nCELL = nn.{cell}\n" + _text.CONCISE,
            net_line="net = RNNLM(concise_rnn(len(vocab), NUM_HIDDENS), len(vocab), NUM_HIDDENS)",
            config={**config, "USE_RANDOM_ITER": False})
    from core.train.lm import VALID_TOKENS

    batch = dict(config, BATCH_SIZE=cfg.blank_batch_size)
    return _text.script_of(
        _text.header(f"Bidirectional recurrent neural networks: fill in the blank with a {ways} {cell} "
                     "(d2l section 10.4)",
                     f"A window of {2 * cfg.context + 1} characters of The Time Machine with its centre masked; a "
                     f"{ways} {cell} reads it and predicts the hidden character from its state at the centre "
                     "(one-directional: the left side only). Minibatch SGD on the cross-entropy with gradient "
                     "clipping.", seed=seed,
                     data="The data: timemachine.txt in DATA_DIR (--data-dir points elsewhere)."),
        "# The page's settings (its Config)\n",
        _text.constants(**batch, CONTEXT=cfg.context, NUM_VALID=VALID_TOKENS, SEED=int(seed),
                        DATA_DIR=str(data_dir)),
        _text.ARGS, _text.GENERATORS, _text.REPORT, _text.TIME_MACHINE, f"\nCELL = nn.{cell}\n",
        _text.SUPERVISED_TRAIN, BLANK,
        "train(net, features, labels, loss, trainer, NUM_EPOCHS, args.steps)\n")
