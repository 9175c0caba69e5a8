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
from playground.live import ACCURACY, LOSS, MINIBATCH, Readout, live_panel
from playground.messages import literal

KEY = "file_io"
START = "file_io/from_upload"  # session: the upload the current run starts from
SAVED = "file_io/saved_params"  # session: the last bytes made by "Save parameters"
MAX_MB = fio.MAX_BYTES // 2**20


def span(text) -> str:
    """`text` as inline code (nothing inside is markdown; a backtick cannot close it)."""
    return "`" + str(text).replace("`", "'")[:120] + "`"


st.title("File I/O")
st.markdown(
    "Training takes minutes or days; what it produces is a handful of tensors. `torch.save` writes tensors, and "
    "lists and dicts of them, to a file; `torch.load` reads them back. A model is saved the same way: not the "
    "code, only its **parameters**, the `state_dict` that maps each layer's name to its weight tensor. To use "
    "the file, build the same architecture in code and load the parameters into it: the clone then computes "
    "exactly what the original did. Loading a file is also running a program (a pickle can name any function to "
    "call), so a file from elsewhere is read with `weights_only=True`: tensors and plain values only."
)
st.latex(r"\theta \;\xrightarrow{\texttt{torch.save}}\; \texttt{mlp.params} \;\xrightarrow{\texttt{torch.load}}\;"
         r"\theta', \qquad \theta' = \theta \;\Rightarrow\; \mathbf{Y}_{\text{clone}} = f(\mathbf{X};\theta') = "
         r"f(\mathbf{X};\theta) = \mathbf{Y}")

# ---------------------------------------------------------------- round trip
st.subheader("Tensors to a file and back")
BOOK_CODE = {
    "tensor": "x = torch.arange(4)\ntorch.save(x, 'x-file')\nx2 = torch.load('x-file')",
    "list": "y = torch.zeros(4)\ntorch.save([x, y], 'x-files')\nx2, y2 = torch.load('x-files')",
    "dict": "mydict = {'x': x, 'y': y}\ntorch.save(mydict, 'mydict')\nmydict2 = torch.load('mydict')",
}
trips = fio.round_trip()
for col, (name, trip) in zip(st.columns(3), trips.items()):
    col.code(BOOK_CODE[name], language="python")
    col.code(repr(trip["loaded"]), language="text", wrap_lines=True)
    col.caption(f"{trip['bytes']:,} bytes on disk (a zip file); loaded back as a {trip['type']}: "
                f"{'equal to' if trip['equal'] else 'NOT equal to'} what was saved, values and dtypes.")

# ------------------------------------------------------------------ training
st.subheader("Save the book's MLP while it trains")
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
st.caption(f"The book's MLP (5.2): 784 inputs, {num_hiddens} {activations.NAMES[activation]} units, 10 outputs; "
           f"{n_params:,} parameters, {4 * n_params / 1e6:.2f} MB as float32. Its `state_dict` holds the four tensors "
           "above by these names; *Save parameters* below writes them, with the epoch and these settings, to "
           f"`{fio.FILE_NAME}`.")

start = st.session_state.get(START)
if start is not None:
    try:
        fio.check_architecture(start["state_dict"], cfg)
    except fio.ParamsError:
        st.session_state.pop(START)
        start = None
        st.info("The settings above no longer fit the uploaded parameters: the run starts from the seed's initial "
                "weights again.", icon=":material/info:")
seed, device = controls.seed(), controls.device()
origin = f"from {start['name']}" if start else "from the seed's weights"
R = live_panel(
    KEY, cfg, "mlp", data=data, seed=seed, device=device,
    context={"data": "stand-in" if is_stand_in(data) else "Fashion-MNIST",
             "start": start["sha"] if start else "seed"},
    init=start["state_dict"] if start else None,
    charts_=[LOSS, replace(ACCURACY, reference=[(mlp.BOOK_ACCURACY[0], mlp.BOOK_ACCURACY[1],
                                                 "the book's MLP test accuracy after 10 epochs, 0.83-0.85 by "
                                                 "edition (0.17.5, zh 2.0, 1.0.3)")]), MINIBATCH],
    readouts=[Readout("train_loss", "train loss"), Readout("train_metric", "train acc", "{:.3f}"),
              Readout("test_loss", "test loss"), Readout("test_metric", "test acc", "{:.4f}")],
    label=lambda c: f"{activations.NAMES[c.activation]}, {c.num_hiddens} hidden units, {origin}",
)
if start is not None:
    c1, c2 = st.columns([3, 1], vertical_alignment="center")
    c1.info(f"This run starts from the parameters uploaded in {span(start['name'])}"
            + (f" (saved after {start['epoch']} epoch(s))" if start.get("epoch") is not None else "")
            + ": its first epoch goes on from there, and *Reset* comes back to them.", icon=":material/upload_file:")
    c2.button("Back to the seed's weights", key=f"{KEY}:from_seed", icon=":material/restart_alt:",
              on_click=lambda: st.session_state.pop(START, None))


def save() -> None:
    try:
        made = R.probe("core.experiments.file_io:save_params", config=dataclasses.asdict(R.spec.cfg))
    except Exception:  # noqa: BLE001 - a lost worker: the panel says so
        made = None
    st.session_state[SAVED] = made


can_save = R.handle is not None and not R.building and R.spec is not None
st.button("Save parameters", key=f"{KEY}:save", icon=":material/save:", on_click=save, disabled=not can_save,
          help="The run's state_dict now (between two minibatches, also while it trains), made in the worker "
               "that trains it, with the epoch and the settings beside it.")
saved = st.session_state.get(SAVED)
if saved:
    st.download_button(f"Download {fio.FILE_NAME}", saved["bytes"], file_name=fio.FILE_NAME,
                       mime="application/octet-stream", key=f"{KEY}:download", icon=":material/download:",
                       on_click="ignore", type="primary")
    st.caption(f"Saved after {saved['epoch']} epoch(s), at minibatch {saved['step']}: {len(saved['bytes']):,} "
               f"bytes. The saved weights' test accuracy, computed when they were saved: "
               f"**{saved['test_accuracy']:.4f}**. The file is `torch.save` of one dict: `state_dict`, `epoch`, "
               "`step`, `seed`, `config` (the settings), "
               "`test_accuracy` and `predictions` (the saved net's class for each test image: the book's `Y`).")
elif SAVED in st.session_state:
    st.warning("The parameters could not be saved: the run's worker did not answer. Try again.",
               icon=":material/warning:")

# ------------------------------------------------------------------- upload
st.subheader("Load parameters into a fresh net")


def words(err: fio.ParamsError) -> str:
    d = err.details
    return {
        "empty": "The file is empty.",
        "too_large": f"The file has {d.get('size', 0):,} bytes; at most {d.get('limit', 0):,} are read here.",
        "not_torch": "This is not a file written by `torch.save` (a zip file holding `data.pkl`). Nothing in it was "
                     "read.",
        "truncated": "The file is cut short: it starts like a `torch.save` zip file, but its end is missing (an "
                     "interrupted download?). Nothing in it was read.",
        "damaged": f"The file is damaged ({literal(str(d.get('reason', '')))}): a part of it does not match its "
                   "checksum or cannot be read. Nothing in it was used.",
        "unsafe": "The file asks to run code while it is loaded"
                  + (f" (it names {span(d['name'])})" if d.get("name") else "")
                  + ": a pickle can call any function. It was read with `torch.load(weights_only=True)`, which "
                    "refuses that, so nothing in it ran. Only tensors and plain values are accepted.",
        "not_params": f"The file loads, but it is not a model's parameters: {literal(str(d.get('missing', '')))} "
                      "is missing or not what it should be.",
        "missing_key": f"The file has no {span(d.get('key'))}, which this page's net has (shape "
                       f"{tuple(d.get('expected', ()))}).",
        "unexpected_key": f"The file has {span(d.get('key'))} (shape {tuple(d.get('shape', ()))}), which "
                          "this page's net does not have: another architecture.",
        "shape": f"{span(d.get('key'))} has shape {tuple(d.get('found', ()))} in the file but "
                 f"{tuple(d.get('expected', ()))} in this page's net: another architecture.",
    }[err.code]


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


file = st.file_uploader(f"Upload {fio.FILE_NAME}", key=f"{KEY}:upload", max_upload_size=MAX_MB,
                        help=f"A file saved by *Save parameters* (or the book's `torch.save(net.state_dict(), ...)` "
                             f"of this MLP), at most {MAX_MB} MB. It is read with `torch.load(weights_only=True)`.")
if file is None:
    st.caption("Save the parameters above, download them, and upload the file here: the page loads them into a "
               "fresh net built from the settings above and checks that it is the same model.")
else:
    raw = file.getvalue()
    obj, err = read_upload(raw)
    if err is not None:
        st.error(words(err), icon=":material/block:")
    else:
        sha = hashlib.sha1(raw).hexdigest()[:16]
        file_cfg = fio.file_config(obj) if obj.get("config") is not None else None
        said = [f"{span(file.name)}, {len(raw):,} bytes"]
        if obj.get("epoch") is not None:
            said.append(f"saved after {obj['epoch']} epoch(s)"
                        + (f", minibatch {obj['step']}" if isinstance(obj.get("step"), int) else ""))
        if file_cfg is not None:
            said.append(f"{file_cfg.num_hiddens} {activations.NAMES.get(file_cfg.activation, '?')} hidden units, "
                        f"lr {file_cfg.lr:g}")
        st.markdown("**The file:** " + "; ".join(said) + ". Keys: "
                    + ", ".join(f"{span(k)} {tuple(v.shape)}" for k, v in list(obj["state_dict"].items())[:8]))
        try:
            fio.check_architecture(obj["state_dict"], cfg)
        except fio.ParamsError as arch:
            st.error(words(arch), icon=":material/block:")
            if file_cfg is not None and file_cfg.num_hiddens in mlp.WIDTHS:
                st.button(f"Use the file's settings (num_hiddens {file_cfg.num_hiddens})", key=f"{KEY}:use_file",
                          icon=":material/tune:", on_click=use_file_settings, args=(dict(obj["config"]),))
        else:
            if file_cfg is not None and file_cfg.activation != cfg.activation:
                st.warning(f"The file was trained with {activations.NAMES.get(file_cfg.activation, '?')}; the page's "
                           f"net uses {activations.NAMES[activation]}. The shapes fit, but the same weights compute "
                           "another function.", icon=":material/warning:")
            clones = st.session_state.setdefault("file_io/clones", {})
            if (sha, cfg) not in clones:
                clones.clear()
                clones[(sha, cfg)] = fio.evaluate(obj["state_dict"], cfg, data)
            clone = clones[(sha, cfg)]
            c1, c2, c3 = st.columns(3)
            saved_acc = obj.get("test_accuracy")
            c1.metric("test acc of the saved net", "–" if saved_acc is None else f"{saved_acc:.4f}",
                      help="Computed in the worker when the parameters were saved.")
            c2.metric("test acc of the reloaded net", f"{clone['accuracy']:.4f}",
                      help="A fresh net built from the settings above, with the file's parameters loaded.")
            Y = obj.get("predictions")
            if isinstance(Y, torch.Tensor) and Y.shape == clone["predictions"].shape:
                same = int((clone["predictions"] == Y).sum())
                c3.metric("Y_clone == Y", f"{same:,} of {len(Y):,}",
                          help="Test images on which the reloaded net predicts the class the saved net predicted.")
                if same == len(Y) and saved_acc == clone["accuracy"]:
                    st.success("The reloaded net is the saved one: the same class for every test image and the "
                               "same test accuracy, to the last digit.", icon=":material/check_circle:")
                else:
                    st.warning("The reloaded net differs from the saved one on some test images (saved on another "
                               "device or with another activation?).", icon=":material/warning:")
            else:
                c3.metric("Y_clone == Y", "–", help="The file holds no predictions to compare with.")
            running = start is not None and start["sha"] == sha

            def continue_from(obj=obj, name=file.name, sha=sha) -> None:
                st.session_state[START] = {"sha": sha, "name": name, "state_dict": obj["state_dict"],
                                           "epoch": obj.get("epoch")}

            st.button("Continue training from the upload", key=f"{KEY}:continue", icon=":material/play_circle:",
                      type="primary", on_click=continue_from, disabled=running,
                      help="A new run in the panel above whose net starts from these parameters (with the page's "
                           "settings and seed for the rest); the current run stays drawn for comparison.")
            if running:
                st.caption("The run above starts from this file: press Start there.")

with st.expander("What to look for", icon=":material/visibility:"):
    st.markdown(
        "- **The round trip**: what comes back is equal to what was saved, dtype included (`arange` gives int64, "
        "`zeros` float32). Even a four-number tensor costs about a kilobyte: the file is a zip archive with a "
        "pickle describing the objects and one entry per tensor's storage.\n"
        "- **Save, upload, compare**: the reloaded net's test accuracy equals the saved net's to every digit, and "
        "it predicts the same class for all 10,000 test images (the book's `Y_clone == Y`). The file holds the "
        "parameters only: the page rebuilds the architecture from its settings and loads them into it.\n"
        "- **Continue training**: the new run's first epoch starts where the saved run was, not at chance: its "
        "test accuracy begins near the saved one and climbs on. A run saved after a few epochs reaches the book's "
        "band sooner.\n"
        "- **Another architecture**: change num_hiddens and the same file no longer fits; the message names the "
        "first tensor whose shape differs (`hidden1.weight`) and both shapes.\n"
        "- **Unsafe files**: a pickle can name any function to run while loading. `torch.load(..., "
        "weights_only=True)` builds tensors and plain containers only and refuses the rest, so a crafted file "
        "gets a message here, and nothing in it runs."
    )
