"""Dropout (book section 5.6): the book's MLP on Fashion-MNIST, with dropout after each hidden layer."""
from dataclasses import dataclass, replace

import streamlit as st

from core.experiments import dropout
from core.experiments.schema import setting
from playground import controls, grid, netview
from playground.fmnist import fashion_mnist, is_stand_in
from playground.live import ACCURACY, LOSS, MINIBATCH, Readout, View, live_panel

BOOK = dropout.BOOK


@dataclass(frozen=True)
class Picture:
    eval_mode: bool = setting(False, "picture: eval mode", help="On: net.eval(), every unit used and unscaled, "
                              "as the test set sees it. Off: a fresh training-mode mask.")
    units: int = setting(20, "picture: units per hidden layer", min=8, max=32)
    probe: int = setting(0, "picture: test image", min=0, max=99)


st.title("Dropout")
st.markdown(
    "The book's MLP on Fashion-MNIST: 784 inputs, two hidden layers of 256 ReLU units and 10 outputs, trained "
    f"with minibatch SGD (lr {BOOK.lr}, batch {BOOK.batch_size}). During training each hidden unit is "
    "dropped with probability p and the survivors are scaled up, so the expected value stays the same; "
    "at test time (eval mode) every unit is used, unscaled."
)
st.latex(r"h' = \begin{cases} 0 & \text{with probability } p \\ \dfrac{h}{1-p} & \text{otherwise}"
         r"\end{cases} \qquad E[h'] = h")
seed, device = controls.seed(), controls.device()
data = fashion_mnist("cpu")  # the pictures read it here; each worker keeps it on the run's device
if data is None:
    st.stop()

form = controls.Form(dropout.Config)
form.draw("dropout1", "dropout2", "num_epochs", columns=3)
st.caption("Train loss and accuracy are averaged over each epoch's minibatches with dropout on, as in the book; "
           "test numbers are measured in eval mode. *Compare* trains p1 = p2 = 0 and the book's p side by side: "
           "without dropout the training loss drops below the test loss sooner (the gap is overfitting).")
pic = controls.Form(Picture)
eval_mode, units, probe = pic.draw("eval_mode", "units", "probe", columns=3)


def picture(seen: dict) -> None:
    st.subheader("The network on one test image" + (f" ({seen['name']})" if seen["name"] else ""))
    res = seen["res"]
    left, right = st.columns([1, 3])
    label = data.text_labels[int(data.y_test[probe])]
    left.plotly_chart(grid.image_figure(data.X_test[probe, 0].cpu(), f"test image {probe}: {label}", height=240),
                      key="dropout:image", width="stretch")
    if eval_mode:
        title = "Eval mode: every unit passes on its value unscaled"
        lines = [f"hidden {n + 1}: all {len(h)} units used, nothing scaled" for n, h in enumerate(res["h"])]
    else:
        title = f"Train mode: a picture-only mask drawn for step {seen['step']} (the run's masks are untouched)"
        lines = [f"hidden {n + 1}: {int((~m).sum())} of {len(m)} units dropped ({float((~m).float().mean()):.0%}, "
                 f"p = {p:g}), survivors ×{1 / (1 - p):.3g}" if p < 1 else f"hidden {n + 1}: every unit dropped"
                 for n, (m, p) in enumerate(zip(res["mask"], res["p"]))]
    right.plotly_chart(netview.dropout_figure(res, units, data.text_labels, title), key="dropout:net",
                       width="stretch")
    left.markdown("\n".join(f"- {line}" for line in lines))
    left.caption(f"Showing the first {units} units of each hidden layer; the number next to a unit is what it "
                 "passes on (colour: how much). Dropped units are crossed out and pass on 0.")


live_panel(
    "dropout", form.config(), "dropout", data=data, seed=seed, device=device,
    context={"data": "stand-in" if is_stand_in(data) else "Fashion-MNIST"},
    charts_=[LOSS, replace(ACCURACY, reference=[(0.79, 0.89, "the book's test accuracy, 0.84 ± 0.05 by edition")]),
             MINIBATCH],
    readouts=[Readout("train_loss", "train loss"), Readout("train_metric", "train acc", "{:.3f}"),
              Readout("test_loss", "test loss"), Readout("test_metric", "test acc", "{:.3f}")],
    label=lambda cfg: f"p1={cfg.dropout1:g}, p2={cfg.dropout2:g}",
    views=[View("core.experiments.dropout:picture", picture, every="epoch",
                params={"probe": probe, "eval_mode": eval_mode, "seed": seed})],
    presets=dropout.PRESETS,
)
