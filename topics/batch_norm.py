"""Batch normalization (book section 8.5): the book's LeNet with and without batch norm, side by side."""
import streamlit as st

from core.models.batchnorm import bn_stats, record_preactivations
from core.models.lenet import lenet
from playground import controls, netview
from playground.fmnist import classifier, fashion_mnist, is_stand_in
from playground.live import ACCURACY, LOSS, MINIBATCH, Readout, live_panel

BOOK = dict(lr=1.0, batch_size=256, num_epochs=10)
LRS = [0.01, 0.03, 0.1, 0.3, 0.5, 0.9, 1.0, 2.0, 3.0, 5.0, 10.0]
IMPLS = {"scratch": "the book's BatchNorm (from scratch)", "builtin": "nn.BatchNorm2d / nn.BatchNorm1d"}
LAYERS = {"bn1": "bn1 (after conv1, 6 channels)", "bn2": "bn2 (after conv2, 16 channels)",
          "bn3": "bn3 (after fc1, 120 features)", "bn4": "bn4 (after fc2, 84 features)"}
PROBE = 128  # test images run through both nets for the histograms

st.title("Batch normalization")
st.markdown(
    "The book's LeNet (sigmoid activations) on Fashion-MNIST, trained twice side by side from the same "
    "initial weights: as is, and with batch normalization before every activation (BN-LeNet). Both use "
    f"minibatch SGD with batch {BOOK['batch_size']} and the same learning rate, which you can change mid-run."
)
st.latex(r"\mathrm{BN}(\mathbf{x}) = \boldsymbol{\gamma} \odot \frac{\mathbf{x} - \hat{\boldsymbol{\mu}}_\mathcal{B}}"
         r"{\hat{\boldsymbol{\sigma}}_\mathcal{B}} + \boldsymbol{\beta}, \qquad \hat{\boldsymbol{\sigma}}_\mathcal{B}^2"
         r" = \frac{1}{|\mathcal{B}|} \sum_{\mathbf{x} \in \mathcal{B}}"
         r" (\mathbf{x} - \hat{\boldsymbol{\mu}}_\mathcal{B})^2"
         r" + \epsilon")
seed, device = controls.seed(), controls.device()
data = fashion_mnist(device)
if data is None:
    st.stop()

c = st.columns(3)
lr = controls.select_slider("learning rate η (both nets)", "lr", LRS, BOOK["lr"], container=c[0],
                            help="Takes effect at the next minibatch. Try 3 or 5: BN-LeNet still learns.")
impl = controls.selectbox("batch norm layers", "bn_impl", list(IMPLS), "scratch", format_func=IMPLS.get,
                          container=c[1], help="A change starts a new run.")
epochs = controls.slider("epochs", "bn_epochs", 1, 20, BOOK["num_epochs"], container=c[2])
st.caption(f"Both nets train with η = {lr:g}. The book trains BN-LeNet with η = {BOOK['lr']:g} and the plain LeNet "
           "(section 7.6) with η = 0.9. Train loss and accuracy are averaged over each epoch's minibatches; test "
           "numbers use eval mode.")
c = st.columns(2, vertical_alignment="bottom")
layer = controls.selectbox("batch-norm layer to inspect", "bn_layer", list(LAYERS), "bn1", format_func=LAYERS.get,
                           container=c[0])
hist_eval = controls.toggle("histograms in eval mode", "bn_hist_eval", False, container=c[1],
                            help="Off: the probe batch is normalised with its own statistics, as in training. "
                                 "On: with the running statistics, as at test time.")


def inside(trainers) -> None:
    st.subheader("Inputs of the sigmoids")
    X = data.X_test[:PROBE]
    pre = {}
    for name, t in trainers.items():  # a probe: running statistics and last-batch statistics are put back
        last = [(m, m.last_mean, m.last_var) for m in t.net.modules() if hasattr(m, "last_mean")]
        was = t.net.training
        t.net.train(not hist_eval)
        pre[name] = record_preactivations(t.net, X)
        t.net.train(was)
        for m, mean, var in last:
            m.last_mean, m.last_var = mean, var
    cols = st.columns(4)
    for col, act in zip(cols, ("act1", "act2", "act3", "act4")):
        col.plotly_chart(netview.histogram_figure(act, {name: p[act] for name, p in pre.items()}),
                         key=f"bn:hist:{act}", width="stretch")
    mode = "in eval mode (running statistics)" if hist_eval else "in training mode (normalised by its own statistics)"
    st.caption(f"Pre-activation values of {PROBE} test images as one batch, {mode}. The sigmoid is nearly flat "
               "beyond ±4: values out there pass on almost no gradient. BN keeps each layer's inputs centred "
               "and scaled.")
    st.subheader(f"Inside {LAYERS[layer]}")
    stat = next(s for s in bn_stats(trainers["BN-LeNet"].net) if s["name"] == layer)
    for col, n, fig in zip(st.columns(3), range(3), netview.bn_figures(stat)):
        col.plotly_chart(fig, key=f"bn:stats:{n}", width="stretch")
    st.caption("Training mode normalises with the current minibatch's mean and variance (diamonds); the running "
               "averages (lines; moving = 0.9 · moving + 0.1 · batch) are what eval mode uses, so a prediction "
               "does not depend on the other examples in its batch. γ and β are learned like any weight.")


live_panel(
    "batch_norm",
    build=lambda: {name: classifier(lenet(bn), data, lr=lr, num_epochs=epochs, batch_size=BOOK["batch_size"],
                                    seed=seed, device=device)
                   for name, bn in (("LeNet", None), ("BN-LeNet", impl))},
    config={"impl": impl, "seed": seed, "device": str(device),
            "data": "stand-in" if is_stand_in(data) else "Fashion-MNIST"},
    live={"lr": lr, "num_epochs": epochs},
    charts_=[LOSS, ACCURACY, MINIBATCH],
    readouts=[Readout("train_loss", "train loss"), Readout("train_metric", "train acc", "{:.3f}"),
              Readout("test_metric", "test acc", "{:.3f}")],
    label=lambda c: f"η={c['lr']:g}, {c['impl']}",
    view=inside,
)
