"""The modern-CNNs page through AppTest: the layer table and totals are core's
for the chosen net, width and size; each net draws its block; a too-small
input says so; the book's full-size band is on the accuracy chart; a race
trains three nets on the same data and draws accuracy against seconds."""
from __future__ import annotations

import json

from apptest_support import live_charts, open_page, panel, references, tick_until_stopped

from core.experiments import modern_cnns as mc
from core.ops.layer_table import totals

PAGE, KEY = "topics/modern_cnns.py", "modern_cnns"


def diagram(at) -> str:
    (chart,) = at.get("graphviz_chart")
    return chart.proto.spec


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_the_table_the_block_and_the_band_follow_the_net():
    at = open_page(PAGE)
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    rows = mc.table("resnet", 8, 32)
    assert list(table["layer"]) == [r.name for r in rows]
    assert list(table["parameters"]) == [r.params for r in rows]
    assert list(table["output shape"])[:2] == ["8 x 8 x 8", "8 x 8 x 8"]  # 32 px: /2 by the conv, /2 by the pool
    assert metric(at, "parameters") == f"{totals(rows)['params']:,}"
    assert "shortcut: 1x1 conv, 16, stride 2" in diagram(at) and "+ (add)" in diagram(at)
    assert "11,178,378 parameters" in " ".join(i.value for i in at.info)  # the full-size ResNet-18

    at.selectbox(key="modern_cnns.net").set_value("googlenet").run()
    at.select_slider(key="modern_cnns.width").set_value(1).run()
    at.select_slider(key="modern_cnns.resize").set_value(0).run()
    assert at.dataframe[0].value["output shape"].iloc[-2] == "1024" and metric(at, "input") == "1 x 96 x 96"
    assert "concatenate channels: 64 + 128 + 32 + 32 = 256" in diagram(at)
    at.selectbox(key="modern_cnns.net").set_value("densenet").run()
    at.select_slider(key="modern_cnns.width").set_value(4).run()
    spec = diagram(at)
    assert "concatenate: 16 + 8 = 24" in spec and "transition: BN, ReLU, 1x1 conv, 24" in spec


def test_a_too_small_input_and_bad_links_give_messages():
    at = open_page(PAGE, {"net": "alexnet", "resize": "32"})
    assert not at.exception, at.exception
    assert any("at least 65 px" in w.value and "65 px instead of 32" in w.value for w in at.warning)
    assert metric(at, "input") == "1 x 65 x 65"
    at = open_page(PAGE, {"net": "nosuchnet", "width": "3", "resize": "-1"})
    assert not at.exception, at.exception
    assert metric(at, "input") == "1 x 32 x 32"  # back to the defaults, with a notice under each control


def test_a_race_trains_three_nets_on_the_same_data_and_times_them():
    at = open_page(PAGE, {"width": "16", "num_train": "1000", "num_test": "1000", "num_epochs": "1", "batch_size": "0"})
    next(b for b in at.button if b.label.startswith("Race: LeNet, ResNet-18, DenseNet")).click().run()
    R = panel(at, KEY)
    tick_until_stopped(at)
    at.run()  # the race view of the finished runs
    assert not at.exception, at.exception
    assert set(R.names) == {"LeNet", "ResNet-18", "DenseNet"}
    last = {name: R.history(name)["epochs"][-1] for name in R.names}
    assert all(r["epoch"] == 1 and 0 <= r["test_metric"] <= 1 for r in last.values())
    steps = {name: len(R.history(name)["steps"]) for name in R.names}
    assert steps == {"LeNet": 4, "ResNet-18": 4, "DenseNet": 4}  # 1,000 images in batches of 256
    race = live_charts(at)["Test accuracy against wall time"]
    data = race["data"]
    assert set(data["series"]) == set(R.names)
    for name in R.names:  # one point per epoch at the run's own elapsed seconds
        got = data[data["series"] == name]
        assert list(got["x"]) == [last[name]["elapsed"]] and list(got["y"]) == [last[name]["test_metric"]]
    band = references(live_charts(at)["Accuracy"]["spec"])[0]  # the page's net: ResNet-18
    assert (band["y"], band["y2"]) == (0.893, 0.903) and "full size" in band["label"]
    speed = next(d.value for d in at.dataframe if "seconds per epoch" in d.value.columns)
    assert set(speed["run"]) == set(R.names)
    assert json.dumps(list(speed["epochs"])) == "[1, 1, 1]"
