"""Softmax regression (book sections 4.1-4.5): ten linear scores turned into probabilities, on Fashion-MNIST."""
from dataclasses import dataclass, replace

import numpy as np
import streamlit as st
import torch

from core.experiments import softmax_regression as sr
from core.experiments.schema import setting
from core.train.live_run import State
from playground import controls, grid
from playground import softmax_figures as figs
from playground.fmnist import fashion_mnist, is_stand_in
from playground.live import ACCURACY, LOSS, MINIBATCH, Readout, View, live_panel
from playground.messages import code, literal

BOOK = sr.BOOK
N_WRONG = 12
CODE = {
    "scratch": "W = torch.normal(0, 0.01, size=(784, 10), requires_grad=True)\n"
               "b = torch.zeros(10, requires_grad=True)\n\n"
               "def softmax(X):\n    X_exp = torch.exp(X)\n    partition = X_exp.sum(1, keepdims=True)\n"
               "    return X_exp / partition\n\n"
               "def net(X):\n    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)\n\n"
               "def cross_entropy(y_hat, y):\n    return -torch.log(y_hat[range(len(y_hat)), y])\n\n"
               "l = cross_entropy(net(X), y).mean()\nl.backward()\n"
               "with torch.no_grad():  # the book's sgd\n    for param in (W, b):\n        param -= lr * param.grad",
    "concise": "net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))  # weight ~ N(0, 0.01²), bias = 0\n"
               "loss = nn.CrossEntropyLoss()  # takes the logits: log-softmax and NLL, computed stably\n"
               "trainer = torch.optim.SGD(net.parameters(), lr=lr)\n\n"
               "l = loss(net(X), y)\ntrainer.zero_grad()\nl.backward()\ntrainer.step()",
}
TEMPERATURES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
TOY = {"cat": 2.0, "chicken": 1.0, "dog": -1.0}  # the book's three classes (4.1.1), with logits of our choosing
PARSE_WORDS = {
    "empty": "are empty: type two to ten numbers separated by commas",
    "not_a_number": "have {}, which is not a number",
    "not_finite": "have {}: every logit must be a finite number",
    "too_large": "have a number beyond ±{:g}",
    "too_few": "need to be at least {}",
    "too_many": "are more than {}",
}


@dataclass(frozen=True)
class Picture:
    probe: int = setting(0, "picture: test image", min=0, max=199,
                         help="Which test image's softmax is drawn (the first 200 of the 10,000).")


st.title("Softmax regression")
st.markdown(
    "Classification with a linear model: for each of the 10 classes of Fashion-MNIST the net computes a score, "
    "a *logit* $o_j$, as a weighted sum of the 784 pixels plus a bias. The softmax turns the ten logits into "
    "probabilities: exponentiate (so every one is positive) and divide by their sum (so they add up to 1); the "
    "largest logit gets the largest probability. The loss is the cross-entropy, $-\\log$ of the probability "
    "given to the true class, and minibatch SGD lowers it. Each class's weights are a 28 × 28 image: below "
    "you watch them turn into templates of the clothes they score."
)
st.latex(r"\mathbf{o} = \mathbf{x}\mathbf{W} + \mathbf{b}, \qquad \hat{y}_j = \mathrm{softmax}(\mathbf{o})_j = "
         r"\frac{\exp(o_j)}{\sum_k \exp(o_k)}, \qquad \hat{\jmath} = \operatorname*{argmax}_j \hat{y}_j = "
         r"\operatorname*{argmax}_j o_j")
st.latex(r"l(\mathbf{y}, \hat{\mathbf{y}}) = -\sum_{j=1}^{q} y_j \log \hat{y}_j = \log \sum_{k=1}^{q} \exp(o_k) "
         r"- \sum_{j=1}^{q} y_j o_j, \qquad \partial_{o_j} l = \mathrm{softmax}(\mathbf{o})_j - y_j")
seed, device = controls.seed(), controls.device()
data = fashion_mnist("cpu")  # the pictures read it here; each worker keeps it on the run's device
if data is None:
    st.stop()
labels = data.text_labels

form = controls.Form(sr.Config)
lr, batch_size, _ = form.draw("lr", "batch_size", "num_epochs", columns=3)
(impl,) = form.draw("impl")
st.latex(r"(\mathbf{W}, \mathbf{b}) \leftarrow (\mathbf{W}, \mathbf{b}) - \frac{\eta}{|\mathcal{B}|} "
         r"\sum_{i \in \mathcal{B}} \partial_{(\mathbf{W}, \mathbf{b})} l^{(i)}, \qquad "
         rf"\eta = {lr:g}, \; |\mathcal{{B}}| = {batch_size}, \; \mathbf{{W}} \in \mathbb{{R}}^{{784 \times 10}}")
st.caption(f"The {sr.IMPLS[impl]} implementation. Train loss and accuracy are averaged over each epoch's "
           "minibatches while the weights change, as in the book; test numbers are measured after the epoch.")
st.code(CODE[impl], language="python")
(probe,) = controls.Form(Picture).draw("probe")


def weights_picture(seen: dict) -> None:
    who = f" ({literal(seen['name'])})" if seen["name"] else ""
    st.subheader("The ten weight vectors" + who)
    st.plotly_chart(figs.weights_figure(seen["W"], labels, f"W[:, j] as 28 × 28 images after step {seen['step']} "
                                                           f"(epoch {seen['epoch']})"),
                    key="softmax:weights", width="stretch")
    st.caption("Each class's logit is the dot product of the image with its panel (plus b): red pixels raise it, "
               "blue ones lower it. At the start the panels are noise, W ~ N(0, 0.01²); within an epoch they show "
               "the outline each class is told apart by: the trouser's two legs and the gap between them, the "
               "sneaker's low profile, the bag's wide body.")
    st.subheader(f"The softmax of test image {seen['probe']}")
    left, right = st.columns([1, 3])
    true, pred = seen["label"], seen["predicted"]
    left.plotly_chart(grid.image_figure(data.X_test[seen["probe"], 0].cpu(), f"true class: {labels[true]}",
                                        height=260), key="softmax:probe_image", width="stretch")
    verdict = "right" if pred == true else f"wrong (predicted {labels[pred]})"
    right.plotly_chart(figs.probs_figure(seen["probs"], labels, true, pred, f"ŷ = softmax(o): {verdict}"),
                       key="softmax:probs", width="stretch")
    o = seen["logits"]
    right.caption("Logits o: " + ", ".join(f"{labels[j]} {v:.2f}" for j, v in enumerate(o))
                  + f". The loss of this image is −log ŷ_true = {-np.log(max(seen['probs'][true], 1e-300)):.3f}.")


def predictions_picture(seen: dict) -> None:
    who = f" ({literal(seen['name'])})" if seen["name"] else ""
    st.subheader("On the whole test set" + who)
    left, right = st.columns([5, 6])
    n = int(seen["confusion"].sum())
    left.plotly_chart(figs.confusion_figure(seen["confusion"], labels,
                                            f"Confusion matrix, epoch {seen['epoch']}: accuracy "
                                            f"{seen['accuracy']:.3f}"), key="softmax:confusion", width="stretch")
    left.caption(f"Row: the true class, column: the prediction, over all {n:,} test images; the diagonal is "
                 "right. Shirts, t-shirts, pullovers and coats are mistaken for one another most.")
    titles = [f"#{i}: {labels[t]}<br>→ {labels[p]} ({q:.2f})"
              for i, t, p, q in zip(seen["wrong"], seen["true"], seen["predicted"], seen["prob"])]
    if titles:
        right.plotly_chart(figs.images_figure(seen["images"], titles, cols=4,
                                              title=f"The first {len(titles)} of {seen['num_wrong']:,} "
                                                    "misclassified test images"),
                           key="softmax:wrong", width="stretch")
        right.caption("Test image number: true class → predicted class (the probability the net gave its "
                      "prediction), in the test set's order, as the book shows them.")
    else:
        right.info("No test image is misclassified.", icon=":material/check_circle:")


R = live_panel(
    "softmax_regression", form.config(), "softmax_regression", data=data, seed=seed, device=device,
    context={"data": "stand-in" if is_stand_in(data) else "Fashion-MNIST"},
    charts_=[LOSS, replace(ACCURACY, reference=[(*sr.BOOK_ACCURACY, "the book's test accuracy after 10 epochs, "
                                                                    "0.83 ± 0.02 (0.17.5 edition)")]), MINIBATCH],
    readouts=[Readout("train_loss", "train loss"), Readout("train_metric", "train acc", "{:.3f}"),
              Readout("test_loss", "test loss"), Readout("test_metric", "test acc", "{:.3f}")],
    label=lambda cfg: f"{cfg.impl}, lr={cfg.lr:g}, batch_size={cfg.batch_size}",
    views=[View("core.experiments.softmax_regression:weights_view", weights_picture, every=2.0,
                params={"probe": probe}),
           View("core.experiments.softmax_regression:predictions_view", predictions_picture, every="epoch",
                params={"n_wrong": N_WRONG})],
    presets=sr.PRESETS,
)
if R.state == State.DIVERGED and (impl == "scratch" or not R.follows_page):
    st.info("From scratch, a large lr pushes the logits of some image apart by more than about 100 within a few "
            "steps: the book's softmax then gives its true class a probability of exactly 0 (exp underflows), "
            "and −log 0 = ∞. The concise version never forms that probability: nn.CrossEntropyLoss works on the "
            "logits with the log-sum-exp trick below, so at the same lr it keeps training. Try *Compare scratch "
            "and concise* at this lr.", icon=":material/functions:")

# ----------------------------------------------------------------- temperature
st.header("Softmax with a temperature")
st.markdown("Dividing the logits by a temperature $T$ before the softmax keeps their order but changes how sure "
            "the result is: a small $T$ stretches the differences until the largest logit takes all the "
            "probability (the softmax saturates to the argmax), a large $T$ flattens them towards uniform. "
            f"Three classes, logits o = ({', '.join(f'{k} {v:g}' for k, v in TOY.items())}).")
T = controls.select_slider("temperature T", "temperature", TEMPERATURES, 1.0,
                           help="softmax(o / T). T = 1 is the plain softmax.")
toy = sr.temperature_softmax(list(TOY.values()), T)
st.latex(rf"\mathrm{{softmax}}(\mathbf{{o}} / T)_j = \frac{{\exp(o_j / {T:g})}}{{\sum_k \exp(o_k / {T:g})}}, "
         rf"\qquad \mathbf{{o}} / T = ({', '.join(f'{v:.4g}' for v in toy['scaled'])})")
st.plotly_chart(figs.temperature_figure(list(TOY), toy["naive"], toy["stable"],
                                        f"T = {T:g}: entropy {toy['entropy']:.3f} nats of at most "
                                        f"log 3 = {toy['max_entropy']:.3f}"),
                key="softmax:temperature", width="stretch")
if any(not np.isfinite(v) for v in toy["naive"]):
    st.warning(f"At T = {T:g} the largest scaled logit is {max(toy['scaled']):.4g}: exp of it overflows float32 "
               "(beyond about 88.7) to ∞, and ∞ / ∞ = NaN. The stable formula subtracts the largest logit first "
               "and gives the saturated answer.", icon=":material/warning:")

# ----------------------------------------------------------------- log-sum-exp
st.header("Log-sum-exp: overflow, underflow and the stable formula")
st.markdown("The loss needs $\\log \\hat{y}_j = o_j - \\log \\sum_k \\exp(o_k)$. Computed as written, "
            "$\\exp(o_k)$ overflows to ∞ for a logit past about 88.7 in float32 (709.8 in float64), and a "
            "probability that underflows to 0 gives $\\log 0 = -\\infty$. Subtracting the largest logit "
            "$\\bar{o} = \\max_k o_k$ changes nothing mathematically and leaves every exponent $\\le 0$:")
st.latex(r"\log \sum_k \exp(o_k) = \bar{o} + \log \sum_k \exp(o_k - \bar{o}), \qquad "
         r"\log \hat{y}_j = o_j - \bar{o} - \log \sum_k \exp(o_k - \bar{o})")
c1, c2, c3 = st.columns([3, 1, 1])
text = controls.text_input("logits o (numbers separated by commas)", "logits", "1000, 0", max_chars=200,
                           container=c1, help="Two to ten numbers, e.g. 1000, 0 or -1000, 0 or 2, 1, -1.")
y_true = controls.slider("true class y", "label", 0, 9, 0, container=c2, help="For the cross-entropy, counted from 0.")
precision = controls.segmented_control("precision", "precision", ["float32", "float64"], "float32", container=c3)
values, problem = sr.parse_logits(text)
if problem is not None:
    problem_code, detail = problem
    shown = code(detail) if isinstance(detail, str) else detail
    st.error(f"The logits {PARSE_WORDS[problem_code].format(shown)}.",
             icon=":material/error:")
else:
    if y_true >= len(values):
        st.caption(f":material/info: There are only {len(values)} logits: y = {y_true} does not exist, "
                   f"using y = {len(values) - 1}.")
        y_true = len(values) - 1
    res = sr.overflow(values, y_true, torch.float32 if precision == "float32" else torch.float64)

    def show(v) -> str:
        vals = [x + 0.0 for x in (v if isinstance(v, list) else [v])]  # -0.0 shown as 0
        out = ", ".join("NaN" if np.isnan(x) else ("∞" if x > 0 else "−∞") if np.isinf(x) else f"{x:.6g}"
                        for x in vals)
        return f"[{out}]" if isinstance(v, list) else out

    names = {"logsumexp": "log Σ exp(o)", "softmax": "softmax(o)", "log_softmax": "log softmax(o)",
             "cross_entropy": f"cross-entropy, y = {y_true}"}
    rows = [{"quantity": names[q], "naive (as written)": show(res[q]["naive"]),
             "stable (max subtracted)": show(res[q]["stable"]),
             "torch (logsumexp, softmax, log_softmax, cross_entropy)": show(res[q]["torch"])}
            for q in names]
    st.dataframe(rows, hide_index=True, width="stretch")
    bad = [names[q] for q in names if not np.all(np.isfinite(res[q]["naive"]))]
    st.caption((f"In {res['dtype']}, exp overflows past {res['overflow_at']:.1f}. " if bad else "")
               + ("The naive formula fails for " + ", ".join(bad) + "; the stable one agrees with torch's."
                  if bad else "Here every formula agrees: the logits are small enough for exp."))

with st.expander("What to look for", icon=":material/visibility:"):
    st.markdown(
        f"- **The book's settings** (lr {BOOK.lr:g}, batch_size {BOOK.batch_size}, {BOOK.num_epochs} epochs): the "
        "first minibatch's loss is log 10 ≈ 2.30 (W near 0: every class 1/10); test accuracy passes 0.78 after "
        "one epoch and ends near the book's 0.83 (seed 0 on this machine: 0.832, in about 5 s on one core).\n"
        "- **The weights** turn from noise into templates within the first epoch: a trouser's two legs, the "
        "sandal's thin straps, the bag's wide body. A linear model can only score each pixel independently.\n"
        "- **The confusion matrix** after 10 epochs (seed 0): shirts are right only 55% of the time, mistaken for "
        "t-shirts, pullovers and coats, and pullovers and coats for each other; trousers, bags and ankle boots "
        "are right about 94% of the time; sandals, sneakers and ankle boots are confused among themselves. Many "
        "misclassified images are hard for people too.\n"
        "- **Compare scratch and concise**: from the same seed both start from the same W and see the same "
        "minibatches, so their curves lie on top of each other.\n"
        "- **lr 1 from scratch** stops within a few steps with an infinite loss: the book's softmax underflows "
        "to 0 and −log 0 = ∞. The concise version at lr 1 keeps training (bumpily): its loss uses the "
        "log-sum-exp trick. Compare them at lr 1.\n"
        "- **Temperature**: at T = 0.01 the book's softmax returns NaN (exp(200) overflows), the stable one "
        "(1, 0, 0); at T = 100 all three are near 1/3.\n"
        "- **Log-sum-exp**: logits 1000, 0 give ∞ and NaN as written, 1000 and (1, 0) stably, as torch does; "
        "−1000, 0 gives log 0 = −∞ for the first class as written, −1000 stably."
    )
