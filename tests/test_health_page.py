"""The Health panel on a training page (AppTest): the expander is drawn, a run
that diverges names the step, the layer and the lr in the panel's warning, and
the Rewind button puts the run back to its last good snapshot."""
from __future__ import annotations

from apptest_support import open_page, panel, tick_until, tick_until_stopped

from core.train import health
from core.train.live_run import State

PAGE, KEY = "topics/linear_regression.py", "linear_regression"


def test_health_expander_divergence_message_and_rewind():
    at = open_page(PAGE, {"lr": "5.0"})
    assert [e.label for e in at.expander if e.label == "Health"] == ["Health"]
    S = panel(at, KEY)
    tick_until(at, lambda at: not S.building)
    at.button(key=f"{KEY}:start").click().run()
    tick_until_stopped(at)
    assert S.state == State.DIVERGED
    steps = S.history()["steps"]
    found = health.divergence(steps)
    assert found["step"] == len(steps) and found["lr"] == 5.0 and found["layer"] == "net"
    warning = " ".join(w.value for w in at.warning)
    assert f"at step {found['step']} with lr = 5," in warning and "`net`" in warning
    assert "The loss became NaN or infinite" in warning  # the generic words stay in front
    assert not at.exception and not at.error
    # the Health charts have the recorded steps of this run
    recorded = [r["step"] for r in steps if health.KEY in r]
    assert recorded[0] == 1 and all(health.recorded(s, 100 // 20) for s in recorded)  # on the 5-step grid
    assert set(steps[recorded[-1] - 1][health.KEY]) == set(health.STATS)
    at.button(key=f"{KEY}:health:rewind").click().run()
    assert not at.exception
    assert S.state == State.IDLE and 0 < S.steps < found["step"]
    assert health.divergence(S.history()["steps"]) is None
    assert any(f"Rewound to step {S.steps}." in i.value for i in at.info)
