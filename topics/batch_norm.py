"""Batch normalization (book section 8.5): the book's LeNet with and without batch norm, side by side."""
from dataclasses import dataclass, replace

import streamlit as st

from core.experiments import batch_norm as bn
from core.experiments.schema import setting
from playground import controls, netview
from playground.fmnist import fashion_mnist, is_stand_in
from playground.i18n import t
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


st.title(t("page.batch_norm"))
st.markdown(t("batch_norm.intro", batch_size=BOOK.batch_size))
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
st.caption(t("batch_norm.lr_caption", lr=f"{lr:g}", book_lr=f"{BOOK.lr:g}"))
layer, hist_eval = controls.Form(Inside).draw("layer", "hist_eval", columns=2)


def inside(seen) -> None:
    st.subheader(t("batch_norm.sigmoid_inputs"))
    pre = seen["pre"]
    cols = st.columns(4)
    for col, act in zip(cols, ("act1", "act2", "act3", "act4")):
        col.plotly_chart(netview.histogram_figure(act, {name: p[act] for name, p in pre.items()}),
                         key=f"bn:hist:{act}", width="stretch")
    mode = t("batch_norm.mode_eval") if hist_eval else t("batch_norm.mode_train")
    st.caption(t("batch_norm.hist_caption", probe=PROBE, mode=mode))
    st.subheader(t("batch_norm.inside", layer=t(f"batch_norm.option.layer.{layer}")))
    stat = seen["stat"]
    if stat is None:
        return
    for col, n, fig in zip(st.columns(3), range(3), netview.bn_figures(stat)):
        col.plotly_chart(fig, key=f"bn:stats:{n}", width="stretch")
    st.caption(t("batch_norm.stats_caption"))


live_panel(
    "batch_norm", form.config(), "batch_norm", data=data, seed=seed, device=device,
    context={"data": "stand-in" if is_stand_in(data) else "Fashion-MNIST"},
    charts_=[LOSS, replace(ACCURACY, reference=[(0.807, 0.876, t("batch_norm.ref_bn")),
                                                (0.800, t("batch_norm.ref_lenet"))]), MINIBATCH],
    readouts=[Readout("train_loss", t("common.train_loss")),
              Readout("train_metric", t("batch_norm.train_acc"), "{:.3f}"),
              Readout("test_metric", t("batch_norm.test_acc"), "{:.3f}")],
    label=lambda cfg: f"η={cfg.lr:g}, {cfg.batch_norm}",
    views=[View("core.experiments.batch_norm:inside", inside, every="epoch",
                params={"layer": layer, "hist_eval": hist_eval, "size": PROBE})],
)
