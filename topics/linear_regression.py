"""Linear regression (book sections 3.1-3.5): synthetic data, the model, squared loss and minibatch SGD."""
from dataclasses import replace

import streamlit as st

from core.experiments import linear_regression as linreg
from playground import charts, controls, phases
from playground.live import LOSS, MINIBATCH, Chart, Readout, View, live_panel

BOOK = linreg.BOOK
W1, W2 = linreg.TRUE_W
CODE = {
    "scratch": "def linreg(X, w, b):\n    return torch.matmul(X, w) + b\n\n"
               "def squared_loss(y_hat, y):\n    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2\n\n"
               "l = squared_loss(linreg(X, w, b), y).mean()  # the minibatch's mean\n"
               "l.backward()\n"
               "with torch.no_grad():  # the book's sgd\n    for param in (w, b):\n"
               "        param -= lr * param.grad",
    "concise": "net = nn.Linear(2, 1)  # weight ~ N(0, 0.01²), bias = 0\n"
               "loss = nn.MSELoss()  # mean of (y_hat - y)², no ½: halved here\n"
               "trainer = torch.optim.SGD(net.parameters(), lr=lr)\n\n"
               "l = loss(net(X), y) / 2\n"
               "trainer.zero_grad()\nl.backward()\ntrainer.step()",
}

st.title("Linear regression")
st.markdown(
    f"The book's first model: predict $y$ from two features by a weighted sum and a bias. The data are "
    f"synthetic, so the answer is known: {BOOK.num_examples} examples with $x_1, x_2 \\sim \\mathcal{{N}}(0, 1)$ "
    f"and $y = {W1:g} x_1 {W2:+g} x_2 + {linreg.TRUE_B:g} + \\epsilon$. Training starts from $\\mathbf{{w}}$ "
    "near 0 and $b = 0$; each minibatch moves $(\\mathbf{w}, b)$ one SGD step downhill on the squared loss. "
    "Below, the loss surface shows the bowl those steps walk down."
)
form = controls.Form(linreg.Config)
lr, batch_size, _ = form.draw("lr", "batch_size", "num_epochs", columns=3)
impl, noise = form.draw("impl", "noise", columns=2)
st.latex(r"\hat{y} = \mathbf{X}\mathbf{w} + b, \qquad y = \mathbf{X}\mathbf{w}^* + b^* + \epsilon, \quad "
         rf"\epsilon \sim \mathcal{{N}}(0, {noise:g}^2)")
st.latex(r"L(\mathbf{w}, b) = \frac{1}{n}\sum_{i=1}^{n} \frac{1}{2}"
         r"\left(\mathbf{w}^\top \mathbf{x}^{(i)} + b - y^{(i)}\right)^2")
st.latex(r"(\mathbf{w}, b) \leftarrow (\mathbf{w}, b) - \frac{\eta}{|\mathcal{B}|} \sum_{i \in \mathcal{B}} "
         r"\partial_{(\mathbf{w}, b)} l^{(i)}(\mathbf{w}, b), \qquad "
         rf"\eta = {lr:g}, \; |\mathcal{{B}}| = {batch_size}")
st.caption(f"The {linreg.IMPLS[impl]} implementation; the losses plotted are the book's squared loss with the ½, "
           "for both.")
st.code(CODE[impl], language="python")

refs = [(linreg.BOOK_LOSS, f"book, after 3 epochs: {linreg.BOOK_LOSS:g} (its concise code prints 0.0001: "
                           "nn.MSELoss has no ½)")]
if noise not in (0.0, BOOK.noise):
    refs.append((linreg.noise_floor(noise), f"noise floor σ²/2 = {linreg.noise_floor(noise):g}"))
params = Chart("w and b per minibatch", [("w1", "w1"), ("w2", "w2"), ("b", "b")], level="steps",
               reference=[(W1, f"true w1 = {W1:g}"), (W2, f"true w2 = {W2:g}"),
                          (linreg.TRUE_B, f"true b = {linreg.TRUE_B:g}")])


def picture(seen: dict) -> None:
    st.subheader("The loss surface and the path of SGD")
    left, right = st.columns(2)
    b_note = f"at b = {seen['b_surface']:.3g}" + ("" if seen["b_is_current"] else " (the true b)")
    fig = charts.contour(seen["log_loss"], seen["w1"], seen["w2"], title=f"log10 of the loss over (w1, w2), {b_note}",
                         x_title="w1", y_title="w2", colorbar_title="log10 loss", equal_aspect=True)
    for i, (name, run) in enumerate(seen["runs"].items()):
        path, color = run["path"], charts.PALETTE[(i + 1) % len(charts.PALETTE)]
        charts.add_line(fig, path["w1"], path["w2"], f"{name or 'SGD'} path ({run['step']} steps)",
                        color=color, width=2, max_points=10_000)
        fig.add_trace(dict(type="scatter", x=[path["w1"][0]], y=[path["w2"][0]], mode="markers", name="start",
                           marker=dict(color=color, size=9, symbol="circle-open"), showlegend=i == 0))
    fig.add_trace(dict(type="scatter", x=[W1], y=[W2], mode="markers", name=f"true w = ({W1:g}, {W2:g})",
                       marker=dict(color=charts.WHITE, size=14, symbol="star", line=dict(color=charts.INK, width=1))))
    left.plotly_chart(fig, key="linreg:surface", width="stretch")
    X, y = seen["X"], seen["y"]
    lo, hi = float(y.min()), float(y.max())
    if seen["plane"] is not None:
        data_fig = charts.contour(seen["plane"], seen["x1"], seen["x2"], zmin=lo, zmax=hi, colorscale=charts.DIVERGING,
                                  title="The data, coloured by y, over the fitted plane ŷ", x_title="x1",
                                  y_title="x2", colorbar_title="y and ŷ", equal_aspect=True)
    else:
        data_fig = charts.figure("The data, coloured by y (no finite plane to draw)", x_title="x1", y_title="x2",
                                 height=380)
    data_fig.add_trace(dict(type="scatter", x=X[:, 0], y=X[:, 1], mode="markers", name=f"{len(y)} examples",
                            marker=dict(color=y, colorscale=charts.DIVERGING, cmin=lo, cmax=hi, size=7,
                                        line=dict(color=charts.INK, width=0.5))))
    right.plotly_chart(data_fig, key="linreg:data", width="stretch")
    left.caption("Each line is one run's (w1, w2) after every minibatch, read from the step records; the circle is "
                 "where it started. The contour is drawn at the current b, so it sinks as b is learned.")
    right.caption("Where ŷ fits, each dot has the colour of the background under it; a wrong w tilts the bands.")
    for name, run in seen["runs"].items():
        if run["left_at"] is not None:
            st.warning(f"{name or 'The'} path left the picture at step {run['left_at']}: each update overshoots "
                       "the bottom of the bowl by more than it corrects. Try a smaller lr.", icon=":material/warning:")
    rows = []
    for name, run in seen["runs"].items():
        learned = [*run["w"], run["b"]]
        errors = [*run["error"]["w"], run["error"]["b"]]
        book = [*linreg.BOOK_ERROR["w"], linreg.BOOK_ERROR["b"]]
        for label, true, got, err, printed in zip(("w1", "w2", "b"), (W1, W2, linreg.TRUE_B), learned, errors, book):
            rows.append({**({"run": name} if name else {}), "parameter": label, "true": true,
                         "learned": f"{got:.4f}" if abs(got) < 1e4 else f"{got:.3g}",
                         "error (true − learned)": f"{err:+.4f}" if abs(err) < 1e4 else f"{err:+.3g}",
                         "book's error, 3 epochs": f"{printed:+.4f}"})
    st.dataframe(rows, hide_index=True)
    st.caption(f"After step {run['step']} (epoch {run['epoch']}). The book prints `error in estimating w` and "
               "`error in estimating b` the same way: true minus learned.")


seed, device = controls.seed(), controls.device()
R = live_panel(
    "linear_regression", form.config(), "linear_regression", seed=seed, device=device,
    charts_=[replace(LOSS, curves=[("train_loss", "loss on all examples")], reference=refs), MINIBATCH, params],
    readouts=[Readout("train_loss", "loss", "{:.2e}"), Readout("err_w1", "error in w1", "{:+.4f}"),
              Readout("err_w2", "error in w2", "{:+.4f}"), Readout("err_b", "error in b", "{:+.4f}")],
    label=lambda cfg: f"{cfg.impl}, lr={cfg.lr:g}, batch_size={cfg.batch_size}",
    views=[View("core.experiments.linear_regression:picture", picture, every="epoch")],
    presets=linreg.PRESETS,
)
phases.phase_panel(R, "linear_regression")
with st.expander("What to look for"):
    st.markdown(
        "- **The book's settings** (lr 0.03, batch_size 10, 3 epochs): the loss falls from about 17 to about "
        "0.00005 = σ²/2, the noise the model cannot explain; the errors in w and b are 10⁻³ or less (the book "
        "prints a few 10⁻⁴; each seed draws other data).\n"
        "- **The path** runs straight down the bowl: the two features are independent with variance 1, so the "
        "contours are circles and the gradient points at the bottom.\n"
        "- **lr**: 0.003 stops short after 3 epochs; 0.3 gets there in a few dozen steps; 1.5 zigzags across the "
        "bowl and still settles; 2 overshoots a little more than it corrects and the loss grows; 3 diverges in the "
        "first epoch (the loss becomes infinite and training stops).\n"
        "- **batch_size** 1 makes a noisier path with 1000 steps per epoch, and diverges already at lr 1; 1000 is "
        "gradient descent on all the data, 3 steps in all.\n"
        "- **Compare scratch and concise**: both runs start from the same w and see the same minibatches, so "
        "their curves and paths lie on top of each other.\n"
        "- **noise σ**: the loss cannot go below σ²/2, and the learned w and b miss by more."
    )
