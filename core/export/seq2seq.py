"""Show the PyTorch for the seq2seq page (sections 10.5-10.7): the book's GRU
encoder-decoder trained on English-French pairs with teacher forcing."""
from __future__ import annotations

from core.export import _text

DATA = '''

# ------------------------------------------------ the data (section 10.5)
def read_data_nmt(data_dir):
    """fra.txt, as the book's zip unpacks it (fra-eng/fra.txt) or alone in the folder."""
    for place in (os.path.join(data_dir, "fra-eng", "fra.txt"), os.path.join(data_dir, "fra.txt")):
        if os.path.isfile(place):
            with open(place, encoding="utf-8") as f:
                return f.read()
    raise FileNotFoundError(f"no fra.txt in {data_dir} (nor in its folder fra-eng)")


def preprocess_nmt(text):
    """Lower case, non-breaking spaces as spaces, a space before , . ! ?"""
    def no_space(char, prev_char):
        return char in set(",.!?") and prev_char != " "

    text = text.replace("\\u202f", " ").replace("\\xa0", " ").lower()
    out = [" " + char if i > 0 and no_space(char, text[i - 1]) else char for i, char in enumerate(text)]
    return "".join(out)


def tokenize_nmt(text, num_examples):
    """Word tokens of the first num_examples pairs (English, French)."""
    source, target = [], []
    for line in text.split("\\n"):
        if num_examples and len(source) >= num_examples:
            break
        parts = line.split("\\t")
        if len(parts) >= 2:
            source.append(parts[0].split(" "))
            target.append(parts[1].split(" "))
    return source, target


''' + _text.VOCAB + '''

def truncate_pad(line, num_steps, padding_token):
    return line[:num_steps] if len(line) > num_steps else line + [padding_token] * (num_steps - len(line))


def build_array_nmt(lines, vocab, num_steps):
    """Each sentence + <eos>, truncated or padded to num_steps; its valid length."""
    lines = [vocab[line] + [vocab["<eos>"]] for line in lines]
    array = torch.tensor([truncate_pad(line, num_steps, vocab["<pad>"]) for line in lines],
                         dtype=torch.int64).reshape(len(lines), num_steps)
    valid_len = (array != vocab["<pad>"]).type(torch.int32).sum(1)
    return array, valid_len


source, target = tokenize_nmt(preprocess_nmt(read_data_nmt(args.data_dir)), NUM_EXAMPLES)
src_vocab = Vocab(source, min_freq=2, reserved_tokens=["<pad>", "<bos>", "<eos>"])
tgt_vocab = Vocab(target, min_freq=2, reserved_tokens=["<pad>", "<bos>", "<eos>"])
src_array, src_valid_len = build_array_nmt(source, src_vocab, NUM_STEPS)
tgt_array, tgt_valid_len = build_array_nmt(target, tgt_vocab, NUM_STEPS)


# ------------------------------------------- the model (sections 10.6-10.7)
class StackedGRU(nn.Module):
    """nn.GRU(num_inputs, num_hiddens, num_layers, dropout=DROPOUT), one layer at
    a time, the dropout masks between layers drawn from the run's gen_noise."""

    def __init__(self, num_inputs, num_hiddens, num_layers, dropout):
        super().__init__()
        self.num_hiddens, self.num_layers, self.dropout = num_hiddens, num_layers, dropout
        self.layers = nn.ModuleList(
            nn.GRU(num_inputs if i == 0 else num_hiddens, num_hiddens) for i in range(num_layers))

    def forward(self, inputs, state=None):
        if state is None:
            state = torch.zeros((self.num_layers, inputs.shape[1], self.num_hiddens))
        finals, X = [], inputs
        for i, layer in enumerate(self.layers):
            X, H = layer(X, state[i:i + 1])
            finals.append(H)
            if self.training and self.dropout > 0 and i < self.num_layers - 1:
                keep = torch.rand(X.shape, generator=gen_noise) >= self.dropout
                X = X * keep / (1 - self.dropout)
        return X, torch.cat(finals)


class Seq2SeqEncoder(nn.Module):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = StackedGRU(embed_size, num_hiddens, num_layers, dropout)

    def forward(self, X, *args):
        embs = self.embedding(X.t().type(torch.int64))  # (num_steps, batch_size, embed_size)
        return self.rnn(embs)  # outputs (num_steps, batch_size, num_hiddens), state (num_layers, ...)


class Seq2SeqDecoder(nn.Module):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, dropout=0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = StackedGRU(embed_size + num_hiddens, num_hiddens, num_layers, dropout)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_all_outputs, *args):
        enc_outputs, hidden_state = enc_all_outputs
        return enc_outputs[-1], hidden_state  # the context: the top layer's last output

    def forward(self, X, state):
        context, hidden_state = state
        embs = self.embedding(X.t().type(torch.int64))
        context = context.repeat(embs.shape[0], 1, 1)  # the context at every step
        outputs, hidden_state = self.rnn(torch.cat((embs, context), -1), hidden_state)
        return self.dense(outputs).swapaxes(0, 1), (state[0], hidden_state)


class EncoderDecoder(nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, enc_X, dec_X, *args):
        enc_all_outputs = self.encoder(enc_X, *args)
        dec_state = self.decoder.init_state(enc_all_outputs, *args)
        return self.decoder(dec_X, dec_state)[0]


def init_seq2seq(net):
    """Xavier-uniform Linear and GRU weights (the book's init_seq2seq); embeddings
    N(0, 1) and biases U(-1/sqrt(fan), 1/sqrt(fan)) as torch's defaults; all
    from the run's generator, module by module."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, generator=gen_init)
            elif isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight, generator=gen_init)
                bound = 1 / math.sqrt(m.in_features)
                nn.init.uniform_(m.bias, -bound, bound, generator=gen_init)
            elif isinstance(m, nn.GRU):
                bound = 1 / math.sqrt(m.hidden_size)
                for name, p in m.named_parameters():
                    if "weight" in name:
                        nn.init.xavier_uniform_(p, generator=gen_init)
                    else:
                        nn.init.uniform_(p, -bound, bound, generator=gen_init)


def sequence_mask(X, valid_len, value=0):
    """Entries past each row's valid length set to value (section 10.7)."""
    maxlen = X.size(1)
    mask = torch.arange(maxlen)[None, :] < valid_len[:, None]
    X = X.clone()
    X[~mask] = value
    return X


# --------------------------------------------------------------------- training
def data_iter(batch_size, *arrays, generator):
    """The sentence pairs in minibatches, in an order drawn anew every epoch."""
    order = torch.randperm(len(arrays[0]), generator=generator)
    for i in range(0, len(arrays[0]), batch_size):
        idx = order[i: i + batch_size]
        yield tuple(a[idx] for a in arrays)


def train_seq2seq(net, lr, num_epochs, tgt_vocab, max_steps=None):
    """Teacher forcing: the decoder reads <bos> and the target shifted by one;
    the loss is the cross-entropy per valid target token (padding masked)."""
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    step = 0
    for epoch in range(num_epochs):
        loss_sum, num_tokens = 0.0, 0
        for X, X_valid_len, Y, Y_valid_len in data_iter(BATCH_SIZE, src_array, src_valid_len, tgt_array,
                                                         tgt_valid_len, generator=gen_data):
            net.train()
            bos = torch.tensor([tgt_vocab["<bos>"]] * Y.shape[0]).reshape(-1, 1)
            dec_input = torch.cat([bos, Y[:, :-1]], 1)
            Y_hat = net(X, dec_input, X_valid_len)
            l = F.cross_entropy(Y_hat.permute(0, 2, 1), Y, reduction="none")
            mask = sequence_mask(torch.ones_like(l), Y_valid_len)
            n = int(Y_valid_len.sum())
            l = (l * mask).sum() / max(n, 1)
            optimizer.zero_grad(set_to_none=True)
            l.backward()
            nn.utils.clip_grad_norm_(net.parameters(), GRAD_CLIP)  # the book's grad_clipping
            optimizer.step()
            step += 1
            report(step, l)
            loss_sum, num_tokens = loss_sum + float(l.detach()) * n, num_tokens + n
            if step == max_steps:
                return
        print(f"epoch {epoch + 1}: loss {loss_sum / num_tokens:.3f} per token", flush=True)


encoder = Seq2SeqEncoder(len(src_vocab), EMBED_SIZE, NUM_HIDDENS, NUM_LAYERS, DROPOUT)
decoder = Seq2SeqDecoder(len(tgt_vocab), EMBED_SIZE, NUM_HIDDENS, NUM_LAYERS, DROPOUT)
net = EncoderDecoder(encoder, decoder)
init_seq2seq(net)
train_seq2seq(net, LR, NUM_EPOCHS, tgt_vocab, args.steps)
'''


def script(cfg, *, seed: int, data_dir: str) -> str:
    return _text.script_of(
        _text.header("Sequence-to-sequence learning: a GRU encoder-decoder, English to French "
                     "(d2l sections 10.5-10.7)",
                     "The first NUM_EXAMPLES English-French pairs, cut or padded to NUM_STEPS tokens; a GRU "
                     "encoder, a GRU decoder that reads the encoder's context at every step; Adam on the masked "
                     "cross-entropy with teacher forcing and gradient clipping.", seed=seed,
                     data="The data: fra.txt (Tatoeba's pairs, the book's fra-eng.zip unpacked) in DATA_DIR or "
                          "DATA_DIR/fra-eng; --data-dir points elsewhere."),
        "# The page's settings (its Config)\n",
        _text.constants(NUM_EPOCHS=cfg.num_epochs, LR=cfg.lr, EMBED_SIZE=cfg.embed_size,
                        NUM_HIDDENS=cfg.num_hiddens, NUM_LAYERS=cfg.num_layers, DROPOUT=cfg.dropout,
                        NUM_STEPS=cfg.num_steps, NUM_EXAMPLES=cfg.num_examples, BATCH_SIZE=cfg.batch_size,
                        GRAD_CLIP=cfg.grad_clip, SEED=int(seed), DATA_DIR=str(data_dir)),
        _text.ARGS, _text.GENERATORS, _text.REPORT, DATA)
