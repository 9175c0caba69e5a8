"""Dropout (book section 5.6): the book's MLP on Fashion-MNIST, with dropout after each hidden layer."""
import streamlit as st

from core.models.mlp import dropout_mlp
from playground import controls, grid, netview
from playground.fmnist import classifier, fashion_mnist, is_stand_in
from playground.live import ACCURACY, LOSS, MINIBATCH, Readout, live_panel

BOOK = dict(p1=0.2, p2=0.5, lr=0.5, batch_size=256, num_epochs=10)

st.title("Dropout")
st.markdown(
    "The book's MLP on Fashion-MNIST: 784 inputs, two hidden layers of 256 ReLU units and 10 outputs, trained "
    f"with minibatch SGD (lr {BOOK['lr']}, batch {BOOK['batch_size']}). During training each hidden unit is "
    "dropped with probability p and the survivors are scaled up, so the expected value stays the same; "
    "at test time (eval mode) every unit is used, unscaled."
)
st.latex(r"h' = \begin{cases} 0 & \text{with probability } p \\ \dfrac{h}{1-p} & \text{otherwise}"
         r"\end{cases} \qquad E[h'] = h")
seed, device = controls.seed(), controls.device()
data = fashion_mnist(device)
if data is None:
    st.stop()

c = st.columns(3)
p1 = controls.slider("dropout p1 (after hidden layer 1)", "p1", 0.0, 0.9, BOOK["p1"], 0.05, container=c[0],
                     help="A change starts a new run; the finished one stays for comparison.")
p2 = controls.slider("dropout p2 (after hidden layer 2)", "p2", 0.0, 0.9, BOOK["p2"], 0.05, container=c[1])
epochs = controls.slider("epochs", "dropout_epochs", 1, 30, BOOK["num_epochs"], container=c[2])
st.caption("Train loss and accuracy are averaged over each epoch's minibatches with dropout on, as in the book; "
           "test numbers are measured in eval mode. *Compare* trains p1 = p2 = 0 and then the book's p: without "
           "dropout the training loss drops below the test loss sooner (the gap is overfitting).")
v = st.columns(3)
eval_mode = controls.toggle("picture: eval mode", "dropout_eval", False, container=v[0],
                            help="On: net.eval(), every unit used and unscaled, as the test set sees it. "
                                 "Off: a fresh training-mode mask.")
units = controls.slider("picture: units per hidden layer", "units", 8, 32, 20, container=v[1])
probe = controls.slider("picture: test image", "probe", 0, 99, 0, container=v[2])


def picture(trainers) -> None:
    st.subheader("The network on one test image")
    t = trainers[""]
    res = netview.dropout_probe(t.net, data.X_test[probe:probe + 1], train=not eval_mode, seed=seed * 100_003 + t.step)
    left, right = st.columns([1, 3])
    label = data.text_labels[int(data.y_test[probe])]
    left.plotly_chart(grid.image_figure(data.X_test[probe, 0].cpu(), f"test image {probe}: {label}", height=240),
                      key="dropout:image", width="stretch")
    if eval_mode:
        title = "Eval mode: every unit passes on its value unscaled"
        lines = [f"hidden {n + 1}: all {len(h)} units used, nothing scaled" for n, h in enumerate(res["h"])]
    else:
        title = f"Train mode: a picture-only mask drawn for step {t.step} (the run's masks are untouched)"
        lines = [f"hidden {n + 1}: {int((~m).sum())} of {len(m)} units dropped ({float((~m).float().mean()):.0%}, "
                 f"p = {p:g}), survivors ×{1 / (1 - p):.3g}" if p < 1 else f"hidden {n + 1}: every unit dropped"
                 for n, (m, p) in enumerate(zip(res["mask"], res["p"]))]
    right.plotly_chart(netview.dropout_figure(res, units, data.text_labels, title), key="dropout:net",
                       width="stretch")
    left.markdown("\n".join(f"- {line}" for line in lines))
    left.caption(f"Showing the first {units} units of each hidden layer; the number next to a unit is what it "
                 "passes on. Dark units are dropped.")


live_panel(
    "dropout",
    build=lambda: classifier(dropout_mlp(dropout1=p1, dropout2=p2), data, lr=BOOK["lr"], num_epochs=epochs,
                             batch_size=BOOK["batch_size"], seed=seed, device=device),
    config={"p1": p1, "p2": p2, "seed": seed, "device": str(device),
            "data": "stand-in" if is_stand_in(data) else "Fashion-MNIST"},
    live={"num_epochs": epochs},
    charts_=[LOSS, ACCURACY, MINIBATCH],
    readouts=[Readout("train_loss", "train loss"), Readout("train_metric", "train acc", "{:.3f}"),
              Readout("test_loss", "test loss"), Readout("test_metric", "test acc", "{:.3f}")],
    label=lambda c: f"p1={c['p1']:g}, p2={c['p2']:g}",
    view=picture,
    presets=[(f"Compare p1 = p2 = 0 with the book's p1 = {BOOK['p1']}, p2 = {BOOK['p2']}",
              [{"p1": 0.0, "p2": 0.0}, {"p1": BOOK["p1"], "p2": BOOK["p2"]}])],
)
