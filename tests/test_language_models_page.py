"""The text-minibatch page through AppTest: the cells of the picture are the
spans of core.ops.partitioning for the page's settings; the picker outlines
one minibatch; sequential rows continue, random ones (here) do not."""
from __future__ import annotations

import numpy as np
from apptest_support import open_page
from apptest_support import plotly_array as array
from apptest_support import plotly_spec as plotly

from core.data.text import read_time_machine
from core.ops import partitioning as pt

PAGE = "topics/language_models.py"
PALETTE = 8


def cells(at) -> np.ndarray:
    return array(next(t for t in plotly(at, "langmod:cells")["data"] if t["type"] == "heatmap")["z"])


def expected(n, b, s, random, offset, picked, seed=0) -> np.ndarray:
    chars = "".join(read_time_machine())[:n]
    order = pt.shuffled(n, s, offset, seed) if random else None
    owners = pt.owner(len(chars), pt.spans(len(chars), b, s, random, offset, order))
    z = [2 * PALETTE if o is None else o[0] % PALETTE + (0 if o[0] == picked else PALETTE) for o in owners]
    z += [np.nan] * (-len(z) % 60)
    return np.asarray(z, dtype=float).reshape(-1, 60)


def test_the_cells_are_the_sequential_spans_and_the_rows_continue():
    at = open_page(PAGE, {"batch_size": "2", "num_steps": "5", "minibatch": "1", "offset": "3"})
    assert not at.exception, at.exception
    assert np.array_equal(cells(at), expected(240, 2, 5, False, 3, 1), equal_nan=True)
    text = plotly(at, "langmod:cells")["data"][0]["text"]
    assert "".join(c for row in text for c in row).replace("·", " ") == "".join(read_time_machine())[:240]
    assert "All 2 rows of minibatch 2 continue the same row of minibatch 1" in " ".join(s.value for s in at.success)
    table = at.dataframe[-1].value
    assert table["X"].tolist() == ["".join(read_time_machine())[p:p + 5] for p in (3 + 5, 3 + 118 + 5)]
    shapes = plotly(at, "langmod:cells")["layout"]["shapes"]
    assert len(shapes) >= 2  # the picked minibatch's two rows outlined


def test_random_sampling_and_its_shuffle_seed():
    at = open_page(PAGE, {"scheme": "random", "order_seed": "7", "minibatch": "2"})
    assert not at.exception, at.exception
    assert np.array_equal(cells(at), expected(240, 3, 8, True, 0, 2, seed=7), equal_nan=True)
    assert "happen to continue" in " ".join(i.value for i in at.info)
    before = cells(at)
    at.slider(key="language_models.order_seed").set_value(8).run()
    assert not np.array_equal(cells(at), before, equal_nan=True)


def test_settings_too_big_for_the_text_say_so():
    at = open_page(PAGE, {"n_chars": "60", "batch_size": "8", "num_steps": "20"})
    assert not at.exception, at.exception
    assert "too few for one minibatch" in " ".join(w.value for w in at.warning)
    at = open_page(PAGE, {"minibatch": "99", "offset": "20"})
    notes = " ".join(c.value for c in at.caption)
    assert "The offset is at most 8" in notes and "showing the last" in notes
