"""LeNet (book section 7.6): every layer's feature maps while the net learns Fashion-MNIST."""
from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from core.experiments import lenet as ln
from core.experiments.schema import setting
from playground import controls, phases
from playground import lenet_figures as figs
from playground.fmnist import fashion_mnist, is_stand_in
from playground.live import ACCURACY, LOSS, MINIBATCH, Readout, View, live_panel
from playground.messages import code, literal
from playground.softmax_figures import images_figure, probs_figure

BOOK = ln.BOOK
KEY = "lenet"
FEATURE_SECONDS = 2.0  # how often the feature maps are recomputed while training (benchmarks/lenet_feature_maps.py)
N_WRONG = 8
UPLOAD_MB = 2


@dataclass(frozen=True)
class Picture:
    index: int = setting(0, "test image", min=0, max=9999, help="Which of the 10,000 test images goes through the "
                         "net in the pictures below (an uploaded picture replaces it).")


st.title("LeNet: feature maps while it learns")
st.markdown(
    "LeNet (LeCun et al., 1998) was the first convolutional network to be widely used: it read the digits on "
    "bank cheques. It has two parts. A **convolutional encoder** of two convolution layers, each a 5 × 5 kernel "
    "followed by a sigmoid and a 2 × 2 average pooling: the first (C1) turns the 28 × 28 image into 6 feature "
    "maps, the second (C3) into 16 smaller ones; each pooling (S2, S4) halves the height and width. A "
    "**dense block** of three fully connected layers (120, 84 and 10 units) then turns the 16 × 5 × 5 "
    "values into one score per class. The book trains it on Fashion-MNIST with minibatch SGD, lr 0.9, batch 256, "
    "10 epochs, Xavier initialisation. Below, every layer's output for one image is redrawn as the net trains: "
    "the same pictures as CNN Explainer, but of a network you are training."
)
st.latex(r"\mathbf{H}_{d}[i, j] = \sigma\Big(b_d + \sum_{c} \sum_{a=0}^{4}\sum_{b=0}^{4}"
         r"\mathbf{K}_{d,c}[a, b]\, \mathbf{X}_c[i + a, j + b]\Big), \qquad \sigma(z) = \frac{1}{1 + e^{-z}}")
st.latex(r"\text{S}[i, j] = \tfrac{1}{4} \sum_{a=0}^{1}\sum_{b=0}^{1} \mathbf{H}[2i + a, 2j + b]"
         r"\qquad 28 \xrightarrow{\text{C1, pad 2}} 28 \xrightarrow{\text{S2}} 14 \xrightarrow{\text{C3}} 10"
         r"\xrightarrow{\text{S4}} 5")
seed, device = controls.seed(), controls.device()
data = fashion_mnist("cpu")  # the pictures read it here; each worker keeps its own copy on the run's device
if data is None:
    st.stop()
labels = data.text_labels

form = controls.Form(ln.Config)
lr, modern, _ = form.draw("lr", "modern", "num_epochs", columns=3)
if modern:
    st.caption(f"Modern LeNet: ReLU instead of the sigmoid after every layer but the last, and 2 × 2 **max** "
               "pooling instead of the average; the shapes and the 61,706 parameters are the same, from the same "
               f"initial weights. ReLU passes on its whole gradient where the sigmoid passes at most a quarter, so a "
               f"smaller learning rate suits it: try lr {ln.MODERN_LR:g}" +
               (f" (at {lr:g} it may diverge)." if lr > 0.5 else "."))
else:
    st.caption("The book's LeNet: sigmoid after every layer but the last, average pooling. For the first epoch or "
               "so the loss stays near ln 10 ≈ 2.30 (every class equally likely) while the sigmoids find their "
               "way; then it falls. Turn on *modern LeNet* for ReLU and max pooling.")


# ------------------------------------------------------------- the test image
def _shuffle() -> None:
    n = st.session_state.get("lenet:shuffles", 0) + 1
    st.session_state["lenet:shuffles"] = n
    rng = np.random.default_rng([seed, n])
    controls.set_value("index", int(rng.integers(len(data.X_test))))


UPLOAD_WORDS = {
    "empty": "The file is empty.",
    "too_large": "The file is {size:,} bytes; pictures are used up to {limit:,} bytes (2 MB).",
    "not_an_image": "The file is not a PNG or JPEG picture that can be read.",
    "too_many_pixels": "The picture has {pixels:,} pixels; up to {limit:,} are read.",
}

st.subheader("The image the pictures follow")
left, mid, right = st.columns([3, 1, 4], vertical_alignment="bottom")
(index,) = controls.Form(Picture).draw("index", container=left)
mid.button("Shuffle", key="lenet:shuffle", icon=":material/shuffle:", on_click=_shuffle, width="stretch",
           help="Another test image, drawn at random.")
upload = right.file_uploader("...or upload a PNG or JPEG (up to 2 MB)", type=["png", "jpg", "jpeg"],
                             key="lenet:upload", max_upload_size=UPLOAD_MB)
image, image_note = None, ""
if upload is not None:
    try:
        got = ln.image_from_upload(upload.getvalue())
    except ln.ImageUploadError as err:
        st.error(f"That file ({code(upload.name)}) cannot be used: {UPLOAD_WORDS[err.code].format(**err.details)} "
                 "The pictures follow the test image instead.", icon=":material/broken_image:")
    else:
        image = tuple(round(float(v), 5) for v in got["image"].reshape(-1))
        w, h = got["size"]
        image_note = (f"Your picture ({code(upload.name)}, {w} × {h} pixels) as the net sees it: grayscale, resized "
                      "to 28 × 28" + (", and inverted (its border was light; Fashion-MNIST shows light items on "
                                      "black)" if got["inverted"] else "") + ". Remove the file to go back to the test "
                      "images.")


# ------------------------------------------------------------------ pictures
def _source(seen: dict) -> str:
    if seen["label"] is None:
        return "your picture"
    return f"test image {seen['index']} ({labels[seen['label']]})"


def maps_picture(seen: dict) -> None:
    who = f" ({literal(seen['name'])})" if seen["name"] else ""
    act = "ReLU" if seen["activation"] == "relu" else "sigmoid"
    pool = "max" if seen["pooling"] == "max" else "average"
    st.subheader(f"Every layer on {_source(seen)}{who}")
    st.caption(f"After step {seen['step']} (epoch {seen['epoch']}); redrawn every {FEATURE_SECONDS:g} s while "
               "training. Hover a cell for its value." + (f" {image_note}" if seen["label"] is None else ""))
    c0, c1, c2 = st.columns([2, 6, 4])
    c0.plotly_chart(figs.image_figure(seen["image"], "input 1 × 28 × 28", figure_title="The input image"),
                key="lenet:image", width="stretch")
    c1.plotly_chart(figs.maps_figure(seen["maps"]["C1"], f"C1: conv 5 × 5 (pad 2) + {act}, 6 × 28 × 28", 3),
                    key="lenet:C1", width="stretch")
    c2.plotly_chart(figs.kernels_figure(seen["weights"]["C1"], "the six learned C1 kernels (1 × 5 × 5)"),
                    key="lenet:kernels", width="stretch")
    c1, c2 = st.columns([3, 4])
    c1.plotly_chart(figs.maps_figure(seen["maps"]["S2"], f"S2: {pool} pooling 2 × 2, 6 × 14 × 14", 3),
                    key="lenet:S2", width="stretch")
    c2.plotly_chart(figs.maps_figure(seen["maps"]["C3"], f"C3: conv 5 × 5 + {act}, 16 × 10 × 10", 4, panel_px=80),
                    key="lenet:C3", width="stretch")
    c1, c2 = st.columns([3, 4])
    c1.plotly_chart(figs.maps_figure(seen["maps"]["S4"], f"S4: {pool} pooling 2 × 2, 16 × 5 × 5", 4, panel_px=70),
                    key="lenet:S4", width="stretch")
    with c2:
        st.plotly_chart(figs.bars_figure(seen["maps"]["F5"], f"F5: dense 400 → 120 + {act}",
                                         activation=seen["activation"]), key="lenet:F5", width="stretch")
        st.plotly_chart(figs.bars_figure(seen["maps"]["F6"], f"F6: dense 120 → 84 + {act}",
                                         activation=seen["activation"]), key="lenet:F6", width="stretch")
    true = -1 if seen["label"] is None else seen["label"]
    pred = seen["predicted"]
    verdict = ("" if seen["label"] is None else ": right" if pred == true else f": wrong, the label is {labels[true]}")
    st.plotly_chart(probs_figure(seen["probs"], labels, true, pred,
                                 f"output: dense 84 → 10, softmax; predicted {labels[pred]}{verdict}"),
                    key="lenet:probs", width="stretch")
    sliding_kernel(seen)


def sliding_kernel(seen: dict) -> None:
    st.subheader("How one cell of a feature map is computed")
    c0, c1, c2, c3 = st.columns([2, 3, 3, 3])
    layer = controls.segmented_control("layer", "cell_layer", tuple(ln.CONVS), "C1", container=c0,
                                       help="C1 reads the padded image; C3 reads all six S2 maps.")
    channels, rows, cols = ln.SHAPES[layer]
    for name, top in (("channel", channels - 1), ("row", rows - 1), ("col", cols - 1)):
        key = controls.widget_key(name)
        if isinstance(st.session_state.get(key), int) and st.session_state[key] > top:
            st.session_state[key] = top  # from C1 (28 × 28) to C3 (10 × 10): the nearest cell that exists
    channel = controls.slider("feature map (output channel)", "channel", 0, channels - 1, 0, container=c1)
    row = controls.slider("row", "row", 0, rows - 1, rows // 2, container=c2)  # the middle: on the item
    col = controls.slider("col", "col", 0, cols - 1, cols // 2, container=c3)
    b0, b1, _ = st.columns([1, 1, 4])
    b0.button("Previous cell", key="lenet:prev", icon=":material/chevron_left:", on_click=_move,
              args=(row, col, (rows, cols), -1), width="stretch")
    b1.button("Next cell", key="lenet:next", icon=":material/chevron_right:", on_click=_move,
              args=(row, col, (rows, cols), 1), width="stretch", help="Slide the window one cell along the row.")
    info = ln.CONVS[layer]
    cell = ln.conv_cell(ln.conv_input(seen, layer), seen["weights"][layer], seen["bias"][layer], channel=channel,
                        row=row, col=col, padding=info["padding"], activation=seen["activation"])
    left, right = st.columns([3, 2])
    src = "image" if info["input"] == "image" else "S2 channel"
    left.plotly_chart(figs.input_figure(ln.conv_input(seen, layer), padding=info["padding"],
                                        top_left=cell["top_left"], size=cell["size"], prefix=src,
                                        cols=1 if src == "image" else 3,
                                        title=f"the input of {layer}, the 5 × 5 window of cell ({row}, {col})"),
                      key="lenet:cell_input", width="stretch")
    right.plotly_chart(figs.maps_figure(seen["maps"][layer][channel:channel + 1],
                                        f"{layer} feature map {channel}: cell ({row}, {col})", 1, panel_px=260,
                                        prefix="channel", selected=(0, row, col)), key="lenet:cell_map",
                       width="stretch")
    st.plotly_chart(figs.cell_figure(cell, channel=channel, title="window × kernel, elementwise"),
                    key="lenet:cell", width="stretch")
    sums = " + ".join(f"({v:.4f})" for v in cell["per_channel"])
    f = r"\sigma(z) = \frac{1}{1 + e^{-z}}" if cell["activation"] == "sigmoid" else r"\max(0, z)"
    st.latex(rf"z = \underbrace{{{sums}}}_{{\text{{sum of the products}}}} + \underbrace{{({cell['bias']:.4f})}}"
             rf"_{{b_{{{channel}}}}} = {cell['z']:.4f}" if len(cell["per_channel"]) <= 6 else
             rf"z = {cell['sum']:.4f} + ({cell['bias']:.4f}) = {cell['z']:.4f}")
    st.latex(rf"{layer}[{channel}, {row}, {col}] = {f} = {cell['value']:.4f}")
    shown = float(seen["maps"][layer][channel, row, col])
    st.caption(f"The feature map drawn above holds {shown:.4f} at this cell: the same number, computed by the "
               "forward pass. " + ("C1 has one input channel (the image); near the border the window reads the "
                                   "zero padding ('pad')." if layer == "C1" else
                                   "C3 sums over all six S2 channels, each with its own 5 × 5 kernel: 6 × 25 "
                                   "products and one bias per output channel."))


def _move(row: int, col: int, shape: tuple[int, int], direction: int) -> None:
    r, c = ln.step_cell(row, col, shape, direction)
    controls.set_value("row", r)
    controls.set_value("col", c)


def wrong_picture(seen: dict) -> None:
    who = f" ({literal(seen['name'])})" if seen["name"] else ""
    st.subheader(f"Misclassified test images, epoch {seen['epoch']}{who}")
    titles = [f"#{i}: {labels[t]}<br>→ {labels[p]} ({q:.2f})"
              for i, t, p, q in zip(seen["wrong"], seen["true"], seen["predicted"], seen["prob"])]
    if not titles:
        st.info("No test image is misclassified.", icon=":material/check_circle:")
        return
    st.plotly_chart(images_figure(seen["images"], titles, cols=N_WRONG,
                                  title=f"The first {len(titles)} misclassified of the first {seen['checked']:,} "
                                        f"test images ({seen['num_wrong']:,} wrong among them)"),
                    key="lenet:wrong", width="stretch")
    st.caption("Test image number: true class → predicted class (the probability the net gave its prediction). "
               "Set *test image* to a number to follow one of them through the layers above.")


book = (f"the book's test accuracy after 10 epochs: {ln.BOOK_ACCURACY[1]:.2f} (0.17.5), "
        f"{ln.BOOK_ACCURACY[0]:.2f} (zh 2.0)")
R = live_panel(
    KEY, form.config(), "lenet", data=data, seed=seed, device=device,
    context={"data": "stand-in" if is_stand_in(data) else "Fashion-MNIST"},
    charts_=[LOSS, replace(ACCURACY, reference=[(ln.BOOK_ACCURACY[0], ln.BOOK_ACCURACY[1], book)]), MINIBATCH],
    readouts=[Readout("train_loss", "train loss"), Readout("train_metric", "train acc", "{:.3f}"),
              Readout("test_loss", "test loss"), Readout("test_metric", "test acc", "{:.3f}")],
    label=lambda cfg: f"{'modern' if cfg.modern else 'book'}, lr={cfg.lr:g}",
    views=[View("core.experiments.lenet:feature_maps", maps_picture, every=FEATURE_SECONDS,
                params={"index": index, "image": image}),
           View("core.experiments.lenet:misclassified", wrong_picture, every="epoch", params={"n": N_WRONG})],
    presets=ln.PRESETS,
)
phases.phase_panel(R, KEY)

st.subheader("What to look for")
st.markdown(
    "- **The plateau.** With sigmoids and lr 0.9 the loss sits near 2.30 for a while and the feature maps "
    "barely change: every sigmoid starts near 0.5 and passes on at most a quarter of its gradient. Then the C1 "
    "kernels sharpen into edge and blob detectors and the loss drops. The modern LeNet (lr 0.1) has no plateau.\n"
    "- **C1 kernels** turn from noise into oriented edges (red beside blue) and brightness detectors; the C1 maps "
    "of a trouser or a sneaker then light up along its outline.\n"
    "- **Deeper is coarser.** C1 still looks like the image; C3 and S4 keep only where the parts are; F5 and F6 "
    "are a code no longer shaped like the image, and the softmax turns it into the answer.\n"
    "- **The book's figure.** The accuracy chart's band is the book's test accuracy after 10 epochs at these "
    "settings, 0.78-0.80 by edition; the misclassified images are mostly shirts, t-shirts, pullovers and coats.\n"
    "- **One cell.** In the sliding-kernel section, *Next cell* moves the window one step along the row: the "
    "products change, their sum plus the bias goes through the activation, and the result is exactly the "
    "feature map's value."
)
if is_stand_in(data):
    st.caption(":material/info: The stand-in data set is not Fashion-MNIST: the book's figures do not apply to it.")
