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


@st.cache_data(max_entries=32, show_spinner="Computing the per-layer statistics of the five initializations...")
def before_training(num_layers: int, num_hiddens: int, activation: str, seed: int, data_name: str, _X, _y) -> dict:
    cfg = replace(BOOK, num_layers=num_layers, num_hiddens=num_hiddens, activation=activation)
    return ini.initial_stats(cfg, _X, _y, seed=seed)


@st.cache_data(max_entries=16, show_spinner="Training the 2-unit networks...")
def symmetry(seed: int, data_name: str, _X, _y) -> dict:
    return {case: ops.symmetry_run(_X, _y, case, steps=SYM_STEPS, seed=seed) for case in ops.SYMMETRY_CASES}


st.title("Numerical stability and initialization")
st.markdown(
    "Backpropagation multiplies one factor per layer: the gradient of the output with respect to the weights of "
    "layer *l* of an *L*-layer network is a product of *L − l* matrices and a vector. A product of many factors is "
    "numerically fragile: when the factors are mostly small it **vanishes** (the early layers stop learning), when "
    "they are mostly large it **explodes** (the updates destroy the model). How the weights are drawn at the start "
    "decides which, and whether a deep network trains at all."
)
st.latex(r"\mathbf{h}^{(l)} = f_l(\mathbf{h}^{(l-1)}), \qquad "
         r"\partial_{\mathbf{W}^{(l)}} \mathbf{o} = \underbrace{\partial_{\mathbf{h}^{(L-1)}} \mathbf{h}^{(L)}}"
         r"_{\mathbf{M}^{(L)}} \cdots \underbrace{\partial_{\mathbf{h}^{(l)}} \mathbf{h}^{(l+1)}}"
         r"_{\mathbf{M}^{(l+1)}} \underbrace{\partial_{\mathbf{W}^{(l)}} \mathbf{h}^{(l)}}_{\mathbf{v}^{(l)}}")
seed = controls.seed()

# ---------------------------------------------------------------- vanishing
st.header("Vanishing gradients: the sigmoid")
left, right = st.columns([3, 2])
curve = sigmoid_curve()
left.plotly_chart(figs.sigmoid_figure(curve), key="init:sigmoid", width="stretch")
right.latex(r"\sigma(x) = \frac{1}{1 + e^{-x}}")
right.latex(r"\sigma'(x) = \sigma(x)\,(1 - \sigma(x)) \le \tfrac14")
right.markdown(
    f"The gradient (computed by autograd, as in the book) is at most {curve['grad'].max():.2f}, at x = 0, and "
    f"{float(np.interp(6, curve['x'], curve['grad'])):.4f} at x = 6: a unit whose input is large in either "
    "direction passes almost nothing back. Stack such layers and the product of these factors vanishes. "
    "That is why ReLU, whose gradient is 0 or 1, became the default."
)

# ---------------------------------------------------------------- exploding
st.header("Exploding gradients: a product of random matrices")
pform = controls.Form(Product)
std, n = pform.draw("product_std", "num_factors", columns=2)
prod = product(n, std, seed)
left, right = st.columns([3, 2])
left.plotly_chart(figs.product_figure(prod["norms"], std), key="init:product", width="stretch")
right.latex(r"\mathbf{M} \leftarrow \mathbf{M}\,\mathbf{N}_k, \quad k = 1, \dots, " + str(n))
right.latex(rf"(\mathbf{{N}}_k)_{{ij}} \sim \mathcal{{N}}(0, {std:g}^2)")
right.markdown(f"A single 4 × 4 matrix (‖M‖ = {prod['norms'][0]:.3g}), then after multiplying {n} more "
               f"(seed {seed}), as the book prints it:")
last = prod["last"]
if np.all(np.isfinite(last)):
    right.dataframe([{f"col {j + 1}": f"{v:.4g}" for j, v in enumerate(row)} for row in last], hide_index=True)
else:
    right.warning("The product overflowed float64 (above about 1.8 × 10³⁰⁸): its entries are infinite. "
                  "Pick fewer matrices or a smaller σ.", icon=":material/warning:")
right.caption("Each factor multiplies the norm by a random amount; on a log scale the norm takes a random walk "
              "with a steady drift: up for σ = 1 (the book's example), down for small σ. Gradients through many "
              "layers behave alike: at that scale no learning rate fits every layer.")

# ---------------------------------------------------------------- the deep MLP
st.header("Initialization of a deep network")
st.markdown(
    "Take one hidden layer's output oᵢ = Σⱼ wᵢⱼ xⱼ with weights of mean 0 and variance σ², independent of inputs "
    "of mean 0 and variance γ². Then Var[oᵢ] = n_in σ² γ²: the variance is kept going forward when n_in σ² = 1, "
    "and the gradient's going backward when n_out σ² = 1. Xavier initialization takes the compromise; He "
    "initialization doubles it to make up for ReLU zeroing half its inputs."
)
st.latex(r"\text{Xavier: } \sigma^2 = \frac{2}{n_\mathrm{in} + n_\mathrm{out}} \qquad\qquad "
         r"\text{He: } \sigma^2 = \frac{2}{n_\mathrm{in}}")
form = controls.Form(ini.Config)
init, activation, num_layers, num_hiddens = form.draw("init", "activation", "num_layers", "num_hiddens", columns=4)
hist_layer, sym_case = controls.Form(Look).draw("hist_layer", "sym_case", columns=2)
shown_layer = min(hist_layer, num_layers)
if hist_layer > num_layers:
    st.caption(f":material/info: The net has {num_layers} hidden layer(s): the histograms show layer {shown_layer}.")
st.caption(f"784 inputs (a Fashion-MNIST image), {num_layers} hidden layer(s) of {num_hiddens} "
           f"{ops.ACTIVATIONS[activation]} units, 10 outputs; every weight matrix (the output layer's too) drawn "
           f"by the chosen scheme, biases zero. The std used for {num_hiddens} → {num_hiddens}: "
           + ", ".join(f"{ops.SHORT[k]} {ops.init_std(k, num_hiddens, num_hiddens):.3g}" for k in ops.INITS) + ".")

data = fashion_mnist("cpu")  # the statistics read it here; each worker keeps its own copy on the run's device
if data is None:
    st.stop()
data_name = "stand-in" if is_stand_in(data) else "Fashion-MNIST"
X, y = ini.stats_batch(data)


def draw_stats(stats: dict, chosen: str | None, where: str, key: str) -> None:
    """Per-layer lines for every entry of `stats`, then the histograms of layer `shown_layer`."""
    c1, c2, c3 = st.columns(3)
    c1.plotly_chart(figs.per_layer_figure(stats, "act_std", "std of each hidden layer's activations",
                                          y_title="std", highlight=chosen), key=f"init:{key}:act", width="stretch")
    c2.plotly_chart(figs.per_layer_figure(stats, "grad_norm", "‖∂l/∂W‖ per layer (last: output layer)",
                                          y_title="‖∂l/∂W‖", highlight=chosen), key=f"init:{key}:grad", width="stretch")
    c3.plotly_chart(figs.per_layer_figure(stats, "saturated", "units passing (almost) no gradient, φ'(z) < 0.05",
                                          log_y=False, y_title="fraction", highlight=chosen),
                    key=f"init:{key}:sat", width="stretch")
    names = [chosen] if chosen in stats else list(stats)
    h1, h2 = st.columns(2)
    h1.plotly_chart(figs.histogram_figure({n: stats[n]["act_hist"][shown_layer - 1] for n in names},
                                          f"activations of hidden layer {shown_layer}", x_title="h"),
                    key=f"init:{key}:hact", width="stretch")
    h2.plotly_chart(figs.histogram_figure({n: stats[n]["grad_hist"][shown_layer - 1] for n in names},
                                          f"log₁₀ |∂l/∂W| of layer {shown_layer}", x_title="log₁₀ |gradient entry|"),
                    key=f"init:{key}:hgrad", width="stretch")
    notes = []
    for n in names:
        s = stats[n]
        zero, bad = s["grad_zero"][shown_layer - 1], s["grad_nonfinite"][shown_layer - 1]
        if zero > 0:
            notes.append(f"{literal(n)}: {zero:.0%} of the gradient entries are exactly 0 (not drawn on a log scale)")
        if bad > 0 or not np.isfinite(s["loss"]):
            notes.append(f"{literal(n)}: the values overflowed float32 (inf or NaN): the loss is "
                         f"{s['loss']:.3g}, and training from here diverges")
    st.caption(f"{where} Loss on that batch: "
               + ", ".join(f"{literal(n)} {stats[n]['loss']:.3g}" for n in stats) + ". "
               + "; ".join(notes) + ("." if notes else ""))


st.subheader("Before training: one batch through the five initializations")
before = before_training(num_layers, num_hiddens, activation, seed, data_name, X, y)
draw_stats({ops.SHORT[k]: v for k, v in before.items()}, ops.SHORT[init],
           f"The first {len(X)} test images through the net drawn from seed {seed} by each scheme, gradients of "
           "the mean cross-entropy by the chain rule (the same as autograd's); the histograms show the chosen "
           f"scheme, {ops.SHORT[init]}.", "before")

# ---------------------------------------------------------------- training
st.subheader("Training on Fashion-MNIST")
lr, _ = form.draw("lr", "num_epochs", columns=2)
st.caption(f"Minibatch SGD with batch {BOOK.batch_size} and η = {lr:g}, the book's MLP settings. *Train the five "
           "initializations side by side* trains one net per scheme from the same seed (the other settings as "
           "above): compare the loss curves. Zero initialization never moves its hidden weights; N(0, 1) saturates "
           "or blows up; N(0, 0.01²), the book's choice for its one-hidden-layer MLP, learns only while the net is "
           "shallow.")


def live_stats(seen: dict) -> None:
    st.subheader("While training: per-layer statistics")
    runs = {(name or ops.SHORT[init]): s for name, s in seen.items()}
    first = next(iter(seen.values()))
    draw_stats(runs, None if len(runs) > 1 else next(iter(runs)),
               f"Computed in the run's worker between two steps (step {first['step']}, epoch {first['epoch']}) on "
               f"the same {len(X)} test images, without touching the run.", "live")


live_panel(
    "initialization", form.config(), "initialization", data=data, seed=seed, device=controls.device(),
    context={"data": data_name},
    charts_=[LOSS, replace(ACCURACY, reference=[(0.83, 0.85, "the book's one-hidden-layer MLP after 10 epochs, "
                                                             "0.83-0.85 (0.17.5, zh 2.0)")]),
             Chart("Gradient norm per minibatch", [("grad_norm/linear1", "first hidden layer"),
                                                   ("grad_norm/output", "output layer")],
                   log_y=True, level="steps", y_title="‖∂l/∂W‖")],
    readouts=[Readout("train_loss", "train loss"), Readout("test_metric", "test acc", "{:.3f}")],
    label=lambda cfg: f"{ops.SHORT[cfg.init]}, {cfg.activation}, {cfg.num_layers}×{cfg.num_hiddens}",
    views=[View("core.experiments.initialization:layer_view", live_stats, every=4.0, params={"size": len(X)})],
    presets=ini.PRESETS,
)

# ---------------------------------------------------------------- symmetry
st.header("Breaking the symmetry")
st.markdown(
    "Permuting the hidden units of a layer (and their outgoing weights) gives the same function. If two units "
    "start with equal weights, they compute the same value and receive the same gradient, so minibatch SGD "
    "keeps them equal forever: the layer acts as if it had one unit. Here a network with one hidden layer of "
    f"2 tanh units learns {SYM_EXAMPLES} Fashion-MNIST images for {SYM_STEPS} SGD steps (lr 0.5, batch 64)."
)
st.latex(r"\mathbf{W}^{(1)}_{1,:} = \mathbf{W}^{(1)}_{2,:} \;\Rightarrow\; h_1 = h_2 \;\Rightarrow\; "
         r"\partial_{\mathbf{W}^{(1)}_{1,:}} l = \partial_{\mathbf{W}^{(1)}_{2,:}} l")
sym = symmetry(seed, data_name, data.X_train[:SYM_EXAMPLES], data.y_train[:SYM_EXAMPLES])
left, right = st.columns(2)
left.plotly_chart(figs.symmetry_figure({ops.SYMMETRY_CASES[c]: r for c, r in sym.items()}), key="init:symmetry",
                  width="stretch")
r = sym[sym_case]
right.plotly_chart(figs.unit_weights_figure(r["w"], f"the two units' input weights after {SYM_STEPS} steps: "
                                                    f"{ops.SYMMETRY_CASES[sym_case]}"),
                   key="init:units", width="stretch")
same = bool(np.array_equal(r["w"][0], r["w"][1]))
right.caption(("The two units are still identical, bit for bit: ‖w₁ − w₂‖ = 0 at every step."
               if same else f"The units have drifted apart: ‖w₁ − w₂‖ = {r['diff'][-1]:.3g} after {SYM_STEPS} steps.")
              + " Dropout breaks the tie because each unit gets its own random mask, as the book notes; random "
                "initialization never creates it.")

st.header("What to look for")
st.markdown(
    "- **Vanishing**: with N(0, 0.01²) the activations shrink by about 0.01·√n per layer, so after a few layers "
    "they (and the gradients of the early layers) are 0 to float32. With sigmoid, even Xavier leaves the first "
    "layers' gradients tiny: σ' ≤ ¼ at every layer.\n"
    "- **Exploding / saturating**: with N(0, 1) a tanh net pins every unit at ±1 (the saturation curve at 1) and "
    "the gradients grow by orders of magnitude toward the input; with ReLU the activations grow by about "
    "√(n/2) per layer, and a deep net overflows float32: the run diverges within its first steps.\n"
    "- **Xavier with tanh, He with ReLU** keep the activation std and the gradient norms within a small factor "
    "from the first layer to the fiftieth. Xavier with ReLU halves the variance at every layer.\n"
    "- **Zero** initialization is the symmetric case taken to the limit: every hidden unit of a layer is the same. "
    "With tanh and ReLU they are also dead (zero in, zero gradient out), so the loss stays at ln 10 ≈ 2.30; with "
    "sigmoid every unit outputs ½ and the units of a layer move together, as one.\n"
    "- *Train the five initializations side by side* at the default depth of 10 tanh layers: only Xavier and He "
    "learn (both reach about 0.85 test accuracy in 10 epochs here); the other three stay at 0.10, chance. "
    "N(0, 0.01²) also trains several times slower on a CPU: its tiny numbers are float32 *subnormals*, which "
    "processors handle slowly."
)
