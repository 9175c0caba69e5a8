"""The seq2seq page (book 10.6-10.7) through AppTest: the shapes follow the
settings, teacher forcing is drawn, the run trains with its views and BLEU
curves, and the beam-search page searches the same run."""
from __future__ import annotations

import re

from apptest_support import live_charts, open_page, plotly_spec, series_points, tick_until

from core.experiments.seq2seq import BOOK_EXAMPLES

PAGE = "topics/seq2seq.py"


def use_stand_in_if_asked(at):
    stand_in = [t for t in at.toggle if t.label.startswith("Continue with a stand-in")]
    if stand_in:
        stand_in[0].set_value(True).run()
    assert not at.exception, at.exception


def shapes(at) -> dict[str, str]:
    df = next(d.value for d in at.dataframe if "tensor" in d.value.columns)
    return {row["tensor"].split(" (")[0].split(":")[0]: row["shape"] for _, row in df.iterrows()}


def test_shapes_follow_the_settings_and_teacher_forcing_is_drawn():
    at = open_page(PAGE)
    use_stand_in_if_asked(at)
    before = shapes(at)
    assert before["encoder final state"].startswith("2 × ") and before["encoder final state"].endswith(" × 32")
    at.select_slider(key="seq2seq.num_hiddens").set_value(64).run()
    at.slider(key="seq2seq.num_layers").set_value(3).run()
    assert not at.exception, at.exception
    after = shapes(at)
    assert after["encoder final state"].startswith("3 × ") and after["encoder final state"].endswith(" × 64")
    emb = int(after["encoder embedding"].split(" × ")[-1])
    assert after["decoder GRU input"].endswith(f" × {emb + 64}")
    dec, tgt = plotly_spec(at, "seq2seq:dec"), plotly_spec(at, "seq2seq:tgt")
    for d_row, t_row in zip(dec["data"][0]["text"], tgt["data"][0]["text"]):
        assert d_row[0] == "<bos>" and d_row[1:] == t_row[:-1]
    assert at.query_params["num_hiddens"] in ("64", ["64"])


def test_it_trains_with_bleu_and_the_beam_page_searches_the_same_run():
    at = open_page(PAGE, {"num_layers": "1", "num_epochs": "30"})
    use_stand_in_if_asked(at)
    at.button(key="seq2seq:start").click().run()
    R = at.session_state["live:seq2seq"]
    tick_until(at, lambda at: R.epoch >= 3 and any(d.value.shape[0] == 4 for d in at.dataframe
                                                   if "BLEU" in d.value.columns), timeout=180)
    bleu = live_charts(at)["BLEU of the book's four sentences (greedy, k = 2)"]
    assert set(series_points(bleu)) == set(BOOK_EXAMPLES)
    losses = plotly_spec(at, "seq2seq:losses")
    assert losses["data"][0]["type"] == "heatmap"
    if R.active:
        at.button(key="seq2seq:pause").click().run()
    handle, epoch = R.handle, R.epoch
    at.switch_page("topics/beam_search.py").run()
    at.segmented_control(key="beam_search.beam_mode").set_value("Trained seq2seq").run()
    use_stand_in_if_asked(at)
    assert not at.exception, at.exception
    same = at.session_state["live:seq2seq"]
    assert same is R and same.handle is handle and same.epoch == epoch  # not rebuilt, not trained twice
    assert any("1 layer(s)" in c.value for c in at.caption)


def test_the_architecture_labels_break_lines_and_show_every_shape():
    """Each node's DOT label is its words and its shape on separate lines (`\\n` in DOT, never an
    escaped backslash that graphviz would print), quotes escaped."""
    from playground.seq2seq_figures import architecture_dot

    shapes = [(f"tensor {i}", (64, 10 + i)) for i in range(10)]
    dot = architecture_dot(shapes, num_layers=2)
    assert "\\\\" not in dot  # no escaped backslash anywhere
    nodes = re.findall(r'^(\w+) \[label="((?:[^"\\]|\\.)*)", fillcolor', dot, flags=re.M)
    assert len(nodes) == 11 and all("\n" not in label for _, label in nodes)
    labels = [label for _, label in nodes]
    for _, shape in shapes:  # each shape ends one label, on a line of its own
        assert sum(label.rsplit("\\n", 1)[-1].endswith(" × ".join(map(str, shape))) for label in labels) == 1
    assert sum("\\n" in label for label in labels) == 11
