"""Multilayer perceptrons and activation functions (book sections 5.1-5.2):
the activations with their derivatives, the book's MLP on Fashion-MNIST, and
a 2-D toy whose decision boundary and hidden units are drawn live."""
from dataclasses import replace

import streamlit as st

from core.data import toy2d
from core.experiments import mlp, mlp_toy, schema
from core.experiments.schema import Control
from core.ops import activations
from playground import controls, mlp_figures, phases
from playground.controls import bound
from playground.fmnist import fashion_mnist, is_stand_in
from playground.live import ACCURACY, LOSS, MINIBATCH, Readout, View, live_panel

BOOK = mlp.BOOK
PARTS = {"fmnist": "Fashion-MNIST (the book's MLP)", "toy": "2-D toy (decision boundary)"}
TOY_NS = "mlp_toy"  # the toy's widgets: its settings share names (lr, num_hiddens) with the book's MLP
KEYS = {"fmnist": "mlp", "toy": "mlp_toy"}  # the live panels
CONFIGS = {"fmnist": mlp.Config, "toy": mlp_toy.Config}

st.title("Multilayer perceptrons and activation functions")
st.markdown(
    "A linear model can only draw straight boundaries: it cannot say *\"high if x1 is large **or** x2 is large, "
    "but not both\"*. Stacking a second affine layer does not help, since an affine function of an affine "
    "function is still affine. An MLP puts a **nonlinear activation** φ between the layers: each hidden unit "
    "computes its own weighted sum of the inputs and bends it through φ, and the output layer combines these "
    "bent pieces. With enough hidden units, one hidden layer can approximate any continuous function; in practice, "
    "deeper and narrower networks are often easier to train."
)
st.latex(r"\mathbf{H} = \phi(\mathbf{X}\mathbf{W}^{(1)} + \mathbf{b}^{(1)}), \qquad "
         r"\mathbf{O} = \mathbf{H}\mathbf{W}^{(2)} + \mathbf{b}^{(2)}")
st.latex(r"\text{without } \phi: \quad \mathbf{O} = "
         r"\mathbf{X}\underbrace{\mathbf{W}^{(1)}\mathbf{W}^{(2)}}_{\mathbf{W}}"
         r" + \underbrace{\mathbf{b}^{(1)}\mathbf{W}^{(2)} + \mathbf{b}^{(2)}}_{b} \quad \text{(still linear)}")

# ----------------------------------------------------------------- activations
st.subheader("Activation functions and their derivatives")
chosen = controls.multiselect("activations to draw", "plot_activations", list(activations.NAMES),
                              ["relu", "sigmoid", "tanh"], format_func=activations.NAMES.get,
                              help="The derivative is what backpropagation multiplies by at each unit.")
if not chosen:
    st.info("Pick at least one activation to draw.", icon=":material/info:")
else:
    for name in chosen:
        st.latex(r"\quad ".join(activations.LATEX[name]))
    curves = activations.curves(chosen)
    f_fig, d_fig = mlp_figures.activation_figures(curves)
    left, right = st.columns(2)
    left.plotly_chart(f_fig, key="mlp:functions", width="stretch")
    right.plotly_chart(d_fig, key="mlp:derivatives", width="stretch")
    gap = max(c["max_gap"] for c in curves.values())
    st.caption(f"Each derivative is computed twice, as the book does (`y.backward(torch.ones_like(x))`, then "
               f"`x.grad`) and from its formula: on {len(curves[chosen[0]]['x'])} points in [−8, 8] they differ by at "
               f"most {gap:.1e}. ReLU's derivative at 0 is taken as 0, as the book (and autograd) does; the leaky "
               f"ReLU uses α = {activations.LEAKY_SLOPE:g}. Sigmoid's slope is at most 0.25 and vanishes for large "
               "|x|: a unit pushed far from 0 hands almost no gradient back.")

# ------------------------------------------------------------------ training
st.subheader("Train an MLP")
PART = Control("network", "segmented", options=tuple(PARTS), labels=PARTS,
               help="The book's MLP on Fashion-MNIST, or a small MLP on points in the plane whose every unit "
                    "can be drawn. Each keeps its own settings and run.")
part = bound("part", PART, "fmnist", parse=lambda raw: schema.coerce_value("part", PART, str, raw))
seed, device = controls.seed(), controls.device()
last = st.session_state.get("mlp:part")
if last is not None and last != part:  # switched: the other network's run pauses, its settings leave the link
    other = st.session_state.get(f"live:{KEYS[last]}")
    if other is not None and other.active:
        other.pause()
    for name in schema.controls(CONFIGS[last]):
        if name in st.query_params:
            del st.query_params[name]
st.session_state["mlp:part"] = part


def fmnist_part() -> None:
    data = fashion_mnist("cpu")  # the picture reads it here; each worker keeps it on the run's device
    if data is None:
        return
    form = controls.Form(mlp.Config)
    num_hiddens, activation = form.draw("num_hiddens", "activation", columns=2)
    lr, _ = form.draw("lr", "num_epochs", columns=2)
    st.latex(rf"\mathbf{{X}} \in \mathbb{{R}}^{{{BOOK.batch_size} \times 784}}, \quad "
             rf"\mathbf{{W}}^{{(1)}} \in \mathbb{{R}}^{{784 \times {num_hiddens}}}, \quad "
             rf"\mathbf{{H}} = \operatorname{{{activations.NAMES[activation].replace(' ', '~')}}}"
             rf"(\mathbf{{X}}\mathbf{{W}}^{{(1)}} + \mathbf{{b}}^{{(1)}}) \in \mathbb{{R}}^{{{BOOK.batch_size} "
             rf"\times {num_hiddens}}}, \quad \mathbf{{W}}^{{(2)}} \in \mathbb{{R}}^{{{num_hiddens} \times 10}}")
    st.caption(f"The book's settings: one hidden layer of {BOOK.num_hiddens} ReLU units, lr {BOOK.lr:g}, batch "
               f"{BOOK.batch_size}, {BOOK.num_epochs} epochs, weights drawn from N(0, {BOOK.sigma:g}²), biases 0, "
               "cross-entropy loss. The band on the accuracy chart is the book's test accuracy after 10 epochs.")
    if lr >= 1:
        st.caption(":material/warning: With lr this large the first updates overshoot: many hidden ReLUs end up "
                   "off for every image (see *dead units* below), pass no gradient back, and the accuracy can sink to "
                   "chance, 0.1. If the loss becomes NaN, training stops with a message.")
    def picture(seen: dict) -> None:
        st.markdown(f"**The first {len(seen['weights'])} hidden units' incoming weights** (epoch {seen['epoch']}, "
                    f"step {seen['step']})")
        st.plotly_chart(mlp_figures.weights_figure(seen["weights"], title="Incoming weights, one 28 × 28 square per "
                                                   "hidden unit"), key="mlp:weights", width="stretch")
        st.caption("Each square is one hidden unit's 784 weights laid out as the image they multiply (red "
                   "positive, blue negative): the pattern of pixels that turns the unit on. At the start they are "
                   "noise drawn from N(0, 0.01²); as training goes on, smooth blobs and outlines of clothing show "
                   "through it (the initial noise never quite goes away: a pixel that is rarely bright gets "
                   "little gradient).")
        c1, c2 = st.columns(2)
        c1.metric("units pass (almost) no gradient", f"{seen['blocked']:.1%}",
                  help=f"Share of (image, unit) pairs on the first {seen['images']} test images where the unit's "
                       "activation has less than 5% of its largest slope: a ReLU that is off, a saturated sigmoid.")
        c2.metric("dead units", f"{seen['dead']} of {seen['num_hiddens']}",
                  help=f"Units that pass no gradient on any of the first {seen['images']} test images: they no "
                       "longer learn from them.")

    R = live_panel(
        KEYS["fmnist"], form.config(), "mlp", data=data, seed=seed, device=device,
        context={"data": "stand-in" if is_stand_in(data) else "Fashion-MNIST"},
        charts_=[LOSS, replace(ACCURACY, reference=[(mlp.BOOK_ACCURACY[0], mlp.BOOK_ACCURACY[1],
                                                     "the book's test accuracy after 10 epochs, 0.83-0.85 by "
                                                     "edition (0.17.5, zh 2.0, 1.0.3)")]), MINIBATCH],
        readouts=[Readout("train_loss", "train loss"), Readout("train_metric", "train acc", "{:.3f}"),
                  Readout("test_loss", "test loss"), Readout("test_metric", "test acc", "{:.3f}")],
        label=lambda cfg: f"{activations.NAMES[cfg.activation]}, {cfg.num_hiddens} hidden units",
        views=[View("core.experiments.mlp:picture", picture, every="epoch", params={"units": 16})],
        presets=mlp.PRESETS,
    )
    phases.phase_panel(R, KEYS["fmnist"])


def toy_part() -> None:
    form = controls.Form(mlp_toy.Config, TOY_NS)
    dataset, noise = form.draw("dataset", "noise", columns=2)
    num_hiddens, num_layers, activation = form.draw("num_hiddens", "num_layers", "activation", columns=3)
    lr, _ = form.draw("lr", "num_epochs", columns=2)
    cfg = form.config()
    widths = r" \to ".join(["2", *[str(num_hiddens)] * num_layers, "2"])
    st.latex(rf"\text{{{toy2d.DATASETS[dataset]}}}: \quad {widths}, \quad "
             rf"\phi = \operatorname{{{activations.NAMES[activation].replace(' ', '~')}}}, \quad \eta = {lr:g}, "
             rf"\quad |\mathcal{{B}}| = {cfg.batch_size}")
    st.caption(f"{cfg.num_train} training points and {cfg.num_test} test points drawn from the seed; two inputs "
               "(the point's coordinates x1, x2), two outputs (the classes, orange and blue), cross-entropy and "
               "minibatch SGD, as the book's MLP but small enough to draw every unit. Weights start as torch's "
               "default for nn.Linear. Not in the book: in the spirit of TensorFlow Playground.")
    show_test = controls.toggle("show the test points", "show_test", True,
                                help="Rings: test points, never trained on. Dots: training points.")

    def picture(seen: dict) -> None:
        if not seen["finite"]:
            st.warning("The network's outputs are no longer finite numbers (the loss diverged): there is no boundary "
                       "to draw. Try a smaller lr.", icon=":material/warning:")
            return
        left, right = st.columns(2)
        left.plotly_chart(mlp_figures.boundary_figure(seen, show_test=show_test), key="mlp:boundary", width="stretch")
        with right:
            st.plotly_chart(mlp_figures.units_figure(seen), key="mlp:units", width="stretch")
            shown = [u.shape[0] for u in seen["units"]]
            more = "" if shown == seen["widths"] else f" (the first {max(shown)} of each layer's {num_hiddens})"
            st.caption(f"Each small square is one hidden unit's output over the plane{more}: blue where it is "
                       "large, orange where it is negative, pale near 0. The first layer can only draw straight "
                       "edges (a ReLU is 0 on one side of a line); later layers combine them into the bends of the "
                       "boundary. A square that is pale all over is a unit that outputs 0 everywhere on the plane: a "
                       "dead ReLU, which no longer learns.")

    live_panel(
        KEYS["toy"], cfg, "mlp_toy", seed=seed, device=device,
        charts_=[LOSS, ACCURACY, MINIBATCH],
        readouts=[Readout("train_loss", "train loss"), Readout("train_metric", "train acc", "{:.3f}"),
                  Readout("test_metric", "test acc", "{:.3f}")],
        label=lambda c: (f"{toy2d.DATASETS[c.dataset]}, {c.num_layers}×{c.num_hiddens} "
                         f"{activations.NAMES[c.activation]}, noise {c.noise:g}"),
        views=[View("core.experiments.mlp_toy:boundary", picture, every=1.0)],
    )


if part == "fmnist":
    fmnist_part()
else:
    toy_part()

with st.expander("What to look for", icon=":material/visibility:"):
    st.markdown(
        "- **The derivatives**: the dots (closed form) sit on the lines (autograd). ReLU's slope is 0 or 1, so "
        "gradients pass unchanged or not at all; sigmoid's is at most 0.25 and tanh's at most 1, both vanishing "
        "for large |x|.\n"
        "- **Fashion-MNIST at the book's settings**: the test accuracy climbs to about 0.83-0.85 in 10 epochs, in "
        "the book's band (seed 0 here: 0.838). The book's softmax regression reaches about as much in 10 "
        "epochs: on these images a linear model is already a strong baseline.\n"
        "- **Width**: 16 hidden units already reach about 0.82 after 10 epochs (256: 0.84).\n"
        "- **Activation**: *Compare ReLU, sigmoid and tanh* trains the three side by side from the same seed; "
        "sigmoid starts slowest (its slope is at most 0.25, so its gradients are small) and stays behind after "
        "10 epochs.\n"
        "- **lr**: 0.01 is slow; from 1 up the first steps overshoot and most ReLUs die (off for every image, "
        "see *dead units*): at 3 or 10 the accuracy sinks to chance, 0.1, within the first epoch.\n"
        "- **The 2-D toy**: with one hidden layer of a few ReLU units the boundary is a handful of straight pieces; "
        "the spiral needs about three layers of 16 units, and several hundred epochs. tanh and sigmoid give "
        "smooth, rounded boundaries; ReLU gives polygons. A single hidden unit cannot draw anything but a line. "
        "With noise 0.3 or more the two classes overlap: no boundary separates them all, and a boundary that "
        "chases every training point does worse on the test points (rings).\n"
        "- **The toy's lr**: 3 or 10 stalls near chance (accuracy about 0.5): the first steps overshoot, the ReLUs "
        "die (pale squares) and the boundary stops moving."
    )
