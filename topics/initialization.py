"""Numerical stability and initialization (book section 5.4): vanishing and
exploding gradients, symmetry, and the initialization schemes on a deep MLP."""
from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from core.experiments import initialization as ini
from core.experiments.schema import setting
from core.ops import initialization as ops
from playground import controls
from playground import initialization_figures as figs
from playground.fmnist import fashion_mnist, is_stand_in
from playground.i18n import t
from playground.live import ACCURACY, LOSS, Chart, Readout, View, live_panel
from playground.messages import literal

BOOK = ini.BOOK
STDS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
SYM_STEPS, SYM_EXAMPLES = 150, 2048


@dataclass(frozen=True)
class Product:
    product_std: float = setting(1.0, "entries' standard deviation σ", options=STDS,
                                 help="The book draws N(0, 1) entries. Below about 0.5 the product vanishes instead.")
    num_factors: int = setting(100, "matrices multiplied", min=10, max=300, step=10)


@dataclass(frozen=True)
class Look:
    hist_layer: int = setting(1, "layer shown in the histograms", min=1, max=50,
                              help="Hidden layer 1 is next to the input; the output layer is the last.")
    sym_case: str = setting("equal", "symmetry: weights shown for", options=tuple(ops.SYMMETRY_CASES),
                            labels=ops.SYMMETRY_CASES)


@st.cache_data(max_entries=32, show_spinner=False)
def sigmoid_curve():
    return ops.sigmoid_curve()


@st.cache_data(max_entries=64, show_spinner=False)
def product(n: int, std: float, seed: int) -> dict:
    r = ops.matrix_product(n, 4, seed=seed, std=std)
    return {"norms": r["norms"], "last": r["last"]}


@st.cache_data(max_entries=32, show_spinner=t("initialization.spin_stats"))
def before_training(num_layers: int, num_hiddens: int, activation: str, seed: int, data_name: str, _X, _y) -> dict:
    cfg = replace(BOOK, num_layers=num_layers, num_hiddens=num_hiddens, activation=activation)
    return ini.initial_stats(cfg, _X, _y, seed=seed)


@st.cache_data(max_entries=16, show_spinner=t("initialization.spin_symmetry"))
def symmetry(seed: int, data_name: str, _X, _y) -> dict:
    return {case: ops.symmetry_run(_X, _y, case, steps=SYM_STEPS, seed=seed) for case in ops.SYMMETRY_CASES}


st.title(t("page.initialization"))
st.markdown(t("initialization.intro"))
SHORT = {k: t(f"initialization.short.{k}") for k in ops.SHORT}  # the schemes' short names in this language
st.latex(r"\mathbf{h}^{(l)} = f_l(\mathbf{h}^{(l-1)}), \qquad "
         r"\partial_{\mathbf{W}^{(l)}} \mathbf{o} = \underbrace{\partial_{\mathbf{h}^{(L-1)}} \mathbf{h}^{(L)}}"
         r"_{\mathbf{M}^{(L)}} \cdots \underbrace{\partial_{\mathbf{h}^{(l)}} \mathbf{h}^{(l+1)}}"
         r"_{\mathbf{M}^{(l+1)}} \underbrace{\partial_{\mathbf{W}^{(l)}} \mathbf{h}^{(l)}}_{\mathbf{v}^{(l)}}")
seed = controls.seed()

# ---------------------------------------------------------------- vanishing
st.header(t("initialization.vanishing"))
left, right = st.columns([3, 2])
curve = sigmoid_curve()
left.plotly_chart(figs.sigmoid_figure(curve), key="init:sigmoid", width="stretch")
right.latex(r"\sigma(x) = \frac{1}{1 + e^{-x}}")
right.latex(r"\sigma'(x) = \sigma(x)\,(1 - \sigma(x)) \le \tfrac14")
right.markdown(t("initialization.sigmoid_text", max=f"{curve['grad'].max():.2f}",
                 at6=f"{float(np.interp(6, curve['x'], curve['grad'])):.4f}"))

# ---------------------------------------------------------------- exploding
st.header(t("initialization.exploding"))
pform = controls.Form(Product)
std, n = pform.draw("product_std", "num_factors", columns=2)
prod = product(n, std, seed)
left, right = st.columns([3, 2])
left.plotly_chart(figs.product_figure(prod["norms"], std), key="init:product", width="stretch")
right.latex(r"\mathbf{M} \leftarrow \mathbf{M}\,\mathbf{N}_k, \quad k = 1, \dots, " + str(n))
right.latex(rf"(\mathbf{{N}}_k)_{{ij}} \sim \mathcal{{N}}(0, {std:g}^2)")
right.markdown(t("initialization.product_text", norm=f"{prod['norms'][0]:.3g}", n=n, seed=seed))
last = prod["last"]
if np.all(np.isfinite(last)):
    right.dataframe([{t("initialization.col", j=j + 1): f"{v:.4g}" for j, v in enumerate(row)} for row in last],
                    hide_index=True)
else:
    right.warning(t("initialization.overflow"), icon=":material/warning:")
right.caption(t("initialization.walk"))

# ---------------------------------------------------------------- the deep MLP
st.header(t("initialization.deep"))
st.markdown(t("initialization.variance"))
st.latex(r"\text{Xavier: } \sigma^2 = \frac{2}{n_\mathrm{in} + n_\mathrm{out}} \qquad\qquad "
         r"\text{He: } \sigma^2 = \frac{2}{n_\mathrm{in}}")
form = controls.Form(ini.Config)
init, activation, num_layers, num_hiddens = form.draw("init", "activation", "num_layers", "num_hiddens", columns=4)
hist_layer, sym_case = controls.Form(Look).draw("hist_layer", "sym_case", columns=2)
shown_layer = min(hist_layer, num_layers)
if hist_layer > num_layers:
    st.caption(t("initialization.fewer_layers", num_layers=num_layers, shown=shown_layer))
st.caption(t("initialization.net_caption", num_layers=num_layers, num_hiddens=num_hiddens,
             activation=t(f"initialization.activation.{activation}"),
             stds=", ".join(f"{SHORT[k]} {ops.init_std(k, num_hiddens, num_hiddens):.3g}" for k in ops.INITS)))

data = fashion_mnist("cpu")  # the statistics read it here; each worker keeps its own copy on the run's device
if data is None:
    st.stop()
data_name = "stand-in" if is_stand_in(data) else "Fashion-MNIST"
X, y = ini.stats_batch(data)


def draw_stats(stats: dict, chosen: str | None, where: str, key: str) -> None:
    """Per-layer lines for every entry of `stats`, then the histograms of layer `shown_layer`."""
    c1, c2, c3 = st.columns(3)
    c1.plotly_chart(figs.per_layer_figure(stats, "act_std", t("initialization.chart_act"),
                                          y_title="std", highlight=chosen), key=f"init:{key}:act", width="stretch")
    c2.plotly_chart(figs.per_layer_figure(stats, "grad_norm", t("initialization.chart_grad"),
                                          y_title="‖∂l/∂W‖", highlight=chosen), key=f"init:{key}:grad", width="stretch")
    c3.plotly_chart(figs.per_layer_figure(stats, "saturated", t("initialization.chart_saturated"),
                                          log_y=False, y_title=t("initialization.axis_fraction"), highlight=chosen),
                    key=f"init:{key}:sat", width="stretch")
    names = [chosen] if chosen in stats else list(stats)
    h1, h2 = st.columns(2)
    h1.plotly_chart(figs.histogram_figure({n: stats[n]["act_hist"][shown_layer - 1] for n in names},
                                          t("initialization.hist_act", layer=shown_layer), x_title="h"),
                    key=f"init:{key}:hact", width="stretch")
    h2.plotly_chart(figs.histogram_figure({n: stats[n]["grad_hist"][shown_layer - 1] for n in names},
                                          t("initialization.hist_grad", layer=shown_layer),
                                          x_title=t("initialization.axis_grad_entry")),
                    key=f"init:{key}:hgrad", width="stretch")
    notes = []
    for n in names:
        s = stats[n]
        zero, bad = s["grad_zero"][shown_layer - 1], s["grad_nonfinite"][shown_layer - 1]
        if zero > 0:
            notes.append(t("initialization.note_zero", name=literal(n), zero=f"{zero:.0%}"))
        if bad > 0 or not np.isfinite(s["loss"]):
            notes.append(t("initialization.note_overflow", name=literal(n), loss=f"{s['loss']:.3g}"))
    st.caption(t("initialization.loss_on_batch", where=where,
                 losses=", ".join(f"{literal(n)} {stats[n]['loss']:.3g}" for n in stats),
                 notes="; ".join(notes) + ("." if notes else "")))


st.subheader(t("initialization.before"))
before = before_training(num_layers, num_hiddens, activation, seed, data_name, X, y)
draw_stats({SHORT[k]: v for k, v in before.items()}, SHORT[init],
           t("initialization.before_where", n=len(X), seed=seed, init=SHORT[init]), "before")

# ---------------------------------------------------------------- training
st.subheader(t("initialization.training"))
lr, _ = form.draw("lr", "num_epochs", columns=2)
st.caption(t("initialization.training_caption", batch_size=BOOK.batch_size, lr=f"{lr:g}"))


def live_stats(seen: dict) -> None:
    st.subheader(t("initialization.while_training"))
    runs = {(name or SHORT[init]): s for name, s in seen.items()}
    first = next(iter(seen.values()))
    draw_stats(runs, None if len(runs) > 1 else next(iter(runs)),
               t("initialization.live_where", step=first["step"], epoch=first["epoch"], n=len(X)), "live")


live_panel(
    "initialization", form.config(), "initialization", data=data, seed=seed, device=controls.device(),
    context={"data": data_name},
    charts_=[LOSS, replace(ACCURACY, reference=[(0.83, 0.85, t("initialization.ref_book"))]),
             Chart(t("initialization.chart_grad_norm"), [("grad_norm/linear1", t("initialization.first_hidden")),
                                                         ("grad_norm/output", t("initialization.output_layer"))],
                   log_y=True, level="steps", y_title="‖∂l/∂W‖")],
    readouts=[Readout("train_loss", t("initialization.train_loss")),
              Readout("test_metric", t("initialization.test_acc"), "{:.3f}")],
    label=lambda cfg: f"{SHORT[cfg.init]}, {cfg.activation}, {cfg.num_layers}×{cfg.num_hiddens}",
    views=[View("core.experiments.initialization:layer_view", live_stats, every=4.0, params={"size": len(X)})],
    presets=ini.PRESETS,
)

# ---------------------------------------------------------------- symmetry
st.header(t("initialization.symmetry"))
st.markdown(t("initialization.symmetry_text", examples=SYM_EXAMPLES, steps=SYM_STEPS))
st.latex(r"\mathbf{W}^{(1)}_{1,:} = \mathbf{W}^{(1)}_{2,:} \;\Rightarrow\; h_1 = h_2 \;\Rightarrow\; "
         r"\partial_{\mathbf{W}^{(1)}_{1,:}} l = \partial_{\mathbf{W}^{(1)}_{2,:}} l")
sym = symmetry(seed, data_name, data.X_train[:SYM_EXAMPLES], data.y_train[:SYM_EXAMPLES])
left, right = st.columns(2)
CASES = {c: t(f"initialization.option.sym_case.{c}") for c in ops.SYMMETRY_CASES}
left.plotly_chart(figs.symmetry_figure({CASES[c]: r for c, r in sym.items()}), key="init:symmetry",
                  width="stretch")
r = sym[sym_case]
right.plotly_chart(figs.unit_weights_figure(r["w"], t("initialization.unit_weights", steps=SYM_STEPS,
                                                      case=CASES[sym_case])),
                   key="init:units", width="stretch")
same = bool(np.array_equal(r["w"][0], r["w"][1]))
right.caption((t("initialization.identical") if same
               else t("initialization.drifted", diff=f"{r['diff'][-1]:.3g}", steps=SYM_STEPS))
              + t("initialization.dropout_note"))

st.header(t("common.what_to_look_for"))
st.markdown(t("initialization.look"))
