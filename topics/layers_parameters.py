"""Layers, modules and parameters (book sections 6.1-6.5): a model inspector, initializers,
deferred initialization, tied parameters and custom layers."""
import streamlit as st

from core.experiments import layers_parameters as lp
from playground import charts, controls, inspector
from playground.i18n import t
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

st.title(t("page.layers_parameters"))
st.markdown(t("layers_parameters.intro"))
st.latex(r"\text{parameters of } \texttt{nn.Linear}(n_\mathrm{in}, n_\mathrm{out}) = "
         r"\underbrace{n_\mathrm{out}\, n_\mathrm{in}}_{\mathbf{W}} + \underbrace{n_\mathrm{out}}_{\mathbf{b}},"
         r"\qquad \mathbf{h} = \mathbf{W}\mathbf{x} + \mathbf{b}")

form = controls.Form(lp.Config)
net_key, init = form.draw("net", "init", columns=2)
seed = controls.seed()
entry = lp.NETS[net_key]
net, X = lp.build_net(net_key, init, seed=seed)

st.header(t("layers_parameters.inspector"))
st.caption(t("layers_parameters.sample", net=t(f"layers_parameters.option.net.{net_key}"),
             shape=tuple(entry.input_shape)))
info = inspector.show(net, X)
if net_key == "param_net":
    st.caption(t("layers_parameters.param_net"))
elif net_key in ("mlp", "sequential", "my_sequential"):
    st.caption(t("layers_parameters.mlp_count"))
elif net_key in ("fixed_hidden", "chimera"):
    st.caption(t("layers_parameters.fixed_hidden"))

st.header(t("layers_parameters.initialization"))
st.latex(FORMULAS["xavier" if init == "default" and net_key == "lenet" else init])  # the book's init_cnn
hists = lp.weight_histograms(net)
st.markdown(t("layers_parameters.applied", init=t(f"layers_parameters.option.init.{init}")))
MAX_HISTOGRAMS = 12  # a deep CNN has dozens of weight tensors: the first, the last and evenly between
shown = (hists if len(hists) <= MAX_HISTOGRAMS else
         [hists[round(i * (len(hists) - 1) / (MAX_HISTOGRAMS - 1))] for i in range(MAX_HISTOGRAMS)])
if len(shown) < len(hists):
    st.caption(t("layers_parameters.some_shown", shown=len(shown), total=len(hists)))
for start in range(0, len(shown), 3):
    cols = st.columns(3)
    for i, h in enumerate(shown[start:start + 3]):
        cols[i].plotly_chart(histogram_figure(h, init, color=charts.PALETTE[(start + i) % len(charts.PALETTE)]),
                             key=f"lp:hist{start + i}", width="stretch")
if init == "my_init":
    zeros = sum(h["zeros"] * h["counts"].sum() for h in hists) / sum(h["counts"].sum() for h in hists)
    st.caption(t("layers_parameters.my_init_zeros", zeros=f"{zeros:.1%}"))
elif init == "xavier":
    st.caption(t("layers_parameters.xavier_bounds"))
elif init == "constant":
    st.caption(t("layers_parameters.constant"))

st.header(t("layers_parameters.deferred"))
st.markdown(t("layers_parameters.deferred_intro"))
(num_inputs,) = form.draw("num_inputs")
lazy = lp.lazy_demo(num_inputs, seed=seed)
left, right = st.columns(2)
COLUMNS = [inspector.col(c) for c in ("name", "shape", "count")]
left.markdown(t("layers_parameters.before_data"))
left.dataframe(inspector.parameter_frame(lazy["before"])[COLUMNS].astype({COLUMNS[2]: object})
               .fillna(t("layers_parameters.unknown")), hide_index=True, width="stretch")
right.markdown(t("layers_parameters.after_batch", shape=tuple(lazy["X"].shape)))
right.dataframe(inspector.parameter_frame(lazy["after"])[COLUMNS], hide_index=True, width="stretch")
after = [r["shape"] for r in lazy["after"]["parameters"]]
eager = [r["shape"] for r in lazy["eager"]["parameters"]]
(st.success if after == eager else st.error)(
    t("layers_parameters.shapes_equal" if after == eager else "layers_parameters.shapes_differ",
      num_inputs=num_inputs, shapes=", ".join(lp.format_shape(s) for s in after), total=f"{lazy['after']['total']:,}"),
    icon=":material/check_circle:" if after == eager else ":material/error:")
st.caption(t("layers_parameters.book_lazy"))

st.header(t("layers_parameters.tied"))
st.markdown(t("layers_parameters.tied_intro"))
use2, use4 = t("layers_parameters.use_at_2"), t("layers_parameters.use_at_4")
st.latex(r"\frac{\partial L}{\partial \mathbf{W}_\mathrm{shared}} = "
         r"\underbrace{\frac{\partial L}{\partial \mathbf{W}^{(2)}}}_{\text{" + use2 + "}} + "
         r"\underbrace{\frac{\partial L}{\partial \mathbf{W}^{(4)}}}_{\text{" + use4 + "}},"
         r"\qquad L = \textstyle\sum \mathrm{net}(\mathbf{X})")
tied = lp.shared_demo(seed=seed, batch_size=32)
c = st.columns(3)
c[0].metric("net[2].weight is net[4].weight", str(tied["same_object"]))
c[1].metric(t("layers_parameters.rows_equal"), t("layers_parameters.rows_equal_value", equal=sum(tied["book_check"]),
                                                  total=len(tied["book_check"])))
c[2].metric("max |grad − (use 2 + use 4)|", f"{tied['max_diff']:.2g}")
st.caption(t("layers_parameters.tied_caption"))
lim = float(max(tied["grad"].abs().max(), tied["use1"].abs().max(), tied["use2"].abs().max(), 1e-12))
TIED = {"through the use at 2": ("through_2", "use1"), "through the use at 4": ("through_4", "use2"),
        "autograd's .grad of the shared weight": ("autograd", "grad")}  # the charts' keys: their English titles
for col, (part, (words, which)) in zip(st.columns(3), TIED.items()):
    name, g = t(f"layers_parameters.{words}"), tied[which]
    col.plotly_chart(charts.heatmap(g.numpy(), title=name, colorscale=charts.DIVERGING, zmin=-lim, zmax=lim,
                                    height=300, x_title=t("layers_parameters.axis_input"),
                                    y_title=t("layers_parameters.axis_output")),
                     key=f"lp:tied:{part}", width="stretch")

st.header(t("layers_parameters.custom"))
cen = lp.centered_demo(seed=seed)
left, right = st.columns(2)
left.markdown(t("layers_parameters.centered"))
left.latex(r"\mathrm{CenteredLayer}([1, 2, 3, 4, 5]) = ["
           + ", ".join(f"{v:g}" for v in cen["y"].tolist()) + "]")
left.metric(t("layers_parameters.centered_mean"), f"{cen['mean']:.2g}", help=t("layers_parameters.centered_help"))
left.caption(t("layers_parameters.pre_mean", mean=f"{cen['pre_mean']:.4f}"))
mine = lp.my_linear_demo(seed=seed)
right.markdown(t("layers_parameters.my_linear"))
right.latex(r"\mathrm{MyLinear}(\mathbf{X}) = \mathrm{ReLU}(\mathbf{X}\mathbf{W} + \mathbf{b})")
right.dataframe({t("layers_parameters.out_col", j=j): [f"{v:.4f}" for v in mine["out"][:, j].tolist()]
                 for j in range(3)}
                | {f"F.linear {j}": [f"{v:.4f}" for v in mine["ref"][:, j].tolist()] for j in range(3)},
                hide_index=True)
right.caption(t("layers_parameters.my_linear_caption", diff=f"{mine['max_diff']:.2g}"))

with st.expander(t("common.what_to_look_for"), icon=":material/visibility:"):
    st.markdown(t("layers_parameters.look"))
