"""The book's seq2seq: shapes, masks, loss, BLEU, training on toy pairs, translation."""
import math

import pytest
import torch
from torch import nn

from core.data.vocab import Vocab
from core.models.seq2seq import (
    MaskedSoftmaxCELoss,
    Seq2SeqDecoder,
    Seq2SeqEncoder,
    Seq2SeqObjective,
    StackedGRU,
    bleu,
    seq2seq,
    sequence_mask,
    translate,
)
from core.train.trainer import Batches, Trainer

PAIRS = [("go .", "va !"), ("i lost .", "j'ai perdu ."), ("he's calm .", "il est calme ."),
         ("i'm home .", "je suis chez moi ."), ("we won .", "nous avons gagné ."),
         ("i ran .", "j'ai couru ."), ("be nice .", "sois gentil ."), ("get up .", "lève-toi ."),
         ("he ran .", "il a couru ."), ("i'm calm .", "je suis calme .")]
NUM_STEPS = 6
RESERVED = ["<pad>", "<bos>", "<eos>"]


def _data():
    src = [s.split() for s, _ in PAIRS]
    tgt = [t.split() for _, t in PAIRS]
    src_vocab, tgt_vocab = Vocab(src, reserved_tokens=RESERVED), Vocab(tgt, reserved_tokens=RESERVED)

    def build(lines, vocab):
        ids = [vocab[line] + [vocab["<eos>"]] for line in lines]
        X = torch.tensor([i + [vocab["<pad>"]] * (NUM_STEPS - len(i)) for i in ids])
        return X, torch.tensor([len(i) for i in ids])

    return (*build(src, src_vocab), *build(tgt, tgt_vocab)), src_vocab, tgt_vocab


def _trainer(num_epochs=100, seed=0):
    tensors, src_vocab, tgt_vocab = _data()
    t = Trainer(seq2seq(len(src_vocab), len(tgt_vocab)), Batches(*tensors, batch_size=5),
                objective=Seq2SeqObjective(tgt_vocab["<bos>"]), optimizer="adam", lr=0.005,
                grad_clip=1.0, num_epochs=num_epochs, seed=seed)
    return t, src_vocab, tgt_vocab


@pytest.fixture(scope="module")
def trained():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    t, src_vocab, tgt_vocab = _trainer()
    t.advance()
    torch.set_num_threads(n)
    return t, src_vocab, tgt_vocab


# ----------------------------------------------------------------- the parts


def test_shapes_are_the_books():
    vocab_size, embed_size, num_hiddens, num_layers = 10, 8, 16, 2
    batch_size, num_steps = 4, 9
    encoder = Seq2SeqEncoder(vocab_size, embed_size, num_hiddens, num_layers)
    X = torch.zeros((batch_size, num_steps), dtype=torch.int64)
    enc_outputs, enc_state = encoder(X)
    assert enc_outputs.shape == (num_steps, batch_size, num_hiddens)
    assert enc_state.shape == (num_layers, batch_size, num_hiddens)
    decoder = Seq2SeqDecoder(vocab_size, embed_size, num_hiddens, num_layers)
    state = decoder.init_state(encoder(X))
    assert torch.equal(state[0], enc_outputs[-1])  # the context: top layer, last step
    dec_outputs, state = decoder(X, state)
    assert dec_outputs.shape == (batch_size, num_steps, vocab_size)
    assert state[1].shape == (num_layers, batch_size, num_hiddens)


def test_stacked_gru_is_torchs_multilayer_gru():
    torch.manual_seed(0)
    ref = nn.GRU(3, 5, num_layers=2)
    mine = StackedGRU(3, 5, num_layers=2, dropout=0.3)
    with torch.no_grad():
        for i, layer in enumerate(mine.layers):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(layer, f"{name}_l0").copy_(getattr(ref, f"{name}_l{i}"))
    X, H0 = torch.randn(4, 2, 3), torch.randn(2, 2, 5)
    mine.eval()  # no dropout
    out, H = mine(X, H0)
    out_ref, H_ref = ref(X, H0)
    assert torch.allclose(out, out_ref, atol=1e-6) and torch.allclose(H, H_ref, atol=1e-6)
    mine.train()  # dropout between the layers, masks from the generator
    runs = []
    for _ in range(2):
        mine.generator = torch.Generator().manual_seed(3)
        runs.append(mine(X, H0)[0])
    assert torch.equal(runs[0], runs[1]) and not torch.allclose(runs[0], out_ref)


def test_same_seed_same_weights():
    a = seq2seq(7, 9)(torch.Generator().manual_seed(1))
    b = seq2seq(7, 9)(torch.Generator().manual_seed(1))
    c = seq2seq(7, 9)(torch.Generator().manual_seed(2))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.decoder.dense.weight, c.decoder.dense.weight)
    w = a.encoder.rnn.layers[0].weight_hh_l0  # Xavier: U(-a, a), a = sqrt(6 / (fan_in + fan_out))
    assert float(w.detach().abs().max()) <= math.sqrt(6 / (32 + 96))


def test_sequence_mask_is_the_books():
    X = torch.tensor([[1, 2, 3], [4, 5, 6]])
    assert sequence_mask(X, torch.tensor([1, 2])).tolist() == [[1, 0, 0], [4, 5, 0]]
    assert X.tolist() == [[1, 2, 3], [4, 5, 6]]  # a copy
    Y = sequence_mask(torch.ones(2, 3, 4), torch.tensor([1, 2]), value=-1)
    assert Y[0, 1:].eq(-1).all() and Y[1, :2].eq(1).all() and Y[1, 2].eq(-1).all()


def test_masked_loss_is_the_books():
    loss = MaskedSoftmaxCELoss()
    values = loss(torch.ones(3, 4, 10), torch.ones((3, 4), dtype=torch.long), torch.tensor([4, 2, 0]))
    assert values.tolist() == pytest.approx([math.log(10), math.log(10) / 2, 0.0])


def test_objective_is_the_per_token_masked_loss():
    tensors, src_vocab, tgt_vocab = _data()
    net = seq2seq(len(src_vocab), len(tgt_vocab))(torch.Generator().manual_seed(0)).eval()
    X, X_valid_len, Y, Y_valid_len = tensors
    out = Seq2SeqObjective(tgt_vocab["<bos>"])(net, tensors)
    assert out.n == int(Y_valid_len.sum()) == 44 and out.metric_sum is None
    dec_X = torch.cat([torch.full((10, 1), tgt_vocab["<bos>"]), Y[:, :-1]], 1)
    assert dec_X[3].tolist() == [tgt_vocab["<bos>"]] + tgt_vocab[["je", "suis", "chez", "moi", "."]]
    book = MaskedSoftmaxCELoss()(net(X, dec_X, X_valid_len), Y, Y_valid_len)  # per sequence, / num_steps
    assert float(out.loss.detach()) == pytest.approx(float(book.detach().sum()) * NUM_STEPS / 44, rel=1e-5)


def test_bleu_is_the_books():
    assert bleu("il est calme .", "il est calme .", k=2) == 1.0
    assert bleu("je suis chez moi .", "je suis chez moi .", k=4) == 1.0
    # the book's outputs: p1 = 3/4, p2 = 1/3 -> 0.658; shorter than the label -> 0.512
    assert bleu("il est <unk> .", "il est calme .", k=2) == pytest.approx(math.sqrt(3 / 4) * (1 / 3) ** 0.25)
    assert round(bleu("il est <unk> .", "il est calme .", k=2), 3) == 0.658
    expected = math.exp(1 - 5 / 4) * math.sqrt(3 / 4) * (1 / 3) ** 0.25
    assert bleu("je suis bon .", "je suis chez moi .", k=2) == pytest.approx(expected)
    assert round(expected, 3) == 0.512
    assert bleu("va !", "je suis calme .", k=2) == 0.0
    # clipped counts: 'the the the' matches 'the' once
    assert bleu("the the the", "the cat", k=1) == pytest.approx((1 / 3) ** 0.5)  # p1 = 1/3, weight 1/2


# ------------------------------------------------------- training, translating


def test_training_on_toy_pairs_learns_them(trained):
    t, src_vocab, tgt_vocab = trained
    losses = [r["train_loss"] for r in t.history.epochs]
    assert losses[0] > 2.5 and losses[-1] < 0.05
    for src, tgt in PAIRS:
        greedy = translate(t.net, src, src_vocab, tgt_vocab, NUM_STEPS, k=1)
        beam = translate(t.net, src, src_vocab, tgt_vocab, NUM_STEPS, k=3)
        assert greedy.text == tgt and beam.text == tgt
        assert greedy.unknown == [] and greedy.candidates[0]["ended"]
        assert bleu(beam.text, tgt, k=2) == 1.0


def test_same_seed_same_losses(trained):
    t = trained[0]
    again = _trainer()[0]
    again.advance(max_steps=20)
    assert [r["loss"] for r in again.history.steps] == [r["loss"] for r in t.history.steps[:20]]


def _book_greedy(net, src, src_vocab, tgt_vocab):
    """The book's predict_seq2seq, one token at a time."""
    src_tokens = src_vocab[src.split()] + [src_vocab["<eos>"]]
    src_tokens += [src_vocab["<pad>"]] * (NUM_STEPS - len(src_tokens))
    enc_X = torch.tensor([src_tokens])
    with torch.no_grad():
        dec_state = net.decoder.init_state(net.encoder(enc_X))
        dec_X, out = torch.tensor([[tgt_vocab["<bos>"]]]), []
        for _ in range(NUM_STEPS):
            Y, dec_state = net.decoder(dec_X, dec_state)
            dec_X = Y.argmax(dim=2)
            pred = int(dec_X[0, 0])
            if pred == tgt_vocab["<eos>"]:
                break
            out.append(pred)
    return " ".join(tgt_vocab.to_tokens(out))


def test_translate_unknown_words_greedy_and_tree(trained):
    t, src_vocab, tgt_vocab = trained
    for src in ("he's home .", "i'm nice .", "we ran up ."):
        ours = translate(t.net, src, src_vocab, tgt_vocab, NUM_STEPS).text
        assert ours == _book_greedy(t.net, src, src_vocab, tgt_vocab)
    untrained = seq2seq(len(src_vocab), len(tgt_vocab))(torch.Generator().manual_seed(5)).eval()
    src = "i lost the keys ."
    out = translate(untrained, src, src_vocab, tgt_vocab, NUM_STEPS)
    assert out.unknown == ["the", "keys"] and out.src_tokens == src.split()
    assert out.text == _book_greedy(untrained, src, src_vocab, tgt_vocab)
    res = translate(t.net, "Go .", src_vocab, tgt_vocab, NUM_STEPS, k=2)  # lower-cased as the book
    assert res.text == "va !"
    scores = [c["score"] for c in res.candidates]
    assert scores == sorted(scores, reverse=True)
    V = len(tgt_vocab)
    assert len(res.tree[1]) == V and sum(n.kept for n in res.tree[1]) == 2
    for c in res.candidates:
        L = len(c["tokens"]) + c["ended"]
        assert c["score"] == pytest.approx(c["log_prob"] / L ** 0.75)
    assert t.net.training  # translate restores the mode
