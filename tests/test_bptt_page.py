"""The backpropagation-through-time page (9.7) through AppTest: the norms it draws
are core's, the radius moves them, truncation cuts, clipping is counted."""
from __future__ import annotations

import numpy as np
import pytest
from apptest_support import metric, open_page, plotly_array, plotly_spec

from core.data.text import load_corpus_time_machine
from core.ops import bptt

PAGE = "topics/bptt.py"


def curve(at, name_part: str, key: str = "bptt:norms") -> np.ndarray:
    spec = plotly_spec(at, key)
    trace = next(t for t in spec["data"] if name_part in t["name"])
    return plotly_array(trace["y"])


@pytest.fixture(scope="module")
def corpus():
    corpus, vocab = load_corpus_time_machine(allow_download=False)  # PLAYGROUND_DATA_DIR, as the page
    return corpus, len(vocab)


def test_norms_are_cores(corpus):
    at = open_page(PAGE, {"radius": "0.7"})
    assert not at.exception, at.exception
    assert metric(at, "spectral radius ρ(W_hh)") == "0.700"
    p = bptt.make_problem(corpus[0], corpus[1], num_hiddens=32, num_steps=35, batch_size=8, radius=0.7, seed=0)
    assert np.allclose(curve(at, "full BPTT"), bptt.gradient_norms(p), rtol=1e-5)
    assert any(r"\mathbf{W}_{hh}^\top\big)^{T-i}" in x.value for x in at.latex)


def test_radius_moves_the_curve_from_vanishing_to_exploding():
    at = open_page(PAGE, {"activation": "identity", "radius": "0.5"})
    low = curve(at, "full BPTT")
    assert low[0] < 1e-6 * low[-1]  # 0.5^34
    at.slider(key="bptt.radius").set_value(1.5).run()
    assert not at.exception, at.exception
    high = curve(at, "full BPTT")
    assert high[0] > 1e4 * high[-1]  # 1.5^34 ≈ 1e6
    assert float(metric(at, "a step back multiplies the norm by")) == pytest.approx(1.5, rel=0.1)


def test_truncation_cuts_the_earliest_steps():
    at = open_page(PAGE, {"truncate": "true", "tau": "5", "num_steps": "20"})
    assert not at.exception, at.exception
    cut, full = curve(at, "truncated, τ = 5"), curve(at, "full BPTT")
    assert np.all(np.isnan(cut[:15])) and np.allclose(cut[15:], full[15:])
    assert any("the 15 earliest step(s) get no gradient" in c.value for c in at.caption)


def test_clipping_fraction_is_the_share_of_norms_above_theta():
    at = open_page(PAGE, {"radius": "1.5", "theta": "0.5", "num_updates": "20"})
    assert not at.exception, at.exception
    norms = curve(at, "(clipped run)", "bptt:clip")
    assert len(norms) == 20
    assert metric(at, "updates clipped") == f"{np.mean(norms > 0.5):.0%}"
    at.toggle(key="bptt.clip").set_value(False).run()
    assert metric(at, "updates clipped") == "clipping off"


def test_the_untrained_nets_radius():
    at = open_page(PAGE, {"book_init": "true"})
    assert float(metric(at, "spectral radius ρ(W_hh)")) < 0.2  # N(0, 0.01²) weights


def test_a_diverging_run_says_so():
    at = open_page(PAGE, {"activation": "identity", "radius": "1.5", "num_updates": "10"})
    assert not at.exception, at.exception
    assert metric(at, "final loss without clipping") == "diverged"
    assert "diverged after" in " ".join(w.value for w in at.warning)
    assert metric(at, "final loss (clipped)") != "diverged"
