"""Forward propagation, backward propagation and computational graphs (book section 5.3), step by step."""
import streamlit as st
import torch

from core.experiments.schema import Control, coerce_value
from core.ops import backprop as bp
from playground import controls
from playground.compgraph import graph_figure, latex_array, terms_numbers
from playground.i18n import t
from playground.messages import input_problem
from playground.tree import step_controls

NETWORK, AUTOGRAD = "Network", "Autograd"  # the labels are also the URL's values
LABELS = {"x": "x", "W1": "W⁽¹⁾", "W2": "W⁽²⁾", "y": "y", "lambd": "λ", "w": "w", "b": "b"}
EXPR_KEYS = {"2xTx": "two_xtx", "sum(x*x)": "sum_xx", "3(x+2)^2": "three_x2", "sigmoid(w.x+b)": "sigmoid_wx"}
DEFAULTS = {"x": "1, 2", "W1": "0.5, -1; 1, 0.5", "W2": "1, -1; 0.5, 2", "y": "1, 0"}

st.title(t("page.backprop"))
st.markdown(t("backprop.intro"))


def look_for() -> None:
    with st.expander(t("common.what_to_look_for")):
        st.markdown(t("backprop.look"))


def step_caption(graph: bp.Graph, k: int) -> str:
    step, last = graph.steps[k], len(graph.steps) - 1
    out = graph.nodes[graph.output].symbol
    if step.phase == "input":
        what = t("backprop.step_input")
    elif step.phase == "forward":
        ins = ", ".join(graph.nodes[i].symbol for i in step.inputs)
        what = t("backprop.step_forward", node=graph.nodes[step.node].symbol, inputs=ins)
    else:
        what = t("backprop.step_backward", out=out, node=graph.nodes[step.node].symbol)
        if k == last:
            what += t("backprop.step_last")
    return t("backprop.step_caption", k=k, last=last, what=what)


def show_step(graph: bp.Graph, k: int) -> None:
    """The step's formula, the book's symbols first, then its numbers."""
    step = graph.steps[k]
    if step.phase == "input":
        st.latex(r",\quad ".join(f"{graph.nodes[n].tex} = {latex_array(graph.nodes[n].value)}" for n in step.nodes))
        return
    node = graph.nodes[step.node]
    if step.phase == "forward":
        numbers = f" = {terms_numbers(step.terms)}" if step.terms else ""
        st.latex(f"{step.tex}{numbers} = {latex_array(node.value)}")
        if not step.terms:
            st.latex(r"\text{with}\quad " + r",\quad ".join(
                f"{graph.nodes[i].tex} = {latex_array(graph.nodes[i].value)}" for i in step.inputs))
        return
    out = graph.nodes[graph.output].tex
    st.latex(step.tex)
    if any(f.tex != "1" for t in step.terms for f in t.factors):  # not just the seed, 1
        st.latex(f"{bp.d(out, node.tex)} = {terms_numbers(step.terms)} = {latex_array(node.grad)}")


def steps(key: str, count: int, reset_on=None) -> int:
    """Back / Next and the step slider; drawn before the inputs are checked (the
    number of steps does not depend on them), so a bad value keeps the step."""
    return step_controls(key, count - 1, default=0, label=t("backprop.step_label"), reset_on=reset_on)


def refuse(problems) -> None:
    st.error(t("backprop.refuse") + "\n" + "\n".join(f"- {input_problem(p, LABELS)}" for p in problems),
             icon=":material/error:")
    look_for()
    st.stop()


def draw(graph: bp.Graph, key: str, k: int) -> None:
    st.caption(step_caption(graph, k))
    st.plotly_chart(graph_figure(graph, bp.shown_at(graph, k), revision=key,
                                 title=t("backprop.graph_title", k=k)), key=f"{key}:graph", width="stretch")
    show_step(graph, k)


MODE = Control(t("backprop.mode"), "segmented", options=(NETWORK, AUTOGRAD),
               labels={m: t(f"backprop.mode_option.{m}") for m in (NETWORK, AUTOGRAD)})
mode = controls.bound("bp_mode", MODE, NETWORK, parse=lambda raw: coerce_value("value", MODE, str, raw))

if mode == NETWORK:
    c1, c2, c3 = st.columns(3)
    phi = controls.selectbox(t("backprop.activation"), "phi", list(bp.ACTIVATIONS), "relu",
                             format_func=lambda a: t(f"backprop.phi.{a}"), container=c1)
    loss = controls.selectbox(t("backprop.loss"), "loss", list(bp.LOSSES), "squared",
                              format_func=lambda name: t(f"backprop.loss_name.{name}"), container=c2)
    lambd = controls.slider(t("backprop.lambd"), "lambd", 0.0, 2.0, 0.1, 0.05, container=c3)
    act, l = bp.ACTIVATIONS[phi], bp.LOSSES[loss]
    st.latex(r"\begin{aligned}"
             r"\mathbf{z} &= \mathbf{W}^{(1)}\mathbf{x}, & \mathbf{h} &= \phi(\mathbf{z}) = " + act.tex + r", & "
             r"\mathbf{o} &= \mathbf{W}^{(2)}\mathbf{h}, \\ "
             r"L &= l(\mathbf{o}, \mathbf{y}) = " + l.tex + r", & "
             r"s &= \frac{\lambda}{2}\left(\|\mathbf{W}^{(1)}\|_F^2 + \|\mathbf{W}^{(2)}\|_F^2\right), & "
             rf"J &= L + s \quad (\lambda = {lambd:g})"
             r"\end{aligned}")

    def randomize() -> None:
        """New values of the current shapes (2, 2, 2 when the typed ones do not fit), from the seed."""
        texts = {n: st.session_state.get(controls.widget_key(n), DEFAULTS[n]) for n in DEFAULTS}
        ok, _ = bp.read_network(texts, 0.0)
        d, h, q = (ok.W1.shape[1], ok.W1.shape[0], ok.W2.shape[0]) if ok else (2, 2, 2)
        count = st.session_state.get("_backprop_draws", 0) + 1
        st.session_state["_backprop_draws"] = count
        gen = torch.Generator().manual_seed(controls.seed() * 1000 + count)
        for name, text in bp.random_inputs(d, h, q, loss, gen).items():
            controls.set_value(name, text)

    cols = st.columns([2, 3, 3, 2, 1.3], vertical_alignment="bottom")
    texts = {}
    for col, name in zip(cols, ("x", "W1", "W2", "y")):
        texts[name] = controls.text_input(t(f"backprop.input_{name}"), name, DEFAULTS[name], max_chars=120,
                                          container=col, help=t("backprop.format_help"))
    cols[4].button(t("backprop.random"), key="backprop:random", icon=":material/casino:", on_click=randomize,
                   width="stretch", help=t("backprop.random_help"))
    inputs, problems = bp.read_network(texts, lambd, loss)
    k = steps("bp_step", bp.NETWORK_STEPS)
    if problems:
        refuse(problems)
    d, h, q = inputs.x.shape[0], inputs.W1.shape[0], inputs.W2.shape[0]
    graph = bp.network(**inputs.arrays(), phi=phi, loss=loss)
    draw(graph, "bp_step", k)
    st.caption(t("backprop.shapes", d=d, h=h, q=q))
    if k == len(graph.steps) - 1:
        diff = bp.autograd_difference(graph, bp.autograd_network(**inputs.arrays(), phi=phi, loss=loss))
        (st.success if diff < 1e-9 else st.error)(
            t("backprop.agrees", diff=f"{diff:.1e}"), icon=":material/check_circle:")
    m1, m2, m3 = st.columns(3)
    for box, name in zip((m1, m2, m3), ("L", "s", "J")):
        known = name in bp.shown_at(graph, k).values
        box.metric(name, f"{float(graph.nodes[name].value):.4g}" if known else "–",
                   help=t("backprop.metric_help"))
    st.markdown(t("backprop.real_net"))
    st.page_link("topics/mlp.py", label=t("backprop.mlp_link"), icon=":material/east:")
    look_for()
    st.stop()

# ------------------------------------------------------------- autograd mode
key = controls.selectbox(t("backprop.expression"), "expr", list(bp.EXPRESSIONS), "2xTx",
                         format_func=lambda e: t(f"backprop.expr.{EXPR_KEYS[e]}"))
expr = bp.EXPRESSIONS[key]
st.latex(expr.tex)
st.code(expr.code, language="python")
n = controls.slider(t("backprop.entries"), "n", 1, bp.MAX_DIM, 4)
leaves = {}
for leaf in expr.leaves:
    size = 1 if leaf == "b" else n
    cols = st.columns(bp.MAX_DIM)
    leaves[leaf] = [controls.number_input(f"{leaf}" if leaf == "b" else f"{leaf}{i + 1}",
                                          leaf if leaf == "b" else f"{leaf}{i}", -bp.ABS_MAX, bp.ABS_MAX,
                                          bp.LEAF_DEFAULTS[leaf][i], 0.5, container=cols[i])
                    for i in range(size)]
values, problems = bp.check_leaves(key, leaves)
k = steps("ag_step", expr.step_count, reset_on=key)  # a new expression starts at step 0
if problems:
    refuse(problems)
res = bp.expression(key, values)
graph = res.graph
draw(graph, "ag_step", k)

st.subheader(t("backprop.after_backward", output=expr.output))
out_tex = graph.nodes[graph.output].tex
for leaf in expr.leaves:
    st.latex(rf"{bp.d(out_tex, graph.nodes[leaf].tex)} = {expr.closed_tex[leaf]} = "
             rf"{latex_array(res.closed[leaf])} \qquad \texttt{{{leaf}.grad}} = {latex_array(res.autograd[leaf])}")
same = all(abs(res.closed[n_] - res.autograd[n_]).max() < 1e-9 and abs(res.hand[n_] - res.autograd[n_]).max() < 1e-9
           for n_ in expr.leaves)
(st.success if same else st.error)(
    t("backprop.same") if same else t("backprop.differ"), icon=":material/check_circle:")
st.caption(t("backprop.walk"))
st.dataframe([{t("backprop.column_node"): name, "next_functions": ", ".join(str(x) for x in nxt)}
              for name, nxt in res.walk], hide_index=True, key="backprop:walk")
look_for()
