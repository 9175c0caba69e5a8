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
from playground.i18n import t
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


@dataclass(frozen=True)
class Picture:
    probe: int = setting(0, "picture: test image", min=0, max=199,
                         help="Which test image's softmax is drawn (the first 200 of the 10,000).")


st.title(t("page.softmax_regression"))
st.markdown(t("softmax_regression.intro"))
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
st.caption(t("softmax_regression.impl_caption", impl=t(f"softmax_regression.option.impl.{impl}")))
st.code(CODE[impl], language="python")
(probe,) = controls.Form(Picture).draw("probe")


def weights_picture(seen: dict) -> None:
    who = f" ({literal(seen['name'])})" if seen["name"] else ""
    st.subheader(t("softmax_regression.weights_header") + who)
    st.plotly_chart(figs.weights_figure(seen["W"], labels, t("softmax_regression.weights_title", step=seen["step"],
                                                             epoch=seen["epoch"])),
                    key="softmax:weights", width="stretch")
    st.caption(t("softmax_regression.weights_caption"))
    st.subheader(t("softmax_regression.probe_header", probe=seen["probe"]))
    left, right = st.columns([1, 3])
    true, pred = seen["label"], seen["predicted"]
    left.plotly_chart(grid.image_figure(data.X_test[seen["probe"], 0].cpu(),
                                        t("softmax_regression.true_class", label=labels[true]),
                                        height=260), key="softmax:probe_image", width="stretch")
    verdict = (t("softmax_regression.right") if pred == true
               else t("softmax_regression.wrong", label=labels[pred]))
    right.plotly_chart(figs.probs_figure(seen["probs"], labels, true, pred, f"ŷ = softmax(o): {verdict}"),
                       key="softmax:probs", width="stretch")
    o = seen["logits"]
    right.caption(t("softmax_regression.logits_caption",
                    logits=", ".join(f"{labels[j]} {v:.2f}" for j, v in enumerate(o)),
                    loss=f"{-np.log(max(seen['probs'][true], 1e-300)):.3f}"))


def predictions_picture(seen: dict) -> None:
    who = f" ({literal(seen['name'])})" if seen["name"] else ""
    st.subheader(t("softmax_regression.test_set_header") + who)
    left, right = st.columns([5, 6])
    n = int(seen["confusion"].sum())
    left.plotly_chart(figs.confusion_figure(seen["confusion"], labels,
                                            t("softmax_regression.confusion_title", epoch=seen["epoch"],
                                              accuracy=f"{seen['accuracy']:.3f}")),
                      key="softmax:confusion", width="stretch")
    left.caption(t("softmax_regression.confusion_caption", n=f"{n:,}"))
    titles = [f"#{i}: {labels[t]}<br>→ {labels[p]} ({q:.2f})"
              for i, t, p, q in zip(seen["wrong"], seen["true"], seen["predicted"], seen["prob"])]
    if titles:
        right.plotly_chart(figs.images_figure(seen["images"], titles, cols=4,
                                              title=t("softmax_regression.wrong_title", n=len(titles),
                                                      num_wrong=f"{seen['num_wrong']:,}")),
                           key="softmax:wrong", width="stretch")
        right.caption(t("softmax_regression.wrong_caption"))
    else:
        right.info(t("softmax_regression.none_wrong"), icon=":material/check_circle:")


R = live_panel(
    "softmax_regression", form.config(), "softmax_regression", data=data, seed=seed, device=device,
    context={"data": "stand-in" if is_stand_in(data) else "Fashion-MNIST"},
    charts_=[LOSS, replace(ACCURACY, reference=[(*sr.BOOK_ACCURACY, t("softmax_regression.ref_book"))]), MINIBATCH],
    readouts=[Readout("train_loss", t("common.train_loss")),
              Readout("train_metric", t("softmax_regression.readout_train_acc"), "{:.3f}"),
              Readout("test_loss", t("common.test_loss")),
              Readout("test_metric", t("softmax_regression.readout_test_acc"), "{:.3f}")],
    label=lambda cfg: f"{cfg.impl}, lr={cfg.lr:g}, batch_size={cfg.batch_size}",
    views=[View("core.experiments.softmax_regression:weights_view", weights_picture, every=2.0,
                params={"probe": probe}),
           View("core.experiments.softmax_regression:predictions_view", predictions_picture, every="epoch",
                params={"n_wrong": N_WRONG})],
    presets=sr.PRESETS,
)
if R.state == State.DIVERGED and (impl == "scratch" or not R.follows_page):
    st.info(t("softmax_regression.diverged"), icon=":material/functions:")

# ----------------------------------------------------------------- temperature
st.header(t("softmax_regression.temperature_header"))
st.markdown(t("softmax_regression.temperature_intro", logits=", ".join(f"{k} {v:g}" for k, v in TOY.items())))
T = controls.select_slider(t("softmax_regression.temperature_setting"), "temperature", TEMPERATURES, 1.0,
                           help=t("softmax_regression.temperature_help"))
toy = sr.temperature_softmax(list(TOY.values()), T)
st.latex(rf"\mathrm{{softmax}}(\mathbf{{o}} / T)_j = \frac{{\exp(o_j / {T:g})}}{{\sum_k \exp(o_k / {T:g})}}, "
         rf"\qquad \mathbf{{o}} / T = ({', '.join(f'{v:.4g}' for v in toy['scaled'])})")
st.plotly_chart(figs.temperature_figure(list(TOY), toy["naive"], toy["stable"],
                                        t("softmax_regression.temperature_title", T=f"{T:g}",
                                          entropy=f"{toy['entropy']:.3f}", max_entropy=f"{toy['max_entropy']:.3f}")),
                key="softmax:temperature", width="stretch")
if any(not np.isfinite(v) for v in toy["naive"]):
    st.warning(t("softmax_regression.temperature_overflow", T=f"{T:g}", largest=f"{max(toy['scaled']):.4g}"),
               icon=":material/warning:")

# ----------------------------------------------------------------- log-sum-exp
st.header(t("softmax_regression.lse_header"))
st.markdown(t("softmax_regression.lse_intro"))
st.latex(r"\log \sum_k \exp(o_k) = \bar{o} + \log \sum_k \exp(o_k - \bar{o}), \qquad "
         r"\log \hat{y}_j = o_j - \bar{o} - \log \sum_k \exp(o_k - \bar{o})")
c1, c2, c3 = st.columns([3, 1, 1])
text = controls.text_input(t("softmax_regression.logits_setting"), "logits", "1000, 0", max_chars=200,
                           container=c1, help=t("softmax_regression.logits_help"))
y_true = controls.slider(t("softmax_regression.label_setting"), "label", 0, 9, 0, container=c2,
                         help=t("softmax_regression.label_help"))
precision = controls.segmented_control(t("softmax_regression.precision_setting"), "precision",
                                       ["float32", "float64"], "float32", container=c3)
values, problem = sr.parse_logits(text)
if problem is not None:
    problem_code, detail = problem
    shown = code(detail) if isinstance(detail, str) else "" if detail is None else f"{detail:g}"
    st.error(t(f"softmax_regression.parse.{problem_code}", value=shown), icon=":material/error:")
else:
    if y_true >= len(values):
        st.caption(":material/info: " + t("softmax_regression.only_logits", n=len(values), y=y_true,
                                            last=len(values) - 1))
        y_true = len(values) - 1
    res = sr.overflow(values, y_true, torch.float32 if precision == "float32" else torch.float64)

    def show(v) -> str:
        vals = [x + 0.0 for x in (v if isinstance(v, list) else [v])]  # -0.0 shown as 0
        out = ", ".join("NaN" if np.isnan(x) else ("∞" if x > 0 else "−∞") if np.isinf(x) else f"{x:.6g}"
                        for x in vals)
        return f"[{out}]" if isinstance(v, list) else out

    names = {"logsumexp": "log Σ exp(o)", "softmax": "softmax(o)", "log_softmax": "log softmax(o)",
             "cross_entropy": t("softmax_regression.cross_entropy", y=y_true)}
    rows = [{t("softmax_regression.column_quantity"): names[q],
             t("softmax_regression.column_naive"): show(res[q]["naive"]),
             t("softmax_regression.column_stable"): show(res[q]["stable"]),
             t("softmax_regression.column_torch"): show(res[q]["torch"])}
            for q in names]
    st.dataframe(rows, hide_index=True, width="stretch")
    bad = [names[q] for q in names if not np.all(np.isfinite(res[q]["naive"]))]
    st.caption(t("softmax_regression.naive_fails", dtype=res["dtype"], at=f"{res['overflow_at']:.1f}",
                 which=t("softmax_regression.list_sep").join(bad)) if bad else t("softmax_regression.all_agree"))

with st.expander(t("common.what_to_look_for"), icon=":material/visibility:"):
    st.markdown(t("softmax_regression.look", lr=f"{BOOK.lr:g}", batch_size=BOOK.batch_size,
                  num_epochs=BOOK.num_epochs))
