"""Forward propagation, backward propagation and computational graphs (book section 5.3), step by step."""
import streamlit as st
import torch

from core.ops import backprop as bp
from playground import controls
from playground.compgraph import graph_figure, latex_array, terms_numbers
from playground.messages import input_problem
from playground.tree import step_controls

NETWORK, AUTOGRAD = "Network", "Autograd"  # the labels are also the URL's values
LABELS = {"x": "x", "W1": "W⁽¹⁾", "W2": "W⁽²⁾", "y": "y", "lambd": "λ", "w": "w", "b": "b"}
PHI_NAMES = {"relu": "ReLU (the book's)", "sigmoid": "sigmoid", "tanh": "tanh"}
LOSS_NAMES = {"squared": "squared loss ½‖o − y‖²", "softmax_ce": "softmax cross-entropy"}
EXPR_NAMES = {"2xTx": "y = 2 xᵀx (book 2.5)", "sum(x*x)": "y = sum(x * x)", "3(x+2)^2": "y = sum(3 (x + 2)²)",
              "sigmoid(w.x+b)": "z = sigmoid(wᵀx + b)"}
DEFAULTS = {"x": "1, 2", "W1": "0.5, -1; 1, 0.5", "W2": "1, -1; 0.5, 2", "y": "1, 0"}
FORMAT_HELP = "Numbers separated by commas; the rows of a matrix separated by semicolons, e.g. 0.5, -1; 1, 0.5."

st.title("Forward propagation, backward propagation and computational graphs")
st.markdown(
    "**Forward propagation** computes and stores the intermediate variables of a network in order, from the input "
    "to the objective. **Backpropagation** then walks the same graph backwards, applying the chain rule to get the "
    "gradient of the objective with respect to every variable and parameter, reusing the stored values. Step "
    "through both on the book's one-hidden-layer network (no biases, an L2 penalty on the weights), or on the "
    "graph PyTorch's autograd records for a small expression.")


def look_for() -> None:
    with st.expander("What to look for"):
        st.markdown(
            "- **Storage.** Every forward value is kept: the backward pass reads z (for φ′(z)), h and x again. "
            "That is why training needs more memory than prediction.\n"
            "- **Shapes.** Each gradient has the shape of its variable: ∂J/∂W⁽¹⁾ is h × d like W⁽¹⁾.\n"
            "- **Dead units.** With ReLU, a hidden unit whose z is negative has h = 0 and ∂J/∂z = 0: its row of "
            "∂J/∂W⁽¹⁾ is only λW⁽¹⁾ (the default inputs have one such unit).\n"
            "- **The penalty.** λ adds λW to each weight's gradient and nothing else; at λ = 0 the s branch "
            "contributes 0.\n"
            "- **Autograd.** In *Autograd* mode, a variable used twice (x in xᵀx) gets one product from each "
            "use, and the two add up; the circles are named after the backward nodes torch records "
            "(`grad_fn`), the leaves after `AccumulateGrad`, which stores `.grad`.")


def step_caption(graph: bp.Graph, k: int) -> str:
    step, last = graph.steps[k], len(graph.steps) - 1
    out = graph.nodes[graph.output].symbol
    if step.phase == "input":
        what = "the inputs are given; press Next to run the forward phase"
    elif step.phase == "forward":
        ins = ", ".join(graph.nodes[i].symbol for i in step.inputs)
        what = f"forward: {graph.nodes[step.node].symbol} from {ins}"
    else:
        what = f"backward: ∂{out}/∂{graph.nodes[step.node].symbol}"
        if k == last:
            what += " (the last gradient: an update phase would now move each weight by −lr times its gradient)"
    return f"Step {k} of {last}: {what}."


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
    return step_controls(key, count - 1, default=0, label="step", reset_on=reset_on)


def refuse(problems) -> None:
    st.error("**These inputs cannot be used:**\n" + "\n".join(f"- {input_problem(p, LABELS)}" for p in problems),
             icon=":material/error:")
    look_for()
    st.stop()


def draw(graph: bp.Graph, key: str, k: int) -> None:
    st.caption(step_caption(graph, k))
    st.plotly_chart(graph_figure(graph, bp.shown_at(graph, k), revision=key,
                                 title=f"The computational graph at step {k}"), key=f"{key}:graph", width="stretch")
    show_step(graph, k)


mode = controls.segmented_control("Graph of", "bp_mode", [NETWORK, AUTOGRAD], NETWORK)

if mode == NETWORK:
    c1, c2, c3 = st.columns(3)
    phi = controls.selectbox("activation φ", "phi", list(bp.ACTIVATIONS), "relu", format_func=PHI_NAMES.get,
                             container=c1)
    loss = controls.selectbox("loss l", "loss", list(bp.LOSSES), "squared", format_func=LOSS_NAMES.get,
                              container=c2)
    lambd = controls.slider("λ (weight decay)", "lambd", 0.0, 2.0, 0.1, 0.05, container=c3)
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
    for col, name, label in zip(cols, ("x", "W1", "W2", "y"), ("x (d entries)", "W⁽¹⁾ (h × d)", "W⁽²⁾ (q × h)",
                                                               "y (q entries)")):
        texts[name] = controls.text_input(label, name, DEFAULTS[name], max_chars=120, container=col,
                                          help=FORMAT_HELP)
    cols[4].button("Random", key="backprop:random", icon=":material/casino:", on_click=randomize, width="stretch",
                   help="New values with the same shapes, drawn from the sidebar's seed.")
    inputs, problems = bp.read_network(texts, lambd, loss)
    k = steps("bp_step", bp.NETWORK_STEPS)
    if problems:
        refuse(problems)
    d, h, q = inputs.x.shape[0], inputs.W1.shape[0], inputs.W2.shape[0]
    graph = bp.network(**inputs.arrays(), phi=phi, loss=loss)
    draw(graph, "bp_step", k)
    st.caption(f"d = {d} inputs, h = {h} hidden units, q = {q} outputs. Boxes: variables (blue) and parameters "
               "(orange); circles: operators. Values appear under a node once computed, gradients after them.")
    if k == len(graph.steps) - 1:
        diff = bp.autograd_difference(graph, bp.autograd_network(**inputs.arrays(), phi=phi, loss=loss))
        (st.success if diff < 1e-9 else st.error)(
            f"The same network in PyTorch, with `J.backward()`: every value and gradient agrees with the hand "
            f"computation above (largest difference {diff:.1e}).", icon=":material/check_circle:")
    m1, m2, m3 = st.columns(3)
    for box, name in zip((m1, m2, m3), ("L", "s", "J")):
        known = name in bp.shown_at(graph, k).values
        box.metric(name, f"{float(graph.nodes[name].value):.4g}" if known else "–",
                   help="Shown once the forward pass has computed it.")
    st.markdown("**The same phases on a real net.** Here every value is computed by hand on a few numbers. "
                "The MLP page runs the book's Fashion-MNIST MLP one minibatch at a time with the same names: "
                "*Forward* (the loss and each layer's output), *Backward* (every weight's gradient), then the "
                "*Update* this page stops before (each weight moves by −lr times its gradient).")
    st.page_link("topics/mlp.py", label="Step the MLP's training phase by phase: forward, backward, update (5.1-5.2)",
                 icon=":material/east:")
    look_for()
    st.stop()

# ------------------------------------------------------------- autograd mode
key = controls.selectbox("expression", "expr", list(bp.EXPRESSIONS), "2xTx", format_func=EXPR_NAMES.get)
expr = bp.EXPRESSIONS[key]
st.latex(expr.tex)
st.code(expr.code, language="python")
n = controls.slider("entries of x", "n", 1, bp.MAX_DIM, 4)
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

st.subheader(f"After `{expr.output}.backward()`")
out_tex = graph.nodes[graph.output].tex
for leaf in expr.leaves:
    st.latex(rf"{bp.d(out_tex, graph.nodes[leaf].tex)} = {expr.closed_tex[leaf]} = "
             rf"{latex_array(res.closed[leaf])} \qquad \texttt{{{leaf}.grad}} = {latex_array(res.autograd[leaf])}")
same = all(abs(res.closed[n_] - res.autograd[n_]).max() < 1e-9 and abs(res.hand[n_] - res.autograd[n_]).max() < 1e-9
           for n_ in expr.leaves)
(st.success if same else st.error)(
    "autograd's gradients equal the closed form and the chain rule run by hand, step by step above."
    if same else "autograd's gradients differ from the closed form.", icon=":material/check_circle:")
st.caption("autograd's backward graph, read from `grad_fn.next_functions`, starting at the output:")
st.dataframe([{"node": name, "next_functions": ", ".join(str(x) for x in nxt)} for name, nxt in res.walk],
             hide_index=True, key="backprop:walk")
look_for()
