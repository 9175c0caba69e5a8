"""Convexity (book section 12.2): Jensen's inequality and descent on 1-D functions."""
import numpy as np
import streamlit as st

from core.ops.convexity import FUNCTIONS, gradient_descent, jensen
from playground import charts, controls
from playground.messages import FUNCTION_NOTES

st.title("Convexity")
st.markdown("A function is **convex** when every chord lies on or above its graph:")
st.latex(r"\lambda f(a) + (1-\lambda) f(b) \;\ge\; f(\lambda a + (1-\lambda) b)"
         r"\quad \text{for all } a, b \text{ and } \lambda \in [0, 1].")

name = controls.selectbox("Function", "fn", list(FUNCTIONS), "x^2")
fn = FUNCTIONS[name]
c1, c2, c3 = st.columns(3)
a = controls.slider("a", "a", -2.0, 2.0, -1.5, 0.05, container=c1)
b = controls.slider("b", "b", -2.0, 2.0, 1.0, 0.05, container=c2)
lam = controls.slider("λ", "lam", 0.0, 1.0, 0.3, 0.01, container=c3)

st.latex(fn.latex + (r"\quad\text{(convex)}" if fn.convex else r"\quad\text{(not convex)}"))
st.caption(FUNCTION_NOTES[name])

grid = np.linspace(-2.2, 2.2, 441)
j = jensen(fn, a, b)
x_l = lam * a + (1 - lam) * b
chord_l, curve_l = lam * fn.f(a) + (1 - lam) * fn.f(b), float(fn.f(np.float64(x_l)))

fig = charts.figure(f"Chord between a = {a:g} and b = {b:g}", x_title="x", y_title="f(x)", height=380)
# shade the gap: green where the chord is above the graph, red where it dips below
edges = np.flatnonzero(np.diff(j.holds.astype(int))) + 1
for seg in np.split(np.arange(len(j.x)), edges):
    if len(seg) < 2:
        continue
    ok = bool(j.holds[seg[0]])
    xs = np.concatenate([j.x[seg], j.x[seg][::-1]])
    ys = np.concatenate([j.chord[seg], j.curve[seg][::-1]])
    fig.add_scatter(x=xs, y=ys, fill="toself", mode="none", fillcolor=charts.GOOD if ok else charts.BAD,
                    fillpattern=dict(shape="" if ok else "x", fgcolor=charts.INK, size=8),  # violated: hatched
                    opacity=0.3, name="inequality holds" if ok else "inequality violated", hoverinfo="skip")
charts.add_line(fig, grid, fn.f(grid), "f(x)", color=charts.PALETTE[0])
charts.add_line(fig, [a, b], [fn.f(np.float64(a)), fn.f(np.float64(b))], "chord", color=charts.PALETTE[7],
                mode="lines+markers")
fig.add_scatter(x=[x_l, x_l], y=[chord_l, curve_l], mode="markers+lines", name="λ-point",
                line=dict(color=charts.PALETTE[1], dash="dot"), marker=dict(size=10))
lo, hi = float(np.min(j.curve)), float(np.max(j.chord))
pad = 0.5 + 0.2 * (hi - lo)
fig.update_yaxes(range=[min(lo, float(fn.f(grid).min())) - pad, max(hi, lo) + pad])
st.plotly_chart(fig, key="convexity:jensen", width="stretch")

holds = chord_l + 1e-12 >= curve_l
m1, m2, m3 = st.columns(3)
m1.metric("λ f(a) + (1−λ) f(b)", f"{chord_l:.4f}")
m2.metric("f(λa + (1−λ)b)", f"{curve_l:.4f}")
m3.metric("gap", f"{chord_l - curve_l:+.4f}")
if holds and j.holds.all():
    st.success(f"The inequality holds for every λ between a and b (at λ = {lam:g} too).",
               icon=":material/check_circle:")
else:
    share = 1 - j.holds.mean()
    st.error(f"The chord dips below the graph for {share:.0%} of the λ values between a and b"
             f"{'' if holds else f', including λ = {lam:g}'}: on this interval f is not convex.",
             icon=":material/cancel:")

st.header("Gradient descent")
st.latex(r"x \leftarrow x - \eta\, f'(x)")
d1, d2, d3 = st.columns(3)
x0 = controls.slider("start x₀", "x0", -2.0, 2.0, 1.8, 0.05, container=d1)
lr = controls.select_slider("learning rate η", "eta", [0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0,
                                                      1.2], 0.1, container=d2)
num_steps = controls.slider("steps", "gd_steps", 1, 200, 30, container=d3)
run = gradient_descent(fn, x0, lr, num_steps)

fig = charts.figure("Iterates", x_title="x", y_title="f(x)", height=380)
charts.add_line(fig, grid, fn.f(grid), "f(x)", color=charts.PALETTE[0])
fig.add_scatter(x=run.xs, y=run.fs, mode="lines+markers", name="x_t",
                line=dict(color=charts.PALETTE[1], width=1),
                marker=dict(size=8, color=np.arange(len(run.xs)), colorscale=charts.SEQUENTIAL_ALT, showscale=False))
span = max(2.2, float(np.abs(run.xs).max()) if np.isfinite(run.xs).all() else 2.2)
fig.update_xaxes(range=[-min(span, 50), min(span, 50)])
st.plotly_chart(fig, key="convexity:descent", width="stretch")
e1, e2, e3 = st.columns(3)
e1.metric("final x", f"{run.xs[-1]:.5g}")
e2.metric("f(final x)", f"{run.fs[-1]:.5g}")
e3.metric("steps taken", len(run.xs) - 1)
if run.status == "diverged":
    st.warning("The iterates ran away: the learning rate is too large for this function.",
               icon=":material/warning:")
elif run.status == "converged":
    where = "a local minimum or a flat point" if not fn.convex else "the minimum"
    st.info(f"Converged: the steps became negligible at x = {run.xs[-1]:.4g}, {where}.", icon=":material/flag:")
