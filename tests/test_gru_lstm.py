"""core.experiments.gru_lstm: the book's GRU/LSTM language-model set-up for the page and benchmark."""
from __future__ import annotations

import statistics
from dataclasses import replace

import numpy as np
import pytest
import torch

from core.experiments.gru_lstm import (
    BOOK,
    GATES,
    STAND_IN_TEXT,
    clean_text,
    corpus_from_upload,
    fingerprint,
    make_trainer,
    stand_in_corpus,
    untrained_net,
)
from core.models.rnn import gate_trace, predict


@pytest.fixture(scope="module")
def stand_in():
    return stand_in_corpus()


def test_book_settings():
    assert (BOOK.batch_size, BOOK.num_steps, BOOK.num_hiddens, BOOK.lr, BOOK.grad_clip, BOOK.num_epochs,
            BOOK.max_tokens) == (32, 35, 256, 1.0, 1.0, 500, 10_000)


def test_stand_in_is_long_enough_for_several_minibatches(stand_in):
    corpus, vocab = stand_in
    t = make_trainer(corpus, len(vocab), num_hiddens=8, num_epochs=1)
    assert len(t.train) >= 3
    assert set(vocab.idx_to_token[1:]) <= set("abcdefghijklmnopqrstuvwxyz ")
    assert "traveller" in STAND_IN_TEXT


@pytest.mark.parametrize("kind, impl", [("gru", "scratch"), ("lstm", "scratch"), ("gru", "concise"),
                                        ("lstm", "concise")])
def test_trainer_learns_the_stand_in(stand_in, kind, impl):
    corpus, vocab = stand_in
    t = make_trainer(corpus, len(vocab), kind=kind, impl=impl, num_hiddens=32, num_epochs=100, seed=3)
    t.advance(max_steps=40)
    losses = [r["loss"] for r in t.history.steps]
    assert statistics.fmean(losses[-8:]) < statistics.fmean(losses[:8])
    assert t.grad_clip == 1.0 and t.hparams["lr"] == 1.0


def test_untrained_net_is_the_runs_epoch_zero(stand_in):
    corpus, vocab = stand_in
    t = make_trainer(corpus, len(vocab), kind="lstm", num_hiddens=16, seed=7)
    initial = {k: v.clone() for k, v in t.net.state_dict().items()}
    t.advance(max_steps=3)
    fresh = untrained_net(t)
    for k, v in fresh.state_dict().items():
        assert torch.equal(v, initial[k]), k
    assert any(not torch.equal(v, t.net.state_dict()[k]) for k, v in fresh.state_dict().items())
    assert t.step == 3  # the run is untouched
    assert not fresh.training


@pytest.mark.parametrize("kind", ["gru", "lstm"])
@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_gates_lie_in_the_unit_interval(stand_in, kind, impl):
    corpus, vocab = stand_in
    t = make_trainer(corpus, len(vocab), kind=kind, impl=impl, num_hiddens=16)
    t.advance(max_steps=5)
    trace = gate_trace(t.net, "time traveller", vocab)
    for key in GATES[kind]:
        assert trace[key].shape == (14, 16)
        if key != "C":  # C is a state, the others are gates
            assert np.all((trace[key] >= 0) & (trace[key] <= 1))


def test_generation_has_the_requested_length(stand_in):
    corpus, vocab = stand_in
    t = make_trainer(corpus, len(vocab), num_hiddens=16)
    t.advance(max_steps=20)
    out = predict("the traveller ", 50, t.net, vocab)
    assert out.startswith("the traveller ") and len(out.replace("<unk>", "?")) == len("the traveller ") + 50


def test_clean_text():
    assert clean_text("  Time, Traveller! ") == "time traveller "
    assert clean_text("12345") == ""
    assert clean_text("") == ""


def test_upload_checks():
    with pytest.raises(ValueError, match="one minibatch"):
        corpus_from_upload(b"far too short")
    with pytest.raises(ValueError, match="not_utf8"):
        corpus_from_upload(b"caf\xe9" * 1000)
    corpus, vocab = corpus_from_upload(("the quick brown fox jumps over the lazy dog\n" * 40).encode())
    assert len(corpus) > 1156 and len(vocab) == 28


def test_fingerprint(stand_in):
    corpus, vocab = stand_in
    assert fingerprint(corpus, vocab) == fingerprint(list(corpus), vocab)
    assert fingerprint(corpus[:-1], vocab) != fingerprint(corpus, vocab)


def test_validation_perplexity_is_on_the_held_out_end_and_falls(stand_in):
    from core.experiments.gru_lstm import text_of, valid_of
    from core.train.lm import perplexity

    corpus, vocab = stand_in
    cfg = replace(BOOK, max_tokens=0)
    train, valid = text_of(corpus, cfg), valid_of(corpus)
    assert len(train) + len(valid) == len(corpus) and len(valid) == len(corpus) // 5
    t = make_trainer(corpus, len(vocab), num_hiddens=32, num_epochs=30, seed=1)
    assert t.train.corpus.tolist() == list(train) and t.test.corpus.tolist() == list(valid)
    t.advance()
    valid_ppl = [perplexity(r["test_loss"]) for r in t.history.epochs]
    assert len(valid_ppl) == 30 and all(np.isfinite(valid_ppl))
    assert valid_ppl[-1] < 0.75 * valid_ppl[0]  # the stand-in repeats itself: what is learned carries over
