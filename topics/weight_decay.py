"""Weight decay (book section 3.7): the L2 penalty on an overfitting linear model."""
import streamlit as st

from core.experiments.weight_decay import BOOK, make_trainer
from playground import controls
from playground.live import LOSS, MINIBATCH, Chart, Readout, live_panel

st.title("Weight decay")
st.markdown(
    f"The book's experiment: {BOOK['num_inputs']} inputs but only {BOOK['n_train']} training examples "
    r"(and 100 test examples) from $y = 0.05 + \sum_i 0.01 x_i + \epsilon$, "
    r"$\epsilon \sim \mathcal{N}(0, 0.01^2)$, "
    f"trained with minibatch SGD (batch {BOOK['batch_size']}, lr {BOOK['lr']}). "
    "Without a penalty the model memorises the training set; the penalty keeps the weights small."
)
c1, c2 = st.columns(2)
lambd = controls.slider("λ (weight decay)", "lambd", 0.0, 10.0, 0.0, 0.5, container=c1,
                        help="Changes take effect at the next minibatch, even mid-run.")
num_epochs = controls.slider("epochs", "epochs", 10, 300, BOOK["num_epochs"], 10, container=c2)
st.latex(r"\min_{\mathbf{w}, b}\; \frac{1}{n}\sum_{i=1}^{n} \frac{1}{2}\left(\mathbf{w}^\top \mathbf{x}^{(i)} + b"
         rf" - y^{{(i)}}\right)^2 + \frac{{{lambd:g}}}{{2}} \|\mathbf{{w}}\|^2")
st.caption(f"λ = {lambd:g}. Losses shown are the plain squared loss (without the penalty), as in the book.")

seed, device = controls.seed(), controls.device()
S = live_panel(
    "weight_decay",
    build=lambda: make_trainer(lambd, seed=seed, device=device, num_epochs=num_epochs),
    config={"seed": seed, "device": str(device)},
    live={"weight_decay": lambd, "num_epochs": num_epochs},
    charts_=[LOSS, Chart("L2 norm of w", [("w_norm", "‖w‖")]), MINIBATCH],
    readouts=[Readout("train_loss", "train loss"), Readout("test_loss", "test loss"),
              Readout("w_norm", "‖w‖", "{:.3f}")],
    label=lambda c: f"λ={c['weight_decay']:g}",
    presets=[("Compare λ = 0 and λ = 3", [{"lambd": 0.0}, {"lambd": 3.0}])],
)
with st.expander("What to look for"):
    st.markdown(
        "- **λ = 0**: the training loss falls towards zero while the test loss stays orders of magnitude "
        "higher; ‖w‖ stays near its initial size (about 13-14 in the book).\n"
        "- **λ = 3**: the training loss rises a little, the test loss falls far lower, and ‖w‖ shrinks "
        "to about 0.35-0.44.\n"
        "- Press *Compare λ = 0 and λ = 3* to train both and overlay them."
    )
