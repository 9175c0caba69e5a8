"""LeNet (book section 7.6): every layer's feature maps while the net learns Fashion-MNIST."""
from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from core.experiments import lenet as ln
from core.experiments.schema import setting
from playground import controls, phases
from playground import lenet_figures as figs
from playground.fmnist import fashion_mnist, is_stand_in
from playground.i18n import t
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


st.title(t("page.lenet"))
st.markdown(t("lenet.intro"))
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
    st.caption(t("lenet.modern_caption", modern_lr=f"{ln.MODERN_LR:g}",
                 end=t("lenet.modern_diverge", lr=f"{lr:g}") if lr > 0.5 else t("lenet.modern_end")))
else:
    st.caption(t("lenet.book_caption"))

# ------------------------------------------------------------- the test image
def _shuffle() -> None:
    n = st.session_state.get("lenet:shuffles", 0) + 1
    st.session_state["lenet:shuffles"] = n
    rng = np.random.default_rng([seed, n])
    controls.set_value("index", int(rng.integers(len(data.X_test))))


st.subheader(t("lenet.image_heading"))
left, mid, right = st.columns([3, 1, 4], vertical_alignment="bottom")
(index,) = controls.Form(Picture).draw("index", container=left)
mid.button(t("lenet.shuffle"), key="lenet:shuffle", icon=":material/shuffle:", on_click=_shuffle, width="stretch",
           help=t("lenet.shuffle_help"))
upload = right.file_uploader(t("lenet.upload"), type=["png", "jpg", "jpeg"],
                             key="lenet:upload", max_upload_size=UPLOAD_MB)
image, image_note = None, ""
if upload is not None:
    try:
        got = ln.image_from_upload(upload.getvalue())
    except ln.ImageUploadError as err:
        st.error(t("lenet.upload_refused", name=code(upload.name),
                   why=t(f"lenet.upload_error.{err.code}", **err.details)), icon=":material/broken_image:")
    else:
        image = tuple(round(float(v), 5) for v in got["image"].reshape(-1))
        w, h = got["size"]
        image_note = t("lenet.upload_note", name=code(upload.name), w=w, h=h,
                       inverted=t("lenet.upload_inverted") if got["inverted"] else "")

# ------------------------------------------------------------------ pictures
def _source(seen: dict) -> str:
    if seen["label"] is None:
        return t("lenet.your_picture")
    return t("lenet.test_image", index=seen["index"], label=labels[seen["label"]])


def maps_picture(seen: dict) -> None:
    who = f" ({literal(seen['name'])})" if seen["name"] else ""
    act = t("lenet.relu") if seen["activation"] == "relu" else t("lenet.sigmoid")
    pool = t("lenet.pool_max") if seen["pooling"] == "max" else t("lenet.pool_average")
    st.subheader(t("lenet.every_layer", source=_source(seen), who=who))
    st.caption(t("lenet.maps_caption", step=seen["step"], epoch=seen["epoch"], seconds=f"{FEATURE_SECONDS:g}") +
               (f" {image_note}" if seen["label"] is None else ""))
    c0, c1, c2 = st.columns([2, 6, 4])
    c0.plotly_chart(figs.image_figure(seen["image"], t("lenet.input_panel"), figure_title=t("lenet.input_title")),
                key="lenet:image", width="stretch")
    c1.plotly_chart(figs.maps_figure(seen["maps"]["C1"], t("lenet.c1_title", act=act), 3),
                    key="lenet:C1", width="stretch")
    c2.plotly_chart(figs.kernels_figure(seen["weights"]["C1"], t("lenet.kernels_title")),
                    key="lenet:kernels", width="stretch")
    c1, c2 = st.columns([3, 4])
    c1.plotly_chart(figs.maps_figure(seen["maps"]["S2"], t("lenet.s2_title", pool=pool), 3),
                    key="lenet:S2", width="stretch")
    c2.plotly_chart(figs.maps_figure(seen["maps"]["C3"], t("lenet.c3_title", act=act), 4, panel_px=80),
                    key="lenet:C3", width="stretch")
    c1, c2 = st.columns([3, 4])
    c1.plotly_chart(figs.maps_figure(seen["maps"]["S4"], t("lenet.s4_title", pool=pool), 4, panel_px=70),
                    key="lenet:S4", width="stretch")
    with c2:
        st.plotly_chart(figs.bars_figure(seen["maps"]["F5"], t("lenet.f5_title", act=act),
                                         activation=seen["activation"]), key="lenet:F5", width="stretch")
        st.plotly_chart(figs.bars_figure(seen["maps"]["F6"], t("lenet.f6_title", act=act),
                                         activation=seen["activation"]), key="lenet:F6", width="stretch")
    true = -1 if seen["label"] is None else seen["label"]
    pred = seen["predicted"]
    verdict = ("" if seen["label"] is None else t("lenet.verdict_right") if pred == true else
               t("lenet.verdict_wrong", label=labels[true]))
    st.plotly_chart(probs_figure(seen["probs"], labels, true, pred,
                                 t("lenet.output_title", label=labels[pred], verdict=verdict)),
                    key="lenet:probs", width="stretch")
    sliding_kernel(seen)


def sliding_kernel(seen: dict) -> None:
    st.subheader(t("lenet.cell_heading"))
    c0, c1, c2, c3 = st.columns([2, 3, 3, 3])
    layer = controls.segmented_control(t("lenet.layer"), "cell_layer", tuple(ln.CONVS), "C1", container=c0,
                                       help=t("lenet.layer_help"))
    channels, rows, cols = ln.SHAPES[layer]
    for name, top in (("channel", channels - 1), ("row", rows - 1), ("col", cols - 1)):
        key = controls.widget_key(name)
        if isinstance(st.session_state.get(key), int) and st.session_state[key] > top:
            st.session_state[key] = top  # from C1 (28 × 28) to C3 (10 × 10): the nearest cell that exists
    channel = controls.slider(t("lenet.channel"), "channel", 0, channels - 1, 0, container=c1)
    row = controls.slider(t("lenet.row"), "row", 0, rows - 1, rows // 2, container=c2)  # the middle: on the item
    col = controls.slider(t("lenet.col"), "col", 0, cols - 1, cols // 2, container=c3)
    b0, b1, _ = st.columns([1, 1, 4])
    b0.button(t("lenet.previous_cell"), key="lenet:prev", icon=":material/chevron_left:", on_click=_move,
              args=(row, col, (rows, cols), -1), width="stretch")
    b1.button(t("lenet.next_cell"), key="lenet:next", icon=":material/chevron_right:", on_click=_move,
              args=(row, col, (rows, cols), 1), width="stretch", help=t("lenet.next_cell_help"))
    info = ln.CONVS[layer]
    cell = ln.conv_cell(ln.conv_input(seen, layer), seen["weights"][layer], seen["bias"][layer], channel=channel,
                        row=row, col=col, padding=info["padding"], activation=seen["activation"])
    left, right = st.columns([3, 2])
    from_image = info["input"] == "image"
    src = t("lenet.prefix_image") if from_image else t("lenet.prefix_s2")
    left.plotly_chart(figs.input_figure(ln.conv_input(seen, layer), padding=info["padding"],
                                        top_left=cell["top_left"], size=cell["size"], prefix=src,
                                        image=from_image, cols=1 if from_image else 3,
                                        title=t("lenet.input_of", layer=layer, row=row, col=col)),
                      key="lenet:cell_input", width="stretch")
    right.plotly_chart(figs.maps_figure(seen["maps"][layer][channel:channel + 1],
                                        t("lenet.cell_map", layer=layer, channel=channel, row=row, col=col), 1,
                                        panel_px=260, prefix=t("lenet.prefix_channel"), selected=(0, row, col)),
                       key="lenet:cell_map", width="stretch")
    st.plotly_chart(figs.cell_figure(cell, channel=channel, title=t("lenet.products_title")),
                    key="lenet:cell", width="stretch")
    sums = " + ".join(f"({v:.4f})" for v in cell["per_channel"])
    f = r"\sigma(z) = \frac{1}{1 + e^{-z}}" if cell["activation"] == "sigmoid" else r"\max(0, z)"
    under = t("lenet.sum_of_products")
    st.latex(rf"z = \underbrace{{{sums}}}_{{\text{{{under}}}}} + \underbrace{{({cell['bias']:.4f})}}"
             rf"_{{b_{{{channel}}}}} = {cell['z']:.4f}" if len(cell["per_channel"]) <= 6 else
             rf"z = {cell['sum']:.4f} + ({cell['bias']:.4f}) = {cell['z']:.4f}")
    st.latex(rf"{layer}[{channel}, {row}, {col}] = {f} = {cell['value']:.4f}")
    shown = float(seen["maps"][layer][channel, row, col])
    st.caption(t("lenet.cell_caption", shown=f"{shown:.4f}") +
               (t("lenet.cell_c1") if layer == "C1" else t("lenet.cell_c3")))


def _move(row: int, col: int, shape: tuple[int, int], direction: int) -> None:
    r, c = ln.step_cell(row, col, shape, direction)
    controls.set_value("row", r)
    controls.set_value("col", c)


def wrong_picture(seen: dict) -> None:
    who = f" ({literal(seen['name'])})" if seen["name"] else ""
    st.subheader(t("lenet.wrong_heading", epoch=seen["epoch"], who=who))
    titles = [f"#{i}: {labels[t]}<br>→ {labels[p]} ({q:.2f})"
              for i, t, p, q in zip(seen["wrong"], seen["true"], seen["predicted"], seen["prob"])]
    if not titles:
        st.info(t("lenet.none_wrong"), icon=":material/check_circle:")
        return
    st.plotly_chart(images_figure(seen["images"], titles, cols=N_WRONG,
                                  title=t("lenet.wrong_title", n=len(titles), checked=f"{seen['checked']:,}",
                                          num_wrong=f"{seen['num_wrong']:,}")),
                    key="lenet:wrong", width="stretch")
    st.caption(t("lenet.wrong_caption"))


book = t("lenet.book_band", a=f"{ln.BOOK_ACCURACY[1]:.2f}", b=f"{ln.BOOK_ACCURACY[0]:.2f}")
R = live_panel(
    KEY, form.config(), "lenet", data=data, seed=seed, device=device,
    context={"data": "stand-in" if is_stand_in(data) else "Fashion-MNIST"},
    charts_=[LOSS, replace(ACCURACY, reference=[(ln.BOOK_ACCURACY[0], ln.BOOK_ACCURACY[1], book)]), MINIBATCH],
    readouts=[Readout("train_loss", t("common.train_loss")), Readout("train_metric", t("lenet.train_acc"), "{:.3f}"),
              Readout("test_loss", t("common.test_loss")), Readout("test_metric", t("lenet.test_acc"), "{:.3f}")],
    label=lambda cfg: f"{t('lenet.run_modern') if cfg.modern else t('lenet.run_book')}, lr={cfg.lr:g}",
    views=[View("core.experiments.lenet:feature_maps", maps_picture, every=FEATURE_SECONDS,
                params={"index": index, "image": image}),
           View("core.experiments.lenet:misclassified", wrong_picture, every="epoch", params={"n": N_WRONG})],
    presets=ln.PRESETS,
)
phases.phase_panel(R, KEY)

st.subheader(t("common.what_to_look_for"))
st.markdown(t("lenet.look"))
if is_stand_in(data):
    st.caption(t("lenet.stand_in"))
