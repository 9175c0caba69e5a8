"""GPUs (book section 6.7): the devices this server has, and the same work
timed on each of them: an n x n matrix product and minibatches of the book's MLP."""
from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from core.ops import devices
from playground import charts, controls
from playground.fmnist import fashion_mnist, is_stand_in
from playground.messages import literal
from playground.state import executor

NS = (256, 512, 1024, 2048, 4096)
BATCHES = (10, 20, 50, 100)
BATCH_SIZE = 256
PROBE_N = 512  # timed first on each device: the estimate that caps n
MAX_SECONDS = 2.0  # the longest product this page has a training worker time

st.title("GPUs")
st.markdown(
    "A GPU has thousands of simple arithmetic units and memory several times faster than a CPU's: on the large, "
    "regular products of deep learning it is one to two orders of magnitude faster. In PyTorch a tensor lives on "
    "one device (`x.device`), an operation runs where its inputs are, and inputs on two devices are an error: data "
    "and model are moved with `.to(device)`. The book's `try_gpu()` returns the first GPU if there is one and the "
    "CPU otherwise, so the same code runs on both. A product of two n × n matrices costs 2n³ floating-point "
    "operations (a multiplication and an addition per term), which turns a time into a speed:"
)
st.latex(r"\mathbf{Z} = \mathbf{X}\mathbf{Y},\quad \mathbf{X},\mathbf{Y}\in\mathbb{R}^{n\times n}: \qquad "
         r"\text{GFLOP/s} = \frac{2n^3}{t \cdot 10^9}")

# -------------------------------------------------------------------- devices
st.subheader("What this server has")
seen = devices.list_devices()
c1, c2, c3, c4 = st.columns(4)
c1.metric("torch.cuda.is_available()", str(seen["cuda_available"]))
c2.metric("torch.cuda.device_count()", seen["count"])
c3.metric("the playground trains on", seen["training_device"],
          help="core.train.device.pick_device('auto'): CUDA when present, else the CPU. The sidebar's device "
               "setting chooses per page.")
c4.metric("torch threads (this process)", seen["threads"], help=f"{seen['cores']} CPU cores on this server.")
if seen["gpus"]:
    st.dataframe(pd.DataFrame([{"device": g["device"], "name": g["name"], "memory (GiB)": g["memory"] / 2**30,
                                "compute capability": g["capability"], "multiprocessors": g["multiprocessors"]}
                               for g in seen["gpus"]]),
                 hide_index=True, column_config={"memory (GiB)": st.column_config.NumberColumn(format="%.1f")})
else:
    st.info("This server has no GPU that torch can use: `torch.cuda.is_available()` is False, so everything on "
            "this page, and every training run of the playground, runs on the CPU. The book's functions fall back "
            "to it, as below.", icon=":material/info:")
gpu, gpus = devices.try_gpu(), devices.try_all_gpus()
st.code(f"try_gpu()      # {gpu}\ntry_gpu(10)    # {devices.try_gpu(10)}\ntry_all_gpus() # {gpus}\n"
        f"torch.__version__, torch.version.cuda  # {seen['torch']!r}, {seen['cuda_version']!r}", language="python")

# --------------------------------------------------------------------- timing
st.subheader("The same work on each device")
c1, c2 = st.columns(2)
n = controls.select_slider("n (matrix size)", "n", NS, 1024, container=c1,
                           help="Two n × n float32 matrices multiplied once per repeat: 2n³ operations.")
max_batches = controls.select_slider("minibatches of the book's MLP", "batches", BATCHES, 20, container=c2,
                                     help=f"Minibatches of {BATCH_SIZE} Fashion-MNIST images trained (784-256-10, "
                                          "SGD), after one untimed: the rate gives examples/sec and an epoch's time.")
targets = [torch.device("cpu")] + [d for d in gpus if d.type == "cuda"]


# The timings run in a training worker (the executor's `call`), never in the web process, once per
# server and settings: a class opening the page times each once.
@st.cache_data(max_entries=64, show_spinner="Timing the matrix product in a training worker...")
def matmul_timing(n: int, device: str) -> dict:
    return executor().call("core.ops.devices:time_matmul", gpus=1 if device != "cpu" else 0, n=n, device=device,
                           budget=0.5, max_repeats=10)


@st.cache_data(max_entries=64, show_spinner="Timing the MLP's minibatches in a training worker...")
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
    st.error("The timings run in the server's training workers, which could not be reached right now "
             f"({literal(type(err).__name__)}: {literal(str(err)[:200])}). Try again in a minute.",
             icon=":material/cloud_off:")
    st.stop()
for d in targets:
    first = matmul_timing(min(n, PROBE_N), str(d))
    n_used, _ = devices.capped_n(n, NS, measured_n=first["n"], measured_seconds=first["seconds"],
                                        limit=MAX_SECONDS)
    if n_used < n:
        capped.append((str(d), n_used, first["seconds"] * (n / first["n"]) ** 3))
    mm = first if n_used == first["n"] else matmul_timing(n_used, str(d))
    row = {"device": str(d), "n": n_used, "product (s)": mm["seconds"], "GFLOP/s": mm["gflops"],
           "repeats": mm["repeats"], "threads": mm["threads"]}
    if data is not None:
        ep = mlp_timing(data, "stand-in" if is_stand_in(data) else "Fashion-MNIST", str(d), max_batches)
        row.update({"MLP examples/sec": ep["examples_per_sec"], "MLP epoch (s, est.)": ep["epoch_seconds"],
                    "minibatches timed": ep["batches"]})
    rows.append(row)
table = pd.DataFrame(rows)
for dev, n_used, estimate in capped:
    st.info(f"On {dev}, n = {n:,} would take about {estimate:.1f} s per product here (from the time of "
            f"n = {min(n, PROBE_N)} and the n³ growth): it is timed at n = {n_used:,} instead, to keep this page "
            f"under {MAX_SECONDS:g} s per timing.", icon=":material/speed:")
st.dataframe(table, hide_index=True, column_config={
    "product (s)": st.column_config.NumberColumn(format="%.4f"),
    "GFLOP/s": st.column_config.NumberColumn(format="%.1f"),
    "MLP examples/sec": st.column_config.NumberColumn(format="%.0f"),
    "MLP epoch (s, est.)": st.column_config.NumberColumn(format="%.2f")})


def speed_figure(column: str, title: str):
    """One horizontal bar per device: `column` of the table."""
    fig = charts.figure(title, x_title=column, y_title="device", height=110 + 40 * len(table))
    fig.add_bar(y=list(table["device"]), x=[float(v) for v in table[column]], orientation="h",
                marker_color=charts.PALETTE[0], name=column, hovertemplate="%{y}: %{x:,.1f}<extra></extra>")
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_layout(showlegend=False, hovermode="closest")
    return fig


left, right = st.columns(2)
left.plotly_chart(speed_figure("GFLOP/s", "GFLOP/s of the n × n product"), key="gpus:gflops", width="stretch")
if data is not None:
    right.plotly_chart(speed_figure("MLP examples/sec", f"Examples/sec, the book's MLP (batch {BATCH_SIZE})"),
                       key="gpus:mlp", width="stretch")
cpu = rows[0]
st.caption(
    f"Measured in a training worker (not the web process) with {cpu['threads']} torch thread(s), as a run "
    f"trains there, once per server and setting (then kept): the fastest of {cpu['repeats']} product(s) within "
    "half a second (at least one; a size whose product "
    f"would take more than {MAX_SECONDS:g} s is capped, as said above), and {max_batches} minibatches of the "
    f"MLP rather than a whole epoch ({60000 // BATCH_SIZE + 1} minibatches), to keep each timing short; the "
    "epoch's time is extrapolated from "
    "that rate. On CUDA, `torch.cuda.synchronize()` waits for the kernels before the clock starts and stops. "
    "The workers' thread count is PLAYGROUND_THREADS (default: the cores shared among the workers)."
    + (" The MLP is timed on the stand-in images, which have the same shape." if data is not None
       and is_stand_in(data) else ""))
if len(targets) == 1:
    st.caption("Only the CPU is listed: on a server with a GPU, a row for each `cuda:i` appears beside it.")

with st.expander("What to look for", icon=":material/visibility:"):
    st.markdown(
        "- **GFLOP/s grows with n** at first: a small product spends its time starting up and moving data, a "
        "large one keeps every arithmetic unit busy. On a CPU it levels off at the cores' peak; on a GPU it goes "
        "on climbing to far larger n.\n"
        "- **Doubling n multiplies the work by 8**: the time of the product grows about eightfold while the "
        "speed stays about the same.\n"
        "- **The MLP gains less than the product**: its matrices are small (256 × 784 by 784 × 256), so a GPU "
        "is not kept busy; the book's deeper networks (chapters 7-8) gain much more.\n"
        "- **Threads**: the CPU's figure depends on how many threads torch may use; on a shared server each "
        "training worker gets a share of the cores, so a run trains slower than this page's figure suggests when "
        "others train too."
    )
