"""Linear regression (book sections 3.1-3.5): synthetic data, the model, squared loss and minibatch SGD."""
from dataclasses import replace

import streamlit as st

from core.experiments import linear_regression as linreg
from playground import charts, controls, phases
from playground.i18n import t
from playground.live import LOSS, MINIBATCH, Chart, Readout, View, live_panel
from playground.messages import literal

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

st.title(t("page.linear_regression"))
st.markdown(t("linear_regression.intro", num_examples=BOOK.num_examples, w1=f"{W1:g}", w2=f"{W2:+g}",
              b=f"{linreg.TRUE_B:g}"))
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
st.caption(t("linear_regression.impl_caption", impl=t(f"linear_regression.option.impl.{impl}")))
st.code(CODE[impl], language="python")

refs = [(linreg.BOOK_LOSS, t("linear_regression.ref_book", loss=f"{linreg.BOOK_LOSS:g}"))]
if noise not in (0.0, BOOK.noise):
    refs.append((linreg.noise_floor(noise), t("linear_regression.ref_noise", floor=f"{linreg.noise_floor(noise):g}")))
params = Chart(t("linear_regression.chart_params"), [("w1", "w1"), ("w2", "w2"), ("b", "b")], level="steps",
               reference=[(W1, t("common.true_value", name="w1", value=f"{W1:g}")),
                          (W2, t("common.true_value", name="w2", value=f"{W2:g}")),
                          (linreg.TRUE_B, t("common.true_value", name="b", value=f"{linreg.TRUE_B:g}"))])


def picture(seen: dict) -> None:
    st.subheader(t("linear_regression.surface"))
    left, right = st.columns(2)
    b_note = (t("linear_regression.at_b", b=f"{seen['b_surface']:.3g}")
              + ("" if seen["b_is_current"] else t("linear_regression.the_true_b")))
    fig = charts.contour(seen["log_loss"], seen["w1"], seen["w2"],
                         title=t("linear_regression.surface_title", where=b_note), x_title="w1", y_title="w2",
                         colorbar_title=t("linear_regression.log_loss"), equal_aspect=True)
    for i, (name, run) in enumerate(seen["runs"].items()):
        path, color = run["path"], charts.PALETTE[(i + 1) % len(charts.PALETTE)]
        charts.add_line(fig, path["w1"], path["w2"],
                        t("linear_regression.path", name=name or t("linear_regression.sgd"), steps=run["step"]),
                        color=color, width=2, max_points=10_000)
        fig.add_trace(dict(type="scatter", x=[path["w1"][0]], y=[path["w2"][0]], mode="markers",
                           name=t("linear_regression.start"),
                           marker=dict(color=color, size=9, symbol="circle-open"), showlegend=i == 0))
    fig.add_trace(dict(type="scatter", x=[W1], y=[W2], mode="markers",
                       name=t("linear_regression.true_w", w1=f"{W1:g}", w2=f"{W2:g}"),
                       marker=dict(color=charts.WHITE, size=14, symbol="star", line=dict(color=charts.INK, width=1))))
    left.plotly_chart(fig, key="linreg:surface", width="stretch")
    X, y = seen["X"], seen["y"]
    lo, hi = float(y.min()), float(y.max())
    if seen["plane"] is not None:
        data_fig = charts.contour(seen["plane"], seen["x1"], seen["x2"], zmin=lo, zmax=hi, colorscale=charts.DIVERGING,
                                  title=t("linear_regression.data_title"), x_title="x1", y_title="x2",
                                  colorbar_title=t("linear_regression.y_and_y_hat"), equal_aspect=True)
    else:
        data_fig = charts.figure(t("linear_regression.data_title_no_plane"), x_title="x1", y_title="x2", height=380)
    data_fig.add_trace(dict(type="scatter", x=X[:, 0], y=X[:, 1], mode="markers",
                            name=t("linear_regression.examples", n=len(y)),
                            marker=dict(color=y, colorscale=charts.DIVERGING, cmin=lo, cmax=hi, size=7,
                                        line=dict(color=charts.INK, width=0.5))))
    right.plotly_chart(data_fig, key="linreg:data", width="stretch")
    left.caption(t("linear_regression.surface_caption"))
    right.caption(t("linear_regression.data_caption"))
    for name, run in seen["runs"].items():
        if run["left_at"] is not None:
            st.warning(t("linear_regression.path_left_named", name=literal(name), step=run["left_at"]) if name
                       else t("linear_regression.path_left", step=run["left_at"]), icon=":material/warning:")
    rows = []
    for name, run in seen["runs"].items():
        learned = [*run["w"], run["b"]]
        errors = [*run["error"]["w"], run["error"]["b"]]
        book = [*linreg.BOOK_ERROR["w"], linreg.BOOK_ERROR["b"]]
        for label, true, got, err, printed in zip(("w1", "w2", "b"), (W1, W2, linreg.TRUE_B), learned, errors, book):
            rows.append({**({t("linear_regression.column_run"): name} if name else {}),
                         t("linear_regression.column_parameter"): label, t("linear_regression.column_true"): true,
                         t("linear_regression.column_learned"): f"{got:.4f}" if abs(got) < 1e4 else f"{got:.3g}",
                         t("linear_regression.column_error"): f"{err:+.4f}" if abs(err) < 1e4 else f"{err:+.3g}",
                         t("linear_regression.column_book_error"): f"{printed:+.4f}"})
    st.dataframe(rows, hide_index=True)
    st.caption(t("linear_regression.table_caption", step=run["step"], epoch=run["epoch"]))


seed, device = controls.seed(), controls.device()
R = live_panel(
    "linear_regression", form.config(), "linear_regression", seed=seed, device=device,
    charts_=[replace(LOSS, curves=[("train_loss", t("linear_regression.curve_loss"))], reference=refs), MINIBATCH,
             params],
    readouts=[Readout("train_loss", t("linear_regression.readout_loss"), "{:.2e}")]
    + [Readout(f"err_{p}", t("linear_regression.readout_error", name=p), "{:+.4f}") for p in ("w1", "w2", "b")],
    label=lambda cfg: f"{cfg.impl}, lr={cfg.lr:g}, batch_size={cfg.batch_size}",
    views=[View("core.experiments.linear_regression:picture", picture, every="epoch")],
    presets=linreg.PRESETS,
)
phases.phase_panel(R, "linear_regression")
with st.expander(t("common.what_to_look_for")):
    st.markdown(t("linear_regression.look"))
