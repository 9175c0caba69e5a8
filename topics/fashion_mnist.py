"""The image classification dataset (book section 4.2): Fashion-MNIST up close."""
import pandas as pd
import streamlit as st
import torch

from core.ops import image_stats as ds
from core.train.trainer import Batches
from playground import charts, controls
from playground.fmnist import fashion_mnist

st.title("Image classification dataset")
st.markdown("Fashion-MNIST: 28 × 28 grayscale images of clothing in 10 classes, 60,000 for training and "
            "10,000 for testing, read from the original idx files into tensors with values in [0, 1]. "
            "The training pages use this same loader and the same minibatch iterator.")

device = controls.device()
data = fashion_mnist(device)
if data is None:
    st.stop()
labels = data.text_labels
m = st.columns(4)
m[0].metric("training images", f"{len(data.X_train):,}")
m[1].metric("test images", f"{len(data.X_test):,}")
m[2].metric("image shape", " × ".join(str(d) for d in data.X_train.shape[1:]))
m[3].metric("classes", len(labels))

# per-session cache of the statistics, valid while the data object is the same one
cached = st.session_state.get("fmnist:stats")
if cached is None or cached[0] is not data:
    stats = (ds.pixel_stats(data.X_train, data.y_train, len(labels)), ds.class_counts(data.y_test, len(labels)),
             ds.class_means(data.X_train, data.y_train, len(labels)))
    st.session_state["fmnist:stats"] = cached = (data, stats)
train_stats, test_counts, means = cached[1]


def image_figure(grid, row_labels, rows, cols, key, height, title):
    """A grid of images (28-pixel tiles, 2-pixel gaps) as one grayscale heatmap;
    the axis that names the classes is titled "class"."""
    fig = charts.heatmap(grid, colorscale=charts.GRAYS, zmin=0, zmax=1, height=height + 30, title=title,
                         x_title="class" if cols else "", y_title="class" if row_labels else "")
    fig.update_traces(showscale=False, hovertemplate="pixel value %{z:.3f}<extra></extra>")
    fig.update_xaxes(showgrid=False, showticklabels=cols is not None, constrain="domain", constraintoward="left",
                     tickvals=[i * 30 + 13.5 for i in range(len(cols or []))], ticktext=cols, side="top")
    fig.update_yaxes(showgrid=False, autorange="reversed", scaleanchor="x", showticklabels=bool(row_labels),
                     tickvals=[i * 30 + 13.5 for i in range(rows)], ticktext=row_labels)
    st.plotly_chart(fig, key=key, width="stretch")


st.header("Samples by class")
classes = controls.multiselect("Classes", "classes", range(len(labels)), range(len(labels)),
                               format_func=lambda i: labels[i])
c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
per_class = controls.slider("images per class", "per_class", 1, 12, 8, container=c1)


c2.button("New draw (seed + 1)", icon=":material/shuffle:", width="stretch",
          on_click=lambda: controls.set_seed(controls.seed() + 1),
          help="Draws other images: the sidebar seed goes up by one, so the link reproduces this draw.")
if not classes:
    st.info("Pick at least one class.", icon=":material/info:")
else:
    gen = torch.Generator().manual_seed(controls.seed())
    rows = ds.sample_indices(data.y_train, classes, per_class, gen)
    grid = ds.image_grid(data.X_train[[i for r in rows for i in r]].cpu(),
                         [list(range(k * per_class, k * per_class + len(r))) for k, r in enumerate(rows)])
    image_figure(grid, [labels[c] for c in classes], len(classes), None, "fmnist:samples",
                 40 + len(classes) * min(80, 900 // per_class),
                 f"{per_class} training images per class, one class a row")
    st.caption(f"Training images drawn at random within each class with seed {controls.seed()} "
               "(a torch.Generator, not the global random state).")

    st.header("Mean image per class")
    image_figure(ds.image_grid(means[classes]), None, 1, [labels[c] for c in classes], "fmnist:means",
                 50 + min(120, 1000 // len(classes)), "The mean training image of each class")
    st.caption("The average of every training image of the class, pixel by pixel.")

st.header("Class counts and pixel statistics")
s1, s2 = st.columns([3, 2])
fig = charts.figure("Images per class", x_title="class", y_title="images", height=340)
fig.add_bar(x=labels, y=train_stats.count, name="train", marker_color=charts.PALETTE[0])
fig.add_bar(x=labels, y=test_counts, name="test", marker_color=charts.PALETTE[1],
            marker_pattern_shape=charts.PATTERNS[1])
fig.update_layout(barmode="group")
s1.plotly_chart(fig, key="fmnist:counts", width="stretch")
with s2:
    a, b = st.columns(2)
    a.metric("pixel mean (train)", f"{train_stats.mean:.4f}")
    b.metric("pixel std (train)", f"{train_stats.std:.4f}")
    st.dataframe(pd.DataFrame({"class": labels, "train": train_stats.count, "test": test_counts,
                               "pixel mean": train_stats.class_mean, "pixel std": train_stats.class_std}),
                 hide_index=True, width="stretch",
                 column_config={"pixel mean": st.column_config.NumberColumn(format="%.4f"),
                                "pixel std": st.column_config.NumberColumn(format="%.4f")})
st.caption("Mean and standard deviation over every pixel of the training images (overall and per class): "
           "the numbers a normalisation layer would subtract and divide by.")

st.header("Reading minibatches")
batch_size = controls.select_slider("batch size", "batch_size", [16, 32, 64, 128, 256, 512, 1024, 4096], 256)
train_iter = Batches(data.X_train, data.y_train, batch_size=batch_size, shuffle=True)
X, y = next(iter(train_iter.epoch(torch.Generator().manual_seed(controls.seed()))))
st.code(f"X: {tuple(X.shape)} {X.dtype} on {X.device}\ny: {tuple(y.shape)} {y.dtype}\n"
        f"{len(train_iter):,} minibatches per epoch", language=None)
timings = st.session_state.setdefault("fmnist:timings", {})
run_key = (tuple(labels), len(data.X_train), batch_size, str(device))
if st.button("Time one epoch", icon=":material/timer:",
             help="Iterates once over the whole shuffled training set, touching every minibatch."):
    timings[run_key] = ds.time_epoch(train_iter, torch.Generator().manual_seed(controls.seed()))
t = timings.get(run_key)
if t is None:
    st.caption("Press *Time one epoch* to read the training set once at this batch size.")
else:
    r = st.columns(3)
    r[0].metric("seconds per epoch", f"{t.seconds:.3f}")
    r[1].metric("minibatches", f"{t.num_batches:,}")
    r[2].metric("images per second", f"{t.examples_per_sec:,.0f}")
