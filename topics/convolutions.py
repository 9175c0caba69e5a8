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
from playground.i18n import t
from playground.live import Chart, Readout, View, live_panel


def kernel_name(name: str) -> str:
    return t(f"convolutions.kernel.{name}")


CUSTOM_DEFAULT = ((0.0, 0.0, 0.0), (1.0, -1.0, 0.0), (0.0, 0.0, 0.0))  # the book's [1, -1] inside a 3x3
BOOK = ck.BOOK

st.title(t("page.convolutions"))
st.markdown(t("convolutions.intro"))
st.latex(r"[\mathbf{H}]_{i,j} = u + \sum_{a=-\Delta}^{\Delta} \sum_{b=-\Delta}^{\Delta} "
         r"[\mathbf{V}]_{a,b} \, [\mathbf{X}]_{i+a,j+b}")
st.caption(t("convolutions.bias_caption"))

# ----------------------------------------------------------------- corr2d
st.header(t("convolutions.corr2d_header"))
st.markdown(t("convolutions.corr2d_intro"))
st.latex(r"Y_{i,j} = \sum_{a=0}^{k_h-1}\sum_{b=0}^{k_w-1} K_{a,b} \, X_{i+a,j+b}, \qquad "
         r"K = \begin{bmatrix} 1 & -1 \end{bmatrix}")
ex = edge_example()
c1, c2 = st.columns([8, 7])
c1.plotly_chart(grid.grid_figure(ex["X"], title=t("convolutions.title_X"), colorscale=charts.GRAYS),
                key="conv:X", width="stretch")
c2.plotly_chart(grid.grid_figure(ex["Y"], title=t("convolutions.title_Y"), colorscale=charts.DIVERGING), key="conv:Y",
                width="stretch")
ones, minus = int((ex["Y"] == 1).all(0).sum()), int((ex["Y"] == -1).all(0).sum())
st.caption(t("convolutions.Y_caption", ones=ones, minus=minus))
c1, c2 = st.columns([6, 5])
c1.plotly_chart(grid.grid_figure(ex["XT"], title=t("convolutions.title_XT"), colorscale=charts.GRAYS,
                                 cell_px=26), key="conv:XT", width="stretch")
c2.plotly_chart(grid.grid_figure(ex["YT"], title=t("convolutions.title_YT"), colorscale=charts.DIVERGING, cell_px=26),
                key="conv:YT", width="stretch")
st.caption(t("convolutions.YT_caption", value=f"{float(ex['YT'].abs().max()):g}"))

# ------------------------------------------------------- learning a kernel
st.header(t("convolutions.learn_header"))
st.markdown(t("convolutions.learn_intro"))
form = controls.Form(ck.Config)
lr, num_epochs = form.draw("lr", "num_epochs", columns=2)
limit = ck.stability_limit()
st.latex(rf"\ell(\mathbf{{K}}) = \sum_{{i,j}} \left(\hat{{Y}}_{{i,j}} - Y_{{i,j}}\right)^2, \qquad "
         rf"\mathbf{{K}} \leftarrow \mathbf{{K}} - {lr:g} \, \nabla_{{\mathbf{{K}}}} \ell")
st.caption(t("convolutions.bowl_caption", along_sum=1 - 60 * lr, along_diff=1 - 12 * lr, limit=limit))
if lr >= limit:
    st.warning(t("convolutions.unstable", lr=f"{lr:g}", limit=limit), icon=":material/warning:")

seed, device = controls.seed(), controls.device()
band = (min(v[10] for v in ck.BOOK_LOSSES.values()), max(v[10] for v in ck.BOOK_LOSSES.values()))


def learned(seen: dict) -> None:
    k = seen["kernel"]
    st.subheader(t("convolutions.learned_header", epoch=seen["epoch"])
                 + (t("convolutions.learned_name", name=seen["name"]) if seen["name"] else ""))
    cols = st.columns([2, 2, 3])
    cols[0].plotly_chart(kernel_figure(torch.tensor([k]), t("convolutions.learned_K"), cell_px=70), key="conv:learned",
                         width="stretch")
    books = torch.tensor([ck.BOOK_KERNELS[e] for e in ck.BOOK_KERNELS])
    cols[1].plotly_chart(kernel_figure(books, t("convolutions.book_K", editions=" / ".join(ck.BOOK_KERNELS)),
                                       cell_px=50),
                         key="conv:book_kernel", width="stretch")
    cols[2].plotly_chart(map_figure(seen["Y_hat"], t("convolutions.Y_hat"), height=260), key="conv:yhat",
                         width="stretch")
    cols[0].caption(t("convolutions.learned_caption", k0=k[0], k1=k[1], distance=max(abs(k[0] - 1), abs(k[1] + 1))))


R = live_panel(
    "convolutions", form.config(), "conv_kernel", seed=seed, device=device,  # core.experiments.conv_kernel
    charts_=[Chart(t("convolutions.chart_loss"), [("train_loss", t("convolutions.curve_loss"))], log_y=True,
                   reference=[(band[0], band[1], t("convolutions.ref_book_loss", losses=", ".join(
                       f"{v[10]} ({e})" for e, v in ck.BOOK_LOSSES.items())))]),
             Chart(t("convolutions.chart_kernel"), [("k0", "K[0, 0]"), ("k1", "K[0, 1]")],
                   reference=[(1.0, t("convolutions.ref_target_0")), (-1.0, t("convolutions.ref_target_1"))])],
    readouts=[Readout("train_loss", t("convolutions.readout_loss"), "{:.3f}"), Readout("k0", "K[0, 0]", "{:+.4f}"),
              Readout("k1", "K[0, 1]", "{:+.4f}")],
    label=lambda cfg: f"lr={cfg.lr:g}",
    views=[View("core.experiments.conv_kernel:picture", learned, every="epoch")],
)

epochs = {int(r["epoch"]): r for r in R.history(R.names[0] if R.names else "")["epochs"]}
update, this_run = t("convolutions.column_update"), t("convolutions.column_this_run")


def book(edition: str) -> str:
    return t("convolutions.column_book", edition=edition)


rows = [{update: n, **{book(e): v[n] for e, v in ck.BOOK_LOSSES.items()},
         this_run: f"{epochs[n]['train_loss']:.3f}" if n in epochs else "–"} for n in (2, 4, 6, 8, 10)]
last = epochs.get(10)
rows.append({update: t("convolutions.row_kernel"), **{book(e): f"[{k[0]:+.4f}, {k[1]:+.4f}]"
                                                    for e, k in ck.BOOK_KERNELS.items()},
             this_run: f"[{last['k0']:+.4f}, {last['k1']:+.4f}]" if last else "–"})
st.markdown(t("convolutions.table_heading"))
st.dataframe([{k: str(v) for k, v in row.items()} for row in rows], hide_index=True)

# ---------------------------------------------------------- kernel editor
st.header(t("convolutions.editor_header"))
st.markdown(t("convolutions.editor_intro"))
choice = controls.selectbox(t("convolutions.kernel_label"), "kernel", KERNELS + ("custom",), "edge_vertical",
                            format_func=kernel_name)
if choice == "custom":
    numbers = []
    for r in range(3):
        cols = st.columns(3)
        for c in range(3):
            numbers.append(controls.number_input(
                f"K[{r}, {c}]", f"k{r}{c}", -KERNEL_MAX, KERNEL_MAX, CUSTOM_DEFAULT[r][c], step=0.5,
                container=cols[c], help=t("convolutions.number_help", limit=f"{KERNEL_MAX:g}")))
    K3 = torch.tensor(numbers, dtype=torch.float32).reshape(3, 3)
else:
    K3 = kernel(choice)

SOURCES = {"Fashion-MNIST": "convolutions.image_fashion_mnist", "your image": "convolutions.image_yours"}
source = controls.segmented_control(t("convolutions.image_label"), "image_source", list(SOURCES), "Fashion-MNIST",
                                    format_func=lambda o: t(SOURCES[o]))
image, title = None, ""
if source == "Fashion-MNIST":
    data = fashion_mnist("cpu", stand_in=False)
    if data is not None:
        c1, c2 = st.columns(2)
        cls = controls.selectbox(t("convolutions.class_label"), "fm_class", list(range(10)), 0,
                                 format_func=lambda i: TEXT_LABELS[i], container=c1)
        nth = controls.slider(t("convolutions.nth_label"), "fm_nth", 0, 49, 0, container=c2)
        idx = int(torch.nonzero(data.y_test == cls)[nth, 0])
        image, title = data.X_test[idx, 0], t("convolutions.test_image", idx=idx, label=TEXT_LABELS[cls])
else:
    up = st.file_uploader(t("convolutions.upload_label", mb=MAX_BYTES // 2**20), type=["png", "jpg", "jpeg"],
                          key="conv:upload", max_upload_size=MAX_BYTES // 2**20)
    if up is None:
        st.info(t("convolutions.upload_info"), icon=":material/upload:")
    else:
        try:
            image, title = decode_image(up.getvalue()), t("convolutions.your_image")
        except ImageError as err:
            st.error(t("convolutions.cannot_use", problem=image_problem(err)), icon=":material/broken_image:")

if image is not None:
    out = apply_kernel(image, K3)
    c1, c2, c3 = st.columns([3, 2, 3])
    c1.plotly_chart(map_figure(image, t("convolutions.input_title", title=title, h=image.shape[0], w=image.shape[1]),
                               signed=False), key="conv:input", width="stretch")
    c2.plotly_chart(kernel_figure(K3, t("convolutions.kernel_title", name=kernel_name(choice)), cell_px=48),
                    key="conv:kernel3", width="stretch")
    signed = abs(float(K3.sum())) < 1e-6  # an edge detector's answer is signed: red-blue about zero; else gray
    c3.plotly_chart(map_figure(out, t("convolutions.output_title", h=out.shape[0], w=out.shape[1]), signed=signed),
                    key="conv:output", width="stretch")
    st.caption(t("convolutions.sum_caption", total=f"{float(K3.sum()):g}", low=float(out.min()),
                 high=float(out.max())))

# ------------------------------------------------------------- channels
st.header(t("convolutions.channels_header"))
st.markdown(t("convolutions.channels"))

with st.expander(t("common.what_to_look_for"), icon=":material/visibility:"):
    st.markdown(t("convolutions.look"))
