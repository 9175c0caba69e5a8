"""Accessible charts: the palette stays apart for colour-blind readers
(simulated protanopia, deuteranopia, tritanopia; CIEDE2000), overlays differ
without colour, and the chart checks that tests/test_pages.py runs over every
page find what they should. No page is rendered here (test_pages.py does)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from core.ops import colour_vision as cv
from playground import charts, live
from playground.accessibility import plotly_problems, vega_problems

MIN_DELTA_E = 10.0  # CIEDE2000 between any two palette colours, under every deficiency

# Sharma, Wu and Dalal (2005), "The CIEDE2000 color-difference formula", table 1: (Lab1, Lab2, ΔE00)
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.mark.parametrize("lab1, lab2, expected", SHARMA)
def test_ciede2000_matches_sharmas_published_pairs(lab1, lab2, expected):
    assert cv.delta_e2000(lab1, lab2) == pytest.approx(expected, abs=5e-5)
    assert cv.delta_e2000(lab2, lab1) == pytest.approx(expected, abs=5e-5)  # symmetric


def test_lab_of_white_red_and_mid_grey():
    assert np.allclose(cv.srgb_to_lab(cv.hex_to_rgb("#ffffff")), [100, 0, 0], atol=1e-4)
    assert np.allclose(cv.srgb_to_lab(cv.hex_to_rgb("#ff0000")), [53.2408, 80.0925, 67.2032], atol=1e-3)
    L, a, b = cv.srgb_to_lab(cv.hex_to_rgb("#777777"))  # 0x77: linear 0.18447, L = 116 Y^(1/3) - 16
    expected_L = 116 * 0.184475 ** (1 / 3) - 16
    assert abs(L - expected_L) < 1e-3 and abs(a) < 1e-4 and abs(b) < 1e-4


@pytest.mark.parametrize("deficiency", cv.DEFICIENCIES)
def test_simulation_keeps_greys_and_confuses_along_one_direction(deficiency):
    greys = np.linspace(0, 1, 11)[:, None].repeat(3, axis=1)
    assert np.allclose(cv.simulate(greys, deficiency), greys, atol=1e-5)  # rows of the matrix sum to 1
    M = cv.MACHADO[deficiency]
    # protanopes and deuteranopes have two cone types: the matrix is of rank 2, and
    # colours that differ along its null direction (in linear RGB) look the same.
    # Machado's tritanopia keeps a little of the third direction: it shrinks the
    # difference along it to under a third.
    s = np.linalg.svd(M, compute_uv=False)
    null = np.linalg.svd(M)[2][-1]
    a, b = np.full(3, 0.4) + 0.15 * null, np.full(3, 0.4) - 0.15 * null
    normal = cv.delta_e2000(*(cv.srgb_to_lab(cv.linear_to_srgb(c)) for c in (a, b)))
    seen = cv.delta_e2000(*(cv.srgb_to_lab(cv.simulate(cv.linear_to_srgb(c), deficiency)) for c in (a, b)))
    assert normal > 30
    if deficiency == "tritanopia":
        assert 0.1 < s[-1] / s[0] < 0.13 and seen < normal / 3
    else:
        assert s[-1] / s[0] < 1e-5 and seen < 1e-3


def test_the_palette_stays_apart_for_every_reader():
    worst = cv.closest_pairs(charts.PALETTE)
    for who, (delta, pair) in worst.items():
        assert delta > MIN_DELTA_E, f"{who}: PALETTE {pair} only {delta:.1f} apart"
    assert len(set(charts.PALETTE)) == len(charts.PALETTE) == 8  # the language-model page cycles 8 colours
    for deficiency in (None, *cv.DEFICIENCIES):  # right and wrong
        assert cv.distances([charts.GOOD, charts.BAD], deficiency)[(0, 1)] > MIN_DELTA_E


def test_the_old_palette_would_fail():
    """The check has teeth: the palette before this change had a pair that a
    protanope cannot tell apart."""
    old = ["#1f6feb", "#e8590c", "#2f9e44", "#9c36b5", "#c2255c", "#0c8599", "#f08c00", "#495057"]
    assert cv.closest_pairs(old)["protanopia"][0] < 2.0
    assert cv.closest_pairs(old)["normal"][0] > MIN_DELTA_E  # fine for normal vision, which is why it slipped by


def test_faded_colours_are_the_palette_mixed_with_white():
    assert charts.faded("#000000") == "#808080" and charts.faded("#ffffff") == "#ffffff"
    assert charts.FADED[0] == charts.faded(charts.PALETTE[0]) == "#80b8d8"  # (0x72 + 0xff) / 2 = 184.5, to the even 184
    assert charts.rgba("#0072b2", 0.35) == "rgba(0,114,178,0.35)"


# ----------------------------------------------------------------- chart checks
def test_plotly_check_wants_a_title_and_axis_titles():
    bare = charts.figure()
    charts.add_line(bare, [0, 1], [1, 0], "loss")
    assert plotly_problems(bare.to_plotly_json()) == ["no title (layout.title.text)", "no title on xaxis",
                                                      "no title on yaxis"]
    full = charts.figure("Loss", x_title="epoch", y_title="loss")
    charts.add_line(full, [0, 1], [1, 0], "loss")
    assert plotly_problems(full.to_plotly_json()) == []
    image = charts.heatmap([[0, 1], [1, 0]], title="a picture")
    image.update_xaxes(showticklabels=False)
    image.update_yaxes(showticklabels=False)
    assert plotly_problems(image.to_plotly_json()) == []  # a picture's axes carry no numbers


def test_vega_check_on_the_live_charts():
    empty_data, empty = charts.live_lines("Loss", [charts.Series("train", [], [], charts.PALETTE[0])])
    assert empty_data.empty and vega_problems(empty) == []  # the placeholder: a title, no axes
    _, spec = charts.live_lines("Loss", [charts.Series("train", [1, 2], [0.5, 0.4], charts.PALETTE[0])],
                                y_title="loss")
    assert vega_problems(spec) == []
    _, untitled = charts.live_lines("", [charts.Series("train", [1, 2], [0.5, 0.4], charts.PALETTE[0])])
    assert vega_problems(untitled) == ["no title", "no y axis title"]


# ------------------------------------------------- overlays without colour
def _records(n: int, level: str) -> list[dict]:
    return [{"epoch": e if level == "epochs" else e / 10, "train_loss": 1.0 / (e + 1), "test_loss": 1.2 / (e + 1),
             "loss": 1.0 / (e + 1)} for e in range(1, n + 1)]


def _panel(names: list[str], archived: list[str]):
    """What live._figure reads of a PageRun: the current runs' histories and the archived runs."""
    hist = {name: {"epochs": _records(5, "epochs"), "steps": _records(50, "steps")} for name in names}
    runs = [SimpleNamespace(label=label, epochs={"": _records(5, "epochs")}, steps={"": _records(50, "steps")},
                            changed_mid_run=False, stopped=False) for label in archived]
    return SimpleNamespace(names=names, runs=runs, label="Compare", num_epochs=5, history=hist.__getitem__)


def _encodings(spec: dict) -> tuple[dict, dict]:
    lines, points = spec["layer"][0]["encoding"], spec["layer"][1]["encoding"]
    return ({n: (d, w) for n, d, w in zip(lines["strokeDash"]["scale"]["domain"], lines["strokeDash"]["scale"]["range"],
                                          lines["strokeWidth"]["scale"]["range"])},
            dict(zip(points["shape"]["scale"]["domain"], points["shape"]["scale"]["range"])))


def test_runs_and_curves_differ_without_colour():
    R = _panel(["λ = 0", "λ = 3"], archived=["λ=1"])
    data, spec = live._figure(R, "k", live.LOSS)
    dashes, shapes = _encodings(spec)
    assert set(dashes) == set(shapes) == set(data["series"]) and len(shapes) == 6
    # every series a different (marker, dash) pair: run by marker, curve by dash
    assert len({(shapes[n], tuple(dashes[n][0])) for n in shapes}) == 6
    zero, three = "Compare · λ = 0", "Compare · λ = 3"  # beside an archived run, the current ones say so
    assert shapes[f"{zero} · test"] == shapes[f"{zero} · train"] != shapes[f"{three} · test"] != shapes["λ=1 · test"]
    assert dashes[f"{zero} · test"][0] == dashes[f"{three} · test"][0] != dashes[f"{three} · train"][0]
    assert dashes["λ=1 · test"][1] < dashes[f"{zero} · test"][1]  # archived runs thinner (and faded)
    # an epoch chart has a marker at every epoch; a step chart a dozen per line, the last point included
    assert spec["layer"][1]["transform"] == []
    steps_data, steps_spec = live._figure(R, "k", live.MINIBATCH)
    assert steps_spec["layer"][1]["transform"] == [{"filter": "datum.marker"}]
    marked = steps_data[steps_data["marker"]].groupby("series").size().to_dict()
    assert marked == {name: 11 for name in marked} and len(marked) == 3  # 50 points: every 5th (ceil 50/12) + the last
    assert bool(steps_data[steps_data["series"] == "Compare · λ = 0 · train"]["marker"].iloc[-1])


def test_one_run_differs_by_dash_and_needs_no_markers():
    data, spec = live._figure(_panel([""], archived=[]), "k", live.LOSS)
    assert len(spec["layer"]) == 1  # no marker layer
    enc = spec["layer"][0]["encoding"]
    dash = dict(zip(enc["strokeDash"]["scale"]["domain"], enc["strokeDash"]["scale"]["range"]))
    assert dash["test"] != dash["train"]
    assert enc["y"]["axis"]["title"] == "Loss"  # a chart without y_title says its title on the axis


def test_no_colour_is_hard_coded_outside_charts():
    """Every colour of the pages and figure builders comes from playground/charts.py."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    hexes = re.compile(r"[\"']#[0-9a-fA-F]{3,8}\b|rgba?\(\s*\d|\b(?:colou?r|colorscale)\s*=\s*\"(?!#)[a-zA-Z_]+\"")
    files = [p for folder in ("playground", "topics") for p in sorted((root / folder).glob("*.py"))
             if p.name != "charts.py"]
    found = [f"{p.relative_to(root)}:{i}" for p in files for i, line in enumerate(p.read_text().splitlines(), 1)
             if hexes.search(line)]
    assert found == []
    named = ["Viridis", "Cividis", "RdBu", "Blues", "Oranges", "Greys", "YlOrRd", "OrRd", "RdYlGn"]
    scales = [f"{p.name}:{i}" for p in files for i, line in enumerate(p.read_text().splitlines(), 1)
              if any(f'"{n}' in line for n in named)]
    assert scales == []
