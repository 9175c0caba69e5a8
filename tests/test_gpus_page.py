"""The GPUs page through AppTest: on this CPU-only machine it says so plainly,
shows the book's try_gpu / try_all_gpus falling back to the CPU, and times the
matrix product and the MLP's minibatches; the table's GFLOP/s is 2n^3 over the
measured seconds, and moving n re-times at the new size."""
from __future__ import annotations

import pytest
import torch
from apptest_support import find_widget, open_page

PAGE = "topics/gpus.py"


def table(at):
    return at.dataframe[-1].value


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the page of a CPU-only server")
def test_cpu_only_server_says_so_and_times_the_work():
    at = open_page(PAGE, {"n": "512", "batches": "10"})
    assert not at.exception, at.exception
    assert any("has no GPU that torch can use" in i.value for i in at.info)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["torch.cuda.is_available()"] == "False" and metrics["torch.cuda.device_count()"] == "0"
    assert metrics["the playground trains on"] == "cpu"
    code = " ".join(c.value for c in at.code)
    assert "try_gpu()      # cpu" in code and "try_all_gpus() # [device(type='cpu')]" in code
    rows = table(at)
    assert list(rows["device"]) == ["cpu"] and list(rows["n"]) == [512]
    row = rows.iloc[0]
    assert row["GFLOP/s"] == pytest.approx(2 * 512 ** 3 / row["product (s)"] / 1e9)
    assert row["minibatches timed"] == 10 and row["MLP examples/sec"] > 0
    assert row["MLP epoch (s, est.)"] == pytest.approx(60000 / row["MLP examples/sec"])
    assert any("Measured in a training worker" in c.value for c in at.caption)  # not in the web process

    find_widget(at, "n", "gpus").set_value(256).run()
    assert not at.exception, at.exception
    row = table(at).iloc[0]
    assert row["n"] == 256 and row["GFLOP/s"] == pytest.approx(2 * 256 ** 3 / row["product (s)"] / 1e9)
    assert at.query_params["n"] == "256"
