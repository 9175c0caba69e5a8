"""Weight decay (book section 3.7): the L2 penalty on an overfitting linear model."""
import streamlit as st

from core.experiments import weight_decay as wd
from playground import controls
from playground.i18n import t
from playground.live import LOSS, MINIBATCH, Chart, Readout, live_panel

BOOK = wd.BOOK
st.title(t("page.weight_decay"))
st.markdown(t("weight_decay.intro", num_inputs=BOOK.num_inputs, n_train=BOOK.n_train, n_test=BOOK.n_test,
              batch_size=BOOK.batch_size, lr=BOOK.lr))
form = controls.Form(wd.Config)
lambd, _ = form.draw("weight_decay", "num_epochs", columns=2)
st.latex(r"\min_{\mathbf{w}, b}\; \frac{1}{n}\sum_{i=1}^{n} \frac{1}{2}\left(\mathbf{w}^\top \mathbf{x}^{(i)} + b"
         rf" - y^{{(i)}}\right)^2 + \frac{{{lambd:g}}}{{2}} \|\mathbf{{w}}\|^2")
st.caption(t("weight_decay.penalty_caption", lambd=f"{lambd:g}"))

seed, device = controls.seed(), controls.device()
live_panel(
    "weight_decay", form.config(), "weight_decay", seed=seed, device=device,
    charts_=[LOSS, Chart(t("weight_decay.chart_norm"), [("w_norm", "‖w‖")],
                         reference=[(12.92, t("weight_decay.ref_book_0", value=12.92)),
                                    (0.384, t("weight_decay.ref_book_3", value=0.384))]), MINIBATCH],
    readouts=[Readout("train_loss", t("common.train_loss")), Readout("test_loss", t("common.test_loss")),
              Readout("w_norm", "‖w‖", "{:.3f}")],
    label=lambda cfg: f"λ={cfg.weight_decay:g}",
    presets=wd.PRESETS,
)
with st.expander(t("common.what_to_look_for")):
    st.markdown(t("weight_decay.look"))
