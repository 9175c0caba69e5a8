"""GPUs (book section 6.7): the devices this server has, and the same work
timed on each of them: an n x n matrix product and minibatches of the book's MLP."""
from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from core.ops import devices
from playground import charts, controls
from playground.fmnist import fashion_mnist, is_stand_in
from playground.i18n import t
from playground.messages import literal
from playground.state import executor

NS = (256, 512, 1024, 2048, 4096)
BATCHES = (10, 20, 50, 100)
BATCH_SIZE = 256
PROBE_N = 512  # timed first on each device: the estimate that caps n
MAX_SECONDS = 2.0  # the longest product this page has a training worker time

st.title(t("page.gpus"))
st.markdown(t("gpus.intro"))
st.latex(r"\mathbf{Z} = \mathbf{X}\mathbf{Y},\quad \mathbf{X},\mathbf{Y}\in\mathbb{R}^{n\times n}: \qquad "
         r"\text{GFLOP/s} = \frac{2n^3}{t \cdot 10^9}")

# -------------------------------------------------------------------- devices
st.subheader(t("gpus.has"))
seen = devices.list_devices()
c1, c2, c3, c4 = st.columns(4)
c1.metric("torch.cuda.is_available()", str(seen["cuda_available"]))
c2.metric("torch.cuda.device_count()", seen["count"])
c3.metric(t("gpus.trains_on"), seen["training_device"], help=t("gpus.trains_on_help"))
c4.metric(t("gpus.threads_metric"), seen["threads"], help=t("gpus.threads_help", cores=seen["cores"]))
COL = {name: t(f"gpus.col.{name}") for name in ("device", "name", "memory", "capability", "multiprocessors", "n",
                                               "product", "gflops", "repeats", "threads", "examples", "epoch",
                                               "timed")}
if seen["gpus"]:
    st.dataframe(pd.DataFrame([{COL["device"]: g["device"], COL["name"]: g["name"],
                                 COL["memory"]: g["memory"] / 2**30, COL["capability"]: g["capability"],
                                 COL["multiprocessors"]: g["multiprocessors"]} for g in seen["gpus"]]),
                 hide_index=True, column_config={COL["memory"]: st.column_config.NumberColumn(format="%.1f")})
else:
    st.info(t("gpus.no_gpu"), icon=":material/info:")
gpu, gpus = devices.try_gpu(), devices.try_all_gpus()
st.code(f"try_gpu()      # {gpu}\ntry_gpu(10)    # {devices.try_gpu(10)}\ntry_all_gpus() # {gpus}\n"
        f"torch.__version__, torch.version.cuda  # {seen['torch']!r}, {seen['cuda_version']!r}", language="python")

# --------------------------------------------------------------------- timing
st.subheader(t("gpus.same_work"))
c1, c2 = st.columns(2)
n = controls.select_slider(t("gpus.n_label"), "n", NS, 1024, container=c1, help=t("gpus.n_help"))
max_batches = controls.select_slider(t("gpus.batches_label"), "batches", BATCHES, 20, container=c2,
                                     help=t("gpus.batches_help", batch_size=BATCH_SIZE))
targets = [torch.device("cpu")] + [d for d in gpus if d.type == "cuda"]


# The timings run in a training worker (the executor's `call`), never in the web process, once per
# server and settings: a class opening the page times each once.
@st.cache_data(max_entries=64, show_spinner=t("gpus.timing_matmul"))
def matmul_timing(n: int, device: str) -> dict:
    return executor().call("core.ops.devices:time_matmul", gpus=1 if device != "cpu" else 0, n=n, device=device,
                           budget=0.5, max_repeats=10)


@st.cache_data(max_entries=64, show_spinner=t("gpus.timing_mlp"))
def mlp_timing(_data, data_kind: str, device: str, max_batches: int) -> dict:
    k = (max_batches + 1) * BATCH_SIZE  # the untimed minibatch and the timed ones: all the worker needs
    out = executor().call("core.ops.devices:time_mlp_epoch", gpus=1 if device != "cpu" else 0,
                          X=_data.X_train[:k], y=_data.y_train[:k], device=device, max_batches=max_batches,
                          batch_size=BATCH_SIZE)
    return {**out, "epoch_seconds": len(_data.X_train) / out["examples_per_sec"]}


data = fashion_mnist("cpu")
rows, capped = [], []
try:
    first = matmul_timing(min(n, PROBE_N), "cpu")
except Exception as err:  # noqa: BLE001 - no worker, a cluster that does not answer: say so, keep the page
    st.error(t("gpus.unreachable", error=f"{literal(type(err).__name__)}: {literal(str(err)[:200])}"),
             icon=":material/cloud_off:")
    st.stop()
for d in targets:
    first = matmul_timing(min(n, PROBE_N), str(d))
    n_used, _ = devices.capped_n(n, NS, measured_n=first["n"], measured_seconds=first["seconds"],
                                        limit=MAX_SECONDS)
    if n_used < n:
        capped.append((str(d), n_used, first["seconds"] * (n / first["n"]) ** 3))
    mm = first if n_used == first["n"] else matmul_timing(n_used, str(d))
    row = {COL["device"]: str(d), COL["n"]: n_used, COL["product"]: mm["seconds"], COL["gflops"]: mm["gflops"],
           COL["repeats"]: mm["repeats"], COL["threads"]: mm["threads"]}
    if data is not None:
        ep = mlp_timing(data, "stand-in" if is_stand_in(data) else "Fashion-MNIST", str(d), max_batches)
        row.update({COL["examples"]: ep["examples_per_sec"], COL["epoch"]: ep["epoch_seconds"],
                    COL["timed"]: ep["batches"]})
    rows.append(row)
table = pd.DataFrame(rows)
for dev, n_used, estimate in capped:
    st.info(t("gpus.capped", device=dev, n=f"{n:,}", estimate=f"{estimate:.1f}", probe=min(n, PROBE_N),
              n_used=f"{n_used:,}", limit=f"{MAX_SECONDS:g}"), icon=":material/speed:")
st.dataframe(table, hide_index=True, column_config={
    COL["product"]: st.column_config.NumberColumn(format="%.4f"),
    COL["gflops"]: st.column_config.NumberColumn(format="%.1f"),
    COL["examples"]: st.column_config.NumberColumn(format="%.0f"),
    COL["epoch"]: st.column_config.NumberColumn(format="%.2f")})


def speed_figure(column: str, title: str):
    """One horizontal bar per device: `column` of the table."""
    fig = charts.figure(title, x_title=column, y_title=t("gpus.axis_device"), height=110 + 40 * len(table))
    fig.add_bar(y=list(table[COL["device"]]), x=[float(v) for v in table[column]], orientation="h",
                marker_color=charts.PALETTE[0], name=column, hovertemplate="%{y}: %{x:,.1f}<extra></extra>")
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_layout(showlegend=False, hovermode="closest")
    return fig


left, right = st.columns(2)
left.plotly_chart(speed_figure(COL["gflops"], t("gpus.chart_gflops")), key="gpus:gflops", width="stretch")
if data is not None:
    right.plotly_chart(speed_figure(COL["examples"], t("gpus.chart_mlp", batch_size=BATCH_SIZE)),
                       key="gpus:mlp", width="stretch")
cpu = rows[0]
st.caption(
    t("gpus.measured", threads=cpu[COL["threads"]], repeats=cpu[COL["repeats"]], limit=f"{MAX_SECONDS:g}",
      max_batches=max_batches, per_epoch=60000 // BATCH_SIZE + 1)
    + (t("gpus.measured_stand_in") if data is not None and is_stand_in(data) else ""))
if len(targets) == 1:
    st.caption(t("gpus.only_cpu"))

with st.expander(t("common.what_to_look_for"), icon=":material/visibility:"):
    st.markdown(t("gpus.look"))
