"""File I/O (book section 6.6): tensors saved and loaded, the book's MLP's
parameters downloaded while it trains, uploaded back, checked and trained on."""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import replace

import streamlit as st
import torch

from core.experiments import file_io as fio
from core.experiments import mlp
from core.ops import activations
from playground import controls
from playground.fmnist import fashion_mnist, is_stand_in
from playground.i18n import t
from playground.live import ACCURACY, LOSS, MINIBATCH, Readout, live_panel
from playground.messages import literal

KEY = "file_io"
START = "file_io/from_upload"  # session: the upload the current run starts from
SAVED = "file_io/saved_params"  # session: the last bytes made by "Save parameters"
MAX_MB = fio.MAX_BYTES // 2**20


def span(text) -> str:
    """`text` as inline code (nothing inside is markdown; a backtick cannot close it)."""
    return "`" + str(text).replace("`", "'")[:120] + "`"


st.title(t("page.file_io"))
st.markdown(t("file_io.intro"))
st.latex(r"\theta \;\xrightarrow{\texttt{torch.save}}\; \texttt{mlp.params} \;\xrightarrow{\texttt{torch.load}}\;"
         r"\theta', \qquad \theta' = \theta \;\Rightarrow\; \mathbf{Y}_{\text{clone}} = f(\mathbf{X};\theta') = "
         r"f(\mathbf{X};\theta) = \mathbf{Y}")

# ---------------------------------------------------------------- round trip
st.subheader(t("file_io.round_trip"))
BOOK_CODE = {
    "tensor": "x = torch.arange(4)\ntorch.save(x, 'x-file')\nx2 = torch.load('x-file')",
    "list": "y = torch.zeros(4)\ntorch.save([x, y], 'x-files')\nx2, y2 = torch.load('x-files')",
    "dict": "mydict = {'x': x, 'y': y}\ntorch.save(mydict, 'mydict')\nmydict2 = torch.load('mydict')",
}
trips = fio.round_trip()
for col, (name, trip) in zip(st.columns(3), trips.items()):
    col.code(BOOK_CODE[name], language="python")
    col.code(repr(trip["loaded"]), language="text", wrap_lines=True)
    col.caption(t("file_io.trip", bytes=f"{trip['bytes']:,}", type=trip["type"],
                  equal=t("file_io.equal") if trip["equal"] else t("file_io.not_equal")))

# ------------------------------------------------------------------ training
st.subheader(t("file_io.save_heading"))
data = fashion_mnist("cpu")
if data is None:
    st.stop()
form = controls.Form(mlp.Config)
num_hiddens, activation = form.draw("num_hiddens", "activation", columns=2)
form.draw("lr", "num_epochs", columns=2)
cfg = form.config()
st.latex(rf"\texttt{{hidden1.weight}} \in \mathbb{{R}}^{{{num_hiddens} \times 784}}, \quad "
         rf"\texttt{{hidden1.bias}} \in \mathbb{{R}}^{{{num_hiddens}}}, \quad "
         rf"\texttt{{output.weight}} \in \mathbb{{R}}^{{10 \times {num_hiddens}}}, \quad "
         rf"\texttt{{output.bias}} \in \mathbb{{R}}^{{10}}")
n_params = sum(v.numel() for v in fio.net_for(cfg).state_dict().values())
st.caption(t("file_io.net_caption", num_hiddens=num_hiddens, activation=activations.NAMES[activation],
             n_params=f"{n_params:,}", mb=f"{4 * n_params / 1e6:.2f}", file=fio.FILE_NAME))

start = st.session_state.get(START)
if start is not None:
    try:
        fio.check_architecture(start["state_dict"], cfg)
    except fio.ParamsError:
        st.session_state.pop(START)
        start = None
        st.info(t("file_io.no_longer_fits"), icon=":material/info:")
seed, device = controls.seed(), controls.device()
origin = t("file_io.origin_upload", name=start["name"]) if start else t("file_io.origin_seed")
R = live_panel(
    KEY, cfg, "mlp", data=data, seed=seed, device=device,
    context={"data": "stand-in" if is_stand_in(data) else "Fashion-MNIST",
             "start": start["sha"] if start else "seed"},
    init=start["state_dict"] if start else None,
    charts_=[LOSS, replace(ACCURACY, reference=[(mlp.BOOK_ACCURACY[0], mlp.BOOK_ACCURACY[1],
                                                 t("file_io.ref_book"))]), MINIBATCH],
    readouts=[Readout("train_loss", t("file_io.train_loss")), Readout("train_metric", t("file_io.train_acc"), "{:.3f}"),
              Readout("test_loss", t("file_io.test_loss")), Readout("test_metric", t("file_io.test_acc"), "{:.4f}")],
    label=lambda c: t("file_io.run_label", activation=activations.NAMES[c.activation], num_hiddens=c.num_hiddens,
                      origin=origin),
)
if start is not None:
    c1, c2 = st.columns([3, 1], vertical_alignment="center")
    c1.info(t("file_io.starts_from", name=span(start["name"]),
              epoch=t("file_io.saved_after", epoch=start["epoch"]) if start.get("epoch") is not None else ""),
            icon=":material/upload_file:")
    c2.button(t("file_io.back_to_seed"), key=f"{KEY}:from_seed", icon=":material/restart_alt:",
              on_click=lambda: st.session_state.pop(START, None))


def save() -> None:
    try:
        made = R.probe("core.experiments.file_io:save_params", config=dataclasses.asdict(R.spec.cfg))
    except Exception:  # noqa: BLE001 - a lost worker: the panel says so
        made = None
    st.session_state[SAVED] = made


can_save = R.handle is not None and not R.building and R.spec is not None
st.button(t("file_io.save"), key=f"{KEY}:save", icon=":material/save:", on_click=save, disabled=not can_save,
          help=t("file_io.save_help"))
saved = st.session_state.get(SAVED)
if saved:
    st.download_button(t("file_io.download", file=fio.FILE_NAME), saved["bytes"], file_name=fio.FILE_NAME,
                       mime="application/octet-stream", key=f"{KEY}:download", icon=":material/download:",
                       on_click="ignore", type="primary")
    st.caption(t("file_io.saved", epoch=saved["epoch"], step=saved["step"], bytes=f"{len(saved['bytes']):,}",
                 accuracy=f"{saved['test_accuracy']:.4f}"))
elif SAVED in st.session_state:
    st.warning(t("file_io.not_saved"), icon=":material/warning:")

# ------------------------------------------------------------------- upload
st.subheader(t("file_io.load_heading"))


def words(err: fio.ParamsError) -> str:
    d = err.details
    values = {
        "too_large": dict(size=f"{d.get('size', 0):,}", limit=f"{d.get('limit', 0):,}"),
        "damaged": dict(reason=literal(str(d.get("reason", "")))),
        "unsafe": dict(names=t("file_io.error.unsafe_names", name=span(d["name"])) if d.get("name") else ""),
        "not_params": dict(missing=literal(str(d.get("missing", "")))),
        "missing_key": dict(key=span(d.get("key")), expected=tuple(d.get("expected", ()))),
        "unexpected_key": dict(key=span(d.get("key")), shape=tuple(d.get("shape", ()))),
        "shape": dict(key=span(d.get("key")), found=tuple(d.get("found", ())), expected=tuple(d.get("expected", ()))),
    }.get(err.code, {})
    return t(f"file_io.error.{err.code}", **values)


def read_upload(raw: bytes) -> tuple[dict | None, fio.ParamsError | None]:
    """The parsed file, once per file content in this session."""
    sha = hashlib.sha1(raw).hexdigest()
    cache = st.session_state.setdefault("file_io/parsed", {})
    if sha not in cache:
        cache.clear()
        try:
            cache[sha] = (fio.load_params(raw), None)
        except fio.ParamsError as err:
            cache[sha] = (None, err)
    return cache[sha]


def use_file_settings(values: dict) -> None:
    for name in ("num_hiddens", "activation"):
        if name in values:
            controls.set_value(name, values[name])


file = st.file_uploader(t("file_io.upload", file=fio.FILE_NAME), key=f"{KEY}:upload", max_upload_size=MAX_MB,
                        help=t("file_io.upload_help", mb=MAX_MB))
if file is None:
    st.caption(t("file_io.no_upload"))
else:
    raw = file.getvalue()
    obj, err = read_upload(raw)
    if err is not None:
        st.error(words(err), icon=":material/block:")
    else:
        sha = hashlib.sha1(raw).hexdigest()[:16]
        file_cfg = fio.file_config(obj) if obj.get("config") is not None else None
        said = [t("file_io.file_bytes", name=span(file.name), bytes=f"{len(raw):,}")]
        if obj.get("epoch") is not None:
            said.append(t("file_io.file_epoch", epoch=obj["epoch"])
                        + (t("file_io.file_step", step=obj["step"]) if isinstance(obj.get("step"), int) else ""))
        if file_cfg is not None:
            said.append(t("file_io.file_net", num_hiddens=file_cfg.num_hiddens,
                          activation=activations.NAMES.get(file_cfg.activation, "?"), lr=f"{file_cfg.lr:g}"))
        st.markdown(t("file_io.the_file", said="; ".join(said), keys=", ".join(
            f"{span(k)} {tuple(v.shape)}" for k, v in list(obj["state_dict"].items())[:8])))
        try:
            fio.check_architecture(obj["state_dict"], cfg)
        except fio.ParamsError as arch:
            st.error(words(arch), icon=":material/block:")
            if file_cfg is not None and file_cfg.num_hiddens in mlp.WIDTHS:
                st.button(t("file_io.use_settings", num_hiddens=file_cfg.num_hiddens), key=f"{KEY}:use_file",
                          icon=":material/tune:", on_click=use_file_settings, args=(dict(obj["config"]),))
        else:
            if file_cfg is not None and file_cfg.activation != cfg.activation:
                st.warning(t("file_io.other_activation", activation=activations.NAMES[activation],
                             file_activation=activations.NAMES.get(file_cfg.activation, "?")),
                           icon=":material/warning:")
            clones = st.session_state.setdefault("file_io/clones", {})
            if (sha, cfg) not in clones:
                clones.clear()
                clones[(sha, cfg)] = fio.evaluate(obj["state_dict"], cfg, data)
            clone = clones[(sha, cfg)]
            c1, c2, c3 = st.columns(3)
            saved_acc = obj.get("test_accuracy")
            c1.metric(t("file_io.acc_saved"), "–" if saved_acc is None else f"{saved_acc:.4f}",
                      help=t("file_io.acc_saved_help"))
            c2.metric(t("file_io.acc_reloaded"), f"{clone['accuracy']:.4f}", help=t("file_io.acc_reloaded_help"))
            Y = obj.get("predictions")
            if isinstance(Y, torch.Tensor) and Y.shape == clone["predictions"].shape:
                same = int((clone["predictions"] == Y).sum())
                c3.metric("Y_clone == Y", t("file_io.same_count", same=f"{same:,}", total=f"{len(Y):,}"),
                          help=t("file_io.same_help"))
                if same == len(Y) and saved_acc == clone["accuracy"]:
                    st.success(t("file_io.same_model"), icon=":material/check_circle:")
                else:
                    st.warning(t("file_io.differs"), icon=":material/warning:")
            else:
                c3.metric("Y_clone == Y", "–", help=t("file_io.no_predictions"))
            running = start is not None and start["sha"] == sha

            def continue_from(obj=obj, name=file.name, sha=sha) -> None:
                st.session_state[START] = {"sha": sha, "name": name, "state_dict": obj["state_dict"],
                                           "epoch": obj.get("epoch")}

            st.button(t("file_io.continue"), key=f"{KEY}:continue", icon=":material/play_circle:",
                      type="primary", on_click=continue_from, disabled=running, help=t("file_io.continue_help"))
            if running:
                st.caption(t("file_io.running"))

with st.expander(t("common.what_to_look_for"), icon=":material/visibility:"):
    st.markdown(t("file_io.look"))
