"""Pooling (book section 7.5): max and average pooling on a grid, and pooling's tolerance of small shifts."""
import streamlit as st
import torch
import torch.nn.functional as F

from core.ops.conv_arithmetic import check_conv, conv_output_shape, input_of_output, pool_grid, shift_comparison
from playground import charts, controls, grid
from playground.messages import conv_note

INPUTS = {"arange": "0, 1, 2, ... (book)", "random": "random 0-9 (seeded)"}

st.title("Pooling")
st.markdown("A pooling window slides like a convolution kernel but has no weights: it outputs the **maximum** "
            "or the **average** of the cells under it. Choose an output cell to see its window; for max pooling "
            "the winning cell is outlined in red.")
c = st.columns(3)
mode = controls.selectbox("pooling", "pool_mode", ["max", "avg"], "max", container=c[0],
                          format_func={"max": "max", "avg": "average"}.get)
source = controls.selectbox("input", "pool_in", list(INPUTS), "arange", format_func=INPUTS.get, container=c[1])
n = controls.slider("input size n × n", "pool_n", 2, 8, 4, container=c[2])
c = st.columns(3)
k = controls.slider("window k × k", "pool_k", 1, 5, 3, container=c[0])
pad = controls.slider("padding per side", "pool_pad", 0, 2, 1, container=c[1])
s = controls.slider("stride", "pool_s", 1, 4, 2, container=c[2],
                    help="nn.MaxPool2d's default stride is the window size.")

out_h, out_w = conv_output_shape(n, n, k, k, 2 * pad, 2 * pad, s, s)
st.latex(grid.shape_latex((n, n), (k, k), (2 * pad, 2 * pad), (s, s), (out_h, out_w)))
problems = check_conv(n, n, k, k, pad, pad, s, s, pool=True)
if problems:
    st.error("**This combination has no output:**\n" + "\n".join(f"- {conv_note(p)}" for p in problems),
             icon=":material/error:")
else:
    if source == "arange":
        X = torch.arange(n * n, dtype=torch.float32).reshape(n, n)
    else:
        X = torch.randint(0, 10, (n, n), generator=torch.Generator().manual_seed(controls.seed())).float()
    Y, winners = pool_grid(X, k, pad, s, mode)
    ref = (F.max_pool2d if mode == "max" else F.avg_pool2d)(X[None, None], k, stride=s, padding=pad)[0, 0]
    i, j = grid.cell_picker(out_h, out_w, "pool")
    read = [(r + pad, col + pad) for r, col, _ in input_of_output(i, j, n, n, k, k, pad, pad, s, s)]
    fill = float("-inf") if mode == "max" else 0.0
    win = [winners[i][j]] if mode == "max" else []
    c1, c2 = st.columns([3, 2])
    c1.plotly_chart(grid.grid_figure(F.pad(X, (pad, pad, pad, pad), value=fill), pad=(pad, pad), read=read,
                                     winner=win, pad_text="−∞" if mode == "max" else "0",
                                     title=f"input {n}×{n} + padding"), key="pool:input", width="stretch")
    c2.plotly_chart(grid.grid_figure(Y, selected=[(i, j)], colorscale=charts.SEQUENTIAL_ALT,
                                     title=f"{mode} pooling output {out_h}×{out_w}"),
                    key="pool:output", width="stretch")
    if mode == "max":
        r, col = winners[i][j]
        st.markdown(f"Output ({i}, {j}) = **{grid.fmt(float(Y[i, j]))}**, the maximum of its window, "
                    f"taken from input cell ({r - pad}, {col - pad}). Padding counts as −∞, so it never wins.")
    else:
        st.markdown(f"Output ({i}, {j}) = **{grid.fmt(float(Y[i, j]))}** = (sum of the window) / {k * k}; "
                    "the padding counts as zeros in the mean (`count_include_pad=True`, torch's default).")
    same = torch.allclose(Y, ref)
    (st.success if same else st.error)(
        f"torch's {'max_pool2d' if mode == 'max' else 'avg_pool2d'} gives {'the same' if same else 'a different'} "
        f"{tuple(ref.shape)} output.", icon=":material/check_circle:" if same else ":material/error:")

st.header("Shift the input by a pixel")
st.markdown("The book's 6×8 image (ones with a band of zeros) goes through the edge detector [1, −1], then "
            f"{'max' if mode == 'max' else 'average'} pooling with a 2×2 window and stride 1. "
            "Shift the image sideways and compare: how many cells keep their value?")
shift = controls.slider("shift (columns; the edge column is repeated)", "shift", -2, 2, 1)
res = shift_comparison(shift=shift, mode=mode)
m1, m2 = st.columns(2)
m1.metric("convolution outputs unchanged", f"{res['conv_unchanged']:.0%}")
m2.metric("pooled outputs unchanged", f"{res['pool_unchanged']:.0%}",
          delta=f"{res['pool_unchanged'] - res['conv_unchanged']:+.0%} vs convolution")
for a, b, what in (("X", "X_shifted", "input"), ("conv", "conv_shifted", "edge detector output"),
                   ("pool", "pool_shifted", "after pooling")):
    c1, c2 = st.columns(2)
    changed = [(r, col) for r, col in zip(*torch.nonzero(res[a] != res[b], as_tuple=True))]
    c1.plotly_chart(grid.grid_figure(res[a], title=f"{what}", colorscale=charts.DIVERGING, cell_px=28),
                    key=f"pool:shift:{a}", width="stretch")
    c2.plotly_chart(grid.grid_figure(res[b], title=f"{what}, shifted {shift:+d} (changed cells outlined)",
                                     colorscale=charts.DIVERGING, cell_px=28,
                                     changed=[(int(r), int(q)) for r, q in changed]),
                    key=f"pool:shift:{b}", width="stretch")
