"""Softmax regression (book 4.1-4.5): the book's softmax, cross_entropy and sgd
against closed forms and torch, scratch == concise from one seed, the book's
accuracy at its settings, the pictures (weights, the softmax of one image, the
confusion matrix, the misclassified images) and the log-sum-exp numerics."""
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from core.data.fashion_mnist import FashionMNIST, load_fashion_mnist
from core.experiments import softmax_regression as sr
from core.experiments.softmax_regression import BOOK


@pytest.fixture(scope="module")
def fmnist() -> FashionMNIST:
    return load_fashion_mnist(allow_download=False)


@pytest.fixture(scope="module")
def small(fmnist) -> FashionMNIST:
    """6,000 training and 2,000 test images of the real set: 24 minibatches of 256 an epoch."""
    return FashionMNIST(fmnist.X_train[:6000], fmnist.y_train[:6000], fmnist.X_test[:2000], fmnist.y_test[:2000])


def trained(data, seed=0, **settings):
    t = sr.build(replace(BOOK, **settings), data, seed=seed)
    t.advance()
    return t


# ------------------------------------------------------------- the formulas
def test_softmax_is_exp_over_the_row_sums():
    X = torch.normal(0, 1, (2, 5), generator=torch.Generator().manual_seed(0))
    P = sr.softmax(X)
    assert torch.allclose(P.sum(1), torch.ones(2)) and bool((P > 0).all())  # the book's check
    assert torch.allclose(P, torch.exp(X) / torch.exp(X).sum(1, keepdim=True))
    assert torch.allclose(P, torch.softmax(X, 1), atol=1e-7)
    assert torch.allclose(sr.softmax_stable(X), P, atol=1e-7)
    assert torch.allclose(sr.softmax(X + 5.0), P, atol=1e-6)  # the same for logits shifted by a constant


def test_cross_entropy_is_the_books_example_and_torchs():
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
    y = torch.tensor([0, 2])
    assert sr.cross_entropy(y_hat, y).tolist() == pytest.approx([-np.log(0.1), -np.log(0.5)], rel=1e-6)
    o = torch.tensor([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    assert torch.allclose(sr.cross_entropy(sr.softmax(o), y), F.cross_entropy(o, y, reduction="none"), atol=1e-6)


def test_the_gradient_is_softmax_minus_one_hot_and_torch_autograds(small):
    """4.1.2: d loss / d o = softmax(o) - one_hot(y), so dW = X^T (P - Y) / n and db = mean(P - Y)."""
    t = sr.build(BOOK, small, seed=1)
    fwd = t.forward()
    t.backward()
    X, y = fwd.batch
    X = X.reshape(len(X), -1)
    W, b = (v.detach().clone() for v in (t.net.W, t.net.b))
    P, Y = torch.softmax(X @ W + b, 1), F.one_hot(y, 10).float()
    assert torch.allclose(t.net.W.grad, X.T @ (P - Y) / len(X), atol=1e-6)
    assert torch.allclose(t.net.b.grad, (P - Y).mean(0), atol=1e-7)
    W_, b_ = W.requires_grad_(), b.requires_grad_()
    sr.cross_entropy(sr.softmax(X @ W_ + b_), y).mean().backward()
    assert torch.equal(t.net.W.grad, W_.grad) and torch.equal(t.net.b.grad, b_.grad)


def test_the_update_is_the_books_sgd(small):
    t = sr.build(BOOK, small, seed=0)
    W0, b0 = (v.clone() for v in sr.get_W_b(t.net))
    t.forward()
    t.backward()
    gW, gb = t.net.W.grad.clone(), t.net.b.grad.clone()
    t.update()
    W1, b1 = sr.get_W_b(t.net)
    assert torch.allclose(W1, W0 - BOOK.lr * gW, atol=1e-9) and torch.allclose(b1, b0 - BOOK.lr * gb, atol=1e-9)


def test_the_initial_values_are_the_books_for_both_and_the_global_rng_is_left_alone(small):
    state = torch.get_rng_state()
    scratch, concise = sr.build(BOOK, small, seed=0), sr.build(replace(BOOK, impl="concise"), small, seed=0)
    assert torch.get_rng_state().equal(state)
    assert isinstance(concise.net[1], torch.nn.Linear) and isinstance(concise.net[0], torch.nn.Flatten)
    W, b = sr.get_W_b(scratch.net)
    assert W.shape == (784, 10) and b.shape == (10,)
    assert torch.equal(W, sr.get_W_b(concise.net)[0]) and float(b.abs().sum()) == 0.0
    assert abs(float(W.std()) - 0.01) < 0.0005 and abs(float(W.mean())) < 0.0005  # W ~ N(0, 0.01^2)
    X = small.X_test[:7]
    assert torch.allclose(sr.logits(scratch.net, X), sr.logits(concise.net, X), atol=1e-6)
    assert torch.allclose(scratch.net(X), torch.softmax(concise.net(X), 1), atol=1e-6)  # scratch outputs probabilities


# ----------------------------------------------------------------- training
def test_scratch_and_concise_follow_the_same_path(small):
    """Same seed: the same W, the same minibatches. Equal up to float rounding
    (the scratch loss is -log of the book's softmax, torch's is log-softmax)."""
    a, b = trained(small, impl="scratch", num_epochs=2), trained(small, impl="concise", num_epochs=2)
    assert len(a.history.steps) == len(b.history.steps) == 48
    for ra, rb in zip(a.history.steps, b.history.steps):
        assert ra["loss"] == pytest.approx(rb["loss"], rel=1e-4), ra["step"]
    for ea, eb in zip(a.history.epochs, b.history.epochs):
        assert ea["test_loss"] == pytest.approx(eb["test_loss"], rel=1e-4)
        assert ea["test_metric"] == pytest.approx(eb["test_metric"], abs=1.5e-3)  # at most 3 of 2,000 flip
    assert torch.allclose(sr.get_W_b(a.net)[0], sr.get_W_b(b.net)[0], atol=1e-5)


def test_the_same_seed_replays_bit_for_bit(small):
    state = torch.get_rng_state()
    a, b = trained(small, seed=3, num_epochs=1), trained(small, seed=3, num_epochs=1)
    assert torch.get_rng_state().equal(state)
    assert [r["loss"] for r in a.history.steps] == [r["loss"] for r in b.history.steps]
    assert torch.equal(a.net.W, b.net.W)
    assert [r["loss"] for r in trained(small, seed=4, num_epochs=1).history.steps] != \
        [r["loss"] for r in a.history.steps]


def test_the_books_settings_reach_the_books_accuracy(fmnist):
    """Batch 256, lr 0.1, 10 epochs on all 60,000 images: the book's ~0.83 (about 5 s here)."""
    t = trained(fmnist)
    epochs = t.history.epochs
    assert len(epochs) == 10 and len(t.history.steps) == 2350 and not t.diverged
    low, high = sr.BOOK_ACCURACY
    assert low <= epochs[-1]["test_metric"] <= high
    assert epochs[0]["train_loss"] > epochs[-1]["train_loss"] and epochs[-1]["train_loss"] < 0.5
    assert t.history.steps[0]["loss"] == pytest.approx(np.log(10), rel=0.02)  # W near 0: uniform, log 10


def test_a_large_lr_breaks_the_naive_softmax_but_not_torchs_loss(small):
    """At lr 1 the logits grow apart by more than ~100 within a few steps: the
    book's softmax gives the true class a probability of exactly 0 and -log 0 =
    inf stops the scratch run; nn.CrossEntropyLoss works on the logits and goes on."""
    scratch = trained(small, lr=1.0, num_epochs=1)
    assert scratch.diverged and not np.isfinite(scratch.history.steps[-1]["loss"])
    assert len(scratch.history.steps) < 10
    concise = trained(small, lr=1.0, num_epochs=1, impl="concise")
    assert not concise.diverged and all(np.isfinite(r["loss"]) for r in concise.history.steps)


# ----------------------------------------------------------------- pictures
def test_the_weights_view_is_w_and_the_softmax_of_the_chosen_image(small):
    t = trained(small, num_epochs=1)
    seen = sr.weights_view({"": t}, small, probe=5)
    W, b = sr.get_W_b(t.net)
    assert seen["W"].shape == (10, 28, 28)
    assert np.array_equal(seen["W"][3].reshape(-1), W[:, 3].numpy())  # class 3's weight vector as an image
    o = (small.X_test[5].reshape(1, -1) @ W + b)[0]
    assert seen["logits"] == pytest.approx(o.tolist(), rel=1e-6, abs=1e-6)
    assert seen["probs"] == pytest.approx(torch.softmax(o.double(), 0).tolist(), rel=1e-6)
    assert sum(seen["probs"]) == pytest.approx(1.0)
    assert seen["label"] == int(small.y_test[5]) and seen["predicted"] == int(o.argmax())
    assert seen["step"] == 24 and seen["epoch"] == 1
    assert sr.weights_view({"": t}, small, probe=10**6)["probe"] == len(small.X_test) - 1  # clamped


def test_the_confusion_matrix_and_the_misclassified_images(small):
    t = trained(small, num_epochs=2)
    seen = sr.predictions_view({"": t}, small, n_wrong=8)
    C = seen["confusion"]
    assert C.shape == (10, 10) and C.sum() == 2000
    assert np.array_equal(C.sum(1), np.bincount(small.y_test.numpy(), minlength=10))  # rows: true classes
    assert np.trace(C) / C.sum() == pytest.approx(seen["accuracy"])
    assert seen["accuracy"] == pytest.approx(t.history.epochs[-1]["test_metric"])  # the trainer's test accuracy
    assert seen["num_wrong"] == C.sum() - np.trace(C)
    pred = sr.logits(t.net, small.X_test).argmax(1)
    first_wrong = torch.nonzero(pred != small.y_test).reshape(-1)[:8].tolist()
    assert seen["wrong"] == first_wrong and len(first_wrong) == 8
    assert seen["true"] == small.y_test[first_wrong].tolist() and seen["predicted"] == pred[first_wrong].tolist()
    assert all(a != b for a, b in zip(seen["true"], seen["predicted"]))
    assert np.array_equal(seen["images"][0], small.X_test[first_wrong[0], 0].numpy())
    assert all(0.1 <= p <= 1 for p in seen["prob"])  # the argmax of 10 classes has at least 1/10
    assert sr.confusion_matrix(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 2, 1, 2]), 3).tolist() == \
        [[1, 0, 0], [0, 1, 1], [0, 0, 1]]


def test_the_views_leave_the_run_alone(small):
    quiet = sr.build(BOOK, small, seed=0)
    quiet.advance(max_steps=30)
    looked = sr.build(BOOK, small, seed=0)
    for _ in range(6):
        looked.advance(max_steps=5)
        sr.weights_view({"": looked}, small, probe=3)
        sr.predictions_view({"": looked}, small)
    assert looked.net.training
    assert [r["loss"] for r in looked.history.steps] == [r["loss"] for r in quiet.history.steps]
    assert looked.gen_data.get_state().equal(quiet.gen_data.get_state())
    assert torch.equal(looked.net.W, quiet.net.W)


# ------------------------------------------------------------- the numerics
def test_logsumexp_overflow_naive_and_stable():
    seen = sr.overflow([1000.0, 0.0], label=1)
    lse = seen["logsumexp"]
    assert lse["naive"] == float("inf")  # exp(1000) overflows float32
    assert lse["stable"] == lse["torch"] == float(torch.logsumexp(torch.tensor([1000.0, 0.0]), 0)) == 1000.0
    assert np.isnan(seen["softmax"]["naive"][0]) and seen["softmax"]["stable"] == seen["softmax"]["torch"] == [1, 0]
    assert np.isnan(seen["log_softmax"]["naive"][0])
    assert seen["log_softmax"]["stable"] == pytest.approx(F.log_softmax(torch.tensor([1000.0, 0.0]), 0).tolist())
    assert seen["log_softmax"]["stable"] == [0.0, -1000.0]
    assert seen["cross_entropy"]["stable"] == seen["cross_entropy"]["torch"] == 1000.0
    assert seen["overflow_at"] == pytest.approx(88.72, abs=0.01)


def test_underflow_gives_minus_inf_where_the_stable_formula_is_exact():
    seen = sr.overflow([-1000.0, 0.0], label=0)
    assert seen["logsumexp"]["naive"] == 0.0 == seen["logsumexp"]["stable"]  # nothing overflows here
    assert seen["log_softmax"]["naive"][0] == float("-inf")  # exp(-1000) = 0, log 0 = -inf
    assert seen["log_softmax"]["stable"] == seen["log_softmax"]["torch"] == [-1000.0, 0.0]
    assert seen["cross_entropy"]["naive"] == float("inf") and seen["cross_entropy"]["stable"] == 1000.0


def test_for_ordinary_logits_all_three_agree_and_float64_overflows_later():
    o = [2.0, -1.0, 0.5, 3.0]
    seen = sr.overflow(o, label=2)
    for q in ("softmax", "log_softmax"):
        assert seen[q]["naive"] == pytest.approx(seen[q]["torch"], rel=1e-6)
        assert seen[q]["stable"] == pytest.approx(seen[q]["torch"], rel=1e-6)
    assert seen["logsumexp"]["naive"] == pytest.approx(float(torch.logsumexp(torch.tensor(o), 0)), rel=1e-6)
    assert seen["cross_entropy"]["stable"] == pytest.approx(float(F.cross_entropy(torch.tensor([o]),
                                                                                  torch.tensor([2]))), rel=1e-6)
    wide = sr.overflow([300.0, 0.0], dtype=torch.float64)
    assert wide["logsumexp"]["naive"] == pytest.approx(300.0) and wide["overflow_at"] == pytest.approx(709.78, abs=0.01)


def test_temperature_saturates_to_the_argmax_and_flattens_to_uniform():
    o = [2.0, 1.0, -1.0]
    base = sr.temperature_softmax(o, 1.0)
    assert base["stable"] == pytest.approx(torch.softmax(torch.tensor(o), 0).tolist(), rel=1e-6)
    cold, hot = sr.temperature_softmax(o, 0.01), sr.temperature_softmax(o, 100.0)
    assert cold["stable"] == pytest.approx([1.0, 0.0, 0.0], abs=1e-6) and cold["entropy"] < 1e-6
    assert np.isnan(cold["naive"][0])  # 2 / 0.01 = 200: exp overflows the book's softmax
    assert hot["stable"] == pytest.approx([1 / 3] * 3, abs=0.01)
    assert hot["entropy"] == pytest.approx(np.log(3), abs=1e-3)
    entropies = [sr.temperature_softmax(o, T)["entropy"] for T in (0.1, 0.3, 1, 3, 10)]
    assert entropies == sorted(entropies)  # hotter, flatter
    with pytest.raises(ValueError):
        sr.temperature_softmax(o, 0.0)


@pytest.mark.parametrize("text, values, code", [
    ("1000, 0", [1000.0, 0.0], None), ("1 2  3;-4.5", [1.0, 2.0, 3.0, -4.5], None), ("1e3,0", [1000.0, 0.0], None),
    ("", None, "empty"), ("  ", None, "empty"), ("1, two", None, "not_a_number"), ("1, __import__('os')", None,
                                                                                     "not_a_number"),
    ("1, nan", None, "not_finite"), ("inf, 0", None, "not_finite"), ("1e9, 0", None, "too_large"),
    ("5", None, "too_few"), (", ".join(["1"] * 11), None, "too_many"),
])
def test_parse_logits(text, values, code):
    got, err = sr.parse_logits(text)
    assert got == values and (err[0] if err else None) == code
