"""Dropout (book section 5.6): the book's MLP on Fashion-MNIST, with dropout after each hidden layer."""
from dataclasses import dataclass, replace

import streamlit as st

from core.experiments import dropout
from core.experiments.schema import setting
from playground import controls, grid, netview
from playground.fmnist import fashion_mnist, is_stand_in
from playground.i18n import t
from playground.live import ACCURACY, LOSS, MINIBATCH, Readout, View, live_panel

BOOK = dropout.BOOK


@dataclass(frozen=True)
class Picture:
    eval_mode: bool = setting(False, "picture: eval mode", help="On: net.eval(), every unit used and unscaled, "
                              "as the test set sees it. Off: a fresh training-mode mask.")
    units: int = setting(20, "picture: units per hidden layer", min=8, max=32)
    probe: int = setting(0, "picture: test image", min=0, max=99)


st.title(t("page.dropout"))
st.markdown(t("dropout.intro", lr=BOOK.lr, batch_size=BOOK.batch_size))
st.latex(rf"h' = \begin{{cases}} 0 & \text{{{t('dropout.latex_with_probability')}}} p \\ \dfrac{{h}}{{1-p}} & "
         rf"\text{{{t('dropout.latex_otherwise')}}}\end{{cases}} \qquad E[h'] = h")
seed, device = controls.seed(), controls.device()
data = fashion_mnist("cpu")  # the pictures read it here; each worker keeps it on the run's device
if data is None:
    st.stop()

form = controls.Form(dropout.Config)
form.draw("dropout1", "dropout2", "num_epochs", columns=3)
st.caption(t("dropout.train_caption"))
pic = controls.Form(Picture)
eval_mode, units, probe = pic.draw("eval_mode", "units", "probe", columns=3)


def picture(seen: dict) -> None:
    st.subheader(t("dropout.picture_title_run", name=seen["name"]) if seen["name"] else t("dropout.picture_title"))
    res = seen["res"]
    left, right = st.columns([1, 3])
    label = data.text_labels[int(data.y_test[probe])]
    left.plotly_chart(grid.image_figure(data.X_test[probe, 0].cpu(), t("dropout.image_title", probe=probe, label=label),
                                            height=240),
                      key="dropout:image", width="stretch")
    if eval_mode:
        title = t("dropout.eval_title")
        lines = [t("dropout.eval_line", n=n + 1, units=len(h)) for n, h in enumerate(res["h"])]
    else:
        title = t("dropout.train_title", step=seen["step"])
        lines = [t("dropout.train_line", n=n + 1, dropped=int((~m).sum()), units=len(m),
                   share=f"{float((~m).float().mean()):.0%}", p=f"{p:g}", scale=f"{1 / (1 - p):.3g}")
                 if p < 1 else t("dropout.all_dropped", n=n + 1)
                 for n, (m, p) in enumerate(zip(res["mask"], res["p"]))]
    right.plotly_chart(netview.dropout_figure(res, units, data.text_labels, title), key="dropout:net",
                       width="stretch")
    left.markdown("\n".join(f"- {line}" for line in lines))
    left.caption(t("dropout.showing", units=units))


live_panel(
    "dropout", form.config(), "dropout", data=data, seed=seed, device=device,
    context={"data": "stand-in" if is_stand_in(data) else "Fashion-MNIST"},
    charts_=[LOSS, replace(ACCURACY, reference=[(0.79, 0.89, t("dropout.reference"))]),
             MINIBATCH],
    readouts=[Readout("train_loss", t("common.train_loss")), Readout("train_metric", t("dropout.train_acc"), "{:.3f}"),
              Readout("test_loss", t("common.test_loss")), Readout("test_metric", t("dropout.test_acc"), "{:.3f}")],
    label=lambda cfg: f"p1={cfg.dropout1:g}, p2={cfg.dropout2:g}",
    views=[View("core.experiments.dropout:picture", picture, every="epoch",
                params={"probe": probe, "eval_mode": eval_mode, "seed": seed})],
    presets=dropout.PRESETS,
)
