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
from playground.messages import conv_note

KERNEL_NAMES = {"edge_h": "edge [1, -1] (book)", "edge_v": "edge [1, -1] vertical", "sobel_x": "Sobel x",
                "blur": "box blur", "identity": "identity", "random": "random (seeded)"}

st.title("Padding and stride")
st.markdown("A kernel slides over the input, padded with zeros, jumping `stride` cells at a time. "
            "Each output cell reads the shaded input cells; choose an output cell to see which.")
v = {}
for axis, label in (("h", "height"), ("w", "width")):
    c = st.columns(4)
    v[f"n_{axis}"] = controls.slider(f"input {label} n_{axis}", f"n_{axis}", 1, 10, 3, container=c[0])
    v[f"k_{axis}"] = controls.slider(f"kernel {label} k_{axis}", f"k_{axis}", 1, 7, 2, container=c[1])
    v[f"pad_{axis}"] = controls.slider(f"padding per side ({label})", f"pad_{axis}", 0, 4, 1, container=c[2])
    v[f"s_{axis}"] = controls.slider(f"stride s_{axis}", f"s_{axis}", 1, 4, 1, container=c[3])
dil = controls.slider("dilation (both axes)", "dil", 1, 3, 1,
                      help="A kernel of size k with dilation d spans d(k−1)+1 cells; that span replaces k below.")
n_h, n_w, k_h, k_w = v["n_h"], v["n_w"], v["k_h"], v["k_w"]
pad_h, pad_w, s_h, s_w = v["pad_h"], v["pad_w"], v["s_h"], v["s_w"]
settings = dict(padding=(pad_h, pad_w), stride=(s_h, s_w), dilation=dil)

out_h, out_w = conv_output_shape(n_h, n_w, k_h, k_w, 2 * pad_h, 2 * pad_w, s_h, s_w, dil, dil)
st.latex(grid.shape_latex((n_h, n_w), (k_h, k_w), (2 * pad_h, 2 * pad_w), (s_h, s_w), (out_h, out_w), dil))
st.caption(f"The book's p_h, p_w count the **total** padding (top + bottom, left + right); "
           f"`nn.Conv2d(padding=({pad_h}, {pad_w}))` pads each side, so p_h = {2 * pad_h}, p_w = {2 * pad_w}.")

problems = check_conv(n_h, n_w, k_h, k_w, pad_h, pad_w, s_h, s_w, dil, dil)
if problems:
    st.error("**This combination has no output:**\n" + "\n".join(f"- {conv_note(p)}" for p in problems),
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
                                     title=f"input {n_h}×{n_w} + padding", read=[(r + pad_h, c + pad_w)
                                                                                   for r, c, _ in cells]),
                    key="ps:input", width="stretch")
    c2.plotly_chart(grid.grid_figure(K, title=f"kernel {k_h}×{k_w}" + (f", dilation {dil}" if dil > 1 else "")),
                    key="ps:kernel", width="stretch")
    c1, c2 = st.columns([max(4, out_w), 3])
    c1.plotly_chart(grid.grid_figure(Y, title=f"output {Y.shape[0]}×{Y.shape[1]}", selected=[(i, j)],
                                     colorscale=charts.SEQUENTIAL_ALT, cell_px=40), key="ps:output", width="stretch")
    c2.metric("output shape (book's formula)", f"{out_h} × {out_w}")
    c2.metric("output shape (torch's conv2d)", f"{Y.shape[0]} × {Y.shape[1]}")
    c2.metric("input cells read by this output", f"{sum(not p for *_, p in cells)} (+{sum(p for *_, p in cells)} pad)")
    terms = [(0.0 if is_pad else float(X[r, c]), float(w)) for (r, c, is_pad), w in zip(cells, K.reshape(-1))]
    shown_terms = " + ".join(rf"{grid.fmt(a)} \cdot {grid.fmt(b)}" for a, b in terms[:9])
    shown_terms += r" + \dots" if len(terms) > 9 else ""
    st.latex(rf"Y_{{{i},{j}}} = {shown_terms} = {grid.fmt(float(Y[i, j]))}")

st.header("The same settings on images")
kc1, kc2 = st.columns(2)
kernel = controls.selectbox("kernel", "kernel", KERNELS, "edge_h", format_func=KERNEL_NAMES.get, container=kc1)
K_img = make_kernel(kernel, k_h, generator=torch.Generator().manual_seed(controls.seed()))
images = [("the book's 6×8 edge image (test pattern)", test_pattern(6, 8))]
data = fashion_mnist("cpu", stand_in=False)
if data is not None:
    idx = controls.slider("Fashion-MNIST test image", "sample", 0, 99, 0, container=kc2)
    images.insert(0, (f"Fashion-MNIST test image {idx} ({TEXT_LABELS[int(data.y_test[idx])]})", data.X_test[idx, 0]))
else:
    st.caption("Without Fashion-MNIST only the synthetic test pattern is shown.")
st.caption(f"Kernel {KERNEL_NAMES[kernel]}: {tuple(K_img.shape)[0]}×{tuple(K_img.shape)[1]}, with the padding, "
           "stride and dilation above, run through torch's conv2d.")
for n, (title, img) in enumerate(images):
    c1, c2 = st.columns(2)
    c1.plotly_chart(grid.image_figure(img, f"{title}: {img.shape[0]}×{img.shape[1]}"), key=f"ps:img{n}",
                    width="stretch")
    kh, kw = K_img.shape
    bad = check_conv(img.shape[0], img.shape[1], kh, kw, pad_h, pad_w, s_h, s_w, dil, dil)
    if bad:
        c2.error("No output for this image: " + "; ".join(conv_note(p) for p in bad), icon=":material/error:")
        continue
    out = apply_conv(img, K_img, **settings)
    formula = conv_output_shape(img.shape[0], img.shape[1], kh, kw, 2 * pad_h, 2 * pad_w, s_h, s_w, dil, dil)
    c2.plotly_chart(grid.image_figure(out, f"output feature map: {out.shape[0]}×{out.shape[1]}",
                                      colorscale=charts.DIVERGING),
                    key=f"ps:out{n}", width="stretch")
    same = tuple(out.shape) == formula
    (c2.success if same else c2.error)(
        f"conv2d output shape {tuple(out.shape)} {'equals' if same else 'differs from'} the formula's {formula}",
        icon=":material/check_circle:" if same else ":material/error:")

st.header("Multiple input and output channels")
st.markdown("Each output channel sums the cross-correlations of every input channel with its own kernel "
            "(the book's `corr2d_multi_in_out`); a 1×1 kernel mixes channels pixel by pixel, a matrix product.")
d1, d2 = st.columns(2)
c_i = controls.slider("input channels c_i", "c_i", 1, 3, 2, container=d1)
c_o = controls.slider("output channels c_o", "c_o", 1, 3, 3, container=d2)
Xc = torch.stack([torch.arange(9.0).reshape(3, 3) + c for c in range(c_i)])  # the book's X
Kc = torch.stack([torch.stack([torch.arange(4.0).reshape(2, 2) + c + o for c in range(c_i)]) for o in range(c_o)])
Yc = corr2d_multi_in_out(Xc, Kc)
for o in range(c_o):
    parts = " + ".join(rf"{grid.latex_matrix(Xc[c])} \star {grid.latex_matrix(Kc[o, c])}" for c in range(c_i))
    st.latex(rf"Y_{o} = {parts} = {grid.latex_matrix(Yc[o])}")
diff = float((F.conv2d(Xc[None], Kc)[0] - Yc).abs().max())
st.caption(f"torch's conv2d with the same {c_o}×{c_i}×2×2 kernel gives the same outputs (max difference {diff:g}).")

g = torch.Generator().manual_seed(controls.seed())
X1 = torch.randint(0, 4, (c_i, 2, 3), generator=g).float()
K1 = torch.randint(-2, 3, (c_o, c_i, 1, 1), generator=g).float()
Y1 = corr2d_multi_in_out_1x1(X1, K1)
st.latex(rf"\underbrace{{{grid.latex_matrix(K1.reshape(c_o, c_i))}}}_{{c_o \times c_i}}"
         rf"\underbrace{{{grid.latex_matrix(X1.reshape(c_i, -1))}}}_{{c_i \times (h w)}} = "
         rf"\underbrace{{{grid.latex_matrix(Y1.reshape(c_o, -1))}}}_{{c_o \times (h w)}}")
diff1 = float((corr2d_multi_in_out(X1, K1) - Y1).abs().max())
st.caption(f"Each column is one pixel of a {c_i}×2×3 input (random integers from the seed). The 1×1 convolution "
           f"computed as this matrix product equals the general one (max difference {diff1:g}).")
