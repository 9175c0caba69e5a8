"""From fully connected layers to convolutions (book sections 7.1-7.2): translation
invariance and locality, the book's cross-correlation and edge detector, a kernel
learned live from one input-output pair, and a 3x3 kernel editor on images."""
import streamlit as st
import torch

from core.data.fashion_mnist import TEXT_LABELS
from core.experiments import conv_kernel as ck
from core.ops.conv2d import KERNEL_MAX, KERNELS, MAX_BYTES, ImageError, apply_kernel, edge_example, kernel
from playground import charts, controls, grid
from playground.conv_figures import decode_image, image_problem, kernel_figure, map_figure
from playground.fmnist import fashion_mnist
from playground.live import Chart, Readout, View, live_panel

KERNEL_NAMES = {"identity": "identity", "edge_vertical": "edge, vertical", "edge_horizontal": "edge, horizontal",
                "laplacian": "Laplacian (outline)", "box_blur": "box blur", "gaussian_blur": "Gaussian blur",
                "sharpen": "sharpen", "emboss": "emboss", "custom": "your own nine numbers"}
CUSTOM_DEFAULT = ((0.0, 0.0, 0.0), (1.0, -1.0, 0.0), (0.0, 0.0, 0.0))  # the book's [1, -1] inside a 3x3
BOOK = ck.BOOK

st.title("From fully connected layers to convolutions")
st.markdown(
    "A fully connected layer on a one-megapixel photo would need billions of weights for one hidden layer of the "
    "same size. Two principles cut that down. **Translation invariance**: a detector for a pattern should respond "
    "to it wherever it sits in the image, so the weights that link a hidden unit to its inputs may depend only on "
    "the offset $(a, b)$ between them, not on the position $(i, j)$. **Locality**: to say what is at $(i, j)$, "
    "only nearby pixels matter, so the offsets are limited to $|a|, |b| \\le \\Delta$. What is left is a "
    "small kernel $\\mathbf{V}$ swept over the image: a convolutional layer (strictly, a cross-correlation)."
)
st.latex(r"[\mathbf{H}]_{i,j} = u + \sum_{a=-\Delta}^{\Delta} \sum_{b=-\Delta}^{\Delta} "
         r"[\mathbf{V}]_{a,b} \, [\mathbf{X}]_{i+a,j+b}")
st.caption("u is a bias; V has (2Δ+1)² weights whatever the size of the image, against one weight per pair of "
           "pixels for a fully connected layer.")

# ----------------------------------------------------------------- corr2d
st.header("Cross-correlation and the book's edge detector")
st.markdown(
    "The book's `corr2d(X, K)` slides a $k_h \\times k_w$ kernel over $X$ and sums the elementwise products; the "
    "output shrinks to $(n_h - k_h + 1) \\times (n_w - k_w + 1)$. Its example: a $6 \\times 8$ image, white (1) "
    "with the middle four columns black (0), and the kernel $K = [1, -1]$, which answers the difference of "
    "horizontally adjacent pixels."
)
st.latex(r"Y_{i,j} = \sum_{a=0}^{k_h-1}\sum_{b=0}^{k_w-1} K_{a,b} \, X_{i+a,j+b}, \qquad "
         r"K = \begin{bmatrix} 1 & -1 \end{bmatrix}")
ex = edge_example()
c1, c2 = st.columns([8, 7])
c1.plotly_chart(grid.grid_figure(ex["X"], title="X: 6×8, columns 2-5 black (0)", colorscale=charts.GRAYS),
                key="conv:X", width="stretch")
c2.plotly_chart(grid.grid_figure(ex["Y"], title="Y = corr2d(X, K): 6×7", colorscale=charts.DIVERGING), key="conv:Y",
                width="stretch")
ones, minus = int((ex["Y"] == 1).all(0).sum()), int((ex["Y"] == -1).all(0).sum())
st.caption(f"Y is +1 in column 1 (white to black), −1 in column 5 (black to white) and 0 elsewhere: "
           f"{ones} column of +1, {minus} of −1, every row the same.")
c1, c2 = st.columns([6, 5])
c1.plotly_chart(grid.grid_figure(ex["XT"], title="X.T: 8×6, the edges now horizontal", colorscale=charts.GRAYS,
                                 cell_px=26), key="conv:XT", width="stretch")
c2.plotly_chart(grid.grid_figure(ex["YT"], title="corr2d(X.T, K): 8×5", colorscale=charts.DIVERGING, cell_px=26),
                key="conv:YT", width="stretch")
st.caption(f"On the transposed image every output is {float(ex['YT'].abs().max()):g}: K only compares "
           "horizontal neighbours, so it finds vertical edges only.")

# ------------------------------------------------------- learning a kernel
st.header("Learning the kernel from X and Y")
st.markdown(
    "Given only the pair (X, Y), can gradient descent find K? The book starts a "
    "`nn.LazyConv2d(1, kernel_size=(1, 2), bias=False)` at random weights (here an `nn.Conv2d(1, 1, (1, 2))` drawn "
    "from the run's seed), and at each step computes the summed squared error and moves the kernel against its "
    "gradient: `conv2d.weight.data[:] -= lr * conv2d.weight.grad`."
)
form = controls.Form(ck.Config)
lr, num_epochs = form.draw("lr", "num_epochs", columns=2)
limit = ck.stability_limit()
st.latex(rf"\ell(\mathbf{{K}}) = \sum_{{i,j}} \left(\hat{{Y}}_{{i,j}} - Y_{{i,j}}\right)^2, \qquad "
         rf"\mathbf{{K}} \leftarrow \mathbf{{K}} - {lr:g} \, \nabla_{{\mathbf{{K}}}} \ell")
st.caption(f"The loss is a quadratic bowl in the two weights: its Hessian has eigenvalues 60 and 12, so a step of "
           f"lr multiplies the error along (1, 1) by 1 − 60·lr = {1 - 60 * lr:+.2f} and along (1, −1) by "
           f"1 − 12·lr = {1 - 12 * lr:+.2f}. Gradient descent converges for lr < 2/60 = {limit:.4f}.")
if lr >= limit:
    st.warning(f"lr = {lr:g} is at or above the stability limit 2/60 = {limit:.4f}: every update overshoots the "
               "bottom of the bowl by more than it started, so the loss grows instead of falling. Try 0.03.",
               icon=":material/warning:")

seed, device = controls.seed(), controls.device()
band = (min(v[10] for v in ck.BOOK_LOSSES.values()), max(v[10] for v in ck.BOOK_LOSSES.values()))


def learned(seen: dict) -> None:
    k = seen["kernel"]
    st.subheader(f"The kernel after {seen['epoch']} update(s)" + (f" ({seen['name']})" if seen["name"] else ""))
    cols = st.columns([2, 2, 3])
    cols[0].plotly_chart(kernel_figure(torch.tensor([k]), "learned K", cell_px=70), key="conv:learned",
                         width="stretch")
    books = torch.tensor([ck.BOOK_KERNELS[e] for e in ck.BOOK_KERNELS])
    cols[1].plotly_chart(kernel_figure(books, "the book's K after 10: " + " / ".join(ck.BOOK_KERNELS), cell_px=50),
                         key="conv:book_kernel", width="stretch")
    cols[2].plotly_chart(map_figure(seen["Y_hat"], "Y_hat = conv2d(X) now", height=260), key="conv:yhat",
                         width="stretch")
    cols[0].caption(f"K = [{k[0]:+.4f}, {k[1]:+.4f}]; the target is [1, −1] "
                    f"(largest distance {max(abs(k[0] - 1), abs(k[1] + 1)):.4f}).")


R = live_panel(
    "convolutions", form.config(), "conv_kernel", seed=seed, device=device,  # core.experiments.conv_kernel
    charts_=[Chart("Loss", [("train_loss", "summed squared error")], log_y=True,
                   reference=[(band[0], band[1], "the book's loss after 10 updates: "
                               + ", ".join(f"{v[10]} ({e})" for e, v in ck.BOOK_LOSSES.items()))]),
             Chart("Learned kernel", [("k0", "K[0, 0]"), ("k1", "K[0, 1]")],
                   reference=[(1.0, "target K[0, 0] = 1"), (-1.0, "target K[0, 1] = −1")])],
    readouts=[Readout("train_loss", "loss", "{:.3f}"), Readout("k0", "K[0, 0]", "{:+.4f}"),
              Readout("k1", "K[0, 1]", "{:+.4f}")],
    label=lambda cfg: f"lr={cfg.lr:g}",
    views=[View("core.experiments.conv_kernel:picture", learned, every="epoch")],
)

epochs = {int(r["epoch"]): r for r in R.history(R.names[0] if R.names else "")["epochs"]}
rows = [{"update": n, **{f"book {e}": v[n] for e, v in ck.BOOK_LOSSES.items()},
         "this run": f"{epochs[n]['train_loss']:.3f}" if n in epochs else "–"} for n in (2, 4, 6, 8, 10)]
last = epochs.get(10)
rows.append({"update": "kernel after 10", **{f"book {e}": f"[{k[0]:+.4f}, {k[1]:+.4f}]"
                                             for e, k in ck.BOOK_KERNELS.items()},
             "this run": f"[{last['k0']:+.4f}, {last['k1']:+.4f}]" if last else "–"})
st.markdown("**The book's printed losses and kernel beside this run** (one unseeded run per edition: its start "
            "is random, so the figures differ by a factor of a few early on and meet near [1, −1])")
st.dataframe([{k: str(v) for k, v in row.items()} for row in rows], hide_index=True)

# ---------------------------------------------------------- kernel editor
st.header("A 3×3 kernel on an image")
st.markdown("Hand-made kernels of classic image processing, applied with padding 1 (the output keeps the image's "
            "size): `F.conv2d(X, K, padding=1)`. Choose a preset or type your own nine numbers.")
choice = controls.selectbox("kernel", "kernel", KERNELS + ("custom",), "edge_vertical",
                            format_func=KERNEL_NAMES.get)
if choice == "custom":
    numbers = []
    for r in range(3):
        cols = st.columns(3)
        for c in range(3):
            numbers.append(controls.number_input(
                f"K[{r}, {c}]", f"k{r}{c}", -KERNEL_MAX, KERNEL_MAX, CUSTOM_DEFAULT[r][c], step=0.5,
                container=cols[c], help=f"Any number from −{KERNEL_MAX:g} to {KERNEL_MAX:g}."))
    K3 = torch.tensor(numbers, dtype=torch.float32).reshape(3, 3)
else:
    K3 = kernel(choice)

source = controls.segmented_control("image", "image_source", ["Fashion-MNIST", "your image"], "Fashion-MNIST")
image, title = None, ""
if source == "Fashion-MNIST":
    data = fashion_mnist("cpu", stand_in=False)
    if data is not None:
        c1, c2 = st.columns(2)
        cls = controls.selectbox("class", "fm_class", list(range(10)), 0, format_func=lambda i: TEXT_LABELS[i],
                                 container=c1)
        nth = controls.slider("which image of the class (test set)", "fm_nth", 0, 49, 0, container=c2)
        idx = int(torch.nonzero(data.y_test == cls)[nth, 0])
        image, title = data.X_test[idx, 0], f"test image {idx}: {TEXT_LABELS[cls]}"
else:
    up = st.file_uploader(f"A PNG or JPEG image, at most {MAX_BYTES // 2**20} MB", type=["png", "jpg", "jpeg"],
                          key="conv:upload", max_upload_size=MAX_BYTES // 2**20)
    if up is None:
        st.info("Upload an image: it is converted to grayscale and shrunk to at most 128×128 pixels.",
                icon=":material/upload:")
    else:
        try:
            image, title = decode_image(up.getvalue()), "your image (grayscale)"
        except ImageError as err:
            st.error(f"This file cannot be used: {image_problem(err)}", icon=":material/broken_image:")

if image is not None:
    out = apply_kernel(image, K3)
    c1, c2, c3 = st.columns([3, 2, 3])
    c1.plotly_chart(map_figure(image, f"{title}, {image.shape[0]}×{image.shape[1]}", signed=False),
                    key="conv:input", width="stretch")
    c2.plotly_chart(kernel_figure(K3, f"kernel: {KERNEL_NAMES[choice]}", cell_px=48), key="conv:kernel3",
                    width="stretch")
    signed = abs(float(K3.sum())) < 1e-6  # an edge detector's answer is signed: red-blue about zero; else gray
    c3.plotly_chart(map_figure(out, f"output, {out.shape[0]}×{out.shape[1]} (padding 1)", signed=signed),
                    key="conv:output", width="stretch")
    st.caption(f"Kernel sum {float(K3.sum()):g}: a kernel summing to 1 keeps the brightness of flat regions "
               "(identity, blurs, sharpen); one summing to 0 answers 0 on flat regions and shows only changes "
               f"(edges, Laplacian). Output range {float(out.min()):.3g} to {float(out.max()):.3g}.")

# ------------------------------------------------------------- channels
st.header("Channels and 1×1 convolutions")
st.markdown("With several input channels each output channel sums one cross-correlation per input channel "
            "(`corr2d_multi_in`); several output channels stack such sums (`corr2d_multi_in_out`), and a 1×1 "
            "kernel mixes channels pixel by pixel, a matrix product (`corr2d_multi_in_out_1x1`). All three, checked "
            "against `nn.Conv2d`, are on the page *Padding and stride* (7.3-7.4).")

with st.expander("What to look for", icon=":material/visibility:"):
    st.markdown(
        "- **The edge detector** answers only where neighbouring pixels differ, with the sign of the change; on "
        "the transposed image it is blind.\n"
        "- **Learning the kernel, at the book's lr 0.03**: the loss falls by a factor of about 3-5 every two "
        "updates and the kernel reaches about [1, −1] within a few hundredths after 10 (the book prints [1.0082, "
        "−0.9616] and [0.9963, −0.9694]; other seeds start elsewhere and land a little nearer or farther). Both "
        "weights zigzag: the error of their sum flips sign at each update (factor −0.8) and is what remains at the "
        "end, while the error of their difference shrinks smoothly (factor 0.64).\n"
        "- **lr 0.033 and 0.034** sit either side of the limit 2/60: the first still converges, in a slow zigzag; "
        "the second zigzags ever wider. 0.04 grows the loss by 1.96× per update, 0.1 blows up to infinity.\n"
        "- **The kernel editor**: blurs average the neighbourhood (a smoother, darker-edged picture), sharpen adds "
        "the Laplacian back to the image, the edge kernels and the Laplacian light up outlines and are zero on "
        "flat cloth, emboss looks lit from one side. Your numbers: any kernel is a weighted sum of the nine "
        "pixels around each output pixel."
    )
