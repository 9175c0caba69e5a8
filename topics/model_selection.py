"""Model selection, underfitting and overfitting (book 3.6; 4.4 in the 0.x editions): polynomial regression."""
from dataclasses import dataclass, replace

import plotly.graph_objects as go
import streamlit as st

from core.experiments import polynomial as poly
from core.experiments.schema import setting
from playground import charts, controls
from playground.i18n import t
from playground.live import LOSS, Chart, Readout, View, live_panel

BOOK = poly.BOOK
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass(frozen=True)
class Selection:
    k: int = setting(5, "K (folds)", min=2, max=10, help="The training set is cut into K folds in order; each "
                     "fold validates the model trained on the other K − 1. The book's K-fold example uses K = 5.")


def case(d: int) -> str:
    if d < 4:
        return t("model_selection.case_under", d=d) if d > 1 else t("model_selection.case_under_one")
    if d == 4:
        return t("model_selection.case_normal")
    return t("model_selection.case_over", d=d)


st.title(t("page.model_selection"))
st.markdown(t("model_selection.intro", n_train=BOOK.n_train, n_test=BOOK.n_test))
st.latex(r"y = 5 + 1.2x - 3.4\frac{x^2}{2!} + 5.6\frac{x^3}{3!} + \epsilon, \qquad "
         r"\epsilon \sim \mathcal{N}(0, 0.1^2), \quad x \sim \mathcal{N}(0, 1)")
form = controls.Form(poly.Config)
d, n_train, _ = form.draw("num_features", "n_train", "num_epochs", columns=3)
cfg = form.config()
st.markdown(t("model_selection.model", case=case(d)))
st.latex(r"\hat{y} = \sum_{i=0}^{" + str(d - 1) + r"} w_i \frac{x^i}{i!}, \qquad "
         r"L = \frac{1}{n}\sum_{j=1}^{n} \left(\hat{y}^{(j)} - y^{(j)}\right)^2")
st.caption(t("model_selection.trained_caption", d=d, lr=f"{BOOK.lr:g}", batch_size=poly.batch_size(cfg),
             n_train=n_train))


def loss_reference(d: int) -> list[tuple]:
    refs: list[tuple] = [(poly.NOISE_STD ** 2, t("model_selection.ref_noise"))]
    if d in poly.BOOK_LOSSES:
        (train, test), (train2, test2) = poly.BOOK_LOSSES[d]
        refs.append((min(train, test, train2, test2), max(train, test, train2, test2),
                     t("model_selection.ref_book", d=d, epochs=1500 if d == 20 else 400, train=f"{train:g}",
                       test=f"{test:g}")))
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
    fit = charts.figure(t("model_selection.fit_title"), x_title="x", y_title="y", height=380)
    fit.add_trace(dict(type="scatter", mode="markers", x=seen["test"]["x"], y=seen["test"]["y"],
                       name=t("model_selection.test_examples"),
                       marker=dict(color=charts.LIGHT, size=6, symbol="diamond-open")))
    fit.add_trace(dict(type="scatter", mode="markers", x=seen["train"]["x"], y=seen["train"]["y"],
                       name=t("model_selection.training_examples"),
                       marker=dict(color=charts.INK, size=6, symbol="circle")))
    charts.add_line(fit, seen["grid"], seen["true"], t("model_selection.true_cubic"), color=charts.MUTED, dash="dash")
    for i, (name, run) in enumerate(runs.items()):
        charts.add_line(fit, seen["grid"], run["fitted"], name or t("model_selection.n_features", n=len(run["w"])),
                        color=charts.PALETTE[i % len(charts.PALETTE)], dash=FIT_DASHES[i % len(FIT_DASHES)])
    ys = seen["train"]["y"] + seen["test"]["y"]
    pad = 0.15 * (max(ys) - min(ys))
    fit.update_yaxes(range=[min(ys) - pad, max(ys) + pad])  # an overfit curve may shoot off at the edges
    left.plotly_chart(legend_below(fit), key="model_selection:fit", width="stretch")

    width = max(4, *(len(r["w"]) for r in runs.values()))
    coef = charts.figure(t("model_selection.coef_title"), x_title=t("model_selection.coef_x"), y_title="w_i",
                         height=380)
    idx = list(range(width))
    coef.add_trace(go.Bar(x=idx, y=seen["true_w"][:width], name=t("model_selection.true"), marker_color=charts.MUTED))
    for i, (name, run) in enumerate(runs.items()):
        coef.add_trace(go.Bar(x=list(range(len(run["w"]))), y=run["w"], name=name or t("model_selection.learned"),
                              marker_color=charts.PALETTE[i % len(charts.PALETTE)],
                              marker_pattern_shape=charts.PATTERNS[(i + 1) % len(charts.PATTERNS)]))
    coef.update_layout(barmode="group", hovermode="closest")
    right.plotly_chart(legend_below(coef), key="model_selection:coef", width="stretch")

    rows = []
    for i in idx:
        row = {"i": i, t("model_selection.column_feature"): "1" if i == 0 else "x" if i == 1 else f"x^{i}/{i}!",
               t("model_selection.column_true_w"): seen["true_w"][i]}
        for name, run in runs.items():
            label = name or t("model_selection.learned")
            row[label] = run["w"][i] if i < len(run["w"]) else None
            book = poly.BOOK_WEIGHTS.get(len(run["w"]))
            if book is not None:
                row[t("model_selection.column_book", n=len(run["w"]))] = book[i] if i < len(book) else None
        rows.append(row)
    with st.expander(t("model_selection.coefficients"), icon=":material/table:"):
        st.dataframe(rows, hide_index=True)
        st.caption(t("model_selection.coefficients_caption"))
    st.caption(t("model_selection.after_epoch", epoch=max(r["epoch"] for r in runs.values())))


seed, device = controls.seed(), controls.device()
live_panel(
    "model_selection", cfg, "polynomial", seed=seed, device=device,  # core.experiments.polynomial
    charts_=[replace(LOSS, reference=loss_reference(d)),
             Chart(t("model_selection.chart_coefficients"),
                   [(f"w{i}", f"w{i}".translate(SUB)) for i in range(poly.TRACKED)],
                   reference=[(w, t("common.true_value", name=f"w{i}".translate(SUB), value=f"{w:g}"))
                              for i, w in enumerate(poly.TRUE_W)])],
    readouts=[Readout("train_loss", t("common.train_loss"), "{:.4f}"),
              Readout("test_loss", t("common.test_loss"), "{:.4f}")],
    label=lambda c: t("model_selection.n_features", n=c.num_features)
    + (t("model_selection.run_n", n=c.n_train) if c.n_train != BOOK.n_train else ""),
    views=[View("core.experiments.polynomial:picture", picture, every="epoch")],
    presets=poly.PRESETS,
)
with st.expander(t("common.what_to_look_for")):
    st.markdown(t("model_selection.look"))

st.header(t("model_selection.choosing"))
st.markdown(t("model_selection.choosing_text"))
(k,) = controls.Form(Selection).draw("k")
CURVES = "model_selection:curves"
if not st.session_state.get(CURVES):
    st.button(t("model_selection.compute"), icon=":material/query_stats:",
              key="model_selection:compute", on_click=lambda: st.session_state.__setitem__(CURVES, True),
              help=t("model_selection.compute_help", fewest=2 * BOOK.max_degree, most=11 * BOOK.max_degree))


@st.cache_data(max_entries=64, show_spinner=False)
def curves(n_train: int, num_epochs: int, seed: int, k: int) -> tuple[dict, dict]:
    cfg_ = poly.Config(n_train=n_train, num_epochs=num_epochs)
    return poly.validation_curve(cfg_, seed), poly.k_fold(cfg_, seed, k)


if st.session_state.get(CURVES):
    with st.spinner(t("model_selection.computing", n=BOOK.max_degree, k=k)):
        vc, kf = curves(n_train, cfg.num_epochs, seed, k)
    ds = vc["num_features"]
    left, right = st.columns(2)
    fig = charts.figure(t("model_selection.curve_title", n_train=n_train, num_epochs=cfg.num_epochs),
                        x_title=t("model_selection.number_of_features"), y_title=t("model_selection.final_loss"),
                        log_y=True, height=360)
    charts.add_line(fig, ds, vc["train_loss"], t("model_selection.train"), color=charts.PALETTE[0],
                    mode="lines+markers")
    charts.add_line(fig, ds, vc["test_loss"], t("model_selection.test"), color=charts.PALETTE[1],
                    mode="lines+markers", dash="dash", symbol=charts.MARKERS[1])
    fig.add_vline(x=4, line_dash="dot", line_color=charts.MUTED, annotation_text=t("model_selection.the_true_cubic"))
    left.plotly_chart(legend_below(fig), key="model_selection:curve", width="stretch")

    fold = charts.figure(t("model_selection.kfold_title", k=k, fold_size=kf["fold_size"]),
                         x_title=t("model_selection.number_of_features"), y_title=t("model_selection.validation_loss"),
                         log_y=True, height=360)
    for i in range(k):
        fold.add_trace(dict(type="scatter", mode="markers", x=ds, y=[v[i] for v in kf["valid_loss"]],
                            name=t("model_selection.fold", i=i + 1),
                            marker=dict(color=charts.FADED[i % len(charts.FADED)], size=7,
                                        symbol=charts.MARKERS[i % len(charts.MARKERS)])))
    charts.add_line(fold, ds, kf["mean_valid_loss"], t("model_selection.mean_of_folds"), color=charts.PALETTE[1],
                    mode="lines+markers")
    charts.add_line(fold, ds, kf["mean_train_loss"], t("model_selection.mean_training_loss"),
                    color=charts.PALETTE[0], dash="dot")
    right.plotly_chart(legend_below(fold), key="model_selection:kfold", width="stretch")

    best, test = kf["best"], vc["test_loss"]
    st.markdown(t("model_selection.result", best=vc["best"], best_test=f"{test[vc['best'] - 1]:.4f}",
                  cubic_test=f"{test[3]:.4f}", fewer_test=f"{min(test[:3]):.3g}", picked=best,
                  picked_valid=f"{kf['mean_valid_loss'][best - 1]:.4f}", picked_test=f"{test[best - 1]:.4f}"))
    st.caption(t("model_selection.result_caption"))
    with st.expander(t("model_selection.folds_table", k=k), icon=":material/table:"):
        st.dataframe([{t("model_selection.column_features"): dd,
                       **{t("model_selection.fold", i=i + 1): v for i, v in enumerate(kf["valid_loss"][j])},
                       t("model_selection.column_mean"): kf["mean_valid_loss"][j],
                       t("model_selection.column_mean_train"): kf["mean_train_loss"][j]}
                      for j, dd in enumerate(ds)], hide_index=True)
        if n_train % k:
            st.caption(t("model_selection.uneven", n_train=n_train, k=k, left=n_train % k))
