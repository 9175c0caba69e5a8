"""Backpropagation through time (book section 9.7): the gradient of the last
step's loss with respect to every earlier hidden state, truncation and clipping."""
import math

import numpy as np
import streamlit as st

from core.experiments import rnn as ex
from core.ops import bptt
from playground import charts, controls
from playground.i18n import t
from playground.lm_charts import time_machine

ACTIVATIONS = ("tanh", "identity")
BATCH = 8

st.title(t("page.bptt"))
st.markdown(t("bptt.intro"))
st.latex(r"\mathbf{h}_t = \phi(\mathbf{W}_{hx}\mathbf{x}_t + \mathbf{W}_{hh}\mathbf{h}_{t-1}),\qquad "
         r"\mathbf{o}_t = \mathbf{W}_{qh}\mathbf{h}_t")
st.latex(r"\frac{\partial L}{\partial \mathbf{h}_t} = \sum_{i=t}^{T} \big(\mathbf{W}_{hh}^\top\big)^{T-i}\, "
         r"\mathbf{W}_{qh}^\top \frac{\partial L}{\partial \mathbf{o}_{T+t-i}}"
         r"\qquad\text{(" + t("bptt.latex_linear") + r" } \phi\text{)}")
st.latex(r"\frac{\partial L_T}{\partial \mathbf{h}_t} = \Big(\prod_{i=t+1}^{T} \mathbf{W}_{hh}^\top "
         r"\operatorname{diag}\phi'(\mathbf{a}_i)\Big)\, \mathbf{W}_{qh}^\top "
         r"\frac{\partial L_T}{\partial \mathbf{o}_T}\qquad\text{(" + t("bptt.latex_last") + ")}")

data = time_machine(upload=False)
if data is None:
    st.stop()
corpus, vocab = data
text_id = ex.fingerprint(corpus, vocab)

c1, c2, c3 = st.columns(3)
radius = controls.slider(t("bptt.radius"), "radius", 0.5, 1.5, 0.9, 0.05, container=c1,
                         help=t("bptt.radius_help"))
activation = controls.selectbox(t("bptt.activation"), "activation", list(ACTIVATIONS), "tanh", container=c2,
                                format_func=lambda a: t(f"bptt.activation_{a}"), help=t("bptt.activation_help"))
book_init = controls.toggle(t("bptt.book_init"), "book_init", False, container=c3, help=t("bptt.book_init_help"))
c1, c2, c3 = st.columns(3)
num_steps = controls.slider(t("bptt.num_steps"), "num_steps", 5, 100, 35, 1, container=c1)
num_hiddens = controls.select_slider(t("bptt.num_hiddens"), "num_hiddens", [8, 16, 32, 64, 128], 32, container=c2)
sample = controls.slider(t("bptt.sample"), "sample", 0, 20, 0, 1, container=c3, help=t("bptt.sample_help"))

st.subheader(t("bptt.truncation"))
c1, c2, c3 = st.columns(3)
truncate = controls.toggle(t("bptt.truncate"), "truncate", False, container=c1)
tau = controls.slider(t("bptt.tau"), "tau", 1, 100, 10, 1, container=c2, help=t("bptt.tau_help"))
randomized = controls.toggle(t("bptt.randomized"), "randomized", False, container=c3,
                             help=t("bptt.randomized_help"))
pi = controls.slider(t("bptt.pi"), "pi", 0.5, 0.99, 0.9, 0.01, container=c3) if randomized else None
if truncate and tau > num_steps:
    st.caption(":material/info: " + t("bptt.tau_too_long", tau=tau, num_steps=num_steps))

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
    st.error(t("bptt.no_batch", num_steps=num_steps, err=err), icon=":material/error:")
    st.stop()

full, rho = res["full"], res["rho"]
steps = np.arange(1, num_steps + 1)
finite = np.isfinite(full).all()
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("bptt.metric_rho"), f"{rho:.3f}")
rate = bptt.decay_rate(full) if finite else None
m2.metric(t("bptt.metric_rate"), f"{rate:.3f}" if rate else "–", help=t("bptt.metric_rate_help"))
ratio = full[0] / full[-1] if finite and full[-1] > 0 else None
m3.metric("‖∂L_T/∂h_1‖ / ‖∂L_T/∂h_T‖", f"{ratio:.3g}" if ratio is not None else "–")
m4.metric(f"ρ^(T-1) = {rho:.2f}^{num_steps - 1}", f"{rho ** (num_steps - 1):.3g}")
if not finite:
    st.warning(t("bptt.overflow"), icon=":material/warning:")


def _positive(values):
    """Zeros (cut steps) and non-finite values drawn as gaps on a log axis."""
    return [float(v) if v > 0 and math.isfinite(v) else None for v in values]


fig = charts.figure(t("bptt.norms_title", num_steps=num_steps, rho=f"{rho:.2f}", activation=activation),
                    x_title=t("bptt.time_step"), y_title=t("bptt.gradient_norm"), log_y=True, height=380)
charts.add_line(fig, steps, _positive(full), t("bptt.full"), color=charts.PALETTE[0], mode="lines+markers")
if full[-1] > 0 and finite:
    charts.add_line(fig, steps, _positive(full[-1] * rho ** (num_steps - steps)),
                    "‖∂L_T/∂h_T‖ · ρ^(T-t)", color=charts.PALETTE[3], dash="dot")
if res["cut"] is not None:
    charts.add_line(fig, steps, _positive(res["cut"]), t("bptt.truncated", tau=tau), color=charts.PALETTE[1],
                    mode="lines+markers", dash="dash", width=3)
if res["random"] is not None:
    charts.add_line(fig, steps, _positive(res["random"]), t("bptt.randomized_trace", pi=f"{pi:g}"),
                    color=charts.PALETTE[2], mode="lines+markers", dash="dashdot")
st.plotly_chart(fig, key="bptt:norms", width="stretch")
if res["cut"] is not None:
    cut_steps = int(np.sum(res["cut"] == 0))
    st.caption(t("bptt.cut_caption", tau=tau, cut=cut_steps, kept=num_steps - cut_steps))

st.subheader(t("bptt.clipping"))
c1, c2, c3, c4 = st.columns(4)
clip = controls.toggle(t("bptt.clip"), "clip", True, container=c1)
theta = controls.slider(t("bptt.theta"), "theta", 0.1, 10.0, 1.0, 0.1, container=c2, help=t("bptt.theta_help"))
lr = controls.slider(t("bptt.lr"), "lr", 0.1, 4.0, 1.0, 0.1, container=c3)
num_updates = controls.slider(t("bptt.num_updates"), "num_updates", 10, 60, 40, 5, container=c4)
st.caption(t("bptt.run_caption", rho=f"{rho:.2f}", batch=BATCH, num_steps=num_steps,
             how=t("bptt.run_truncated", tau=tau) if truncate else t("bptt.run_full")))


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
m1.metric(t("bptt.metric_clipped"), f"{run['fraction']:.0%}" if clip else t("bptt.clipping_off"),
          help=t("bptt.metric_clipped_help"))


def _final(r) -> str:
    return t("bptt.diverged") if r["diverged"] else f"{r['losses'][-1]:.3f}" if len(r["losses"]) else "–"


m2.metric(t("bptt.final_loss_clipped") if clip else t("bptt.final_loss"), _final(run))
m3.metric(t("bptt.final_loss_free"), _final(free))
for r, who in ((run, "this"), (free, "free")):
    if r["diverged"] and (r is run or clip):
        st.warning(t(f"bptt.diverged_{who}", n=len(r["norms"])), icon=":material/warning:")
c1, c2 = st.columns(2)
updates = np.arange(1, len(run["norms"]) + 1)
fig = charts.figure(t("bptt.norm_title"), x_title=t("bptt.update"), y_title="‖g‖", log_y=True, height=320)
charts.add_line(fig, updates, run["norms"], t("bptt.g_clipped_run") if clip else "‖g‖", color=charts.PALETTE[0],
                mode="lines+markers")
if clip:
    charts.add_line(fig, np.arange(1, len(free["norms"]) + 1), free["norms"], t("bptt.g_free"),
                    color=charts.PALETTE[1], dash="dot")
    over = np.flatnonzero(run["clipped"])
    charts.add_line(fig, over + 1, run["norms"][over], t("bptt.clipped_to"), color=charts.PALETTE[3], mode="markers")
    charts.add_line(fig, [1, max(len(updates), 1)], [theta, theta], f"θ = {theta:g}", color=charts.MUTED, dash="dash",
                    width=1)
c1.plotly_chart(fig, key="bptt:clip", width="stretch")
fig = charts.figure(t("bptt.loss_title"), x_title=t("bptt.update"), y_title=t("bptt.loss"), height=320)
charts.add_line(fig, updates, run["losses"], t("bptt.clipped") if clip else t("bptt.not_clipped"),
                color=charts.PALETTE[0])
if clip:
    charts.add_line(fig, np.arange(1, len(free["losses"]) + 1), free["losses"], t("bptt.not_clipped"),
                    color=charts.PALETTE[1], dash="dot")
c2.plotly_chart(fig, key="bptt:loss", width="stretch")

with st.expander(t("common.what_to_look_for"), icon=":material/visibility:", expanded=True):
    st.markdown(t("bptt.look"))
