"""File I/O (book section 6.6): tensors and a model's parameters to bytes and back.

The book saves a tensor, a list and a dict of tensors with `torch.save` and
reads them back with `torch.load` (`round_trip`), then saves an MLP's
`state_dict` to `mlp.params`, loads it into a fresh MLP and checks that the
clone computes the same outputs (`Y_clone == Y`). Here the MLP is the book's
Fashion-MNIST MLP of core.experiments.mlp (its Config and build are reused):

- `save_params` (a probe, called in the run's worker between two steps) makes
  the bytes of `mlp.params`: the weights, with the epoch, the step and the
  Config's values saved beside them in one dict of tensors and plain values,
  and the saved net's test accuracy and predictions (the book's `Y`);
- `load_params` reads such bytes back, refusing anything that is not a torch
  zip file of plain values (the bytes are only ever read with
  `torch.load(..., weights_only=True)`, which builds tensors and plain
  containers and never calls anything a pickle names);
- `check_architecture` compares the file's keys and shapes with the net a
  Config builds and names the first that differs;
- `evaluate` is the book's clone: a fresh net with the file's weights, its
  test accuracy and predictions (`Y_clone`).

Problems are `ParamsError`s with a code and numbers; the page words them.
"""
from __future__ import annotations

import dataclasses
import io
import pickle
import re
import zipfile
from collections.abc import Mapping
from typing import Any

import torch

from core.data.fashion_mnist import FashionMNIST
from core.experiments import mlp

FILE_NAME = "mlp.params"
FORMAT = "d2l-playground/mlp.params"
VERSION = 1
MAX_BYTES = 16 * 2**20  # the book's MLP at 1024 hidden units is about 3.3 MB
EVAL_BATCH = 256  # the batch the predictions are computed in, on both sides of the check

# What each ParamsError code carries in `details`.
PARAMS_CODES = {
    "empty": (),
    "too_large": ("size", "limit"),  # bytes
    "not_torch": (),  # not a zip file, or a zip without torch's data.pkl
    "truncated": (),  # starts like a zip file but its end (the central directory) is missing
    "damaged": ("reason",),  # a torch zip whose content cannot be read (a CRC error, a bad record)
    "unsafe": ("name",),  # the pickle names something other than tensors and plain values
    "not_params": ("missing",),  # loaded, but not this page's dict (the first entry missing or wrong)
    "missing_key": ("key", "expected"),  # the net has `key` (shape `expected`), the file does not
    "unexpected_key": ("key", "shape"),  # the file has `key`, the net does not
    "shape": ("key", "found", "expected"),  # shapes as tuples
}


class ParamsError(ValueError):
    """A parameter file that cannot be used: `code` (a key of PARAMS_CODES)
    says why, `details` holds the numbers and names."""

    def __init__(self, code: str, **details):
        if code not in PARAMS_CODES or set(details) != set(PARAMS_CODES[code]):
            raise TypeError(f"ParamsError({code!r}) takes {PARAMS_CODES.get(code)}, got {sorted(details)}")
        self.code, self.details = code, details
        super().__init__(code + "".join(f" {k}={v}" for k, v in details.items()))


# ------------------------------------------------------------ the book's round trip
def to_bytes(obj: Any) -> bytes:
    """torch.save into memory (the book writes a file; the bytes are the same)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def from_bytes(data: bytes) -> Any:
    """torch.load from memory, plain values only, onto the CPU."""
    return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")


def round_trip() -> dict[str, dict[str, Any]]:
    """The book's three examples: x = arange(4) saved and loaded; the list
    [x, y] with y = zeros(4); the dict {'x': x, 'y': y}. For each: what was
    saved, what came back, whether they are equal, and the file's size."""
    x = torch.arange(4)
    y = torch.zeros(4)
    out = {}
    for name, obj in (("tensor", x), ("list", [x, y]), ("dict", {"x": x, "y": y})):
        data = to_bytes(obj)
        back = from_bytes(data)
        out[name] = {"saved": obj, "loaded": back, "equal": _equal(obj, back), "bytes": len(data),
                     "type": type(back).__name__}
    return out


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and bool((a == b).all())
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(p, q) for p, q in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_equal(a[k], b[k]) for k in a)
    return a == b


# ------------------------------------------------------------ the MLP's parameters
def net_for(cfg: mlp.Config) -> torch.nn.Module:
    """The book's MLP as `cfg` builds it (weights from a fixed generator: they
    are overwritten by whatever is loaded)."""
    return mlp.mlp(28 * 28, [cfg.num_hiddens], 10, cfg.activation, sigma=cfg.sigma)(torch.Generator().manual_seed(0))


@torch.no_grad()
def predict(net: torch.nn.Module, X: torch.Tensor) -> torch.Tensor:
    """The net's predicted classes (argmax of its outputs) in eval mode, in
    batches of EVAL_BATCH; the net's mode is put back. Draws nothing random."""
    was_training = net.training
    net.eval()
    try:
        device = next(net.parameters()).device
        return torch.cat([net(X[i:i + EVAL_BATCH].to(device)).argmax(1).cpu()
                          for i in range(0, len(X), EVAL_BATCH)])
    finally:
        net.train(was_training)


def evaluate(state_dict: Mapping[str, torch.Tensor], cfg: mlp.Config, data: FashionMNIST) -> dict[str, Any]:
    """The book's clone: a fresh net of `cfg` on the CPU with the weights
    `state_dict`, its predictions on the test images (`Y_clone`, uint8) and
    its test accuracy."""
    net = net_for(cfg)
    net.load_state_dict(state_dict)
    y_hat = predict(net, data.X_test.cpu())
    return {"predictions": y_hat.to(torch.uint8),
            "accuracy": float((y_hat == data.y_test.cpu()).float().mean())}


def config_values(cfg: mlp.Config) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(cfg).items()}


def payload(trainer, cfg: mlp.Config, data: FashionMNIST) -> dict[str, Any]:
    """What `mlp.params` holds for the trainer's net now: its state_dict (on
    the CPU), the epoch and step reached, the Config's values (lr as the run
    has it now: it is live), the seed, and the saved net's test accuracy and
    predictions (computed on the CPU, as `evaluate` computes the clone's)."""
    state = {k: v.detach().to("cpu", copy=True) for k, v in trainer.net.state_dict().items()}
    values = config_values(cfg)
    values["lr"] = float(trainer.hparams.get("lr", values["lr"]))
    seen = evaluate(state, cfg, data)
    return {"format": FORMAT, "version": VERSION, "state_dict": state, "epoch": int(trainer.epoch),
            "step": int(trainer.step), "seed": int(trainer.seed), "config": values,
            "test_accuracy": seen["accuracy"], "predictions": seen["predictions"]}


def save_params(trainers: Mapping[str, Any], data: FashionMNIST, *, config: Mapping[str, Any]) -> dict[str, Any]:
    """Probe (called in the run's worker between two steps): the bytes of
    `mlp.params` for the first trainer's net, with what they hold besides.
    `config`: the run's Config as a dict (its values). Reads the net only."""
    cfg = mlp.Config(**dict(config))
    _, t = next(iter(trainers.items()))
    saved = payload(t, cfg, data)
    return {"bytes": to_bytes(saved), "epoch": saved["epoch"], "step": saved["step"],
            "test_accuracy": saved["test_accuracy"]}


_UNSUPPORTED = re.compile(r"GLOBAL ([\w.]+)")  # torch's "Unsupported global: GLOBAL builtins.open was not ..."


def load_params(data: bytes, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """The dict saved by `save_params`, read from uploaded bytes, or a
    ParamsError. In order: not empty and at most `max_bytes`; a zip file
    (torch.save's format) holding torch's data.pkl, complete and with every
    CRC right; read by torch.load(weights_only=True, map_location="cpu") only;
    then a dict with a state_dict of tensors, the epoch and the Config's values."""
    if not data:
        raise ParamsError("empty")
    if len(data) > max_bytes:
        raise ParamsError("too_large", size=len(data), limit=max_bytes)
    if not data.startswith(b"PK\x03\x04"):
        raise ParamsError("not_torch")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
            if not any(n.endswith("/data.pkl") or n == "data.pkl" for n in names):
                raise ParamsError("not_torch")
            bad = z.testzip()
            if bad is not None:
                raise ParamsError("damaged", reason=f"crc:{bad}")
    except ParamsError:
        raise
    except (zipfile.BadZipFile, EOFError):
        raise ParamsError("truncated") from None
    except Exception as err:  # noqa: BLE001 - zipfile raises several kinds on damaged input
        raise ParamsError("damaged", reason=type(err).__name__) from None
    try:
        obj = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as err:
        found = _UNSUPPORTED.search(str(err))
        raise ParamsError("unsafe", name=found.group(1) if found else "") from None
    except Exception as err:  # noqa: BLE001 - any other damage
        raise ParamsError("damaged", reason=type(err).__name__) from None
    return check_payload(obj)


def check_payload(obj: Any) -> dict[str, Any]:
    """`obj` when it has the shape `payload` gives (ParamsError "not_params"
    naming the first entry that is missing or of the wrong type); a bare
    state_dict, as the book saves it, becomes {"state_dict": it, "epoch":
    None, "config": None}."""
    if not isinstance(obj, dict):
        raise ParamsError("not_params", missing="a dict")
    if obj and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        obj = {"state_dict": obj, "epoch": None, "config": None}  # the book's torch.save(net.state_dict(), ...)
        return obj
    state = obj.get("state_dict")
    if not isinstance(state, dict) or not state:
        raise ParamsError("not_params", missing="state_dict")
    for k, v in state.items():
        if not isinstance(k, str) or not isinstance(v, torch.Tensor):
            raise ParamsError("not_params", missing=f"state_dict[{str(k)[:40]!r}]")
    if not isinstance(obj.get("epoch"), int):
        raise ParamsError("not_params", missing="epoch")
    if not isinstance(obj.get("config"), dict):
        raise ParamsError("not_params", missing="config")
    return obj


def file_config(obj: Mapping[str, Any]) -> mlp.Config | None:
    """The Config the file says it was trained with, or None when its values
    are not a valid Config of this version (the weights may still fit)."""
    try:
        return mlp.Config(**dict(obj["config"]))
    except Exception:  # noqa: BLE001 - a file's values are anything: no Config then
        return None


def check_architecture(state_dict: Mapping[str, torch.Tensor], cfg: mlp.Config) -> None:
    """None when `state_dict` has exactly the keys of `cfg`'s net, each with
    its shape; else ParamsError naming the first key (in the net's order,
    then the file's) that is missing, extra or of another shape."""
    expected = net_for(cfg).state_dict()
    for key, want in expected.items():
        if key not in state_dict:
            raise ParamsError("missing_key", key=key, expected=tuple(want.shape))
        if tuple(state_dict[key].shape) != tuple(want.shape):
            raise ParamsError("shape", key=key, found=tuple(state_dict[key].shape), expected=tuple(want.shape))
    for key, got in state_dict.items():
        if key not in expected:
            raise ParamsError("unexpected_key", key=key, shape=tuple(got.shape))
