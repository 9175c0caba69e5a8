"""Show the PyTorch, chapters 8-10 (core.export): the script exported for a
page's run, run isolated (`python -I`, torch and the standard library only),
prints the same losses as the engine's trainer built as the page builds it,
bit for bit on the CPU, minibatch by minibatch, for the page's default Config
and for another Config with another seed. Where an epoch is short enough, the
steps cross into the second epoch, so its new minibatch order (and, for the
language models, its new offset) is checked too."""
from __future__ import annotations

import ast
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import torch
from export_support import engine_losses, script_losses

from core.data.download import DataUnavailable
from core.experiments import bidirectional_rnn, deep_rnn, gru_lstm, modern_cnns, rnn, seq2seq, sequence_models
from core.export import script_for
from core.train.lm import LMObjective

EXPERIMENTS = {"sequence_models": sequence_models, "rnn": rnn, "gru_lstm": gru_lstm, "deep_rnn": deep_rnn,
               "bidirectional_rnn": bidirectional_rnn, "seq2seq": seq2seq, "modern_cnns": modern_cnns}

# (experiment, changes to the page's default Config, seed, steps). The language
# models' 10,000 characters make 8 minibatches of 32 x 35 an epoch (sequential
# or random), so 10 steps reach the second epoch; the sine's 600 windows make
# 38 minibatches of 16.
CASES = [
    ("sequence_models", {}, 0, 40),
    ("sequence_models", {"tau": 8, "lr": 0.03}, 5, 4),
    ("rnn", {}, 0, 10),  # scratch, sequential, 128 hidden units
    ("rnn", {"impl": "concise", "partition": "random", "num_hiddens": 32, "lr": 0.5}, 7, 10),
    ("gru_lstm", {}, 0, 10),  # a scratch GRU, 128 hidden units
    ("gru_lstm", {"cell": "lstm", "impl": "concise", "num_hiddens": 32, "lr": 2.0}, 11, 5),
    ("deep_rnn", {}, 0, 10),  # nn.GRU(num_layers=2), 64 hidden units
    ("deep_rnn", {"cell": "lstm", "impl": "scratch", "num_hiddens": 16}, 2, 10),  # 2 scratch LSTMs stacked
    ("bidirectional_rnn", {}, 0, 10),  # a bidirectional nn.LSTM language model, 64 hidden units
    ("bidirectional_rnn", {"task": "blank", "bidirectional": False, "cell": "gru", "num_hiddens": 32,
                           "blank_batch_size": 512}, 3, 5),  # 1,666 windows: 4 minibatches an epoch
    ("seq2seq", {}, 0, 12),  # 600 pairs: 10 minibatches of 64 an epoch; dropout 0.1 between the 2 GRU layers
    ("seq2seq", {"num_layers": 3, "dropout": 0.3, "num_hiddens": 16, "lr": 0.01}, 9, 4),
    # ResNet-18 at width 8 on 32 x 32 inputs; 1,000 images are 16 minibatches of 64, and the
    # epoch's end evaluates 1,000 test images (batch norm's running statistics) on both sides
    ("modern_cnns", {"num_train": 1000, "num_test": 1000}, 0, 17),
    # AlexNet at width 16: 28 px raised to its smallest input, 65; dropout masks from the noise generator
    ("modern_cnns", {"net": "alexnet", "width": 16, "resize": 28, "book_lr": False, "lr": 0.3, "batch_size": 32,
                     "num_train": 1000, "num_test": 1000}, 6, 3),
]


def default_config(experiment: str):
    ex = EXPERIMENTS[experiment]
    return getattr(ex, "PAGE", ex.BOOK)


@pytest.fixture
def one_thread(monkeypatch):
    """The engine and the script on one thread each: on a machine of two cores
    they run side by side, and neither spins waiting for the other's cores."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def fra():
    """The pairs as the seq2seq page loads them, and the data folder."""
    try:
        corpus = seq2seq.load_corpus(seq2seq.BOOK.num_steps, seq2seq.BOOK.num_examples, allow_download=False)
    except DataUnavailable as err:
        pytest.skip(f"fra.txt is not here ({err.tried}): set PLAYGROUND_DATA_DIR")
    folder = corpus.path.parent
    return corpus.data, str(folder.parent if folder.name == "fra-eng" else folder)


@pytest.fixture(scope="module")
def fmnist():
    """Fashion-MNIST as the modern-CNNs page loads it, and the folder of its files."""
    from core.data.fashion_mnist import load_fashion_mnist

    try:
        data = load_fashion_mnist(allow_download=False)
    except DataUnavailable as err:
        pytest.skip(f"Fashion-MNIST is not here ({err.tried})")
    return data, str(data.paths["train_images"].parent)


@pytest.fixture(scope="module")
def time_machine():
    """(corpus, vocab) as the language-model pages load it, and the folder it is in."""
    from core.data.text import load_corpus_time_machine, locate_time_machine

    try:
        path = locate_time_machine(allow_download=False)
    except DataUnavailable as err:
        pytest.skip(f"timemachine.txt is not here ({err.tried}): set PLAYGROUND_DATA_DIR")
    return load_corpus_time_machine(path=path), str(path.parent)


def engine_trainer(experiment: str, cfg, seed: int, request):
    """The trainer as the page builds it: build(cfg, data) with the page's data."""
    ex = EXPERIMENTS[experiment]
    if experiment == "sequence_models":  # the page draws the series from the seed
        return ex.build(cfg, seed=seed), ""
    if experiment in ("seq2seq", "modern_cnns"):
        data, folder = request.getfixturevalue("fra" if experiment == "seq2seq" else "fmnist")
        return ex.build(cfg, data, seed=seed), folder
    data, folder = request.getfixturevalue("time_machine")
    return ex.build(cfg, data, seed=seed), folder


def data_folder(experiment: str, request) -> str:
    if experiment == "sequence_models":
        return ""
    return request.getfixturevalue({"seq2seq": "fra", "modern_cnns": "fmnist"}.get(experiment, "time_machine"))[1]


def case_key(experiment, changes, seed, steps):
    return experiment, tuple(sorted(changes.items())), seed, steps


@pytest.fixture(scope="module")
def scripts(request, tmp_path_factory):
    """The scripts of every selected case, started at once and run two at a
    time (each on one thread) while the tests train the engine: {case: Future
    of its losses}. A case whose data is missing is left out (its test skips)."""
    wanted = [item.callspec.params for item in request.session.items
              if getattr(item, "originalname", None) == "test_script_losses_equal_the_engines"
              and item.module is request.module]
    with pytest.MonkeyPatch.context() as mp, ThreadPoolExecutor(2) as pool:
        mp.setenv("OMP_NUM_THREADS", "1")
        runs = {}
        for p in wanted:
            key = case_key(p["experiment"], p["changes"], p["seed"], p["steps"])
            try:
                folder = data_folder(p["experiment"], request)
            except pytest.skip.Exception:
                continue
            cfg = replace(default_config(p["experiment"]), **p["changes"])
            source = script_for(p["experiment"], cfg, seed=p["seed"], data_dir=folder)
            runs[key] = pool.submit(script_losses, source, p["steps"], tmp_path_factory.mktemp(p["experiment"]),
                                    timeout=600)
        yield runs


@pytest.mark.parametrize(("experiment", "changes", "seed", "steps"), CASES,
                         ids=[f"{c[0]}-{'default' if not c[1] else 'other'}" for c in CASES])
def test_script_losses_equal_the_engines(experiment, changes, seed, steps, request, scripts, one_thread):
    cfg = replace(default_config(experiment), **changes)
    trainer, _ = engine_trainer(experiment, cfg, seed, request)
    expected = engine_losses(trainer, steps)
    got = scripts[case_key(experiment, changes, seed, steps)].result()  # the script, run isolated
    assert len(expected) == steps
    assert got == expected  # exact: the same float32 values, step by step


ALLOWED_IMPORTS = {"argparse", "collections", "gzip", "json", "math", "os", "re", "struct", "torch", "torch.nn",
                   "torch.nn.functional"}


@pytest.mark.parametrize("experiment", list(EXPERIMENTS))
def test_script_is_torch_and_the_standard_library_with_the_pages_values(experiment):
    """Imports only torch and the standard library; the Config values, the seed
    and the data folder stand as constants at the top."""
    cfg = replace(default_config(experiment), num_epochs=20)
    source = script_for(experiment, cfg, seed=1234, data_dir="/some/data")
    tree = ast.parse(source)
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= ALLOWED_IMPORTS, imported - ALLOWED_IMPORTS
    assert {m.split(".")[0] for m in imported} - {"torch"} <= set(sys.stdlib_module_names)
    top = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
           if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id.isupper()
           and isinstance(node.value, ast.Constant)}
    assert top["SEED"] == 1234 and top["DATA_DIR"] == "/some/data" and top["NUM_EPOCHS"] == 20
    assert top["LR"] == (modern_cnns.learning_rate(cfg) if experiment == "modern_cnns" else cfg.lr)


def test_a_scratch_stack_of_lstms_carries_its_state():
    """LMObjective with the deep-RNN page's scratch LSTM stack (a list of
    (H, C) pairs, one per layer): the state carried to the next minibatch is
    detached layer by layer and keeps its values."""
    from core.models.rnn import rnn_lm

    net = rnn_lm(7, 4, kind="lstm", impl="scratch", num_layers=2)(torch.Generator().manual_seed(0))
    objective = LMObjective()
    X = torch.randint(0, 7, (3, 5), generator=torch.Generator().manual_seed(1))
    objective(net, (X, X))
    carried = [(H.clone(), C.clone()) for H, C in objective.state]
    out = objective(net, (X, X))
    _, expected = net(X, carried)
    _, fresh = net(X, None)
    for (H, C), (H2, C2), (H0, _) in zip(objective.state, expected, fresh):
        assert torch.equal(H, H2) and torch.equal(C, C2)
        assert not torch.equal(H, H0)  # carried over, not started afresh
    assert out.n == 15

