"""Modern CNNs (book sections 8.1-8.7): AlexNet, VGG, NiN, GoogLeNet, ResNet and
DenseNet on Fashion-MNIST, with LeNet as the baseline: layer tables, blocks,
a live run and races of two or three nets from the same seed."""
from dataclasses import replace

import pandas as pd
import streamlit as st

from core.experiments import modern_cnns as mc
from core.models.cnn_zoo import BOOK_BATCH, BOOK_LR, BOOK_SIZE, NETS, min_size
from core.ops.layer_table import TRAIN_FLOPS_PER_FORWARD
from playground import controls
from playground.fmnist import fashion_mnist, is_stand_in
from playground.live import ACCURACY, LOSS, Readout, View, live_panel
from playground.modern_cnns_figures import block_diagram, race_chart

KEY = "modern_cnns"
EDITIONS = ("0.17.5", "zh 2.0", "1.0.3")


@st.cache_data(max_entries=64, show_spinner=False)
def layer_rows(net: str, width: int, size: int, depth: int) -> list[tuple]:
    return [(r.name, r.kind, r.shape, r.params, r.flops) for r in mc.table(net, width, size, depth)]


@st.cache_data(max_entries=64, show_spinner=False)
def diagram(net: str, width: int) -> str:
    return block_diagram(net, width)


def book_band(net: str) -> tuple:
    accs = mc.BOOK_ACC[net]
    said = ", ".join(f"{a:.2f} ({e})" for a, e in zip(accs, EDITIONS))
    return (min(accs), max(accs), f"the book's {NETS[net].split(' (')[0]}, full size, 10 epochs: {said}")


def human(n: float, unit: str = "") -> str:
    for scale, suffix in ((1e12, " T"), (1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{suffix}{unit}"
    return f"{n:.3g} {unit}".rstrip()


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


st.title("Modern CNNs: AlexNet to DenseNet, trained and compared")
st.markdown(
    "LeNet's recipe (convolutions, pooling, a few dense layers) grew in a decade into nets a hundred times "
    "bigger. **AlexNet** (8.1) made it deeper and wider with ReLU and dropout; **VGG** (8.2) repeats one block "
    "of 3x3 convolutions; **NiN** (8.3) drops the big dense layers for 1x1 convolutions and global average "
    "pooling; **GoogLeNet** (8.4) runs four paths of different kernel sizes side by side; **ResNet** (8.6) lets "
    "each block learn a residual f(x) − x, so a block can always fall back to the identity; **DenseNet** (8.7) "
    "concatenates instead of adding. Pick a net, see its layers and its block, and train it on Fashion-MNIST "
    "here, alone or in a race against others."
)
st.latex(r"\text{output size} = \left\lfloor \frac{n - k + p + s}{s} \right\rfloor \qquad "
         r"\text{ResNet: } \mathbf{x} \mapsto \mathrm{ReLU}\big(f(\mathbf{x}) + \mathbf{x}\big) \qquad "
         r"\text{DenseNet: } \mathbf{x} \to [\mathbf{x}, f_1(\mathbf{x}), f_2([\mathbf{x}, f_1(\mathbf{x})]), \ldots]")

seed, device = controls.seed(), controls.device()
on_cuda = device.type == "cuda"
base = mc.FULL if on_cuda else mc.BOOK  # a GPU trains the book's full size; a CPU starts small
form = controls.Form(mc.Config, base=base)
net, width, resize = form.draw("net", "width", "resize", columns=3)
num_train, _, _ = form.draw("num_train", "num_test", "num_epochs", columns=3)
book_lr, _, _ = form.draw("book_lr", "lr", "batch_size", columns=3)
cfg = form.config()
size, w = mc.input_size(cfg), mc.width(cfg)
name = NETS[net].split(" (")[0]

if mc.size_raised(cfg):
    st.warning(f"{name} needs inputs of at least {min_size(net)} px (its strided convolutions and pools leave "
               f"nothing of a smaller image): trained at {size} px instead of {resize}.", icon=":material/warning:")
if net == "lenet":
    st.caption("LeNet is the baseline as the book trains it in section 7.6: 28x28 inputs, sigmoid activations, "
               "no width factor.")
st.caption(f"{name} trains at {size}x{size} px, width factor {w}, on the first {num_train:,} training images, "
           f"minibatch SGD with η = {mc.learning_rate(cfg):g} "
           f"({'the book' if book_lr else 'chosen'}) and batch size {mc.batch_size(cfg)}. "
           f"The book: {BOOK_SIZE[net]} px, width 1, all 60,000 images, η = {BOOK_LR[net]:g}, batch "
           f"{BOOK_BATCH[net]}, 10 epochs.")

# ------------------------------------------------------------------ the layers
st.subheader(f"{name}, layer by layer")
deeper = st.toggle("one level deeper (inside the blocks)", key="modern_cnns:deeper")
rows = layer_rows(net, w, size, 2 if deeper else 1)
table = pd.DataFrame([{"layer": n, "kind": k, "output shape": " x ".join(map(str, s)), "parameters": p,
                       "FLOPs": f} for n, k, s, p, f in rows])
tot = {"params": sum(r[3] for r in rows), "flops": sum(r[4] for r in rows)}
left, right = st.columns([3, 1])
left.dataframe(table, hide_index=True, width="stretch", height=min(35 * (len(table) + 1) + 3, 460),
               key="modern_cnns:table",
               column_config={"parameters": st.column_config.NumberColumn(format="localized"),
                              "FLOPs": st.column_config.NumberColumn(format="localized")})
right.metric("parameters", f"{tot['params']:,}")
right.metric("FLOPs per image (forward)", human(tot["flops"]))
right.metric("input", f"1 x {size} x {size}")
st.caption("Computed with forward hooks on one image of zeros, on torch's meta device (no weights are "
           "allocated). FLOPs count 2 x the multiply-adds of the convolutions and dense layers (bias adds, "
           "activations, pooling and batch norm are left out: a few per cent); a training step costs about "
           f"{TRAIN_FLOPS_PER_FORWARD} x that (forward and backward).")
st.subheader("Its block")
st.graphviz_chart(diagram(net, w))  # its natural size (at most the page's width): readable text

# ------------------------------------------------------------- what full size costs
full = mc.cost(cfg)
saying = (f"At the book's full size ({full['full_size']} px, width 1) {name} has {full['full_params']:,} parameters "
          f"and needs {human(full['full_flops'], 'FLOPs')} per image forward, so one epoch over 60,000 images is "
          f"about {human(full['full_epoch_flops'], 'FLOPs')} of training; the run chosen here needs "
          f"{human(full['epoch_flops'], 'FLOPs')} per epoch "
          f"({full['full_epoch_flops'] / max(full['epoch_flops'], 1):,.0f} x less).")
if on_cuda:
    st.info(saying + " This server has a GPU: the settings start at the book's full size.", icon=":material/memory:")
else:
    st.info(saying + " This server trains on its CPU, so the settings start small; the time a full-size epoch "
            "would take here is estimated below from this run's measured speed once an epoch has finished.",
            icon=":material/memory:")

data = fashion_mnist("cpu")  # each worker keeps its own copy on the run's device
if data is None:
    st.stop()

st.subheader("Training")


def timing(seen: dict) -> None:
    if not any(v["epoch"] for v in seen.values()):
        st.caption("Accuracy against wall time and the cost estimate appear when the first epoch has finished.")
        return
    data_, spec = race_chart(seen)
    st.vega_lite_chart(data_, spec, key="modern_cnns:race", width="stretch")
    rows = []
    for run, v in seen.items():
        if not v["epoch"]:
            continue
        speed = v["examples_per_sec"][-1]
        rows.append({"run": run or name, "epochs": v["epoch"][-1], "test accuracy": v["test_metric"][-1],
                     "seconds per epoch": v["epoch_seconds"][-1], "training images/s": speed})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="modern_cnns:speed",
                 column_config={"test accuracy": st.column_config.NumberColumn(format="%.3f"),
                                "seconds per epoch": st.column_config.NumberColumn(format="%.1f"),
                                "training images/s": st.column_config.NumberColumn(format="%.0f")})
    mine = seen.get("") or next(iter(seen.values()))
    if mine["examples_per_sec"] and "" in seen:
        est = mc.cost(cfg, mine["examples_per_sec"][-1])
        st.caption(f"Measured: {human(est['flops_per_sec'], 'FLOP/s')} of training on this "
                   f"{'GPU' if on_cuda else 'CPU'} at these settings. At that rate one full-size epoch of {name} "
                   f"({full['full_size']} px, width 1, 60,000 images) would take about "
                   f"{duration(est['full_epoch_seconds'])}, and the book's 10 epochs ten times that (big layers "
                   "usually run at a higher rate than small ones, so this leans long).")


live_panel(
    KEY, cfg, "modern_cnns", data=data, seed=seed, device=device,
    context={"data": "stand-in" if is_stand_in(data) else "Fashion-MNIST"},
    charts_=[replace(ACCURACY, reference=[book_band(net)]), LOSS],
    readouts=[Readout("train_loss", "train loss"), Readout("test_metric", "test acc", "{:.3f}"),
],
    label=lambda c: f"{NETS[c.net].split(' (')[0]} w{mc.width(c)} {mc.input_size(c)}px",
    views=[View("core.experiments.modern_cnns:timeline", timing, every="epoch")],
    presets=mc.PRESETS,
)
st.caption(f"The grey band is the book's test accuracy for {name} after 10 epochs **at full size** on all 60,000 "
           "images, as printed by three editions; a smaller width, a smaller input or fewer images usually lands "
           "below it. A race trains its nets side by side from the same seed, so they see the same images in the "
           "same order; each uses the book's learning rate for it unless you turn that off, and the batch size "
           "chosen above.")

st.subheader("What to look for")
st.markdown(
    "- **Parameters are not compute.** AlexNet's and VGG's dense layers hold most of their parameters but few of "
    "their FLOPs; NiN and GoogLeNet drop those layers and have a fraction of the parameters for similar work.\n"
    "- **Shapes shrink by strides.** Each stride-2 convolution or pool halves height and width: at 32 px the "
    "last ResNet stage sees a 1x1 map, which is why AlexNet and NiN refuse inputs below about 65 px.\n"
    "- **In a race**, compare accuracy against epochs (which learns most per pass) with accuracy against seconds "
    "(which learns most per unit of compute): LeNet is fastest per epoch, the batch-normalised ResNet and "
    "DenseNet learn more per epoch.\n"
    "- **LeNet's plateau.** The book's LeNet has sigmoid activations and xavier weights: its loss sits near "
    "ln 10 = 2.30 and its accuracy at 0.10 for the first few hundred minibatches before it suddenly learns, so "
    "with few images per epoch it may not leave the plateau within a race. The ReLU and batch-norm nets do not "
    "wait like that.\n"
    "- **Width trades accuracy for time** roughly quadratically: halving the channels cuts a convolution's FLOPs "
    "by about four."
)
