"""Sequence models (book section 9.1): an autoregressive MLP on a noisy sine,
its one-step, multi-step and k-step-ahead predictions."""
from dataclasses import dataclass

import streamlit as st

from core.experiments import sequence_models as sm
from core.experiments.schema import setting
from playground import controls
from playground import sequence_figures as figs
from playground.i18n import t
from playground.live import MINIBATCH, Chart, Readout, View, live_panel

BOOK = sm.BOOK


@dataclass(frozen=True)
class Picture:
    k: int = setting(16, "k (steps ahead)", min=1, max=sm.MAX_STEPS,
                     help="Predict x_t from the data up to t - k: the model's own k - 1 predictions fill the gap. "
                          "Drawn thick beside the book's k = 1, 4, 16, 64.")


st.title(t("page.sequence_models"))
st.markdown(t("sequence_models.intro", T=sm.T, n_train=BOOK.n_train))
form = controls.Form(sm.Config)
tau, _, _ = form.draw("tau", "lr", "num_epochs", columns=3)
(k,) = controls.Form(Picture).draw("k")
st.latex(r"x_t \sim P(x_t \mid x_{t-1}, \ldots, x_1) \qquad "
         rf"P(x_t \mid x_{{t-1}}, \ldots, x_1) = P(x_t \mid x_{{t-1}}, \ldots, x_{{t-{tau}}})"
         r"\quad\text{(" + t("sequence_models.markov") + r", } \tau = " + str(tau) + ")")
st.latex(rf"\hat{{x}}_t = f(x_{{t-{tau}}}, \ldots, x_{{t-1}}), \qquad "
         rf"x_t = \sin(0.01\,t) + \epsilon,\ \epsilon \sim \mathcal{{N}}(0, {sm.NOISE:g}^2),\ t = 1, \ldots, {sm.T}")
st.caption(t("sequence_models.model_caption", tau=tau, num_hiddens=BOOK.num_hiddens, batch_size=BOOK.batch_size,
             first=tau + 1, last=BOOK.n_train + tau, held_out=sm.T - tau - BOOK.n_train))


def pictures(seen: dict) -> None:
    st.subheader(t("sequence_models.predictions_named", epoch=seen["epoch"], name=seen["name"]) if seen["name"]
                 else t("sequence_models.predictions", epoch=seen["epoch"]))
    if seen["epoch"] == 0:
        st.caption(t("sequence_models.untrained"))
    st.plotly_chart(figs.one_step_figure(seen), key="seqm:one", width="stretch")
    st.plotly_chart(figs.multi_step_figure(seen), key="seqm:multi", width="stretch")
    steps = sorted({*sm.BOOK_STEPS, k})
    st.plotly_chart(figs.k_step_figure(seen, steps, k), key="seqm:k", width="stretch")
    m = st.columns(3)
    m[0].metric(t("sequence_models.metric_one"), f"{seen['mse_one_step']:.3f}",
                help=t("sequence_models.metric_one_help", start=seen["start"]))
    m[1].metric(t("sequence_models.metric_multi"), f"{seen['mse_multi_step']:.3f}",
                help=t("sequence_models.metric_multi_help", start=seen["start"]))
    m[2].metric(t("sequence_models.metric_k", k=k), f"{seen['mse_k_step'][k - 1]:.3f}",
                help=t("sequence_models.metric_k_help"))
    st.caption(t("sequence_models.mse_by_k", values=", ".join(f"k = {j}: {seen['mse_k_step'][j - 1]:.3f}"
                                                               for j in steps), floor=f"{sm.NOISE_FLOOR:g}"))


seed, device = controls.seed(), controls.device()
live_panel(
    "sequence_models", form.config(), "sequence_models", seed=seed, device=device,
    charts_=[Chart(t("sequence_models.chart_loss"), [("train_loss", t("sequence_models.trace_train")),
                                                     ("test_loss", t("sequence_models.trace_test"))],
                   reference=[(*sm.BOOK_LOSS_BAND, t("sequence_models.ref_book")),
                              (sm.NOISE_FLOOR, t("sequence_models.ref_noise"))]),
             MINIBATCH],
    readouts=[Readout("train_loss", t("common.train_loss"), "{:.4f}"),
              Readout("test_loss", t("sequence_models.readout_test"), "{:.4f}")],
    label=lambda cfg: f"tau={cfg.tau}, lr={cfg.lr:g}",
    views=[View("core.experiments.sequence_models:predictions", pictures, every="epoch")],  # every k: moving k
    # redraws without asking the worker
)
with st.expander(t("common.what_to_look_for")):
    st.markdown(t("sequence_models.look", start=BOOK.n_train + tau + 1))
