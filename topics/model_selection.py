"""Model selection, underfitting and overfitting (book 3.6; 4.4 in the 0.x editions): polynomial regression."""
from dataclasses import dataclass, replace

import plotly.graph_objects as go
import streamlit as st

from core.experiments import polynomial as poly
from core.experiments.schema import setting
from playground import charts, controls
from playground.live import LOSS, Chart, Readout, View, live_panel

BOOK = poly.BOOK
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass(frozen=True)
class Selection:
    k: int = setting(5, "K (folds)", min=2, max=10, help="The training set is cut into K folds in order; each "
                     "fold validates the model trained on the other K − 1. The book's K-fold example uses K = 5.")


def case(d: int) -> str:
    if d < 4:
        return f"{d} feature{'s' if d > 1 else ''}: fewer than the cubic needs, the model **underfits**"
    if d == 4:
        return "4 features: exactly the cubic the data comes from (the book's **normal** case)"
    return f"{d} features: more than the cubic needs, the model **can overfit** (the book's case is 20)"


st.title("Model selection, underfitting and overfitting")
st.markdown(
    "We care about the **generalization error** (the loss on data the model has never seen, estimated here by a "
    "test set) but can only minimise the **training error**. A model too simple for the pattern **underfits**: "
    "both errors stay high. A model flexible enough to fit the noise **overfits**: the training error falls below "
    "the test error, and more so the fewer examples it has. The book shows this with polynomials fitted to a "
    f"noisy cubic: {BOOK.n_train} training and {BOOK.n_test} test examples, labels"
)
st.latex(r"y = 5 + 1.2x - 3.4\frac{x^2}{2!} + 5.6\frac{x^3}{3!} + \epsilon, \qquad "
         r"\epsilon \sim \mathcal{N}(0, 0.1^2), \quad x \sim \mathcal{N}(0, 1)")
form = controls.Form(poly.Config)
d, n_train, _ = form.draw("num_features", "n_train", "num_epochs", columns=3)
cfg = form.config()
st.markdown(
    f"The model is linear in the features $x^i / i!$ (no bias: the feature $x^0 = 1$ plays its part), here with "
    f"{case(d)}. Dividing by $i!$ keeps large powers from producing huge gradients."
)
st.latex(r"\hat{y} = \sum_{i=0}^{" + str(d - 1) + r"} w_i \frac{x^i}{i!}, \qquad "
         r"L = \frac{1}{n}\sum_{j=1}^{n} \left(\hat{y}^{(j)} - y^{(j)}\right)^2")
st.caption(f"Trained as in the book: `nn.Linear({d}, 1, bias=False)`, MSE loss, minibatch SGD with lr {BOOK.lr:g} "
           f"and batch size min(10, n) = {poly.batch_size(cfg)}, on the first {n_train} training examples. "
           "Losses are measured on the whole training and test sets after each epoch. For 2, 4 and 20 features "
           "the grey band on the loss chart spans the final losses in the book's plots (two builds of its 0.17.5 "
           "notebook, read off the plots); the label gives the published one.")


def loss_reference(d: int) -> list[tuple]:
    refs: list[tuple] = [(poly.NOISE_STD ** 2, "σ² = 0.01: the noise, the lowest test loss to expect")]
    if d in poly.BOOK_LOSSES:
        (train, test), (train2, test2) = poly.BOOK_LOSSES[d]
        epochs = "1500 epochs" if d == 20 else "400 epochs"
        refs.append((min(train, test, train2, test2), max(train, test, train2, test2),
                     f"book 0.17.5, {d} features, {epochs}: train {train:g}, test {test:g}"))
    return refs


def legend_below(fig, height: int = 420):
    """The legend under the plot (a picture with many entries and a long title)."""
    fig.update_layout(height=height, legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0),
                      margin=dict(b=10))
    return fig


FIT_DASHES = ["solid", "dot", "dashdot", "longdash"]  # one per fit ("dash" is the true cubic's)


def picture(seen: dict) -> None:
    runs = seen["runs"]
    left, right = st.columns(2)
    fit = charts.figure("The fitted polynomials", x_title="x", y_title="y", height=380)
    fit.add_trace(dict(type="scatter", mode="markers", x=seen["test"]["x"], y=seen["test"]["y"], name="test examples",
                       marker=dict(color=charts.LIGHT, size=6, symbol="diamond-open")))
    fit.add_trace(dict(type="scatter", mode="markers", x=seen["train"]["x"], y=seen["train"]["y"],
                       name="training examples", marker=dict(color=charts.INK, size=6, symbol="circle")))
    charts.add_line(fit, seen["grid"], seen["true"], "true cubic", color=charts.MUTED, dash="dash")
    for i, (name, run) in enumerate(runs.items()):
        charts.add_line(fit, seen["grid"], run["fitted"], name or f"{len(run['w'])} features",
                        color=charts.PALETTE[i % len(charts.PALETTE)], dash=FIT_DASHES[i % len(FIT_DASHES)])
    ys = seen["train"]["y"] + seen["test"]["y"]
    pad = 0.15 * (max(ys) - min(ys))
    fit.update_yaxes(range=[min(ys) - pad, max(ys) + pad])  # an overfit curve may shoot off at the edges
    left.plotly_chart(legend_below(fit), key="model_selection:fit", width="stretch")

    width = max(4, *(len(r["w"]) for r in runs.values()))
    coef = charts.figure("Learned coefficients and the true ones", x_title="i (feature xⁱ / i!)", y_title="w_i",
                         height=380)
    idx = list(range(width))
    coef.add_trace(go.Bar(x=idx, y=seen["true_w"][:width], name="true", marker_color=charts.MUTED))
    for i, (name, run) in enumerate(runs.items()):
        coef.add_trace(go.Bar(x=list(range(len(run["w"]))), y=run["w"], name=name or "learned",
                              marker_color=charts.PALETTE[i % len(charts.PALETTE)],
                              marker_pattern_shape=charts.PATTERNS[(i + 1) % len(charts.PATTERNS)]))
    coef.update_layout(barmode="group", hovermode="closest")
    right.plotly_chart(legend_below(coef), key="model_selection:coef", width="stretch")

    rows = []
    for i in idx:
        row = {"i": i, "feature": "1" if i == 0 else "x" if i == 1 else f"x^{i}/{i}!", "true w": seen["true_w"][i]}
        for name, run in runs.items():
            label = name or "learned"
            row[label] = run["w"][i] if i < len(run["w"]) else None
            book = poly.BOOK_WEIGHTS.get(len(run["w"]))
            if book is not None:
                row[f"book 0.17.5, {len(run['w'])} features"] = book[i] if i < len(book) else None
        rows.append(row)
    with st.expander("The coefficients as numbers, beside the book's printed ones", icon=":material/table:"):
        st.dataframe(rows, hide_index=True)
        st.caption("The book prints its learned weights after training (0.17.5 edition; its data come from an "
                   "unseeded generator, so they differ a little from run to run, as yours do from seed to seed).")
    st.caption(f"After epoch {max(r['epoch'] for r in runs.values())}. Black dots: the training examples the model "
               "sees; grey: the test examples. The dashed line is the cubic without noise.")


seed, device = controls.seed(), controls.device()
live_panel(
    "model_selection", cfg, "polynomial", seed=seed, device=device,  # core.experiments.polynomial
    charts_=[replace(LOSS, reference=loss_reference(d)),
             Chart("Coefficients w₀ to w₃", [(f"w{i}", f"w{i}".translate(SUB)) for i in range(poly.TRACKED)],
                   reference=[(w, f"true w{i}".translate(SUB) + f" = {w:g}") for i, w in enumerate(poly.TRUE_W)])],
    readouts=[Readout("train_loss", "train loss", "{:.4f}"), Readout("test_loss", "test loss", "{:.4f}")],
    label=lambda c: f"{c.num_features} features" + (f", n = {c.n_train}" if c.n_train != BOOK.n_train else ""),
    views=[View("core.experiments.polynomial:picture", picture, every="epoch")],
    presets=poly.PRESETS,
)
with st.expander("What to look for"):
    st.markdown(
        "- **4 features (normal)**: both losses fall a hundredfold and stay together. w₃ is the slowest "
        "coefficient (its feature x³/3! is small for most x): after the book's 400 epochs it may still be short of "
        "5.6, as in the book's own printout (0.17.5: 4.95, 1.37, −3.29, 5.06; losses 0.023 and 0.048). Set 2000 "
        "epochs, or press *+epochs* a few times: the weights reach 5, 1.2, −3.4, 5.6 and both losses the noise "
        "level 0.01.\n"
        "- **2 features (underfit)**: a line cannot bend. Both losses level off high (the book: train 2.5-2.9, "
        "test 11-22) at what the best possible line reaches; more epochs do not help.\n"
        "- **20 features (overfit)**: the training loss ends below the test loss. With 100 examples the gap is "
        "small, because the features x^i/i! of high degree are tiny for most x and their weights barely move (the "
        "book, after 1500 epochs: train 0.013, test 0.014; another build 0.009 and 0.082). With 10 examples the "
        "training loss falls far below the test loss.\n"
        "- Fewer examples also mean fewer minibatches per epoch (n / 10), so the same epochs train less.\n"
        "- *Three cases* trains the three side by side from the same seed and data."
    )

st.header("Choosing the number of features")
st.markdown(
    "Model selection picks the complexity by the error on data not used for training. The **validation curve** "
    "trains the model above (same data, seed and epochs) for every number of features and plots the final "
    "training and test losses. **K-fold cross-validation** needs no test set: it splits the training set into K "
    "folds, trains on K − 1 and validates on the one left out, and averages the K validation losses."
)
(k,) = controls.Form(Selection).draw("k")
CURVES = "model_selection:curves"
if not st.session_state.get(CURVES):
    st.button("Compute the validation curve and K-fold cross-validation", icon=":material/query_stats:",
              key="model_selection:compute", on_click=lambda: st.session_state.__setitem__(CURVES, True),
              help=f"Trains {2 * BOOK.max_degree} to {11 * BOOK.max_degree} small models here; a few seconds at "
                   "most. Once shown, they follow the settings above.")


@st.cache_data(max_entries=64, show_spinner=False)
def curves(n_train: int, num_epochs: int, seed: int, k: int) -> tuple[dict, dict]:
    cfg_ = poly.Config(n_train=n_train, num_epochs=num_epochs)
    return poly.validation_curve(cfg_, seed), poly.k_fold(cfg_, seed, k)


if st.session_state.get(CURVES):
    with st.spinner(f"Training {BOOK.max_degree} models, then {BOOK.max_degree} × {k} for the folds..."):
        vc, kf = curves(n_train, cfg.num_epochs, seed, k)
    ds = vc["num_features"]
    left, right = st.columns(2)
    fig = charts.figure(f"Validation curve: {n_train} examples, {cfg.num_epochs} epochs",
                        x_title="number of features", y_title="final loss", log_y=True, height=360)
    charts.add_line(fig, ds, vc["train_loss"], "train", color=charts.PALETTE[0], mode="lines+markers")
    charts.add_line(fig, ds, vc["test_loss"], "test", color=charts.PALETTE[1], mode="lines+markers",
                    dash="dash", symbol=charts.MARKERS[1])
    fig.add_vline(x=4, line_dash="dot", line_color=charts.MUTED, annotation_text="the true cubic")
    left.plotly_chart(legend_below(fig), key="model_selection:curve", width="stretch")

    fold = charts.figure(f"{k}-fold cross-validation ({kf['fold_size']} examples a fold)",
                         x_title="number of features", y_title="validation loss", log_y=True, height=360)
    for i in range(k):
        fold.add_trace(dict(type="scatter", mode="markers", x=ds, y=[v[i] for v in kf["valid_loss"]],
                            name=f"fold {i + 1}", marker=dict(color=charts.FADED[i % len(charts.FADED)], size=7,
                                                                symbol=charts.MARKERS[i % len(charts.MARKERS)])))
    charts.add_line(fold, ds, kf["mean_valid_loss"], "mean of the folds", color=charts.PALETTE[1],
                    mode="lines+markers")
    charts.add_line(fold, ds, kf["mean_train_loss"], "mean training loss", color=charts.PALETTE[0], dash="dot")
    right.plotly_chart(legend_below(fold), key="model_selection:kfold", width="stretch")

    best, test = kf["best"], vc["test_loss"]
    st.markdown(
        f"Lowest test loss: **{vc['best']} features** ({test[vc['best'] - 1]:.4f}); the true cubic's 4 features "
        f"reach {test[3]:.4f}, and the best model with fewer features {min(test[:3]):.3g}. "
        f"K-fold picks **{best} features** (mean validation loss {kf['mean_valid_loss'][best - 1]:.4f}) without "
        f"looking at the test set; that model's test loss is {test[best - 1]:.4f}."
    )
    st.caption("Every model with 4 features or more can represent the cubic, so their losses lie close together; "
               "which of them comes out lowest depends on the draw of the data and on how far training has "
               "converged (after 400 epochs w₃ often has not, and extra features can make up a little of it). "
               "Trained to convergence (2000 epochs) the minimum sits at or just above 4.")
    with st.expander(f"The {k} folds' validation losses", icon=":material/table:"):
        st.dataframe([{"features": dd, **{f"fold {i + 1}": v for i, v in enumerate(kf["valid_loss"][j])},
                       "mean": kf["mean_valid_loss"][j], "mean train": kf["mean_train_loss"][j]}
                      for j, dd in enumerate(ds)], hide_index=True)
        if n_train % k:
            st.caption(f"{n_train} examples do not split evenly into {k} folds: as in the book's get_k_fold_data, "
                       f"the last {n_train % k} are left out.")
