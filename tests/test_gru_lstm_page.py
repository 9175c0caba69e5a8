"""The GRU and LSTM page through AppTest: the values it shows, not only that it renders."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from apptest_support import open_page, texts_shown
from streamlit.testing.v1 import AppTest

PAGE = "topics/gru_lstm.py"


def open_gru(query: dict | None = None) -> AppTest:
    """The page, with settings from its URL (a selectbox reads its option's label)."""
    return open_page(PAGE, {k: str(v) for k, v in (query or {}).items()})


def heatmaps(at: AppTest) -> dict[str, list[list[float]]]:
    """Title -> z of every heatmap on the page."""
    out = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        for trace in spec["data"]:
            if trace.get("type") == "heatmap":
                out[spec["layout"]["title"]["text"]] = _array(trace["z"])
    return out


def _array(z) -> np.ndarray:
    """A plotly array: a nested list, or typed-array JSON {'dtype', 'bdata', 'shape'}."""
    if isinstance(z, dict):
        flat = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"]))
        return flat.reshape([int(n) for n in str(z["shape"]).split(",")])
    return np.asarray(z, dtype=float)


def generated(at: AppTest) -> str:
    return texts_shown(at)[-1]


def train_a_little(at: AppTest, ticks: int = 5) -> None:
    next(b for b in at.button if b.label == "Start").click().run()
    for _ in range(ticks):
        at.run()
    assert not at.exception, at.exception


def in_unit_interval(z) -> bool:
    return bool(np.all((z >= 0) & (z <= 1)))


@pytest.fixture(scope="module")
def trained_gru():
    at = open_gru({"num_hiddens": 64})
    assert not at.exception, at.exception
    train_a_little(at)
    return at


def test_gru_gates_are_in_the_unit_interval(trained_gru):
    maps = heatmaps(trained_gru)
    names = " ".join(maps)
    assert "reset gate R" in names and "update gate Z" in names and "untrained" in names
    for title, z in maps.items():
        assert z.shape == (32, len("time traveller")), title  # 32 units x 14 characters
        assert in_unit_interval(z), title


def test_lstm_gates_and_cell():
    at = open_gru({"cell": "lstm", "num_hiddens": 32})
    train_a_little(at, 3)
    maps = heatmaps(at)
    gates = {t: z for t, z in maps.items() if "gate" in t}
    assert {"input gate I", "forget gate F", "output gate O"} <= {t.split(": ")[1] for t in gates}
    assert all(in_unit_interval(z) for z in gates.values())
    assert any("memory cell C" in t for t in maps)


def test_generated_text_has_the_requested_length(trained_gru):
    at = trained_gru
    at.text_input(key="gru_lstm.prefix").set_value("The Time ").run()
    assert not at.exception, at.exception
    text = generated(at)
    assert text.startswith("the time ")
    assert len(text.replace("<unk>", "?")) == len("the time ") + 50


def test_switching_cell_changes_the_equations():
    at = open_gru()
    gru = [x.value for x in at.latex]
    assert any(r"\mathbf{R}_t" in v for v in gru) and not any(r"\mathbf{C}_t" in v for v in gru)
    at.selectbox(key="gru_lstm.cell").set_value("lstm").run()
    lstm = [x.value for x in at.latex]
    assert any(r"\mathbf{C}_t" in v for v in lstm) and not any(r"\mathbf{R}_t" in v for v in lstm)


def test_concise_gru_explains_its_candidate():
    at = open_gru({"impl": "concise"})
    assert not at.exception, at.exception
    assert any("load_weights_into_scratch" in i.value for i in at.info)
    assert any(r"\mathbf{b}_{hn}" in x.value for x in at.latex)  # torch\'s candidate, with its extra bias
    assert heatmaps(at)  # the concise net's gates are traced too


def test_bad_text_gives_a_message():
    at = open_gru()
    at.text_input(key="gru_lstm.prefix").set_value("1234 !!").run()
    at.text_input(key="gru_lstm.gate_text").set_value("...").run()
    assert not at.exception, at.exception
    infos = " ".join(i.value for i in at.info)
    assert "prefix with at least one letter" in infos and "text with at least one letter" in infos
    assert not heatmaps(at)


def test_fewer_hidden_units_keep_the_unit_choice_valid():
    at = open_gru({"num_hiddens": 128})
    at.select_slider(key="gru_lstm.block").set_value(96).run()
    at.slider(key="gru_lstm.unit").set_value(120).run()
    at.select_slider(key="gru_lstm.num_hiddens").set_value(16).run()
    assert not at.exception, at.exception
    assert at.slider(key="gru_lstm.unit").value == 0
    assert all(len(z) == 16 for z in heatmaps(at).values())


def test_missing_data_offers_the_stand_in_and_an_upload(no_data):
    at = open_gru()
    assert not at.exception, at.exception
    assert "not available" in " ".join(w.value for w in at.warning)
    assert not [b for b in at.button if b.label == "Start"]
    at.file_uploader(key="up:timemachine:char").set_value(("short.txt", b"too short", "text/plain")).run()
    assert "one minibatch" in " ".join(e.value for e in at.error)
    next(t for t in at.toggle if t.label.startswith("Continue with a stand-in")).set_value(True).run()
    assert not at.exception, at.exception
    assert any("Stand-in data" in i.value for i in at.info)
    train_a_little(at, 3)
    assert generated(at).startswith("time traveller ")


def test_stretched_colours_say_their_range(trained_gru):
    at = trained_gru
    at.toggle(key="gru_lstm.stretch").set_value(True).run()
    assert not at.exception, at.exception
    for title, z in heatmaps(at).items():
        lo, hi = (float(v) for v in title.rsplit("(", 1)[1].rstrip(")").split(" to "))
        assert lo == pytest.approx(float(z.min()), abs=0.006) and hi == pytest.approx(float(z.max()), abs=0.006)
    at.toggle(key="gru_lstm.untrained").set_value(False).run()
    assert not any("untrained" in t for t in heatmaps(at))
