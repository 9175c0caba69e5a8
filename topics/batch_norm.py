"""Batch normalization (book section 8.5): the book's LeNet with and without batch norm, side by side."""
from dataclasses import dataclass, replace

import streamlit as st

from core.experiments import batch_norm as bn
from core.experiments.schema import setting
from playground import controls, netview
from playground.fmnist import fashion_mnist, is_stand_in
from playground.live import ACCURACY, LOSS, MINIBATCH, Readout, View, live_panel

BOOK = bn.BOOK
LAYERS = {"bn1": "bn1 (after conv1, 6 channels)", "bn2": "bn2 (after conv2, 16 channels)",
          "bn3": "bn3 (after fc1, 120 features)", "bn4": "bn4 (after fc2, 84 features)"}
PROBE = 128  # test images run through both nets for the histograms


@dataclass(frozen=True)
class Inside:
    layer: str = setting("bn1", "batch-norm layer to inspect", options=tuple(LAYERS), labels=LAYERS)
    hist_eval: bool = setting(False, "histograms in eval mode", help="Off: the probe batch is normalised with its "
                              "own statistics, as in training. On: with the running statistics, as at test time.")


st.title("Batch normalization")
st.markdown(
    "The book's LeNet (sigmoid activations) on Fashion-MNIST, trained twice side by side from the same "
    "initial weights: as is, and with batch normalization before every activation (BN-LeNet). Both use "
    f"minibatch SGD with batch {BOOK.batch_size} and the same learning rate, which you can change mid-run."
)
st.latex(r"\mathrm{BN}(\mathbf{x}) = \boldsymbol{\gamma} \odot \frac{\mathbf{x} - \hat{\boldsymbol{\mu}}_\mathcal{B}}"
         r"{\hat{\boldsymbol{\sigma}}_\mathcal{B}} + \boldsymbol{\beta}, \qquad \hat{\boldsymbol{\sigma}}_\mathcal{B}^2"
         r" = \frac{1}{|\mathcal{B}|} \sum_{\mathbf{x} \in \mathcal{B}}"
         r" (\mathbf{x} - \hat{\boldsymbol{\mu}}_\mathcal{B})^2"
         r" + \epsilon")
seed, device = controls.seed(), controls.device()
data = fashion_mnist("cpu")  # each worker keeps its own copy on the run's device
if data is None:
    st.stop()

form = controls.Form(bn.Config)
lr, impl, _ = form.draw("lr", "batch_norm", "num_epochs", columns=3)
st.caption(f"Both nets train with η = {lr:g}. The book trains BN-LeNet with η = {BOOK.lr:g} and the plain LeNet "
           "(section 7.6) with η = 0.9. Train loss and accuracy are averaged over each epoch's minibatches; test "
           "numbers use eval mode.")
layer, hist_eval = controls.Form(Inside).draw("layer", "hist_eval", columns=2)


def inside(seen) -> None:
    st.subheader("Inputs of the sigmoids")
    pre = seen["pre"]
    cols = st.columns(4)
    for col, act in zip(cols, ("act1", "act2", "act3", "act4")):
        col.plotly_chart(netview.histogram_figure(act, {name: p[act] for name, p in pre.items()}),
                         key=f"bn:hist:{act}", width="stretch")
    mode = "in eval mode (running statistics)" if hist_eval else "in training mode (normalised by its own statistics)"
    st.caption(f"Pre-activation values of {PROBE} test images as one batch, {mode}. The sigmoid is nearly flat "
               "beyond ±4: values out there pass on almost no gradient. BN keeps each layer's inputs centred "
               "and scaled.")
    st.subheader(f"Inside {LAYERS[layer]}")
    stat = seen["stat"]
    if stat is None:
        return
    for col, n, fig in zip(st.columns(3), range(3), netview.bn_figures(stat)):
        col.plotly_chart(fig, key=f"bn:stats:{n}", width="stretch")
    st.caption("Training mode normalises with the current minibatch's mean and variance (diamonds); the running "
               "averages (lines; moving = 0.9 · moving + 0.1 · batch) are what eval mode uses, so a prediction "
               "does not depend on the other examples in its batch. γ and β are learned like any weight.")


live_panel(
    "batch_norm", form.config(), "batch_norm", data=data, seed=seed, device=device,
    context={"data": "stand-in" if is_stand_in(data) else "Fashion-MNIST"},
    charts_=[LOSS, replace(ACCURACY, reference=[(0.807, 0.876, "the book's BN-LeNet: 0.81 (zh 2.0) to 0.88 (1.0.3)"),
                                                (0.800, "the book's LeNet (0.17.5, lr 0.9): 0.80")]), MINIBATCH],
    readouts=[Readout("train_loss", "train loss"), Readout("train_metric", "train acc", "{:.3f}"),
              Readout("test_metric", "test acc", "{:.3f}")],
    label=lambda cfg: f"η={cfg.lr:g}, {cfg.batch_norm}",
    views=[View("core.experiments.batch_norm:inside", inside, every="epoch",
                params={"layer": layer, "hist_eval": hist_eval, "size": PROBE})],
)
