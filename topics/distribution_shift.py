"""Environment and distribution shift (book section 4.7): covariate shift and its
correction by importance weights, label shift and its confusion-matrix estimate."""

import numpy as np
import streamlit as st

from core.data import shift as sd
from core.experiments import distribution_shift as ds
from playground import controls, shift_figures
from playground.live import LOSS, MINIBATCH, Chart, Readout, View, live_panel

BOOK = ds.BOOK
CLASSES = ("class 0", "class 1", "class 2")

st.title("Environment and distribution shift")
st.markdown(
    "A classifier is trained on examples from one distribution, the **source** p(x, y), and then used on data "
    "from another, the **target** q(x, y): the training data came from one hospital and the patients come from "
    "another, the photos were taken in summer and the camera now sees snow. Nothing can be done if the two are "
    "unrelated, but the book's section 4.7 names structured kinds of shift that can be detected and corrected "
    "from unlabeled target data. **Covariate shift**: the inputs move, p(x) becomes q(x), while the labelling "
    "p(y | x) stays the same. **Label shift**: the class frequencies change, p(y) becomes q(y), while each "
    "class still looks the same, p(x | y). **Concept shift**: the labelling itself changes (further below)."
)

st.header("Covariate shift")
st.markdown(
    "The risk we want is an average over the target's inputs, but the training examples come from the source. "
    "Since p(y | x) is shared, weighing each training example by how much more likely its input is under the "
    "target than under the source turns the source average into a target average:"
)
st.latex(r"\iint l(f(\mathbf{x}), y)\, p(y \mid \mathbf{x})\, p(\mathbf{x})\,"
         r"\frac{q(\mathbf{x})}{p(\mathbf{x})}\; d\mathbf{x}\, dy"
         r"\;\approx\; \frac{1}{n} \sum_{i=1}^{n} \beta_i\, l(f(\mathbf{x}_i), y_i),"
         r"\qquad \beta_i = \frac{q(\mathbf{x}_i)}{p(\mathbf{x}_i)}")
st.markdown(
    "The densities are unknown, but their ratio is what a classifier telling the two apart learns. The book's "
    "algorithm: label source inputs z = −1 and (unlabeled) target inputs z = 1, fit a **logistic regression** "
    "h(x) to tell them apart, and use its odds as the weight:"
)
st.latex(r"P(z = 1 \mid \mathbf{x}) = \frac{1}{1 + \exp(-h(\mathbf{x}))}, \qquad "
         r"\beta_i = \frac{P(z=1 \mid \mathbf{x}_i)}{P(z=-1 \mid \mathbf{x}_i)} = \exp(h(\mathbf{x}_i))")

form = controls.Form(ds.Config)
shift, n, model = form.draw("shift", "num_examples", "model", columns=3)
form.draw("weighting", "lr", "num_epochs", columns=3)
cfg = form.config()
mu_t = sd.target_mean(shift)
st.markdown(
    f"The toy: inputs x ∈ ℝ² from Gaussians with identity covariance, the training inputs around "
    f"({sd.SOURCE_MEAN[0]:g}, {sd.SOURCE_MEAN[1]:g}), the test inputs around ({mu_t[0]:g}, {mu_t[1]:g}), "
    f"{n} of each. Both are labelled by the same rule, class 1 above the parabola x₂ = x₁²/2 (with some noise "
    "near it):"
)
st.latex(rf"p(y = 1 \mid \mathbf{{x}}) = \sigma\!\left({sd.SHARPNESS:g}\,\left(x_2 - \tfrac{{x_1^2}}{{2}}\right)"
         rf"\right), \qquad \mathbf{{x}} \sim \mathcal{{N}}(\boldsymbol{{\mu}}, \mathbf{{I}}),\; "
         rf"\boldsymbol{{\mu}}_{{\text{{train}}}} = ({sd.SOURCE_MEAN[0]:g}, {sd.SOURCE_MEAN[1]:g}),\; "
         rf"\boldsymbol{{\mu}}_{{\text{{test}}}} = ({mu_t[0]:g}, {mu_t[1]:g})")
st.caption(
    "With equal covariances the true ratio is log-linear, log q(x)/p(x) = (μ_test − μ_train)·x + const, so the "
    "logistic regression h can represent it exactly. The book assumes as many target as source inputs; with other "
    "sizes the odds carry their ratio, so β = exp(h(x)) · n_train / n_test. For training the weights are scaled to "
    "mean 1 (the same minimiser; lr keeps its meaning). The classifier is trained as the book trains softmax "
    f"regression: minibatch SGD on the cross-entropy, batch size {BOOK.batch_size}."
)


@st.cache_data(max_entries=64, show_spinner=False)
def bayes(shift: float, n: int, seed: int) -> float:
    return sd.bayes_accuracy(ds.make_data(ds.Config(shift=shift, num_examples=n), seed)["X_test"])


def draw_picture(seen: dict) -> None:
    st.plotly_chart(shift_figures.scatter(seen), key="distribution_shift:scatter", width="stretch")
    epochs = {r["epoch"] for r in seen["runs"].values()}
    diverged = [name or "this run" for name, r in seen["runs"].items() if r["p"] is None]
    st.caption(
        f"After epoch {max(epochs)}. Dots: training inputs, their area proportional to β (the weight the corrected "
        f"loss gives them; the largest is {seen['beta_max']:.3g}). Crosses: test inputs. Training examples far from "
        "the test inputs get tiny weights; the corrected classifier effectively learns from those nearest to the "
        f"test data. The {seen['n']} weighted examples are worth an **effective sample size** of "
        f"(Σβ)²/Σβ² = {seen['ess']:.0f}: the stronger the shift, the fewer examples carry the fit."
    )
    if diverged:
        st.warning(f"No boundary to draw for {', '.join(diverged)}: its weights are no longer finite (the loss "
                   "diverged). Try a smaller learning rate.", icon=":material/warning:")


seed, device = controls.seed(), controls.device()
best = bayes(shift, n, seed)
accuracy = Chart("Accuracy", [("train_metric", "train (source)"), ("test_metric", "test (shifted target)")],
                 reference=[(best, f"best possible on this test set (Bayes), {best:.3f}")])
live_panel(
    "distribution_shift", cfg, "distribution_shift", seed=seed, device=device,  # core.experiments.distribution_shift
    charts_=[accuracy, LOSS, MINIBATCH],
    readouts=[Readout("test_metric", "test accuracy (target)", "{:.3f}"),
              Readout("train_metric", "train accuracy (source)", "{:.3f}")],
    label=lambda c: f"{ds.MODELS[c.model].split(' (')[0]}, {'β' if c.weighting == 'importance' else 'no weights'}",
    views=[View("core.experiments.distribution_shift:picture", draw_picture, every="epoch")],
    presets=ds.PRESETS,
)
st.caption("Section 4.7 has no code and prints no results, so there is no book figure to match: the dashed line "
           "on the accuracy chart is the best accuracy any classifier can reach on these test inputs (the Bayes "
           "classifier, which knows p(y | x)). *Uncorrected vs corrected* trains both from the same seed and data.")
with st.expander("What to look for", icon=":material/visibility:"):
    st.markdown(
        "- **Logistic regression, no weights, shift 2**: the training accuracy is fine, the test accuracy sits "
        "near a coin toss (about 0.5 at seed 0). A straight line fits the part of the parabola where the training "
        "data lies, sloping the wrong way for the test data.\n"
        "- **Uncorrected vs corrected**: with β the test accuracy climbs to about 0.86 (Bayes: 0.91) while the "
        "training accuracy drops: the corrected model stops caring about training examples that look nothing "
        "like the test data. The learned boundary turns towards the test inputs' part of the parabola.\n"
        "- **Shift 0**: β ≈ 1 everywhere and both runs agree. The more shift, the fewer examples carry the "
        "weighted fit (the effective sample size under the picture) and the noisier the corrected run.\n"
        "- **Small MLP**: a model that can bend follows the parabola wherever it has data, so covariate shift "
        "hurts it far less, and β helps little or even hurts (at shift 3 the sweep below, seed 0: 0.93 without "
        "weights, 0.88 with): the weighted fit rests on the few examples with large β. "
        "Trained live by SGD the weighted MLP can swing "
        "from epoch to epoch (a minibatch holding one heavy example pulls hard; see the minibatch loss): "
        "*Both models* at shift 3, seed 0, ends at 0.80 without weights and 0.55 with them. Correction matters "
        "most for a model that cannot fit p(y | x) everywhere at once.\n"
        "- The weights only help where the source has data: at shift 3 the test inputs lie where few training "
        "inputs ever fall (the book's condition: p(x) > 0 wherever q(x) > 0)."
    )

st.subheader("Accuracy against the amount of shift")
SWEEP = "distribution_shift:sweep"
if not st.session_state.get(SWEEP):
    st.button("Compute accuracy for every amount of shift", icon=":material/query_stats:",
              key="distribution_shift:compute", on_click=lambda: st.session_state.__setitem__(SWEEP, True),
              help="Fits the uncorrected and the corrected classifier to convergence for shifts 0 to 3 "
                   "(L-BFGS on the whole training set, here on the server). Logistic regression takes about a "
                   "second; the MLP longer.")


@st.cache_data(max_entries=32, show_spinner=False)
def sweep(model: str, n: int, seed: int) -> dict:
    return ds.covariate_sweep(np.arange(0.0, 3.01, 0.5), model=model, n=n, seed=seed)


if st.session_state.get(SWEEP):
    with st.spinner("Fitting two classifiers for each of 7 amounts of shift..."):
        out = sweep(model, n, seed)
    st.plotly_chart(shift_figures.sweep(out, ds.MODELS[model], shift), key="distribution_shift:sweep_chart",
                    width="stretch")
    st.caption("Each point is a classifier fitted to convergence on this page's seed and number of examples "
               "(the minimiser the live run's SGD approaches). The gap between the blue line and the dashed one "
               "is what covariate shift costs; the orange line is what importance weighting wins back.")

st.header("Label shift")
st.markdown(
    "Now the classes change frequency while each class looks the same: p(x | y) is fixed and p(y) becomes q(y) "
    "(the book's example: a disease becomes more common, its symptoms are the same). Three classes, "
    "$\\mathbf{x} \\mid y \\sim \\mathcal{N}(\\mathbf{m}_y, \\mathbf{I})$ with the class means on a triangle; "
    "the source has equal classes, the target leans "
    "towards class 2. The book's estimate of q(y) needs only the classifier's **confusion matrix** on source "
    "validation data, $c_{ij} = P(\\hat{y} = i \\mid y = j)$, and the mean of its predictions on the unlabeled "
    "target inputs, "
    "μ(ŷ): since p(ŷ | y) is the same in both domains,"
)
st.latex(r"\mu(\hat{y}_i) = \sum_{j} c_{ij}\, q(y_j) \quad\Longrightarrow\quad "
         r"q(\mathbf{y}) = C^{-1} \mu(\hat{\mathbf{y}}), \qquad \beta_i = \frac{q(y_i)}{p(y_i)}")
label_form = controls.Form(ds.LabelConfig)
amount, label_n = label_form.draw("label_shift", "label_examples", columns=2)
q_true = sd.target_prior(amount)
st.caption(f"Target label distribution q(y) = ({', '.join(f'{v:.3f}' for v in q_true)}); source p(y) uniform. "
           f"Model: {ds.MODELS[model]} (the model chosen above), fitted to convergence; then refitted with the "
           "weights βᵢ = q̂(yᵢ)/p(yᵢ) for the corrected accuracy. The estimate q̂ solves Cq = μ by least "
           "squares, negative entries clipped to 0 and renormalised.")


@st.cache_data(max_entries=64, show_spinner=False)
def label_result(amount: float, label_n: int, model: str, seed: int) -> dict:
    return ds.as_lists(ds.label_shift(ds.LabelConfig(label_shift=amount, label_examples=label_n), model=model,
                                      seed=seed))


with st.spinner("Fitting the classifier, its confusion matrix and the corrected classifier..."):
    res = label_result(amount, label_n, model, seed)
left, right = st.columns([3, 2])
left.plotly_chart(shift_figures.priors(CLASSES, {
    "true q(y)": res["q_true"], "the target's label frequencies": res["q_empirical"],
    "predicted frequencies μ(ŷ), uncorrected": res["mu"], "estimate q̂ = C⁻¹μ": res["q_hat"]}),
    key="distribution_shift:priors", width="stretch")
with right:
    a, b = st.columns(2)
    a.metric("accuracy on the target, before", f"{res['acc_before']:.3f}")
    b.metric("after (β = q̂/p)", f"{res['acc_after']:.3f}", delta=f"{res['acc_after'] - res['acc_before']:+.3f}")
    a, b = st.columns(2)
    a.metric("error of q̂", f"{res['error']:.3f}", help="Total variation distance to the target's actual label "
             "frequencies: half the sum of the absolute differences.")
    b.metric("error of μ(ŷ)", f"{res['error_naive']:.3f}", help="The same for the predicted frequencies taken as "
             "they are, without the confusion matrix.")
    st.markdown("**Confusion matrix C** (rows: predicted, columns: true; on the source validation set)")
    st.dataframe({f"y = {j}": [f"{res['C'][i][j]:.3f}" for i in range(3)] for j in range(3)} |
                 {"": [f"ŷ = {i}" for i in range(3)]}, hide_index=True, column_order=["", "y = 0", "y = 1", "y = 2"])
    st.caption(f"Source validation accuracy {res['acc_source']:.3f}.")
with st.expander("What to look for", icon=":material/visibility:", expanded=False):
    st.markdown(
        "- The classifier's predicted frequencies μ(ŷ) are pulled towards the source's equal classes: its "
        "mistakes spread the frequent class over the others. C⁻¹ undoes exactly that, and q̂ lands on the target's "
        "frequencies (with 5000 examples within a percent or two).\n"
        "- Retraining with β = q̂/p makes the classifier expect the frequent class more often: the accuracy on the "
        "target rises a few points. With amount 0, q̂ is uniform and nothing changes.\n"
        "- Fewer examples make C and μ noisier: at 100 examples q̂ is off by several points; least squares and "
        "clipping keep it a distribution."
    )

st.header("Concept shift and other kinds of shift")
st.markdown(
    "**Concept shift** changes the labelling itself, p(y | x): what counts as a soft drink is called *soda*, "
    "*pop* or *coke* depending on the region, and diagnostic criteria change over time. No reweighting of old "
    "examples can fix it; the fix is new labels, often by updating the model gradually as the concept drifts. "
    "The book's other examples: a blood-test classifier trained on healthy students against sick older patients "
    "(the source is too easy), self-driving cars trained on game-engine roadsides, a tank detector that learned "
    "the time of day, and **nonstationary** distributions: an ad model never retrained after a new device "
    "appears, a spam filter that spammers learn to evade, a recommender that keeps suggesting Santa hats after "
    "Christmas. Beyond batch learning the book lists online learning, bandits, control and reinforcement "
    "learning, where the model's own actions change the data it sees."
)
