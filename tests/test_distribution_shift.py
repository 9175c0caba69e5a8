"""Environment and distribution shift (book 4.7): the toy data's closed forms,
the importance weights of a logistic-regression domain classifier against the
known density ratio, the confusion-matrix estimate of the target's label
distribution, and that both corrections raise accuracy on the shifted test set."""
from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from core.data import shift as sd
from core.experiments import distribution_shift as ds


def gaussian_log_pdf(X: torch.Tensor, mean) -> torch.Tensor:
    dist = torch.distributions.MultivariateNormal(torch.tensor(mean, dtype=torch.float64),
                                                  torch.eye(2, dtype=torch.float64))
    return dist.log_prob(X.double())


# ------------------------------------------------------------------ the data
def test_the_closed_form_density_ratio_is_the_ratio_of_the_two_gaussians():
    X = torch.randn(200, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 2
    for shift in (0.0, 1.0, 2.5):
        expected = gaussian_log_pdf(X, sd.target_mean(shift)) - gaussian_log_pdf(X, sd.SOURCE_MEAN)
        assert torch.allclose(sd.log_density_ratio(X, shift), expected, atol=1e-12)
    assert torch.equal(sd.log_density_ratio(X, 0.0), torch.zeros(200, dtype=torch.float64))


def test_covariate_data_moves_the_inputs_but_not_p_y_given_x():
    d = sd.covariate_data(2.0, 4000, 4000, seed=3)
    assert d["X"].shape == (4000, 2) and d["X"].dtype == torch.float32 and d["y"].dtype == torch.int64
    assert torch.allclose(d["X"].double().mean(0), torch.tensor(sd.SOURCE_MEAN, dtype=torch.float64), atol=0.06)
    assert torch.allclose(d["X_test"].double().mean(0), torch.tensor(sd.target_mean(2.0), dtype=torch.float64),
                          atol=0.06)
    assert sd.target_mean(0.0) == sd.SOURCE_MEAN and sd.target_mean(2.0)[0] == 1.0
    for X, y in ((d["X"], d["y"]), (d["X_test"], d["y_test"])):  # labels follow the same p(y | x) in both
        assert abs(float(y.double().mean()) - float(sd.p_y1(X).mean())) < 0.02
        assert 0.25 < float(y.double().mean()) < 0.75  # both classes present in both domains
    again = sd.covariate_data(2.0, 4000, 4000, seed=3)
    assert all(torch.equal(d[k], again[k]) for k in d)


def test_the_bayes_accuracy_is_the_mean_of_the_likelier_class_probability():
    X = torch.tensor([[0.0, 0.0], [0.0, 10.0], [2.0, 2.0]])
    p = torch.sigmoid(sd.SHARPNESS * torch.tensor([0.0, 10.0, 0.0], dtype=torch.float64))
    assert math.isclose(sd.bayes_accuracy(X), float(torch.maximum(p, 1 - p).mean()))
    assert math.isclose(sd.bayes_accuracy(X), (0.5 + float(p[1]) + 0.5) / 3)


def test_label_shift_data_keeps_p_x_given_y_and_draws_the_target_prior():
    d = sd.label_shift_data(1.0, 6000, seed=0)
    assert sd.target_prior(0.0) == sd.SOURCE_PRIOR and sd.target_prior(1.0) == sd.SKEWED
    freq = torch.bincount(d["y_target"], minlength=3).double() / 6000
    assert torch.allclose(freq, torch.tensor(sd.SKEWED, dtype=torch.float64), atol=0.02)
    for c, mean in enumerate(sd.CLASS_MEANS):
        for X, y in ((d["X"], d["y"]), (d["X_target"], d["y_target"])):
            assert torch.allclose(X[y == c].double().mean(0), torch.tensor(mean, dtype=torch.float64), atol=0.1)


# ------------------------------------------------------- covariate shift correction
def test_the_domain_classifier_is_the_penalised_logistic_regression_optimum():
    d = sd.covariate_data(1.5, 500, 300, seed=2)
    w, b = ds.domain_classifier(d["X"], d["X_test"])
    theta = torch.cat([w, torch.tensor([b], dtype=torch.float64)]).requires_grad_(True)
    X = torch.cat([d["X"], d["X_test"]]).double()
    z = torch.cat([torch.zeros(500), torch.ones(300)]).double()
    logit = X @ theta[:2] + theta[2]
    nll = F.binary_cross_entropy_with_logits(logit, z, reduction="sum") + ds.RIDGE * len(X) / 2 * (theta[:2] ** 2).sum()
    (grad,) = torch.autograd.grad(nll, theta)
    assert grad.abs().max() < 1e-8  # autograd agrees: Newton's method stopped at the minimum


def test_importance_weights_recover_the_true_density_ratio():
    shift = 2.0
    d = sd.covariate_data(shift, 5000, 5000, seed=0)
    w, b = ds.domain_classifier(d["X"], d["X_test"])
    mu_s, mu_t = torch.tensor(sd.SOURCE_MEAN, dtype=torch.float64), torch.tensor(sd.target_mean(shift),
                                                                                dtype=torch.float64)
    assert torch.allclose(w, mu_t - mu_s, atol=0.1)  # the log ratio is linear: h's slope is mu_t - mu_s
    beta = ds.importance_weights(d["X"], w, b, 5000, 5000)
    true = torch.exp(sd.log_density_ratio(d["X"], shift))
    r = torch.corrcoef(torch.stack([beta.log(), true.log()]))[0, 1]
    assert r > 0.999
    rel = ((beta - true).abs() / true)
    assert float(rel.median()) < 0.15 and float(rel.quantile(0.9)) < 0.3
    assert torch.equal(ds.covariate_weights(d["X"], d["X_test"]), beta)


def test_unequal_sample_sizes_are_corrected_by_the_ratio_of_the_sizes():
    d = sd.covariate_data(1.0, 4000, 1000, seed=5)
    beta = ds.covariate_weights(d["X"], d["X_test"])
    true = torch.exp(sd.log_density_ratio(d["X"], 1.0))
    # E_p[q/p] = 1: the weights average to about 1 whatever the sample sizes
    assert abs(float(beta.mean()) - 1) < 0.1 and abs(float(true.mean()) - 1) < 0.1
    assert float(((beta - true).abs() / true).median()) < 0.15


def test_no_shift_gives_weights_near_one_and_full_effective_sample_size():
    d = sd.covariate_data(0.0, 3000, 3000, seed=1)
    beta = ds.covariate_weights(d["X"], d["X_test"])
    assert float((beta - 1).abs().max()) < 0.3
    assert sd.effective_sample_size(beta) > 0.97 * 3000
    assert sd.effective_sample_size(torch.ones(10)) == 10
    assert math.isclose(sd.effective_sample_size(torch.tensor([1.0, 0.0, 0.0])), 1.0)


def test_the_weighted_objective_is_the_weighted_mean_cross_entropy():
    gen = torch.Generator().manual_seed(0)
    net = ds.make_net("mlp", 2, gen)
    X, y = torch.randn(8, 2, generator=gen), torch.tensor([0, 1] * 4)
    beta = torch.rand(8, generator=gen) * 3
    out = ds.Weighted()(net, (X, y, beta))
    with torch.no_grad():
        manual = sum(float(beta[i]) * -float(torch.log_softmax(net(X[i:i + 1]), 1)[0, y[i]]) for i in range(8)) / 8
    assert math.isclose(float(out.loss.detach()), manual, rel_tol=1e-5)
    plain = ds.Weighted()(net, (X, y, torch.ones(8)))
    assert torch.allclose(plain.loss, F.cross_entropy(net(X), y))
    assert out.metric_sum == float((net(X).argmax(1) == y).sum())


def test_the_models_draw_only_from_their_generator():
    torch.manual_seed(0)
    a = ds.make_net("mlp", 2, torch.Generator().manual_seed(7))
    torch.manual_seed(1)
    b = ds.make_net("mlp", 2, torch.Generator().manual_seed(7))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    logistic = ds.make_net("logistic", 3, torch.Generator().manual_seed(0))
    assert logistic.weight.shape == (3, 2) and float(logistic.weight.detach().abs().max()) <= 1 / math.sqrt(2)


def test_correction_raises_the_shifted_test_accuracy_of_the_live_run():
    shift = 2.5
    plain = ds.make_trainer(shift=shift, num_epochs=6, seed=0)
    weighted = ds.make_trainer(shift=shift, num_epochs=6, seed=0, weighting="importance")
    assert torch.equal(plain.test.tensors[0], weighted.test.tensors[0])  # the same data from the seed
    plain.advance()
    weighted.advance()
    before = plain.history.epochs[-1]["test_metric"]
    after = weighted.history.epochs[-1]["test_metric"]
    assert after > before + 0.2, (before, after)
    losses = [r["loss"] for r in weighted.history.steps]
    assert sum(losses[-20:]) < sum(losses[:20])  # the weighted loss falls
    again = ds.make_trainer(shift=shift, num_epochs=6, seed=0, weighting="importance")
    again.advance()
    assert [r["loss"] for r in again.history.steps] == losses  # same seed, bit for bit


def test_the_sweep_shows_correction_helping_more_the_stronger_the_shift():
    out = ds.covariate_sweep([0.0, 3.0], model="logistic", n=1000, seed=0)
    assert abs(out["corrected"][0] - out["uncorrected"][0]) < 0.03  # no shift: nothing to correct
    assert out["corrected"][1] > out["uncorrected"][1] + 0.2  # strong shift
    assert all(a <= b + 0.02 for a, b in zip(out["corrected"], out["bayes"]))  # nobody beats Bayes (much)
    assert out["ess"][0] > 900 and out["ess"][1] < 100


def test_the_picture_reads_the_runs_data_and_leaves_the_run_alone():
    t = ds.make_trainer(shift=2.0, num_examples=200, num_epochs=2, seed=4, weighting="importance")
    t.advance(max_steps=3)
    snap = t.snapshot()
    seen = ds.picture({"run": t}, grid=11, max_points=50)
    after = t.snapshot()
    assert all(torch.equal(snap.net[k], after.net[k]) for k in snap.net)
    assert torch.equal(snap.gen_data, after.gen_data) and torch.equal(snap.gen_init, after.gen_init)
    d = ds.make_data(ds.Config(shift=2.0, num_examples=200), 4)
    assert (seen["source"]["X"] == d["X"][:50].numpy()).all()
    assert (seen["source"]["beta"] == d["beta"][:50].numpy()).all()
    assert seen["runs"]["run"]["p"].shape == (11, 11)
    assert seen["runs"]["run"]["p"].min() >= 0 and seen["runs"]["run"]["p"].max() <= 1


# -------------------------------------------------------------------- label shift
def test_the_confusion_matrix_is_conditional_on_the_true_label():
    y = torch.tensor([0, 0, 0, 0, 1, 1, 2, 2])
    y_hat = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2])
    C = ds.confusion_matrix(y_hat, y, 3)
    expected = torch.tensor([[0.75, 0, 0], [0.25, 0.5, 0], [0, 0.5, 1.0]], dtype=torch.float64)
    assert torch.equal(C, expected)
    assert torch.allclose(C.sum(0), torch.ones(3, dtype=torch.float64))


def test_solving_c_q_equals_mu_recovers_q_exactly_when_mu_is_c_q():
    C = torch.tensor([[0.8, 0.1, 0.05], [0.15, 0.7, 0.15], [0.05, 0.2, 0.8]], dtype=torch.float64)
    q = torch.tensor([0.1, 0.2, 0.7], dtype=torch.float64)
    est, raw = ds.estimate_target_prior(C, C @ q)
    assert torch.allclose(est, q, atol=1e-12) and torch.allclose(raw, q, atol=1e-12)
    est, raw = ds.estimate_target_prior(C, torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))  # no q gives this mu
    assert raw.min() < 0 and float(est.min()) >= 0 and math.isclose(float(est.sum()), 1.0)


def test_the_label_shift_estimate_recovers_the_target_prior_for_large_n():
    out = ds.label_shift(ds.LabelConfig(label_shift=1.0, label_examples=5000), seed=0)
    q_true, q_hat = torch.tensor(out["q_true"]), torch.tensor(out["q_hat"])
    assert (q_hat - q_true).abs().max() < 0.03
    assert (torch.tensor(out["naive"]) - q_true).abs().max() > 0.05  # the raw predicted frequencies are off
    assert out["error"] < out["error_naive"]
    assert out["acc_after"] > out["acc_before"] + 0.02, (out["acc_before"], out["acc_after"])
    assert torch.allclose(torch.tensor(out["ratio"]) * torch.tensor(out["p_source"]), q_hat.double(), atol=1e-12)


def test_no_label_shift_estimates_a_uniform_prior_and_changes_little():
    out = ds.label_shift(ds.LabelConfig(label_shift=0.0, label_examples=5000), seed=1)
    assert max(abs(v - 1 / 3) for v in out["q_hat"]) < 0.03
    assert abs(out["acc_after"] - out["acc_before"]) < 0.02
