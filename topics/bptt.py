"""Backpropagation through time (book section 9.7): the gradient of the last
step's loss with respect to every earlier hidden state, truncation and clipping."""
import math

import numpy as np
import streamlit as st

from core.experiments import rnn as ex
from core.ops import bptt
from playground import charts, controls
from playground.lm_charts import time_machine

ACTIVATIONS = {"tanh": "tanh (the book's)", "identity": "identity (linear)"}
BATCH = 8

st.title("Backpropagation through time")
st.markdown(
    "Unrolled over T time steps, a recurrent network is a deep network whose layers share one weight matrix. "
    "The gradient of the loss at the last step reaches an earlier hidden state through every step in between, "
    "each multiplying it by the same W_hh (and, for tanh, by the slopes φ′ ≤ 1). A product of T - t copies "
    "of one matrix shrinks like ρ^(T-t) when its spectral radius ρ is below 1 and grows like it above: "
    "gradients **vanish** or **explode**. Truncating the sum after τ steps and clipping the gradient's norm "
    "are the book's two remedies. Everything below is one batch of The Time Machine through the book's RNN, "
    "computed here with the recursion of Jacobians (and checked against autograd).")
st.latex(r"\mathbf{h}_t = \phi(\mathbf{W}_{hx}\mathbf{x}_t + \mathbf{W}_{hh}\mathbf{h}_{t-1}),\qquad "
         r"\mathbf{o}_t = \mathbf{W}_{qh}\mathbf{h}_t")
st.latex(r"\frac{\partial L}{\partial \mathbf{h}_t} = \sum_{i=t}^{T} \big(\mathbf{W}_{hh}^\top\big)^{T-i}\, "
         r"\mathbf{W}_{qh}^\top \frac{\partial L}{\partial \mathbf{o}_{T+t-i}}"
         r"\qquad\text{(the book's 9.7, linear } \phi\text{)}")
st.latex(r"\frac{\partial L_T}{\partial \mathbf{h}_t} = \Big(\prod_{i=t+1}^{T} \mathbf{W}_{hh}^\top "
         r"\operatorname{diag}\phi'(\mathbf{a}_i)\Big)\, \mathbf{W}_{qh}^\top "
         r"\frac{\partial L_T}{\partial \mathbf{o}_T}\qquad\text{(the loss of the last step only)}")

data = time_machine(upload=False)
if data is None:
    st.stop()
corpus, vocab = data
text_id = ex.fingerprint(corpus, vocab)

c1, c2, c3 = st.columns(3)
radius = controls.slider("spectral radius ρ of W_hh", "radius", 0.5, 1.5, 0.9, 0.05, container=c1,
                         help="W_hh is drawn N(0, 1/h), then rescaled so that its largest |eigenvalue| is ρ.")
activation = controls.selectbox("activation φ", "activation", list(ACTIVATIONS), "tanh", container=c2,
                                format_func=ACTIVATIONS.get,
                                help="identity: the linear model of the book's derivation, exactly (W_hh^T)^(T-t).")
book_init = controls.toggle("the untrained net's W_hh instead", "book_init", False, container=c3,
                            help="As the book draws it: N(0, 0.01²), a spectral radius far below 1; the slider "
                                 "is then ignored.")
c1, c2, c3 = st.columns(3)
num_steps = controls.slider("time steps T", "num_steps", 5, 100, 35, 1, container=c1)
num_hiddens = controls.select_slider("hidden units", "num_hiddens", [8, 16, 32, 64, 128], 32, container=c2)
sample = controls.slider("batch (seed offset)", "sample", 0, 20, 0, 1, container=c3,
                         help="Which batch of 8 random windows of the text (and which random W_hh).")

st.subheader("Truncation")
c1, c2, c3 = st.columns(3)
truncate = controls.toggle("truncate after τ steps", "truncate", False, container=c1)
tau = controls.slider("truncation length τ", "tau", 1, 100, 10, 1, container=c2,
                      help="Gradients reach back at most τ steps: ∂L_T/∂h_t is cut (0) for t ≤ T - τ.")
randomized = controls.toggle("randomized truncation", "randomized", False, container=c3,
                             help="The book's 9.7.1.2: each step back continues with probability π, scaled by 1/π, "
                                  "and stops otherwise. Unbiased on average.")
pi = controls.slider("π (continue probability)", "pi", 0.5, 0.99, 0.9, 0.01, container=c3) if randomized else None
if truncate and tau > num_steps:
    st.caption(f":material/info: τ = {tau} is longer than the sequence (T = {num_steps}): nothing is cut.")

seed = controls.seed() + sample
W_radius = None if book_init else radius


@st.cache_data(max_entries=64, show_spinner=False)
def _norms(text_id: str, num_hiddens: int, num_steps: int, radius, activation: str, seed: int, tau, pi,
           _corpus, vocab_size: int):
    p = bptt.make_problem(_corpus, vocab_size, num_hiddens=num_hiddens, num_steps=num_steps, batch_size=BATCH,
                          radius=radius, activation=activation, seed=seed)
    full = bptt.gradient_norms(p)
    cut = bptt.gradient_norms(p, tau) if tau is not None else None
    rnd = bptt.gradient_norms(p, None, randomized=pi, seed=seed) if pi is not None else None
    return {"full": full, "cut": cut, "random": rnd, "rho": bptt.spectral_radius(p.W_hh)}


try:
    res = _norms(text_id, num_hiddens, num_steps, W_radius, activation, seed, tau if truncate else None,
                 pi, corpus, len(vocab))
except ValueError as err:
    st.error(f"This text cannot make a batch of {num_steps} steps: {err}", icon=":material/error:")
    st.stop()

full, rho = res["full"], res["rho"]
steps = np.arange(1, num_steps + 1)
finite = np.isfinite(full).all()
m1, m2, m3, m4 = st.columns(4)
m1.metric("spectral radius ρ(W_hh)", f"{rho:.3f}")
rate = bptt.decay_rate(full) if finite else None
m2.metric("a step back multiplies the norm by", f"{rate:.3f}" if rate else "–",
          help="The geometric mean of ‖∂L_T/∂h_{t-1}‖ / ‖∂L_T/∂h_t‖ over the T - 1 steps back.")
ratio = full[0] / full[-1] if finite and full[-1] > 0 else None
m3.metric("‖∂L_T/∂h_1‖ / ‖∂L_T/∂h_T‖", f"{ratio:.3g}" if ratio is not None else "–")
m4.metric(f"ρ^(T-1) = {rho:.2f}^{num_steps - 1}", f"{rho ** (num_steps - 1):.3g}")
if not finite:
    st.warning("The gradient overflowed (inf or NaN): the linear net's state and gradients grow like ρ^T. "
               "Lower ρ or T.", icon=":material/warning:")


def _positive(values):
    """Zeros (cut steps) and non-finite values drawn as gaps on a log axis."""
    return [float(v) if v > 0 and math.isfinite(v) else None for v in values]


fig = charts.figure(f"‖∂L_T/∂h_t‖ for each earlier step t (T = {num_steps}, ρ = {rho:.2f}, φ = {activation})",
                    x_title="time step t", y_title="gradient norm", log_y=True, height=380)
charts.add_line(fig, steps, _positive(full), "full BPTT", color=charts.PALETTE[0], mode="lines+markers")
if full[-1] > 0 and finite:
    charts.add_line(fig, steps, _positive(full[-1] * rho ** (num_steps - steps)),
                    "‖∂L_T/∂h_T‖ · ρ^(T-t)", color=charts.PALETTE[3], dash="dot")
if res["cut"] is not None:
    charts.add_line(fig, steps, _positive(res["cut"]), f"truncated, τ = {tau}", color=charts.PALETTE[1],
                    mode="lines+markers", dash="dash", width=3)
if res["random"] is not None:
    charts.add_line(fig, steps, _positive(res["random"]), f"randomized, π = {pi:g} (one draw)",
                    color=charts.PALETTE[2], mode="lines+markers", dash="dashdot")
st.plotly_chart(fig, key="bptt:norms", width="stretch")
if res["cut"] is not None:
    cut_steps = int(np.sum(res["cut"] == 0))
    st.caption(f"Truncated at τ = {tau}: the {cut_steps} earliest step(s) get no gradient (no points drawn); "
               f"the last {num_steps - cut_steps} keep exactly the full gradient.")

st.subheader("Gradient clipping")
c1, c2, c3, c4 = st.columns(4)
clip = controls.toggle("clip the gradient", "clip", True, container=c1)
theta = controls.slider("threshold θ", "theta", 0.1, 10.0, 1.0, 0.1, container=c2,
                        help="The book clips the norm of all gradients together at θ = 1.")
lr = controls.slider("learning rate", "lr", 0.1, 4.0, 1.0, 0.1, container=c3)
num_updates = controls.slider("updates", "num_updates", 10, 60, 40, 5, container=c4)
st.caption(f"A short training run of this RNN (the same initial weights, ρ = {rho:.2f}) by SGD: each update on a "
           f"fresh batch of {BATCH} random windows of {num_steps} characters, the loss of every step, "
           + (f"truncated into chunks of τ = {tau} steps" if truncate else "full BPTT")
           + ". Its gradient norm is drawn before clipping; the same run without clipping beside it.")


@st.cache_data(max_entries=64, show_spinner=False)
def _clip(text_id: str, theta, lr: float, num_updates: int, num_hiddens: int, num_steps: int, radius,
          activation: str, tau, seed: int, _corpus, vocab_size: int):
    run = bptt.clip_run(_corpus, vocab_size, theta=theta, lr=lr, num_updates=num_updates, num_hiddens=num_hiddens,
                        num_steps=num_steps, batch_size=BATCH, radius=radius, activation=activation, tau=tau,
                        seed=seed)
    return {"norms": run.norms, "losses": run.losses, "clipped": run.clipped, "fraction": run.fraction_clipped,
            "diverged": run.diverged}


common = (lr, num_updates, num_hiddens, num_steps, W_radius, activation, tau if truncate else None, seed, corpus,
          len(vocab))
run = _clip(text_id, theta if clip else None, *common)
free = _clip(text_id, None, *common) if clip else run
m1, m2, m3 = st.columns(3)
m1.metric("updates clipped", f"{run['fraction']:.0%}" if clip else "clipping off",
          help="The share of updates whose gradient norm exceeded θ and was scaled down to θ.")


def _final(r) -> str:
    return "diverged" if r["diverged"] else f"{r['losses'][-1]:.3f}" if len(r["losses"]) else "–"


m2.metric("final loss" + (" (clipped)" if clip else ""), _final(run))
m3.metric("final loss without clipping", _final(free))
for r, who in ((run, "This run"), (free, "The run without clipping")):
    if r["diverged"] and (r is run or clip):
        st.warning(f"{who} diverged after {len(r['norms'])} update(s) (an infinite or NaN loss) and was stopped. "
                   "Clip, lower the learning rate or ρ.", icon=":material/warning:")
c1, c2 = st.columns(2)
updates = np.arange(1, len(run["norms"]) + 1)
fig = charts.figure("Gradient norm per update", x_title="update", y_title="‖g‖",
                    log_y=True, height=320)
charts.add_line(fig, updates, run["norms"], "‖g‖" + (" (clipped run)" if clip else ""), color=charts.PALETTE[0],
                mode="lines+markers")
if clip:
    charts.add_line(fig, np.arange(1, len(free["norms"]) + 1), free["norms"], "‖g‖ without clipping",
                    color=charts.PALETTE[1], dash="dot")
    over = np.flatnonzero(run["clipped"])
    charts.add_line(fig, over + 1, run["norms"][over], "clipped to θ", color=charts.PALETTE[3], mode="markers")
    charts.add_line(fig, [1, max(len(updates), 1)], [theta, theta], f"θ = {theta:g}", color=charts.MUTED, dash="dash",
                    width=1)
c1.plotly_chart(fig, key="bptt:clip", width="stretch")
fig = charts.figure("Training loss", x_title="update", y_title="loss", height=320)
charts.add_line(fig, updates, run["losses"], "clipped" if clip else "not clipped", color=charts.PALETTE[0])
if clip:
    charts.add_line(fig, np.arange(1, len(free["losses"]) + 1), free["losses"], "not clipped",
                    color=charts.PALETTE[1], dash="dot")
c2.plotly_chart(fig, key="bptt:loss", width="stretch")

with st.expander("What to look for", icon=":material/visibility:", expanded=True):
    st.markdown(
        "- **ρ below 1.** With the linear φ the curve is a straight line on the log axis with slope log ρ: at "
        "ρ = 0.5 the first step's gradient is 0.5^(T-1) of the last one's. tanh only makes it smaller (φ′ ≤ 1). "
        "The untrained net's W_hh (weights of 0.01) has ρ ≈ 0.06: nothing reaches back more than a few steps.\n"
        "- **ρ above 1.** Linear: the norm explodes like ρ^(T-t) (the dotted line). tanh saturates the state, "
        "φ′ falls towards 0 and tames the growth: a tanh RNN's gradients rarely explode at initialisation, "
        "but training can push them there.\n"
        "- **Truncation.** τ cuts the sum: steps further back than τ get nothing, the rest keep exactly the full "
        "gradient. The book notes this biases the model towards short-term dependencies, which works well "
        "in practice; randomized truncation is unbiased on average but noisier.\n"
        "- **Clipping.** Most updates stay below θ = 1; clipping is for the rare spike. One clipped update "
        "keeps the run on course, while the same spike unclipped throws the loss up or makes it diverge: try the "
        "linear φ, or ρ = 1.5 with a learning rate of 3. With a small θ nearly every update is clipped, which "
        "slows learning like a smaller learning rate.")
