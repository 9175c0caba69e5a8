"""The book's weight-decay experiment at the book's settings."""
import pytest
import torch

from core.experiments.weight_decay import BOOK, make_data, make_trainer


def run(lambd, seed=0):
    t = make_trainer(lambd, seed=seed)
    t.advance()
    return t.history.epochs[-1]


def test_data_matches_the_books_setup():
    (X, y), (Xt, yt) = make_data(0)
    assert X.shape == (20, 200) and y.shape == (20, 1) and Xt.shape == (100, 200)
    # y - 0.05 - 0.01 * sum(x) is the noise, with std 0.01
    noise = torch.cat([y - 0.05 - 0.01 * X.sum(1, keepdim=True), yt - 0.05 - 0.01 * Xt.sum(1, keepdim=True)])
    assert 0.007 < noise.std().item() < 0.013


@pytest.mark.parametrize("seed", [0, 1])
def test_no_decay_overfits_and_decay_closes_the_gap(seed):
    plain, decayed = run(0.0, seed), run(3.0, seed)
    assert plain["test_loss"] > 100 * plain["train_loss"]  # orders of magnitude apart
    assert 10 < plain["w_norm"] < 16  # the book prints about 13-14
    assert 0.2 < decayed["w_norm"] < 0.7  # the book prints about 0.35-0.44
    assert decayed["test_loss"] < plain["test_loss"] / 10
    def gap(r):
        return r["test_loss"] / r["train_loss"]

    assert gap(decayed) < gap(plain) / 1000  # the train-test gap shrinks by orders of magnitude
    assert BOOK.num_epochs == 100 and len(make_trainer(0.0).train) == 4


def test_weight_decay_leaves_the_bias_alone():
    t = make_trainer(3.0)
    decays = {id(p): g["weight_decay"] for g in t.optimizer.param_groups for p in g["params"]}
    assert decays[id(t.net.weight)] == 3.0 and decays[id(t.net.bias)] == 0.0
