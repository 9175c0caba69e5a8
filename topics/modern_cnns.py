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
from playground.i18n import lang, t
from playground.live import ACCURACY, LOSS, Readout, View, live_panel
from playground.modern_cnns_figures import block_diagram, race_chart

KEY = "modern_cnns"
EDITIONS = ("0.17.5", "zh 2.0", "1.0.3")


@st.cache_data(max_entries=64, show_spinner=False)
def layer_rows(net: str, width: int, size: int, depth: int) -> list[tuple]:
    return [(r.name, r.kind, r.shape, r.params, r.flops) for r in mc.table(net, width, size, depth)]


@st.cache_data(max_entries=64, show_spinner=False)
def diagram(net: str, width: int, language: str) -> str:  # (the language: one cached diagram for each)
    return block_diagram(net, width)


def book_band(net: str) -> tuple:
    accs = mc.BOOK_ACC[net]
    said = ", ".join(f"{a:.2f} ({e})" for a, e in zip(accs, EDITIONS))
    return (min(accs), max(accs), t("modern_cnns.book_band", name=NETS[net].split(" (")[0], said=said))


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


st.title(t("page.modern_cnns"))
st.markdown(t("modern_cnns.intro"))
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
    st.warning(t("modern_cnns.size_raised", name=name, min=min_size(net), size=size, resize=resize),
               icon=":material/warning:")
if net == "lenet":
    st.caption(t("modern_cnns.lenet_caption"))
st.caption(t("modern_cnns.trains_at", name=name, size=size, width=w, num_train=f"{num_train:,}",
             lr=f"{mc.learning_rate(cfg):g}", whose=t("modern_cnns.lr_book") if book_lr else t("modern_cnns.lr_chosen"),
             batch_size=mc.batch_size(cfg), book_size=BOOK_SIZE[net], book_lr=f"{BOOK_LR[net]:g}",
             book_batch=BOOK_BATCH[net]))

# ------------------------------------------------------------------ the layers
st.subheader(t("modern_cnns.layer_by_layer", name=name))
deeper = st.toggle(t("modern_cnns.deeper"), key="modern_cnns:deeper")
rows = layer_rows(net, w, size, 2 if deeper else 1)
COLUMNS = {c: t(f"modern_cnns.column_{c}") for c in ("layer", "kind", "shape", "parameters", "flops")}
table = pd.DataFrame([{COLUMNS["layer"]: n, COLUMNS["kind"]: k, COLUMNS["shape"]: " x ".join(map(str, s)),
                       COLUMNS["parameters"]: p, COLUMNS["flops"]: f} for n, k, s, p, f in rows])
tot = {"params": sum(r[3] for r in rows), "flops": sum(r[4] for r in rows)}
left, right = st.columns([3, 1])
left.dataframe(table, hide_index=True, width="stretch", height=min(35 * (len(table) + 1) + 3, 460),
               key="modern_cnns:table",
               column_config={COLUMNS["parameters"]: st.column_config.NumberColumn(format="localized"),
                              COLUMNS["flops"]: st.column_config.NumberColumn(format="localized")})
right.metric(t("modern_cnns.metric_parameters"), f"{tot['params']:,}")
right.metric(t("modern_cnns.metric_flops"), human(tot["flops"]))
right.metric(t("modern_cnns.metric_input"), f"1 x {size} x {size}")
st.caption(t("modern_cnns.table_caption", factor=TRAIN_FLOPS_PER_FORWARD))
st.subheader(t("modern_cnns.its_block"))
st.graphviz_chart(diagram(net, w, lang()))  # its natural size (at most the page's width): readable text

# ------------------------------------------------------------- what full size costs
full = mc.cost(cfg)
FLOPS = t("modern_cnns.unit_flops")
saying = t("modern_cnns.full_size", full_size=full["full_size"], name=name, full_params=f"{full['full_params']:,}",
           full_flops=human(full["full_flops"], FLOPS), full_epoch_flops=human(full["full_epoch_flops"], FLOPS),
           epoch_flops=human(full["epoch_flops"], FLOPS),
           ratio=f"{full['full_epoch_flops'] / max(full['epoch_flops'], 1):,.0f}")
st.info(saying + (t("modern_cnns.on_gpu") if on_cuda else t("modern_cnns.on_cpu")), icon=":material/memory:")

data = fashion_mnist("cpu")  # each worker keeps its own copy on the run's device
if data is None:
    st.stop()

st.subheader(t("modern_cnns.training"))


def timing(seen: dict) -> None:
    if not any(v["epoch"] for v in seen.values()):
        st.caption(t("modern_cnns.first_epoch"))
        return
    data_, spec = race_chart(seen)
    cols = {c: t(f"modern_cnns.column_{c}") for c in ("run", "epochs", "test_accuracy", "seconds", "speed")}
    st.vega_lite_chart(data_, spec, key="modern_cnns:race", width="stretch")
    rows = []
    for run, v in seen.items():
        if not v["epoch"]:
            continue
        speed = v["examples_per_sec"][-1]
        rows.append({cols["run"]: run or name, cols["epochs"]: v["epoch"][-1],
                     cols["test_accuracy"]: v["test_metric"][-1], cols["seconds"]: v["epoch_seconds"][-1],
                     cols["speed"]: speed})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="modern_cnns:speed",
                 column_config={cols["test_accuracy"]: st.column_config.NumberColumn(format="%.3f"),
                                cols["seconds"]: st.column_config.NumberColumn(format="%.1f"),
                                cols["speed"]: st.column_config.NumberColumn(format="%.0f")})
    mine = seen.get("") or next(iter(seen.values()))
    if mine["examples_per_sec"] and "" in seen:
        est = mc.cost(cfg, mine["examples_per_sec"][-1])
        st.caption(t("modern_cnns.measured", rate=human(est["flops_per_sec"], t("modern_cnns.unit_flops_per_sec")),
                     device="GPU" if on_cuda else "CPU", name=name, full_size=full["full_size"],
                     duration=duration(est["full_epoch_seconds"])))


live_panel(
    KEY, cfg, "modern_cnns", data=data, seed=seed, device=device,
    context={"data": "stand-in" if is_stand_in(data) else "Fashion-MNIST"},
    charts_=[replace(ACCURACY, reference=[book_band(net)]), LOSS],
    readouts=[Readout("train_loss", t("common.train_loss")),
              Readout("test_metric", t("modern_cnns.test_acc"), "{:.3f}")],
    label=lambda c: f"{NETS[c.net].split(' (')[0]} w{mc.width(c)} {mc.input_size(c)}px",
    views=[View("core.experiments.modern_cnns:timeline", timing, every="epoch")],
    presets=mc.PRESETS,
)
st.caption(t("modern_cnns.band_caption", name=name))

st.subheader(t("common.what_to_look_for"))
st.markdown(t("modern_cnns.look"))
