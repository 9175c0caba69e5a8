"""The image classification dataset (book section 4.2): Fashion-MNIST up close."""
import pandas as pd
import streamlit as st
import torch

from core.ops import image_stats as ds
from core.train.trainer import Batches
from playground import charts, controls
from playground.fmnist import fashion_mnist
from playground.i18n import t

st.title(t("page.fashion_mnist"))
st.markdown(t("fashion_mnist.intro"))

device = controls.device()
data = fashion_mnist(device)
if data is None:
    st.stop()
labels = data.text_labels
m = st.columns(4)
m[0].metric(t("fashion_mnist.training_images"), f"{len(data.X_train):,}")
m[1].metric(t("fashion_mnist.test_images"), f"{len(data.X_test):,}")
m[2].metric(t("fashion_mnist.image_shape"), " × ".join(str(d) for d in data.X_train.shape[1:]))
m[3].metric(t("fashion_mnist.classes"), len(labels))

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
                         x_title=t("fashion_mnist.class") if cols else "",
                         y_title=t("fashion_mnist.class") if row_labels else "")
    fig.update_traces(showscale=False, hovertemplate=t("fashion_mnist.pixel_hover") + "<extra></extra>")
    fig.update_xaxes(showgrid=False, showticklabels=cols is not None, constrain="domain", constraintoward="left",
                     tickvals=[i * 30 + 13.5 for i in range(len(cols or []))], ticktext=cols, side="top")
    fig.update_yaxes(showgrid=False, autorange="reversed", scaleanchor="x", showticklabels=bool(row_labels),
                     tickvals=[i * 30 + 13.5 for i in range(rows)], ticktext=row_labels)
    st.plotly_chart(fig, key=key, width="stretch")


st.header(t("fashion_mnist.samples_header"))
classes = controls.multiselect(t("fashion_mnist.classes_setting"), "classes", range(len(labels)), range(len(labels)),
                               format_func=lambda i: labels[i])
c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
per_class = controls.slider(t("fashion_mnist.per_class_setting"), "per_class", 1, 12, 8, container=c1)


c2.button(t("fashion_mnist.new_draw"), icon=":material/shuffle:", width="stretch",
          on_click=lambda: controls.set_seed(controls.seed() + 1),
          help=t("fashion_mnist.new_draw_help"))
if not classes:
    st.info(t("fashion_mnist.pick_a_class"), icon=":material/info:")
else:
    gen = torch.Generator().manual_seed(controls.seed())
    rows = ds.sample_indices(data.y_train, classes, per_class, gen)
    grid = ds.image_grid(data.X_train[[i for r in rows for i in r]].cpu(),
                         [list(range(k * per_class, k * per_class + len(r))) for k, r in enumerate(rows)])
    image_figure(grid, [labels[c] for c in classes], len(classes), None, "fmnist:samples",
                 40 + len(classes) * min(80, 900 // per_class),
                 t("fashion_mnist.samples_title", per_class=per_class))
    st.caption(t("fashion_mnist.samples_caption", seed=controls.seed()))

    st.header(t("fashion_mnist.means_header"))
    image_figure(ds.image_grid(means[classes]), None, 1, [labels[c] for c in classes], "fmnist:means",
                 50 + min(120, 1000 // len(classes)), t("fashion_mnist.means_title"))
    st.caption(t("fashion_mnist.means_caption"))

st.header(t("fashion_mnist.stats_header"))
s1, s2 = st.columns([3, 2])
fig = charts.figure(t("fashion_mnist.counts_title"), x_title=t("fashion_mnist.class"),
                    y_title=t("fashion_mnist.images"), height=340)
fig.add_bar(x=labels, y=train_stats.count, name=t("fashion_mnist.train"), marker_color=charts.PALETTE[0])
fig.add_bar(x=labels, y=test_counts, name=t("fashion_mnist.test"), marker_color=charts.PALETTE[1],
            marker_pattern_shape=charts.PATTERNS[1])
fig.update_layout(barmode="group")
s1.plotly_chart(fig, key="fmnist:counts", width="stretch")
with s2:
    a, b = st.columns(2)
    a.metric(t("fashion_mnist.pixel_mean_train"), f"{train_stats.mean:.4f}")
    b.metric(t("fashion_mnist.pixel_std_train"), f"{train_stats.std:.4f}")
    pixel_mean, pixel_std = t("fashion_mnist.pixel_mean"), t("fashion_mnist.pixel_std")
    st.dataframe(pd.DataFrame({t("fashion_mnist.class"): labels, t("fashion_mnist.train"): train_stats.count,
                               t("fashion_mnist.test"): test_counts, pixel_mean: train_stats.class_mean,
                               pixel_std: train_stats.class_std}),
                 hide_index=True, width="stretch",
                 column_config={pixel_mean: st.column_config.NumberColumn(format="%.4f"),
                                pixel_std: st.column_config.NumberColumn(format="%.4f")})
st.caption(t("fashion_mnist.stats_caption"))

st.header(t("fashion_mnist.reading_header"))
batch_size = controls.select_slider(t("fashion_mnist.batch_size_setting"), "batch_size",
                                    [16, 32, 64, 128, 256, 512, 1024, 4096], 256)
train_iter = Batches(data.X_train, data.y_train, batch_size=batch_size, shuffle=True)
X, y = next(iter(train_iter.epoch(torch.Generator().manual_seed(controls.seed()))))
st.code(f"X: {tuple(X.shape)} {X.dtype} on {X.device}\ny: {tuple(y.shape)} {y.dtype}\n"
        + t("fashion_mnist.per_epoch", n=f"{len(train_iter):,}"), language=None)
timings = st.session_state.setdefault("fmnist:timings", {})
run_key = (tuple(labels), len(data.X_train), batch_size, str(device))
if st.button(t("fashion_mnist.time_epoch"), icon=":material/timer:", help=t("fashion_mnist.time_epoch_help")):
    timings[run_key] = ds.time_epoch(train_iter, torch.Generator().manual_seed(controls.seed()))
timing = timings.get(run_key)
if timing is None:
    st.caption(t("fashion_mnist.press_time_epoch"))
else:
    r = st.columns(3)
    r[0].metric(t("fashion_mnist.seconds_per_epoch"), f"{timing.seconds:.3f}")
    r[1].metric(t("fashion_mnist.minibatches"), f"{timing.num_batches:,}")
    r[2].metric(t("fashion_mnist.images_per_second"), f"{timing.examples_per_sec:,.0f}")
