"""Convexity (book section 12.2): Jensen's inequality and descent on 1-D functions."""
import numpy as np
import streamlit as st

from core.ops.convexity import FUNCTIONS, gradient_descent, jensen
from playground import charts, controls
from playground.i18n import t
from playground.messages import function_note

st.title(t("page.convexity"))
st.markdown(t("convexity.intro"))
st.latex(r"\lambda f(a) + (1-\lambda) f(b) \;\ge\; f(\lambda a + (1-\lambda) b)"
         rf"\quad \text{{{t('convexity.for_all')}}} a, b \text{{{t('convexity.and_lambda')}}} \lambda \in [0, 1].")

name = controls.selectbox(t("convexity.function"), "fn", list(FUNCTIONS), "x^2")
fn = FUNCTIONS[name]
c1, c2, c3 = st.columns(3)
a = controls.slider("a", "a", -2.0, 2.0, -1.5, 0.05, container=c1)
b = controls.slider("b", "b", -2.0, 2.0, 1.0, 0.05, container=c2)
lam = controls.slider("λ", "lam", 0.0, 1.0, 0.3, 0.01, container=c3)

st.latex(fn.latex + r"\quad\text{" + t("convexity.convex" if fn.convex else "convexity.not_convex") + "}")
st.caption(function_note(name))

grid = np.linspace(-2.2, 2.2, 441)
j = jensen(fn, a, b)
x_l = lam * a + (1 - lam) * b
chord_l, curve_l = lam * fn.f(a) + (1 - lam) * fn.f(b), float(fn.f(np.float64(x_l)))

fig = charts.figure(t("convexity.chord_title", a=f"{a:g}", b=f"{b:g}"), x_title="x", y_title="f(x)", height=380)
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
                    opacity=0.3, name=t("convexity.holds" if ok else "convexity.violated"), hoverinfo="skip")
charts.add_line(fig, grid, fn.f(grid), "f(x)", color=charts.PALETTE[0])
charts.add_line(fig, [a, b], [fn.f(np.float64(a)), fn.f(np.float64(b))], t("convexity.chord"), color=charts.PALETTE[7],
                mode="lines+markers")
fig.add_scatter(x=[x_l, x_l], y=[chord_l, curve_l], mode="markers+lines", name=t("convexity.lambda_point"),
                line=dict(color=charts.PALETTE[1], dash="dot"), marker=dict(size=10))
lo, hi = float(np.min(j.curve)), float(np.max(j.chord))
pad = 0.5 + 0.2 * (hi - lo)
fig.update_yaxes(range=[min(lo, float(fn.f(grid).min())) - pad, max(hi, lo) + pad])
st.plotly_chart(fig, key="convexity:jensen", width="stretch")

holds = chord_l + 1e-12 >= curve_l
m1, m2, m3 = st.columns(3)
m1.metric("λ f(a) + (1−λ) f(b)", f"{chord_l:.4f}")
m2.metric("f(λa + (1−λ)b)", f"{curve_l:.4f}")
m3.metric(t("convexity.gap"), f"{chord_l - curve_l:+.4f}")
if holds and j.holds.all():
    st.success(t("convexity.holds_everywhere", lam=f"{lam:g}"), icon=":material/check_circle:")
else:
    share = 1 - j.holds.mean()
    st.error(t("convexity.dips", share=share, including="" if holds else t("convexity.including", lam=f"{lam:g}")),
             icon=":material/cancel:")

st.header(t("convexity.descent_header"))
st.latex(r"x \leftarrow x - \eta\, f'(x)")
d1, d2, d3 = st.columns(3)
x0 = controls.slider(t("convexity.start"), "x0", -2.0, 2.0, 1.8, 0.05, container=d1)
lr = controls.select_slider(t("convexity.lr"), "eta", [0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8,
                                                        1.0, 1.2], 0.1, container=d2)
num_steps = controls.slider(t("convexity.steps"), "gd_steps", 1, 200, 30, container=d3)
run = gradient_descent(fn, x0, lr, num_steps)

fig = charts.figure(t("convexity.iterates"), x_title="x", y_title="f(x)", height=380)
charts.add_line(fig, grid, fn.f(grid), "f(x)", color=charts.PALETTE[0])
fig.add_scatter(x=run.xs, y=run.fs, mode="lines+markers", name="x_t",
                line=dict(color=charts.PALETTE[1], width=1),
                marker=dict(size=8, color=np.arange(len(run.xs)), colorscale=charts.SEQUENTIAL_ALT, showscale=False))
span = max(2.2, float(np.abs(run.xs).max()) if np.isfinite(run.xs).all() else 2.2)
fig.update_xaxes(range=[-min(span, 50), min(span, 50)])
st.plotly_chart(fig, key="convexity:descent", width="stretch")
e1, e2, e3 = st.columns(3)
e1.metric(t("convexity.final_x"), f"{run.xs[-1]:.5g}")
e2.metric(t("convexity.f_final"), f"{run.fs[-1]:.5g}")
e3.metric(t("convexity.steps_taken"), len(run.xs) - 1)
if run.status == "diverged":
    st.warning(t("convexity.diverged"), icon=":material/warning:")
elif run.status == "converged":
    where = t("convexity.where_local" if not fn.convex else "convexity.where_minimum")
    st.info(t("convexity.converged", x=run.xs[-1], where=where), icon=":material/flag:")
