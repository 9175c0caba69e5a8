"""'Show the PyTorch', part A (chapters 3-7): every exported script, run isolated
(`python -I`, so it cannot import the project), prints the engine's losses bit
for bit for the same Config and seed on the CPU, at the book's settings and at
another Config with another seed; the dropout page shows the script for its
current settings and offers exactly that text as run.py; every training page's
experiment has an exporter (chapters 8-10's scripts are checked in
test_code_export_seq.py). The engine here uses one
torch thread (conftest) and so do the scripts (THREADS = 1, their default).

Importing torch takes a subprocess 1.5-2 s: the scripts run in two isolated
interpreters (`run_scripts`), started at once while the engine trains here;
the conv-kernel script also runs alone through export_support.script_losses."""
from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from export_support import engine_losses, script_losses

from core.export import exporter, script_for
from playground.catalog import TOPICS

ROOT = Path(__file__).resolve().parents[1]
FASHION = {"softmax_regression", "mlp", "dropout", "initialization", "lenet", "batch_norm"}

# experiment: (steps, settings of the second run, its seed, steps of the second run). The steps cross an
# epoch boundary where an epoch is short, so the next epoch's order (a second randperm) is checked too.
CASES = {
    "linear_regression": (105, {"impl": "concise", "lr": 0.3, "batch_size": 1000, "noise": 0.1, "num_epochs": 5}, 3, 4),
    "weight_decay": (5, {"weight_decay": 3.0, "num_epochs": 20}, 2, 6),
    "polynomial": (12, {"num_features": 20, "n_train": 30, "num_epochs": 40}, 4, 5),
    "softmax_regression": (3, {"impl": "concise", "lr": 0.3, "batch_size": 64, "num_epochs": 1}, 5, 3),
    "mlp": (3, {"activation": "leaky_relu", "num_hiddens": 64, "lr": 0.3, "num_epochs": 1}, 5, 3),
    "dropout": (3, {"dropout1": 0.35, "dropout2": 0.0, "num_epochs": 1}, 9, 3),
    "initialization": (3, {"init": "he", "activation": "relu", "num_layers": 3, "num_hiddens": 64}, 4, 3),
    "lenet": (3, {"modern": True, "lr": 0.1, "num_epochs": 1}, 6, 3),
    "batch_norm": (3, {"batch_norm": "builtin", "lr": 3.0, "num_epochs": 1}, 6, 3),  # BN-LeNet
    "conv_kernel": (10, {"lr": 0.04}, 6, 5),  # one update per epoch
    "mlp_toy": (9, {"dataset": "moons", "activation": "tanh", "num_layers": 1, "noise": 0.2}, 3, 5),
    "house_prices": (25, {"model": "mlp", "lr": 0.01, "weight_decay": 0.1, "batch_size": 256, "fold": 2}, 7, 7),
    "distribution_shift": (34, {"weighting": "importance", "model": "mlp", "shift": 3.0, "num_examples": 100},
                           6, 5),  # 32 steps an epoch by default, 4 with 100 examples
}

def _runs(experiment: str) -> list[tuple]:
    """(Config, seed, steps) of the experiment's two runs: the book's Config at seed 0, the other one."""
    steps, settings, seed, steps2 = CASES[experiment]
    cfg = importlib.import_module(f"core.experiments.{experiment}").Config()
    return [(cfg, 0, steps), (replace(cfg, **settings), seed, steps2)]


def _trainer(built):
    """The trainer a script reproduces: batch_norm builds LeNet and BN-LeNet side by side; its script is BN-LeNet."""
    return built["BN-LeNet"] if isinstance(built, dict) else built


@pytest.fixture(scope="module")
def data():
    """Each experiment's data as its page hands it to build() (None: drawn from the seed) and the folder its
    script reads: Fashion-MNIST where it was found, the house CSVs in the data folder."""
    from core.data import download as dl
    from core.data.fashion_mnist import load_fashion_mnist
    from core.experiments.house_prices import load_data

    fmnist = load_fashion_mnist("cpu", allow_download=False)
    house = load_data(allow_download=False)
    out = {e: (None, str(ROOT)) for e in CASES}
    out |= {e: (fmnist, str(Path(fmnist.paths["train_images"]).parent)) for e in FASHION}
    out["house_prices"] = (house, str(dl.data_dir()))
    return out


# Runs scripts one after the other in ONE isolated interpreter (python -I, cwd a temporary folder: the project
# cannot be imported), each as __main__ with its own argv `run.py --steps N` and a fresh namespace, as
# export_support.script_losses runs one: torch is imported once per process instead of once per script (28
# imports of 1.5-2 s would take the whole time budget of these tests on two cores).
RUNNER = """
import contextlib, io, json, runpy, sys
outputs = []
for path, steps in json.loads(sys.argv[1]):
    sys.argv = [path, "--steps", str(steps)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(path, run_name="__main__")
    outputs.append(out.getvalue())
sys.stdout.write(json.dumps(outputs))
"""


def run_scripts(jobs: list[tuple[str, int]], folder: Path) -> list[list[float]]:
    """The losses each (source, steps) prints, all run by one `python -I` process in `folder`."""
    paths = []
    for i, (source, steps) in enumerate(jobs):
        path = folder / f"run{i}" / "run.py"
        path.parent.mkdir()
        path.write_text(source, encoding="utf-8")
        paths.append((str(path), steps))
    out = subprocess.run([sys.executable, "-I", "-c", RUNNER, json.dumps(paths)], cwd=folder,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    losses = []
    for text, (_, steps) in zip(json.loads(out.stdout), jobs):
        records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        assert [r["step"] for r in records] == list(range(1, steps + 1)), text[-2000:]
        losses.append([float.fromhex(r["loss"]) for r in records])
    return losses


@pytest.fixture(scope="module")
def printed(data, tmp_path_factory):
    """Every script's source and printed losses: the book's Configs in one process, the other Configs in
    another, both started at once in threads while the tests train the engine in this process."""
    sources = {(e, k): (script_for(e, cfg, seed=seed, data_dir=data[e][1]), steps)
               for e in CASES for k, (cfg, seed, steps) in enumerate(_runs(e))}
    with ThreadPoolExecutor(2) as pool:
        halves = [[key for key in sources if key[1] == k] for k in (0, 1)]
        futures = [pool.submit(run_scripts, [sources[key] for key in half], tmp_path_factory.mktemp(f"runs{k}"))
                   for k, half in enumerate(halves)]
        results = {}

        def get(key):
            if not results:
                for half, future in zip(halves, futures):
                    results.update(zip(half, future.result()))
            return sources[key][0], results[key]

        yield get


@pytest.mark.parametrize("experiment", list(CASES))
def test_script_losses_equal_the_engines(experiment, data, printed):
    runs = _runs(experiment)
    engine = [engine_losses(_trainer(importlib.import_module(f"core.experiments.{experiment}").build(
        cfg, data[experiment][0], seed=seed)), steps) for cfg, seed, steps in runs]
    for k, ((cfg, seed, steps), want) in enumerate(zip(runs, engine)):
        source, got = printed((experiment, k))
        assert len(want) == steps
        assert got == want, f"{experiment} at {cfg} seed {seed}: the script's losses differ"
        assert re.search(rf"^SEED += {seed}$", source, re.M)
    assert engine[0] != engine[1]  # the second run is another run


def test_a_script_runs_alone_as_the_contract_says(tmp_path):
    """`python -I run.py --steps N` in an empty folder (export_support.script_losses), the cheapest script:
    the same losses as the engine's."""
    from core.experiments import conv_kernel

    source = script_for("conv_kernel", conv_kernel.Config(), seed=1, data_dir=str(tmp_path))
    assert script_losses(source, 4, tmp_path) == engine_losses(conv_kernel.build(conv_kernel.Config(), seed=1), 4)


def test_scripts_are_self_contained_and_name_their_settings():
    """Every script imports torch and the standard library only, and carries
    the Config's values as constants (float repr: exact) and DATA_DIR."""
    import sys

    for experiment, (_, settings, seed, _) in CASES.items():
        cfg = replace(importlib.import_module(f"core.experiments.{experiment}").Config(), **settings)
        source = script_for(experiment, cfg, seed=seed, data_dir="/data/here")
        tree = ast.parse(source)
        imported = {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert imported - set(sys.stdlib_module_names) == {"torch"}, experiment
        constants = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
                     if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                     and node.targets[0].id.isupper() and not isinstance(node.value, ast.Dict)}
        assert constants["SEED"] == seed and constants["DATA_DIR"] == "/data/here", experiment
        title = ast.get_docstring(tree).splitlines()[0]
        for name, value in settings.items():
            if name == "impl":  # the implementation is the script's code itself
                assert value in title, experiment
            else:
                assert constants[name.upper()] == value, (experiment, name)


def _page_experiments() -> dict[str, set[str]]:
    """Each training page's experiments: the third argument of its live_panel calls."""
    out = {}
    for topic in TOPICS:
        if not topic.training:
            continue
        tree = ast.parse((ROOT / topic.path).read_text(encoding="utf-8"))
        out[topic.url_path] = {node.args[2].value for node in ast.walk(tree)
                               if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "live_panel"
                               and len(node.args) > 2 and isinstance(node.args[2], ast.Constant)}
    return out


def test_every_training_page_has_an_exporter():
    pages = _page_experiments()
    assert all(pages.values()), {p for p, e in pages.items() if not e}
    used = set().union(*pages.values())
    assert not {e for e in used if exporter(e) is None}, "training pages' experiments without an exporter"
    assert set(CASES) <= used  # every tested exporter serves a page


def test_the_dropout_page_shows_and_offers_the_script_for_its_settings():
    from apptest_support import open_page
    from streamlit.runtime.memory_media_file_storage import _calculate_file_id

    from core.experiments import dropout

    at = open_page("topics/dropout.py", {"dropout1": "0.35"})
    assert not at.exception
    assert "Show the PyTorch" in [e.label for e in at.expander]
    [code] = [c for c in at.code if c.language == "python" and "def train(" in c.value]
    source = code.value
    assert re.search(r"^DROPOUT1 += 0\.35$", source, re.M)
    assert re.search(r"^DROPOUT2 += 0\.5$", source, re.M)
    data_dir = ast.literal_eval(re.search(r"^DATA_DIR += (.+?)  #", source, re.M).group(1))
    threads = int(re.search(r"^THREADS += (\d+)", source, re.M).group(1))  # the test executor's workers'
    script = exporter("dropout").script(replace(dropout.Config(), dropout1=0.35), seed=0, data_dir=data_dir,
                                        threads=threads)
    assert source == script.rstrip("\n")  # st.code shows the text without its last newline
    [button] = [b for b in at.get("download_button") if b.proto.label == "Download run.py"]
    file_id = Path(button.proto.url).stem  # the media file's id is a hash of its bytes, type and name
    assert file_id == _calculate_file_id(script.encode(), "text/x-python", "run.py")
    assert file_id != _calculate_file_id(script.replace("0.35", "0.3").encode(), "text/x-python", "run.py")
