"""Weight decay (book section 3.7): the L2 penalty on an overfitting linear model."""
import streamlit as st

from core.experiments import weight_decay as wd
from playground import controls
from playground.live import LOSS, MINIBATCH, Chart, Readout, live_panel

BOOK = wd.BOOK
st.title("Weight decay")
st.markdown(
    f"The book's experiment: {BOOK.num_inputs} inputs but only {BOOK.n_train} training examples "
    f"(and {BOOK.n_test} test examples) from "
    r"$y = 0.05 + \sum_i 0.01 x_i + \epsilon$, $\epsilon \sim \mathcal{N}(0, 0.01^2)$, "
    f"trained with minibatch SGD (batch {BOOK.batch_size}, lr {BOOK.lr}). "
    "Without a penalty the model memorises the training set; the penalty keeps the weights small."
)
form = controls.Form(wd.Config)
lambd, _ = form.draw("weight_decay", "num_epochs", columns=2)
st.latex(r"\min_{\mathbf{w}, b}\; \frac{1}{n}\sum_{i=1}^{n} \frac{1}{2}\left(\mathbf{w}^\top \mathbf{x}^{(i)} + b"
         rf" - y^{{(i)}}\right)^2 + \frac{{{lambd:g}}}{{2}} \|\mathbf{{w}}\|^2")
st.caption(f"λ = {lambd:g}. Losses shown are the plain squared loss (without the penalty), as in the book.")

seed, device = controls.seed(), controls.device()
live_panel(
    "weight_decay", form.config(), "weight_decay", seed=seed, device=device,
    charts_=[LOSS, Chart("L2 norm of w", [("w_norm", "‖w‖")], reference=[(12.92, "book (0.17.5), λ = 0: 12.92"),
                                                            (0.384, "book, λ = 3: 0.384")]), MINIBATCH],
    readouts=[Readout("train_loss", "train loss"), Readout("test_loss", "test loss"),
              Readout("w_norm", "‖w‖", "{:.3f}")],
    label=lambda cfg: f"λ={cfg.weight_decay:g}",
    presets=wd.PRESETS,
)
with st.expander("What to look for"):
    st.markdown(
        "- **λ = 0**: the training loss falls towards zero while the test loss stays orders of magnitude "
        "higher; ‖w‖ stays near its initial size (about 13-14 in the book).\n"
        "- **λ = 3**: the training loss rises a little, the test loss falls far lower, and ‖w‖ shrinks "
        "to about 0.35-0.44.\n"
        "- Press *Compare λ = 0 and λ = 3* to train both side by side from the same initial weights."
    )
