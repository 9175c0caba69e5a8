"""Everything the AppTest page tests share (no browser): open a page with
settings from its URL, find widgets, read what the page shows, tick live
panels. Test modules import these; none imports another test module."""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Widget

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
TIMEOUT = 120
WIDGET_KINDS = ("slider", "select_slider", "selectbox", "toggle", "number_input", "radio",
                "segmented_control", "text_input", "text_area", "multiselect", "pills")


def open_page(path: str, query: dict | None = None, timeout: float = TIMEOUT) -> AppTest:
    """The app with `path` as the current page, after its first run."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update(query or {})
    at.run()
    return at.switch_page(path).run()


def texts_shown(at: AppTest) -> list[str]:
    """The page's own text blocks (generated text, a data notice), in order: the main area's
    st.code without the exported script (its Python listing); the sidebar's link to copy left out."""
    return [c.value for c in at.main.code if c.proto.language != "python"]


def references(spec: dict) -> list[dict]:
    """A live chart's reference rows (the book's value or band, each with its label): the
    layers that carry their own data, after the curves and any marker layer."""
    return [layer["data"]["values"][0] for layer in spec["layer"] if "data" in layer]


def find_widget(at: AppTest, key: str, page: str | None = None):
    """The widget with this key (or, with `page`, of that page's setting `key`),
    whatever its kind; None when there is none."""
    if page is not None:
        key = f"{page}.{key}"
    for kind in WIDGET_KINDS:
        try:
            return getattr(at, kind)(key=key)
        except (KeyError, AttributeError):
            continue
    return None


def shown(at: AppTest) -> list[str]:
    """What the page shows, widgets left out: text, formulas, metrics, chart specs."""
    out: list[str] = []

    def walk(node):
        children = getattr(node, "children", None)
        if children:
            for child in children.values():
                walk(child)
        elif not isinstance(node, Widget):
            out.append(f"{getattr(node, 'type', '')}:{getattr(node, 'proto', node)}")

    walk(at.main)
    return out


def metric(at: AppTest, label: str) -> str:
    """The value of the metric labelled exactly `label`."""
    return next(m.value for m in at.metric if m.label == label)


def errors(at: AppTest) -> str:
    """Every error box's text, joined."""
    return " ".join(e.value for e in at.error)


def panel(at: AppTest, key: str):
    """The state of the live panel `key` (playground.live keeps it as live:<key>)."""
    return at.session_state[f"live:{key}"]


def panel_states(at: AppTest) -> list:
    """The states of every live panel on the page."""
    return [at.session_state[k] for k in list(at.session_state.keys()) if str(k).startswith("live:")]


def tick_until_stopped(at: AppTest, timeout: float = 300.0, every: float = 0.2) -> AppTest:
    """Re-run the page (each run polls every live panel: the runs train in
    worker processes meanwhile) until no panel is training or being built."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(S.active or S.building for S in panel_states(at)):
            # once more, as the browser does: the run that saw the end asks for a full rerun
            # (st.rerun in the panel's fragment), which AppTest does not make by itself
            at.run()
            assert not at.exception, at.exception
            return at
        time.sleep(every)
        at.run()
        assert not at.exception, at.exception
    raise AssertionError(f"still training after {timeout} s")


def tick_until(at: AppTest, done, timeout: float = 120.0, every: float = 0.1) -> AppTest:
    """Re-run the page until done(at) holds (the runs train meanwhile)."""
    deadline = time.monotonic() + timeout
    while not done(at):
        if time.monotonic() > deadline:
            raise AssertionError(f"not done after {timeout} s")
        time.sleep(every)
        at.run()
        assert not at.exception, at.exception
    return at


def live_charts(at: AppTest) -> dict[str, dict]:
    """The live panel's vega-lite charts by title: {"spec": ..., "data": DataFrame
    (x, y, series)}; the data is read from the Arrow bytes Streamlit sends."""
    import json

    import pyarrow as pa

    out = {}
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        raw = el.proto.data.data
        data = pa.ipc.open_stream(raw).read_all().to_pandas() if raw else None
        out[spec["title"]["text"]] = {"spec": spec, "data": data}
    return out


def series_points(chart: dict) -> dict[str, int]:
    """Points per series of one live chart (none before training)."""
    data = chart["data"]
    if data is None or data.empty or "series" not in data:
        return {}
    return data.groupby("series").size().to_dict()


def plotly_spec(at: AppTest, key: str) -> dict:
    """The plotly figure (as JSON) of the chart drawn with this key."""
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith("-" + key):
            return json.loads(el.proto.spec)
    raise AssertionError(f"no chart {key!r}")


def plotly_array(values) -> np.ndarray:
    """A plotly array: a list (of numbers or of rows; None is NaN), or typed-array JSON {'dtype', 'bdata', 'shape'}."""
    if isinstance(values, dict):
        flat = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        return flat.reshape([int(n) for n in str(values.get("shape", len(flat))).split(",")])
    return np.asarray([[np.nan if v is None else v for v in row] if isinstance(row, list) else row
                       for row in values], dtype=float)
