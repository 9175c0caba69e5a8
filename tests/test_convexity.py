"""Jensen's inequality and gradient descent on the convexity page's functions."""
import numpy as np
import pytest

from core.ops.convexity import FUNCTIONS, gradient_descent, jensen


@pytest.mark.parametrize("name", [n for n, f in FUNCTIONS.items() if f.convex])
def test_jensen_holds_for_convex_functions(name):
    fn = FUNCTIONS[name]
    for a, b in [(-2, 1.5), (0.3, 0.9), (-1, -0.2)]:
        j = jensen(fn, a, b)
        assert j.holds.all()
        assert np.allclose(j.chord[[0, -1]], fn.f(np.array([b, a])))


def test_jensen_fails_somewhere_for_non_convex_functions():
    assert not jensen(FUNCTIONS["x*cos(pi x)"], -0.5, 0.5).holds.all()
    assert not jensen(FUNCTIONS["x^3"], -2, 0.5).holds.all()
    assert jensen(FUNCTIONS["x^3"], 0.1, 2).holds.all()  # x^3 is convex for x > 0


def test_descent_reaches_the_minimum_of_x_squared():
    d = gradient_descent(FUNCTIONS["x^2"], 10.0, lr=0.2, num_steps=200)
    assert d.status == "converged" and abs(d.xs[-1]) < 1e-6
    # x_{t+1} = (1 - 2 lr) x_t: the book's geometric rate
    assert np.allclose(d.xs[1:4], 10 * 0.6 ** np.arange(1, 4))


def test_descent_diverges_with_too_large_a_step():
    assert gradient_descent(FUNCTIONS["x^2"], 1.0, lr=1.1, num_steps=500).status == "diverged"


def test_non_convex_descent_stalls_in_a_local_minimum():
    fn = FUNCTIONS["x*cos(pi x)"]
    d = gradient_descent(fn, -1.2, lr=0.05, num_steps=500)
    x = d.xs[-1]
    assert d.status == "converged" and abs(fn.df(x)) < 1e-5
    grid = np.linspace(-3, 3, 6001)
    assert fn.f(x) > fn.f(grid).min() + 0.5  # a local, not the global, minimum on [-3, 3]


def test_learning_rate_must_be_positive():
    with pytest.raises(ValueError):
        gradient_descent(FUNCTIONS["x^2"], 1.0, lr=0.0)
