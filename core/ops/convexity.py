"""Convexity: Jensen's inequality on a chord, and gradient descent on 1-D functions."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Function1D:
    name: str
    latex: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]  # a (sub)gradient
    convex: bool


FUNCTIONS: dict[str, Function1D] = {
    f.name: f
    for f in [
        Function1D("x^2", r"f(x) = x^2", lambda x: x**2, lambda x: 2 * x, True),
        Function1D("exp(x)", r"f(x) = e^x", np.exp, np.exp, True),
        Function1D("|x|", r"f(x) = |x|", np.abs, np.sign, True),
        Function1D("x*cos(pi x)", r"f(x) = x \cos(\pi x)", lambda x: x * np.cos(np.pi * x),
                   lambda x: np.cos(np.pi * x) - np.pi * x * np.sin(np.pi * x), False),
        Function1D("x^3", r"f(x) = x^3", lambda x: x**3, lambda x: 3 * x**2, False),
        Function1D("cos(pi x)", r"f(x) = \cos(\pi x)", lambda x: np.cos(np.pi * x),
                   lambda x: -np.pi * np.sin(np.pi * x), False),
    ]
}


@dataclass
class Jensen:
    lambdas: np.ndarray
    x: np.ndarray  # lambda a + (1 - lambda) b
    chord: np.ndarray  # lambda f(a) + (1 - lambda) f(b)
    curve: np.ndarray  # f(lambda a + (1 - lambda) b)
    holds: np.ndarray  # chord >= curve (up to rounding)

    @property
    def gap(self) -> np.ndarray:
        return self.chord - self.curve


def jensen(fn: Function1D, a: float, b: float, num: int = 201) -> Jensen:
    """Compare the chord with the function between a and b for every lambda in [0, 1]."""
    lambdas = np.linspace(0.0, 1.0, num)
    x = lambdas * a + (1 - lambdas) * b
    chord = lambdas * fn.f(np.float64(a)) + (1 - lambdas) * fn.f(np.float64(b))
    curve = fn.f(x)
    tol = 1e-12 * (1 + np.abs(chord))
    return Jensen(lambdas, x, chord, curve, chord + tol >= curve)


@dataclass
class Descent:
    xs: np.ndarray
    fs: np.ndarray
    status: str  # 'converged', 'diverged' or 'max_steps'


def gradient_descent(fn: Function1D, x0: float, lr: float, num_steps: int = 50,
                     tol: float = 1e-8, bound: float = 1e6) -> Descent:
    """x <- x - lr f'(x), stopped when the step is below `tol` or |x| exceeds `bound`."""
    if lr <= 0:
        raise ValueError("the learning rate must be positive")
    xs = [float(x0)]
    status = "max_steps"
    for _ in range(num_steps):
        x = xs[-1]
        step = lr * float(fn.df(np.float64(x)))
        nxt = x - step
        if not math.isfinite(nxt) or abs(nxt) > bound:
            status = "diverged"
            break
        xs.append(nxt)
        if abs(step) < tol:
            status = "converged"
            break
    xs_arr = np.array(xs)
    return Descent(xs_arr, fn.f(xs_arr), status)
