"""Sequence models (book section 9.1): an autoregressive MLP on a noisy sine,
its one-step, multi-step and k-step-ahead predictions."""
from dataclasses import dataclass

import streamlit as st

from core.experiments import sequence_models as sm
from core.experiments.schema import setting
from playground import controls
from playground import sequence_figures as figs
from playground.live import MINIBATCH, Chart, Readout, View, live_panel

BOOK = sm.BOOK


@dataclass(frozen=True)
class Picture:
    k: int = setting(16, "k (steps ahead)", min=1, max=sm.MAX_STEPS,
                     help="Predict x_t from the data up to t - k: the model's own k - 1 predictions fill the gap. "
                          "Drawn thick beside the book's k = 1, 4, 16, 64.")


st.title("Sequence models")
st.markdown(
    "A sequence is read one value at a time, and what comes next depends on what came before. An "
    "**autoregressive** model predicts x_t from the values before it; since the whole history grows without "
    "bound, it keeps only a window of the last τ values (the **Markov condition**). The book tries this on "
    f"{sm.T} steps of a sine with noise, with a small MLP trained on the first {BOOK.n_train} windows. Predicting "
    "one step ahead from the data works well. Predicting further ahead means feeding the model its own "
    "predictions, and the errors compound."
)
form = controls.Form(sm.Config)
tau, _, _ = form.draw("tau", "lr", "num_epochs", columns=3)
(k,) = controls.Form(Picture).draw("k")
st.latex(r"x_t \sim P(x_t \mid x_{t-1}, \ldots, x_1) \qquad "
         rf"P(x_t \mid x_{{t-1}}, \ldots, x_1) = P(x_t \mid x_{{t-1}}, \ldots, x_{{t-{tau}}})"
         r"\quad\text{(Markov condition, } \tau = " + str(tau) + ")")
st.latex(rf"\hat{{x}}_t = f(x_{{t-{tau}}}, \ldots, x_{{t-1}}), \qquad "
         rf"x_t = \sin(0.01\,t) + \epsilon,\ \epsilon \sim \mathcal{{N}}(0, {sm.NOISE:g}^2),\ t = 1, \ldots, {sm.T}")
st.caption(f"The model: {tau} inputs, a hidden layer of {BOOK.num_hiddens} ReLU units, one output (Xavier "
           f"weights); squared error, Adam, minibatches of {BOOK.batch_size}, trained on the windows ending at "
           f"t = {tau + 1}, ..., {BOOK.n_train + tau}; the rest ({sm.T - tau - BOOK.n_train} windows) is held out.")


def pictures(seen: dict) -> None:
    st.subheader(f"Predictions after epoch {seen['epoch']}" + (f" ({seen['name']})" if seen["name"] else ""))
    if seen["epoch"] == 0:
        st.caption("The model has not been trained yet: these are the predictions of its initial weights.")
    st.plotly_chart(figs.one_step_figure(seen), key="seqm:one", width="stretch")
    st.plotly_chart(figs.multi_step_figure(seen), key="seqm:multi", width="stretch")
    steps = sorted({*sm.BOOK_STEPS, k})
    st.plotly_chart(figs.k_step_figure(seen, steps, k), key="seqm:k", width="stretch")
    m = st.columns(3)
    m[0].metric("1-step error after training data", f"{seen['mse_one_step']:.3f}",
                help=f"Mean squared error of the one-step predictions for t > {seen['start']}.")
    m[1].metric("multi-step error after training data", f"{seen['mse_multi_step']:.3f}",
                help=f"Mean squared error of the fed-back predictions for t > {seen['start']}.")
    m[2].metric(f"{k}-step error", f"{seen['mse_k_step'][k - 1]:.3f}",
                help="Mean squared error of the k-step-ahead predictions over all their times.")
    st.caption("Mean squared error by k: " + ", ".join(f"k = {j}: {seen['mse_k_step'][j - 1]:.3f}" for j in steps)
               + f". The noise alone has variance {sm.NOISE_FLOOR:g}, the least any prediction can reach.")


seed, device = controls.seed(), controls.device()
live_panel(
    "sequence_models", form.config(), "sequence_models", seed=seed, device=device,
    charts_=[Chart("Loss (mean squared error)", [("train_loss", "train, all 600 windows"),
                                                 ("test_loss", "held out, one step ahead")],
                   reference=[(*sm.BOOK_LOSS_BAND, "the book's training loss after 5 epochs: 0.0528 in 0.17.5, "
                                                   "0.045-0.059 across its unseeded builds"),
                              (sm.NOISE_FLOOR, "the noise's variance 0.04")]),
             MINIBATCH],
    readouts=[Readout("train_loss", "train loss", "{:.4f}"), Readout("test_loss", "held-out loss", "{:.4f}")],
    label=lambda cfg: f"tau={cfg.tau}, lr={cfg.lr:g}",
    views=[View("core.experiments.sequence_models:predictions", pictures, every="epoch")],  # every k: moving k
    # redraws without asking the worker
)
with st.expander("What to look for"):
    st.markdown(
        "- **One step ahead** the predictions follow the sine closely, even past the training data: each "
        "prediction starts again from real data.\n"
        f"- **Multi-step**: from t = {BOOK.n_train + tau + 1} on, the inputs are the model's own predictions. Small "
        "errors feed into the next input and compound; within a few dozen steps the prediction settles to a "
        "constant and never recovers the sine.\n"
        "- **k steps ahead**: k = 1 and 4 still look right, k = 16 lags and flattens, k = 64 is far off. Move k "
        "to see where it breaks down.\n"
        "- **τ**: with τ = 1 the model sees one noisy value and cannot tell rising from falling; a larger τ "
        "averages the noise away. The training loss cannot go below the noise's variance, 0.04.\n"
        "- The book (0.17.5) prints a training loss of 0.0528 after 5 epochs; its run is not seeded, and its "
        "builds from 2020 to 2022 print 0.045 to 0.059 for the same code: the band on the loss chart."
    )
