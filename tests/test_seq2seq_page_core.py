"""What the seq2seq page shows, computed in core.experiments.seq2seq: the
architecture's shapes, teacher forcing on one batch, the masked per-token loss
and the book's four sentences' BLEU recorded after every epoch."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from core.experiments.seq2seq import (
    BOOK,
    BOOK_EXAMPLES,
    STAND_IN_PAIRS,
    architecture,
    bleu_key,
    first_pairs,
    look,
    make_trainer,
    stand_in_corpus,
    teacher_forcing,
)
from core.models.seq2seq import Seq2SeqObjective, bleu, greedy_translate, translate


@pytest.fixture(scope="module")
def corpus():
    return stand_in_corpus()


def test_architecture_shapes_follow_the_settings(corpus):
    cfg = replace(BOOK, embed_size=16, num_hiddens=64, num_layers=3, batch_size=8)
    shapes = dict(architecture(cfg, corpus.data))
    b, s, v = 8, cfg.num_steps, len(corpus.data.tgt_vocab)
    assert list(shapes.values()) == [(b, s), (s, b, 16), (s, b, 64), (3, b, 64), (b, 64), (b, s), (s, b, 16),
                                     (s, b, 16 + 64), (s, b, 64), (b, s, v)]


def test_teacher_forcing_is_bos_then_the_shifted_target(corpus):
    tf = teacher_forcing(corpus.data, rows=5)
    for tgt, dec, n, mask in zip(tf["tgt"], tf["dec_input"], tf["tgt_valid_len"], tf["mask"]):
        assert dec[0] == "<bos>" and dec[1:] == tgt[:-1]
        assert tgt[n - 1] == "<eos>" and set(tgt[n:]) <= {"<pad>"}
        assert mask.tolist() == [1.0] * n + [0.0] * (len(tgt) - n)
    assert tf["src"][0][:3] == ["go", ".", "<eos>"] and tf["tgt"][0][:3] == ["va", "!", "<eos>"]


def test_look_is_the_objectives_masked_loss_and_leaves_the_run_alone(corpus):
    t = make_trainer(corpus.data, num_epochs=3, seed=2)
    t.advance(max_steps=2)
    before = {k: v.clone() for k, v in t.net.state_dict().items()}
    seen = look({"run": t}, corpus.data, rows=6)
    assert all(torch.equal(v, before[k]) for k, v in t.net.state_dict().items())
    t.net.eval()
    with torch.no_grad():
        out = Seq2SeqObjective(corpus.data.tgt_vocab["<bos>"])(t.net, first_pairs(corpus.data, 6))
    t.net.train()
    assert seen["loss_per_token"] == pytest.approx(float(out.loss), rel=1e-5)
    assert np.array_equal(np.isnan(seen["losses"]), ~seen["mask"])
    assert np.nanmean(seen["losses"]) == pytest.approx(seen["loss_per_token"], rel=1e-5)
    for row in seen["translations"]:
        assert row["bleu"] == bleu(row["translation"], BOOK_EXAMPLES[row["src"]], 2)


def test_bleu_is_recorded_every_epoch_and_changes_nothing(corpus):
    t = make_trainer(corpus.data, num_epochs=4, seed=1)
    bare = make_trainer(corpus.data, num_epochs=4, seed=1)
    for cb in list(bare._callbacks["epoch_end"]):
        bare.remove_callback("epoch_end", cb)
    t.advance()
    bare.advance()
    assert [r["loss"] for r in t.history.steps] == [r["loss"] for r in bare.history.steps]
    last = t.history.epochs[-1]
    for src, ref in BOOK_EXAMPLES.items():
        text = translate(t.net, src, corpus.data.src_vocab, corpus.data.tgt_vocab, BOOK.num_steps, k=1).text
        assert last[bleu_key(src)] == bleu(text, ref, 2)
        assert all(0.0 <= r[bleu_key(src)] <= 1.0 for r in t.history.epochs)


def test_the_stand_in_is_learned_and_greedy_translation_in_a_batch_is_one_at_a_time():
    corpus = stand_in_corpus()
    t = make_trainer(corpus.data, num_epochs=50, seed=0, lr=0.02)
    t.advance()
    last = t.history.epochs[-1]
    assert last["train_loss"] < 0.1 * t.history.epochs[0]["train_loss"]
    assert last[bleu_key("go .")] == 1.0 and not math.isnan(last["train_loss"])
    srcs = [src for src, _ in STAND_IN_PAIRS] + ["go away now , please , my friend ."]  # cut to num_steps
    data = corpus.data
    assert greedy_translate(t.net, srcs, data.src_vocab, data.tgt_vocab, BOOK.num_steps) == [
        translate(t.net, s, data.src_vocab, data.tgt_vocab, BOOK.num_steps, k=1).text for s in srcs]
