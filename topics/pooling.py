"""Pooling (book section 7.5): max and average pooling on a grid, and pooling's tolerance of small shifts."""
import streamlit as st
import torch
import torch.nn.functional as F

from core.ops.conv_arithmetic import check_conv, conv_output_shape, input_of_output, pool_grid, shift_comparison
from playground import charts, controls, grid
from playground.i18n import t
from playground.messages import conv_note

INPUTS = ("arange", "random")

st.title(t("page.pooling"))
st.markdown(t("pooling.intro"))
c = st.columns(3)
mode = controls.selectbox(t("pooling.mode"), "pool_mode", ["max", "avg"], "max", container=c[0],
                          format_func=lambda m: t(f"pooling.mode_name.{m}"))
source = controls.selectbox(t("pooling.input"), "pool_in", list(INPUTS), "arange",
                            format_func=lambda s: t(f"pooling.input_name.{s}"), container=c[1])
n = controls.slider(t("pooling.size"), "pool_n", 2, 8, 4, container=c[2])
c = st.columns(3)
k = controls.slider(t("pooling.window"), "pool_k", 1, 5, 3, container=c[0])
pad = controls.slider(t("pooling.padding"), "pool_pad", 0, 2, 1, container=c[1])
s = controls.slider(t("pooling.stride"), "pool_s", 1, 4, 2, container=c[2], help=t("pooling.stride_help"))

out_h, out_w = conv_output_shape(n, n, k, k, 2 * pad, 2 * pad, s, s)
st.latex(grid.shape_latex((n, n), (k, k), (2 * pad, 2 * pad), (s, s), (out_h, out_w)))
problems = check_conv(n, n, k, k, pad, pad, s, s, pool=True)
if problems:
    st.error(t("pooling.no_output") + "\n" + "\n".join(f"- {conv_note(p)}" for p in problems),
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
                                     title=t("pooling.input_title", n=n)), key="pool:input", width="stretch")
    c2.plotly_chart(grid.grid_figure(Y, selected=[(i, j)], colorscale=charts.SEQUENTIAL_ALT,
                                     title=t(f"pooling.output_title_{mode}", h=out_h, w=out_w)),
                    key="pool:output", width="stretch")
    if mode == "max":
        r, col = winners[i][j]
        st.markdown(t("pooling.max_output", i=i, j=j, value=grid.fmt(float(Y[i, j])), r=r - pad, c=col - pad))
    else:
        st.markdown(t("pooling.avg_output", i=i, j=j, value=grid.fmt(float(Y[i, j])), count=k * k))
    same = torch.allclose(Y, ref)
    (st.success if same else st.error)(
        t("pooling.same" if same else "pooling.different", function="max_pool2d" if mode == "max" else "avg_pool2d",
          shape=tuple(ref.shape)), icon=":material/check_circle:" if same else ":material/error:")

st.header(t("pooling.shift_header"))
st.markdown(t("pooling.shift_intro", mode=t(f"pooling.mode_name.{mode}")))
shift = controls.slider(t("pooling.shift"), "shift", -2, 2, 1)
res = shift_comparison(shift=shift, mode=mode)
m1, m2 = st.columns(2)
m1.metric(t("pooling.conv_unchanged"), f"{res['conv_unchanged']:.0%}")
m2.metric(t("pooling.pool_unchanged"), f"{res['pool_unchanged']:.0%}",
          delta=t("pooling.versus", delta=res["pool_unchanged"] - res["conv_unchanged"]))
for a, b, what in (("X", "X_shifted", t("pooling.what_input")), ("conv", "conv_shifted", t("pooling.what_conv")),
                   ("pool", "pool_shifted", t("pooling.what_pool"))):
    c1, c2 = st.columns(2)
    changed = [(r, col) for r, col in zip(*torch.nonzero(res[a] != res[b], as_tuple=True))]
    c1.plotly_chart(grid.grid_figure(res[a], title=f"{what}", colorscale=charts.DIVERGING, cell_px=28),
                    key=f"pool:shift:{a}", width="stretch")
    c2.plotly_chart(grid.grid_figure(res[b], title=t("pooling.shifted_title", what=what, shift=shift),
                                     colorscale=charts.DIVERGING, cell_px=28,
                                     changed=[(int(r), int(q)) for r, q in changed]),
                    key=f"pool:shift:{b}", width="stretch")
