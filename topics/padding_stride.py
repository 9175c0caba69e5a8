"""Padding and stride (book sections 7.3 and 7.4): the output shape on a grid, on real images, with channels."""
import streamlit as st
import torch
import torch.nn.functional as F

from core.data.fashion_mnist import TEXT_LABELS
from core.ops.conv_arithmetic import (
    KERNELS,
    apply_conv,
    check_conv,
    conv_output_shape,
    conv_warnings,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
    input_of_output,
    make_kernel,
    test_pattern,
)
from playground import charts, controls, grid
from playground.fmnist import fashion_mnist
from playground.i18n import t
from playground.messages import conv_note


def kernel_name(name: str) -> str:
    return t(f"padding_stride.kernel_name.{name}")


st.title(t("page.padding_stride"))
st.markdown(t("padding_stride.intro"))
v = {}
for axis in ("h", "w"):
    c = st.columns(4)
    for col, (name, lo, hi, default) in enumerate((("n", 1, 10, 3), ("k", 1, 7, 2), ("pad", 0, 4, 1), ("s", 1, 4, 1))):
        key = f"{name}_{axis}"
        v[key] = controls.slider(t(f"padding_stride.{key}"), key, lo, hi, default, container=c[col])
dil = controls.slider(t("padding_stride.dilation"), "dil", 1, 3, 1, help=t("padding_stride.dilation_help"))
n_h, n_w, k_h, k_w = v["n_h"], v["n_w"], v["k_h"], v["k_w"]
pad_h, pad_w, s_h, s_w = v["pad_h"], v["pad_w"], v["s_h"], v["s_w"]
settings = dict(padding=(pad_h, pad_w), stride=(s_h, s_w), dilation=dil)

out_h, out_w = conv_output_shape(n_h, n_w, k_h, k_w, 2 * pad_h, 2 * pad_w, s_h, s_w, dil, dil)
st.latex(grid.shape_latex((n_h, n_w), (k_h, k_w), (2 * pad_h, 2 * pad_w), (s_h, s_w), (out_h, out_w), dil))
st.caption(t("padding_stride.total_padding", pad_h=pad_h, pad_w=pad_w, p_h=2 * pad_h, p_w=2 * pad_w))

problems = check_conv(n_h, n_w, k_h, k_w, pad_h, pad_w, s_h, s_w, dil, dil)
if problems:
    st.error(t("padding_stride.no_output") + "\n" + "\n".join(f"- {conv_note(p)}" for p in problems),
             icon=":material/error:")
else:
    for note in conv_warnings(n_h, n_w, k_h, k_w, pad_h, pad_w, s_h, s_w, dil, dil):
        st.info(conv_note(note), icon=":material/info:")
    X = torch.arange(n_h * n_w, dtype=torch.float32).reshape(n_h, n_w)  # the book's 0, 1, 2, ...
    K = torch.arange(k_h * k_w, dtype=torch.float32).reshape(k_h, k_w)
    Y = apply_conv(X, K, **settings)
    i, j = grid.cell_picker(out_h, out_w, "out")
    cells = input_of_output(i, j, n_h, n_w, k_h, k_w, pad_h, pad_w, s_h, s_w, dil, dil)
    c1, c2 = st.columns([max(3, n_w + 2 * pad_w), max(3, k_w + 1)])  # about equal cells
    c1.plotly_chart(grid.grid_figure(F.pad(X, (pad_w, pad_w, pad_h, pad_h)), pad=(pad_h, pad_w),
                                     title=t("padding_stride.input_title", h=n_h, w=n_w), read=[(r + pad_h, c + pad_w)
                                                                                   for r, c, _ in cells]),
                    key="ps:input", width="stretch")
    c2.plotly_chart(grid.grid_figure(K, title=t("padding_stride.kernel_title", h=k_h, w=k_w)
                                     + (t("padding_stride.dilation_title", dil=dil) if dil > 1 else "")),
                    key="ps:kernel", width="stretch")
    c1, c2 = st.columns([max(4, out_w), 3])
    c1.plotly_chart(grid.grid_figure(Y, title=t("padding_stride.output_title", h=Y.shape[0], w=Y.shape[1]),
                                     selected=[(i, j)], colorscale=charts.SEQUENTIAL_ALT, cell_px=40),
                    key="ps:output", width="stretch")
    c2.metric(t("padding_stride.shape_book"), f"{out_h} × {out_w}")
    c2.metric(t("padding_stride.shape_torch"), f"{Y.shape[0]} × {Y.shape[1]}")
    c2.metric(t("padding_stride.cells_read"), t("padding_stride.cells_read_value", read=sum(not p for *_, p in cells),
                                                pad=sum(p for *_, p in cells)))
    terms = [(0.0 if is_pad else float(X[r, c]), float(w)) for (r, c, is_pad), w in zip(cells, K.reshape(-1))]
    shown_terms = " + ".join(rf"{grid.fmt(a)} \cdot {grid.fmt(b)}" for a, b in terms[:9])
    shown_terms += r" + \dots" if len(terms) > 9 else ""
    st.latex(rf"Y_{{{i},{j}}} = {shown_terms} = {grid.fmt(float(Y[i, j]))}")

st.header(t("padding_stride.images_header"))
kc1, kc2 = st.columns(2)
kernel = controls.selectbox(t("padding_stride.kernel"), "kernel", KERNELS, "edge_h", format_func=kernel_name,
                            container=kc1)
K_img = make_kernel(kernel, k_h, generator=torch.Generator().manual_seed(controls.seed()))
images = [(t("padding_stride.test_pattern"), test_pattern(6, 8))]
data = fashion_mnist("cpu", stand_in=False)
if data is not None:
    idx = controls.slider(t("padding_stride.sample"), "sample", 0, 99, 0, container=kc2)
    images.insert(0, (t("padding_stride.fmnist_image", idx=idx, label=TEXT_LABELS[int(data.y_test[idx])]),
                       data.X_test[idx, 0]))
else:
    st.caption(t("padding_stride.no_fmnist"))
st.caption(t("padding_stride.kernel_caption", name=kernel_name(kernel), h=tuple(K_img.shape)[0],
             w=tuple(K_img.shape)[1]))
for n, (title, img) in enumerate(images):
    c1, c2 = st.columns(2)
    c1.plotly_chart(grid.image_figure(img, t("padding_stride.image_title", title=title, h=img.shape[0],
                                             w=img.shape[1])), key=f"ps:img{n}", width="stretch")
    kh, kw = K_img.shape
    bad = check_conv(img.shape[0], img.shape[1], kh, kw, pad_h, pad_w, s_h, s_w, dil, dil)
    if bad:
        c2.error(t("padding_stride.no_image_output",
                   notes=t("padding_stride.note_separator").join(conv_note(p) for p in bad)), icon=":material/error:")
        continue
    out = apply_conv(img, K_img, **settings)
    formula = conv_output_shape(img.shape[0], img.shape[1], kh, kw, 2 * pad_h, 2 * pad_w, s_h, s_w, dil, dil)
    c2.plotly_chart(grid.image_figure(out, t("padding_stride.feature_map", h=out.shape[0], w=out.shape[1]),
                                      colorscale=charts.DIVERGING),
                    key=f"ps:out{n}", width="stretch")
    same = tuple(out.shape) == formula
    (c2.success if same else c2.error)(
        t("padding_stride.shape_equals" if same else "padding_stride.shape_differs", shape=tuple(out.shape),
          formula=formula),
        icon=":material/check_circle:" if same else ":material/error:")

st.header(t("padding_stride.channels_header"))
st.markdown(t("padding_stride.channels"))
d1, d2 = st.columns(2)
c_i = controls.slider(t("padding_stride.c_i"), "c_i", 1, 3, 2, container=d1)
c_o = controls.slider(t("padding_stride.c_o"), "c_o", 1, 3, 3, container=d2)
Xc = torch.stack([torch.arange(9.0).reshape(3, 3) + c for c in range(c_i)])  # the book's X
Kc = torch.stack([torch.stack([torch.arange(4.0).reshape(2, 2) + c + o for c in range(c_i)]) for o in range(c_o)])
Yc = corr2d_multi_in_out(Xc, Kc)
for o in range(c_o):
    parts = " + ".join(rf"{grid.latex_matrix(Xc[c])} \star {grid.latex_matrix(Kc[o, c])}" for c in range(c_i))
    st.latex(rf"Y_{o} = {parts} = {grid.latex_matrix(Yc[o])}")
diff = float((F.conv2d(Xc[None], Kc)[0] - Yc).abs().max())
st.caption(t("padding_stride.same_outputs", c_o=c_o, c_i=c_i, diff=f"{diff:g}"))

g = torch.Generator().manual_seed(controls.seed())
X1 = torch.randint(0, 4, (c_i, 2, 3), generator=g).float()
K1 = torch.randint(-2, 3, (c_o, c_i, 1, 1), generator=g).float()
Y1 = corr2d_multi_in_out_1x1(X1, K1)
st.latex(rf"\underbrace{{{grid.latex_matrix(K1.reshape(c_o, c_i))}}}_{{c_o \times c_i}}"
         rf"\underbrace{{{grid.latex_matrix(X1.reshape(c_i, -1))}}}_{{c_i \times (h w)}} = "
         rf"\underbrace{{{grid.latex_matrix(Y1.reshape(c_o, -1))}}}_{{c_o \times (h w)}}")
diff1 = float((corr2d_multi_in_out(X1, K1) - Y1).abs().max())
st.caption(t("padding_stride.one_by_one", c_i=c_i, diff=f"{diff1:g}"))
