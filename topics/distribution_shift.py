"""Environment and distribution shift (book section 4.7): covariate shift and its
correction by importance weights, label shift and its confusion-matrix estimate."""

import numpy as np
import streamlit as st

from core.data import shift as sd
from core.experiments import distribution_shift as ds
from playground import controls, shift_figures
from playground.i18n import t
from playground.live import LOSS, MINIBATCH, Chart, Readout, View, live_panel

BOOK = ds.BOOK

st.title(t("page.distribution_shift"))
st.markdown(t("distribution_shift.intro"))

st.header(t("distribution_shift.covariate_header"))
st.markdown(t("distribution_shift.covariate_intro"))
st.latex(r"\iint l(f(\mathbf{x}), y)\, p(y \mid \mathbf{x})\, p(\mathbf{x})\,"
         r"\frac{q(\mathbf{x})}{p(\mathbf{x})}\; d\mathbf{x}\, dy"
         r"\;\approx\; \frac{1}{n} \sum_{i=1}^{n} \beta_i\, l(f(\mathbf{x}_i), y_i),"
         r"\qquad \beta_i = \frac{q(\mathbf{x}_i)}{p(\mathbf{x}_i)}")
st.markdown(t("distribution_shift.domain_classifier"))
st.latex(r"P(z = 1 \mid \mathbf{x}) = \frac{1}{1 + \exp(-h(\mathbf{x}))}, \qquad "
         r"\beta_i = \frac{P(z=1 \mid \mathbf{x}_i)}{P(z=-1 \mid \mathbf{x}_i)} = \exp(h(\mathbf{x}_i))")

form = controls.Form(ds.Config)
shift, n, model = form.draw("shift", "num_examples", "model", columns=3)
form.draw("weighting", "lr", "num_epochs", columns=3)
cfg = form.config()
mu_t = sd.target_mean(shift)
st.markdown(t("distribution_shift.toy", source=f"{sd.SOURCE_MEAN[0]:g}, {sd.SOURCE_MEAN[1]:g}",
                 target=f"{mu_t[0]:g}, {mu_t[1]:g}", n=n))
st.latex(rf"p(y = 1 \mid \mathbf{{x}}) = \sigma\!\left({sd.SHARPNESS:g}\,\left(x_2 - \tfrac{{x_1^2}}{{2}}\right)"
         rf"\right), \qquad \mathbf{{x}} \sim \mathcal{{N}}(\boldsymbol{{\mu}}, \mathbf{{I}}),\; "
         rf"\boldsymbol{{\mu}}_{{\text{{train}}}} = ({sd.SOURCE_MEAN[0]:g}, {sd.SOURCE_MEAN[1]:g}),\; "
         rf"\boldsymbol{{\mu}}_{{\text{{test}}}} = ({mu_t[0]:g}, {mu_t[1]:g})")
st.caption(t("distribution_shift.toy_caption", batch_size=BOOK.batch_size))


@st.cache_data(max_entries=64, show_spinner=False)
def bayes(shift: float, n: int, seed: int) -> float:
    return sd.bayes_accuracy(ds.make_data(ds.Config(shift=shift, num_examples=n), seed)["X_test"])


def draw_picture(seen: dict) -> None:
    st.plotly_chart(shift_figures.scatter(seen), key="distribution_shift:scatter", width="stretch")
    epochs = {r["epoch"] for r in seen["runs"].values()}
    diverged = [name or t("distribution_shift.this_run") for name, r in seen["runs"].items() if r["p"] is None]
    st.caption(t("distribution_shift.scatter_caption", epoch=max(epochs), beta_max=f"{seen['beta_max']:.3g}",
                 n=seen["n"], ess=f"{seen['ess']:.0f}"))
    if diverged:
        st.warning(t("distribution_shift.no_boundary", runs=t("distribution_shift.list_sep").join(diverged)),
                   icon=":material/warning:")


seed, device = controls.seed(), controls.device()
best = bayes(shift, n, seed)
accuracy = Chart(t("distribution_shift.chart_accuracy"),
                 [("train_metric", t("distribution_shift.curve_train")),
                  ("test_metric", t("distribution_shift.curve_test"))],
                 reference=[(best, t("distribution_shift.ref_bayes", best=f"{best:.3f}"))])
live_panel(
    "distribution_shift", cfg, "distribution_shift", seed=seed, device=device,  # core.experiments.distribution_shift
    charts_=[accuracy, LOSS, MINIBATCH],
    readouts=[Readout("test_metric", t("distribution_shift.readout_test"), "{:.3f}"),
              Readout("train_metric", t("distribution_shift.readout_train"), "{:.3f}")],
    label=lambda c: t(f"distribution_shift.run.{c.model}") + t("distribution_shift.list_sep")
    + ("β" if c.weighting == "importance" else t("distribution_shift.no_weights")),
    views=[View("core.experiments.distribution_shift:picture", draw_picture, every="epoch")],
    presets=ds.PRESETS,
)
st.caption(t("distribution_shift.no_book_figure"))
with st.expander(t("common.what_to_look_for"), icon=":material/visibility:"):
    st.markdown(t("distribution_shift.look_covariate"))

st.subheader(t("distribution_shift.sweep_header"))
SWEEP = "distribution_shift:sweep"
if not st.session_state.get(SWEEP):
    st.button(t("distribution_shift.compute"), icon=":material/query_stats:",
              key="distribution_shift:compute", on_click=lambda: st.session_state.__setitem__(SWEEP, True),
              help=t("distribution_shift.compute_help"))


@st.cache_data(max_entries=32, show_spinner=False)
def sweep(model: str, n: int, seed: int) -> dict:
    return ds.covariate_sweep(np.arange(0.0, 3.01, 0.5), model=model, n=n, seed=seed)


if st.session_state.get(SWEEP):
    with st.spinner(t("distribution_shift.sweep_spinner")):
        out = sweep(model, n, seed)
    st.plotly_chart(shift_figures.sweep(out, t(f"distribution_shift.option.model.{model}"), shift),
                    key="distribution_shift:sweep_chart",
                    width="stretch")
    st.caption(t("distribution_shift.sweep_caption"))

st.header(t("distribution_shift.label_header"))
st.markdown(t("distribution_shift.label_intro",
              classes=r"$\mathbf{x} \mid y \sim \mathcal{N}(\mathbf{m}_y, \mathbf{I})$",
              c_ij=r"$c_{ij} = P(\hat{y} = i \mid y = j)$"))
st.latex(r"\mu(\hat{y}_i) = \sum_{j} c_{ij}\, q(y_j) \quad\Longrightarrow\quad "
         r"q(\mathbf{y}) = C^{-1} \mu(\hat{\mathbf{y}}), \qquad \beta_i = \frac{q(y_i)}{p(y_i)}")
label_form = controls.Form(ds.LabelConfig)
amount, label_n = label_form.draw("label_shift", "label_examples", columns=2)
q_true = sd.target_prior(amount)
st.caption(t("distribution_shift.label_caption", q=", ".join(f"{v:.3f}" for v in q_true),
             model=t(f"distribution_shift.option.model.{model}")))


@st.cache_data(max_entries=64, show_spinner=False)
def label_result(amount: float, label_n: int, model: str, seed: int) -> dict:
    return ds.as_lists(ds.label_shift(ds.LabelConfig(label_shift=amount, label_examples=label_n), model=model,
                                      seed=seed))


with st.spinner(t("distribution_shift.label_spinner")):
    res = label_result(amount, label_n, model, seed)
left, right = st.columns([3, 2])
classes = [t("distribution_shift.class_n", c=c) for c in range(3)]
left.plotly_chart(shift_figures.priors(classes, {
    t("distribution_shift.q_true"): res["q_true"], t("distribution_shift.q_empirical"): res["q_empirical"],
    t("distribution_shift.mu"): res["mu"], t("distribution_shift.q_hat"): res["q_hat"]}),
    key="distribution_shift:priors", width="stretch")
with right:
    a, b = st.columns(2)
    a.metric(t("distribution_shift.acc_before"), f"{res['acc_before']:.3f}")
    b.metric(t("distribution_shift.acc_after"), f"{res['acc_after']:.3f}",
             delta=f"{res['acc_after'] - res['acc_before']:+.3f}")
    a, b = st.columns(2)
    a.metric(t("distribution_shift.error_q_hat"), f"{res['error']:.3f}", help=t("distribution_shift.error_q_hat_help"))
    b.metric(t("distribution_shift.error_mu"), f"{res['error_naive']:.3f}", help=t("distribution_shift.error_mu_help"))
    st.markdown(t("distribution_shift.confusion_header"))
    st.dataframe({f"y = {j}": [f"{res['C'][i][j]:.3f}" for i in range(3)] for j in range(3)} |
                 {"": [f"ŷ = {i}" for i in range(3)]}, hide_index=True, column_order=["", "y = 0", "y = 1", "y = 2"])
    st.caption(t("distribution_shift.source_accuracy", acc=f"{res['acc_source']:.3f}"))
with st.expander(t("common.what_to_look_for"), icon=":material/visibility:", expanded=False):
    st.markdown(t("distribution_shift.look_label"))

st.header(t("distribution_shift.concept_header"))
st.markdown(t("distribution_shift.concept"))
