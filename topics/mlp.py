"""Multilayer perceptrons and activation functions (book sections 5.1-5.2):
the activations with their derivatives, the book's MLP on Fashion-MNIST, and
a 2-D toy whose decision boundary and hidden units are drawn live."""
from dataclasses import replace

import streamlit as st

from core.experiments import mlp, mlp_toy, schema
from core.experiments.schema import Control
from core.ops import activations
from playground import controls, i18n, mlp_figures, phases
from playground.controls import bound
from playground.fmnist import fashion_mnist, is_stand_in
from playground.i18n import t
from playground.live import ACCURACY, LOSS, MINIBATCH, Readout, View, live_panel

BOOK = mlp.BOOK
PARTS = {"fmnist": "Fashion-MNIST (the book's MLP)", "toy": "2-D toy (decision boundary)"}
TOY_NS = "mlp_toy"  # the toy's widgets: its settings share names (lr, num_hiddens) with the book's MLP
KEYS = {"fmnist": "mlp", "toy": "mlp_toy"}  # the live panels
CONFIGS = {"fmnist": mlp.Config, "toy": mlp_toy.Config}

st.title(t("page.mlp"))
st.markdown(t("mlp.intro"))
st.latex(r"\mathbf{H} = \phi(\mathbf{X}\mathbf{W}^{(1)} + \mathbf{b}^{(1)}), \qquad "
         r"\mathbf{O} = \mathbf{H}\mathbf{W}^{(2)} + \mathbf{b}^{(2)}")
st.latex(rf"\text{{{t('mlp.latex_without')}}} \phi: \quad \mathbf{{O}} = "
         r"\mathbf{X}\underbrace{\mathbf{W}^{(1)}\mathbf{W}^{(2)}}_{\mathbf{W}}"
         r" + \underbrace{\mathbf{b}^{(1)}\mathbf{W}^{(2)} + \mathbf{b}^{(2)}}_{b} \quad "
         rf"\text{{{t('mlp.latex_still_linear')}}}")

# ----------------------------------------------------------------- activations
st.subheader(t("mlp.activations_title"))
chosen = controls.multiselect(t("mlp.activations_to_draw"), "plot_activations", list(activations.NAMES),
                              ["relu", "sigmoid", "tanh"], format_func=lambda a: t(f"mlp.option.activation.{a}"),
                              help=t("mlp.activations_help"))
if not chosen:
    st.info(t("mlp.pick_one"), icon=":material/info:")
else:
    for name in chosen:
        st.latex(r"\quad ".join(activations.LATEX[name]))
    curves = activations.curves(chosen)
    f_fig, d_fig = mlp_figures.activation_figures(curves)
    left, right = st.columns(2)
    left.plotly_chart(f_fig, key="mlp:functions", width="stretch")
    right.plotly_chart(d_fig, key="mlp:derivatives", width="stretch")
    gap = max(c["max_gap"] for c in curves.values())
    st.caption(t("mlp.derivatives_caption", n=len(curves[chosen[0]]["x"]), gap=f"{gap:.1e}",
                 alpha=f"{activations.LEAKY_SLOPE:g}"))

# ------------------------------------------------------------------ training
st.subheader(t("mlp.train_title"))
PART = Control("network", "segmented", options=tuple(PARTS), labels=PARTS,
               help="The book's MLP on Fashion-MNIST, or a small MLP on points in the plane whose every unit "
                    "can be drawn. Each keeps its own settings and run.")
part = bound("part", i18n.control(PART, "mlp", "part"), "fmnist",
             parse=lambda raw: schema.coerce_value("part", PART, str, raw))
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
    st.caption(t("mlp.book_settings", num_hiddens=BOOK.num_hiddens, lr=f"{BOOK.lr:g}", batch_size=BOOK.batch_size,
                 num_epochs=BOOK.num_epochs, sigma=f"{BOOK.sigma:g}"))
    if lr >= 1:
        st.caption(t("mlp.lr_warning"))

    def picture(seen: dict) -> None:
        st.markdown(t("mlp.weights_heading", n=len(seen["weights"]), epoch=seen["epoch"], step=seen["step"]))
        st.plotly_chart(mlp_figures.weights_figure(seen["weights"], title=t("mlp.weights_title")), key="mlp:weights",
                        width="stretch")
        st.caption(t("mlp.weights_caption"))
        c1, c2 = st.columns(2)
        c1.metric(t("mlp.blocked"), f"{seen['blocked']:.1%}", help=t("mlp.blocked_help", images=seen["images"]))
        c2.metric(t("mlp.dead"), t("mlp.dead_value", dead=seen["dead"], n=seen["num_hiddens"]),
                  help=t("mlp.dead_help", images=seen["images"]))

    R = live_panel(
        KEYS["fmnist"], form.config(), "mlp", data=data, seed=seed, device=device,
        context={"data": "stand-in" if is_stand_in(data) else "Fashion-MNIST"},
        charts_=[LOSS, replace(ACCURACY, reference=[(mlp.BOOK_ACCURACY[0], mlp.BOOK_ACCURACY[1],
                                                     t("mlp.reference"))]), MINIBATCH],
        readouts=[Readout("train_loss", t("common.train_loss")), Readout("train_metric", t("mlp.train_acc"), "{:.3f}"),
                  Readout("test_loss", t("common.test_loss")), Readout("test_metric", t("mlp.test_acc"), "{:.3f}")],
        label=lambda cfg: t("mlp.run_label", activation=t(f"mlp.option.activation.{cfg.activation}"),
                            n=cfg.num_hiddens),
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
    st.latex(rf"\text{{{t(f'mlp_toy.option.dataset.{dataset}')}}}: \quad {widths}, \quad "
             rf"\phi = \operatorname{{{activations.NAMES[activation].replace(' ', '~')}}}, \quad \eta = {lr:g}, "
             rf"\quad |\mathcal{{B}}| = {cfg.batch_size}")
    st.caption(t("mlp.toy_caption", num_train=cfg.num_train, num_test=cfg.num_test))
    show_test = controls.toggle(t("mlp.show_test"), "show_test", True, help=t("mlp.show_test_help"))

    def picture(seen: dict) -> None:
        if not seen["finite"]:
            st.warning(t("mlp.not_finite"), icon=":material/warning:")
            return
        left, right = st.columns(2)
        left.plotly_chart(mlp_figures.boundary_figure(seen, show_test=show_test), key="mlp:boundary", width="stretch")
        with right:
            st.plotly_chart(mlp_figures.units_figure(seen), key="mlp:units", width="stretch")
            shown = [u.shape[0] for u in seen["units"]]
            more = "" if shown == seen["widths"] else t("mlp.units_more", shown=max(shown), n=num_hiddens)
            st.caption(t("mlp.units_caption", more=more))

    live_panel(
        KEYS["toy"], cfg, "mlp_toy", seed=seed, device=device,
        charts_=[LOSS, ACCURACY, MINIBATCH],
        readouts=[Readout("train_loss", t("common.train_loss")), Readout("train_metric", t("mlp.train_acc"), "{:.3f}"),
                  Readout("test_metric", t("mlp.test_acc"), "{:.3f}")],
        label=lambda c: t("mlp.toy_run_label", dataset=t(f"mlp_toy.option.dataset.{c.dataset}"), layers=c.num_layers,
                          n=c.num_hiddens, activation=t(f"mlp_toy.option.activation.{c.activation}"),
                          noise=f"{c.noise:g}"),
        views=[View("core.experiments.mlp_toy:boundary", picture, every=1.0)],
    )


if part == "fmnist":
    fmnist_part()
else:
    toy_part()

with st.expander(t("common.what_to_look_for"), icon=":material/visibility:"):
    st.markdown(t("mlp.look"))
