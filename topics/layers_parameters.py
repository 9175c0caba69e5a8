"""Layers, modules and parameters (book sections 6.1-6.5): a model inspector, initializers,
deferred initialization, tied parameters and custom layers."""
import streamlit as st

from core.experiments import layers_parameters as lp
from playground import charts, controls, inspector
from playground.layers_parameters_figures import histogram_figure

FORMULAS = {
    "default": r"W_{ij},\, b_i \sim U\!\left(-\tfrac{1}{\sqrt{n_\mathrm{in}}},\ \tfrac{1}{\sqrt{n_\mathrm{in}}}\right)",
    "normal": r"W_{ij} \sim \mathcal{N}(0,\ 0.01^2),\quad b_i = 0",
    "constant": r"W_{ij} = 1,\quad b_i = 0",
    "xavier": r"W_{ij} \sim U\!\left(-\sqrt{\tfrac{6}{n_\mathrm{in} + n_\mathrm{out}}},\ "
              r"\sqrt{\tfrac{6}{n_\mathrm{in} + n_\mathrm{out}}}\right)",
    "my_init": r"W_{ij} \sim \begin{cases} U(5, 10) & \text{with probability } \tfrac14 \\ 0 & "
               r"\text{with probability } \tfrac12 \\ U(-10, -5) & \text{with probability } \tfrac14 \end{cases}",
    "zeros": r"W_{ij} = 0,\quad b_i = 0",
}

st.title("Layers, modules and parameters")
st.markdown(
    "A network is built from **modules**: a layer is a module, a block of layers is a module, and the whole net "
    "is one too. Each module holds its **parameters**, says in `forward` how its input becomes its output, and "
    "may contain other modules, so a net is a tree. Below, the book's nets are opened up: the tree with each "
    "module's output shape on a sample batch, every parameter with its shape and statistics, and what the "
    "book's initializers put into the weights.")
st.latex(r"\text{parameters of } \texttt{nn.Linear}(n_\mathrm{in}, n_\mathrm{out}) = "
         r"\underbrace{n_\mathrm{out}\, n_\mathrm{in}}_{\mathbf{W}} + \underbrace{n_\mathrm{out}}_{\mathbf{b}},"
         r"\qquad \mathbf{h} = \mathbf{W}\mathbf{x} + \mathbf{b}")

form = controls.Form(lp.Config)
net_key, init = form.draw("net", "init", columns=2)
seed = controls.seed()
entry = lp.NETS[net_key]
net, X = lp.build_net(net_key, init, seed=seed)

st.header("The model inspector")
st.caption(f"{entry.label}: the sample input X = torch.rand{tuple(entry.input_shape)} (drawn from the seed) "
           "goes through the net once; forward hooks record what each module outputs.")
info = inspector.show(net, X)
if net_key == "param_net":
    st.caption("The book prints `[(name, param.shape) for name, param in net.named_parameters()]` for this net: "
               "0.weight 8 × 4, 0.bias 8, 2.weight 1 × 8, 2.bias 1.")
elif net_key in ("mlp", "sequential", "my_sequential"):
    st.caption("By the formula: (20 + 1) · 256 + (256 + 1) · 10 = 7,946 parameters. `MySequential` registers "
               "its children as '0', '1', '2', so its table reads like nn.Sequential's.")
elif net_key in ("fixed_hidden", "chimera"):
    st.caption("`FixedHiddenMLP` calls one `linear` twice (its two output shapes above share one row of "
               "parameters) and holds `rand_weight`, a constant that is not a parameter; its output is a scalar.")

st.header("Initialization")
st.latex(FORMULAS["xavier" if init == "default" and net_key == "lenet" else init])  # the book's init_cnn
hists = lp.weight_histograms(net)
st.markdown(f"**{lp.INITS[init]}** on every weight matrix of the net (the book applies its `init_...` functions "
            "with `net.apply`). Each histogram is one layer's weights; the table above shows the same numbers.")
MAX_HISTOGRAMS = 12  # a deep CNN has dozens of weight tensors: the first, the last and evenly between
shown = (hists if len(hists) <= MAX_HISTOGRAMS else
         [hists[round(i * (len(hists) - 1) / (MAX_HISTOGRAMS - 1))] for i in range(MAX_HISTOGRAMS)])
if len(shown) < len(hists):
    st.caption(f"{len(shown)} of the net's {len(hists)} weight tensors, from the first to the last; "
               "the parameter table above lists them all.")
for start in range(0, len(shown), 3):
    cols = st.columns(3)
    for i, h in enumerate(shown[start:start + 3]):
        cols[i].plotly_chart(histogram_figure(h, init, color=charts.PALETTE[(start + i) % len(charts.PALETTE)]),
                             key=f"lp:hist{start + i}", width="stretch")
if init == "my_init":
    zeros = sum(h["zeros"] * h["counts"].sum() for h in hists) / sum(h["counts"].sum() for h in hists)
    st.caption(f"{zeros:.1%} of the weights are exactly 0 (the book's `my_init` keeps |w| ≥ 5 of U(-10, 10): "
               "half of them).")
elif init == "xavier":
    st.caption("The dotted lines are ±sqrt(6 / (fan_in + fan_out)), each layer's own bound.")
elif init == "constant":
    st.caption("The book prints `net[0].weight.data[0]` = tensor([1., 1., 1., 1.]) and bias 0: every unit of a "
               "layer computes the same thing, and gradient descent keeps them equal.")

st.header("Deferred initialization")
st.markdown("With `nn.LazyLinear` the book leaves out every input width: the net cannot know its first layer's "
            "shape until data arrive. Before the first batch its parameters are *uninitialized*; the first batch "
            "fixes the shapes, and the weights are drawn then.")
(num_inputs,) = form.draw("num_inputs")
lazy = lp.lazy_demo(num_inputs, seed=seed)
left, right = st.columns(2)
left.markdown("**`nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))` before any data**")
left.dataframe(inspector.parameter_frame(lazy["before"])[["name", "shape", "count"]].astype({"count": object})
               .fillna("unknown"), hide_index=True, width="stretch")
right.markdown(f"**after one batch X of shape {tuple(lazy['X'].shape)}**")
right.dataframe(inspector.parameter_frame(lazy["after"])[["name", "shape", "count"]], hide_index=True,
                width="stretch")
after = [r["shape"] for r in lazy["after"]["parameters"]]
eager = [r["shape"] for r in lazy["eager"]["parameters"]]
(st.success if after == eager else st.error)(
    f"Shapes after the first batch {'equal' if after == eager else 'differ from'} those of the eager "
    f"nn.Sequential(nn.Linear({num_inputs}, 256), nn.ReLU(), nn.Linear(256, 10)): "
    + ", ".join(lp.format_shape(s) for s in after) + f"; {lazy['after']['total']:,} parameters.",
    icon=":material/check_circle:" if after == eager else ":material/error:")
st.caption("The book prints, for X = torch.rand(2, 20): [torch.Size([256, 20]), torch.Size([256]), "
           "torch.Size([10, 256]), torch.Size([10])].")

st.header("Tied parameters")
st.markdown("The book's net uses one layer `shared = nn.LazyLinear(8)` at positions 2 and 4 of an "
            "nn.Sequential. Both positions hold the **same** tensors, so the gradient of the loss with respect to "
            "the shared weight collects the contributions of both uses.")
st.latex(r"\frac{\partial L}{\partial \mathbf{W}_\mathrm{shared}} = "
         r"\underbrace{\frac{\partial L}{\partial \mathbf{W}^{(2)}}}_{\text{use at 2}} + "
         r"\underbrace{\frac{\partial L}{\partial \mathbf{W}^{(4)}}}_{\text{use at 4}},"
         r"\qquad L = \textstyle\sum \mathrm{net}(\mathbf{X})")
tied = lp.shared_demo(seed=seed, batch_size=32)
c = st.columns(3)
c[0].metric("net[2].weight is net[4].weight", str(tied["same_object"]))
c[1].metric("after net[2].weight[0, 0] = 100, rows 0 equal", f"{sum(tied['book_check'])} of {len(tied['book_check'])}")
c[2].metric("max |grad − (use 2 + use 4)|", f"{tied['max_diff']:.2g}")
st.caption("The book prints `tensor([True, True, True, True, True, True, True, True])` twice: the rows stay equal "
           "even after one position is changed. The gradients below are for a batch X of shape (32, 4) (two rows, "
           "as the book's X, leave most units of a ReLU net silent); each use's contribution is computed by "
           "untying the net into two layers with the same values and reading each one's .grad.")
lim = float(max(tied["grad"].abs().max(), tied["use1"].abs().max(), tied["use2"].abs().max(), 1e-12))
for col, (name, g) in zip(st.columns(3), (("through the use at 2", tied["use1"]), ("through the use at 4",
                                                                                  tied["use2"]),
                                          ("autograd's .grad of the shared weight", tied["grad"]))):
    col.plotly_chart(charts.heatmap(g.numpy(), title=name, colorscale=charts.DIVERGING, zmin=-lim, zmax=lim, height=300,
                                    x_title="input j", y_title="output i"), key=f"lp:tied:{name}", width="stretch")

st.header("Custom layers")
cen = lp.centered_demo(seed=seed)
left, right = st.columns(2)
left.markdown("**`CenteredLayer`**: `X - X.mean()`, a layer without parameters.")
left.latex(r"\mathrm{CenteredLayer}([1, 2, 3, 4, 5]) = ["
           + ", ".join(f"{v:g}" for v in cen["y"].tolist()) + "]")
left.metric("mean of Linear(8, 128) then CenteredLayer on X (4 × 8)", f"{cen['mean']:.2g}",
            help="The book prints a number of about 1e-9: zero up to float32 rounding.")
left.caption(f"Before the centering the mean was {cen['pre_mean']:.4f}.")
mine = lp.my_linear_demo(seed=seed)
right.markdown("**`MyLinear(5, 3)`**: its own `weight` (5 × 3) and `bias` (3) parameters, then ReLU.")
right.latex(r"\mathrm{MyLinear}(\mathbf{X}) = \mathrm{ReLU}(\mathbf{X}\mathbf{W} + \mathbf{b})")
right.dataframe({f"out {j}": [f"{v:.4f}" for v in mine["out"][:, j].tolist()] for j in range(3)}
                | {f"F.linear {j}": [f"{v:.4f}" for v in mine["ref"][:, j].tolist()] for j in range(3)},
                hide_index=True)
right.caption(f"relu(F.linear(X, weight.T, bias)) with the same values differs by at most {mine['max_diff']:.2g}. "
              "The book's forward reads `self.weight.data`, which autograd does not see; this one uses the "
              "parameters so the layer can be trained.")

with st.expander("What to look for", icon=":material/visibility:"):
    st.markdown(
        "- **The tree**: `nn.Sequential`, `MySequential` and the `MLP` class give the same table of 7,946 "
        "parameters; `NestMLP` and the chimera nest modules inside modules, and the dotted names "
        "(`0.net.2.weight`) follow the path down the tree.\n"
        "- **Reuse**: in the tied net, position 4 is drawn as a dashed edge to the module at 2, and the table lists "
        "its parameters once (121, not 193). FixedHiddenMLP's `linear` is called twice in one forward pass.\n"
        "- **Initializers**: normal(0, 0.01) is a narrow bell; Xavier fills its ±bound evenly, and the bound "
        "shrinks as a layer gets wider; constant 1 and zeros put every weight in one bar (every unit of a layer "
        "then computes the same thing); `my_init` leaves a gap at (-5, 5) and about half the weights at exactly 0.\n"
        "- **Deferred initialization**: move the input width; only the first layer's weight changes shape.\n"
        "- **Tied gradient**: the two heatmaps add up to the third, cell by cell.")
