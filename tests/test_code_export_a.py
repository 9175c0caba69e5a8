"""'Show the PyTorch', part A (chapters 3-7): every exported script, run isolated
(`python -I`, so it cannot import the project), prints the engine's losses bit
for bit for the same Config and seed on the CPU, at the book's settings and at
another Config with another seed; the dropout page shows the script for its
current settings and offers exactly that text as run.py; every training page's
experiment has an exporter or is listed in NOT_YET. The engine here uses one
torch thread (conftest) and so do the scripts (THREADS = 1, their default).

Each script run is a subprocess that imports torch (1-2 s): the two runs of an
experiment go side by side in threads while the engine trains in this process."""
from __future__ import annotations

import ast
import importlib
import re
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

# Training pages' experiments without an exporter yet (part B writes chapters 8-10; what is left of 3-7 here).
NOT_YET = {"sequence_models", "rnn", "gru_lstm",
           "deep_rnn", "bidirectional_rnn", "seq2seq", "modern_cnns"}


@pytest.fixture(scope="module")
def fashion_mnist():
    from core.data.fashion_mnist import load_fashion_mnist

    return load_fashion_mnist("cpu", allow_download=False)


def _trainer(built):
    """The trainer a script reproduces: batch_norm builds LeNet and BN-LeNet side by side; its script is BN-LeNet."""
    return built["BN-LeNet"] if isinstance(built, dict) else built


@pytest.mark.parametrize("experiment", list(CASES))
def test_script_losses_equal_the_engines(experiment, tmp_path, request):
    steps, settings, seed, steps2 = CASES[experiment]
    mod = importlib.import_module(f"core.experiments.{experiment}")
    data = request.getfixturevalue("fashion_mnist") if experiment in FASHION else None
    data_dir = str(Path(data.paths["train_images"]).parent) if data is not None else str(tmp_path)
    if experiment == "house_prices":  # the CSV files in the shared data folder, preprocessed as the page does
        from core.data import download as dl
        from core.experiments.house_prices import load_data

        data, data_dir = load_data(allow_download=False), str(dl.data_dir())
    runs = [(mod.Config(), 0, steps), (replace(mod.Config(), **settings), seed, steps2)]
    sources = [script_for(experiment, cfg, seed=s, data_dir=data_dir) for cfg, s, _ in runs]
    folders = [tmp_path / "book", tmp_path / "other"]
    for folder in folders:
        folder.mkdir()
    with ThreadPoolExecutor(2) as pool:
        scripts = [pool.submit(script_losses, src, n, folder)
                   for src, (_, _, n), folder in zip(sources, runs, folders)]
        engine = [engine_losses(_trainer(mod.build(cfg, data, seed=s)), n) for cfg, s, n in runs]
        printed = [f.result() for f in scripts]
    for (cfg, s, n), got, want in zip(runs, printed, engine):
        assert len(want) == n
        assert got == want, f"{experiment} at {cfg} seed {s}: the script's losses differ from the engine's"
    assert engine[0] != engine[1]  # the second run is another run
    assert f"SEED = {seed}" in re.sub(r" +", " ", sources[1])


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


def test_every_training_page_has_an_exporter_or_is_listed_not_yet():
    pages = _page_experiments()
    assert all(pages.values()), {p for p, e in pages.items() if not e}
    used = set().union(*pages.values())
    missing = {e for e in used if exporter(e) is None}
    assert missing == NOT_YET & used, f"without an exporter and not in NOT_YET: {missing - NOT_YET}; " \
                                      f"listed but exported: {NOT_YET & used - missing}"
    assert {e for e in CASES} <= used - missing  # every tested exporter serves a page


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
