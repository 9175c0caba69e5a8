"""The app in a real browser: Debian's Chromium driven by Playwright against
`streamlit run` on localhost. Screenshots go to test-artifacts/.

Where Chromium or Playwright is missing these tests are skipped with the reason
printed, except under CI (CI=true), where a missing browser is a failure."""
from __future__ import annotations

import math
import time

import pytest
from browser_support import (
    live_placeholders,
    live_series,
    live_ticks,
    metric,
    no_exceptions,
    press_slider,
    query,
    require_browser,
    shot,
    streamlit_server,
    wait_metric,
    wait_query,
)

from core.ops.convexity import FUNCTIONS
from playground.charts import EMPTY_TEXT

pytestmark = pytest.mark.browser
require_browser()


def jensen_gap(a: float, b: float = 1.0, lam: float = 0.3) -> str:
    """The convexity page's gap metric for x^2, from core's function."""
    f = FUNCTIONS["x^2"].f
    return f"{lam * f(a) + (1 - lam) * f(b) - f(lam * a + (1 - lam) * b):+.4f}"


def text_of(page, selector: str) -> str:
    return page.locator(selector).first.inner_text()


def test_a_direct_link_on_a_fresh_server_gets_the_whole_app(page):
    """The first request of a new server is a page link: the entry script must still
    run (the chapter navigation, the shared seed), not the page file alone."""
    with streamlit_server() as url:
        page.goto(url + "/convexity?fn=x%5E3")
        page.wait_for_selector("h1:has-text('Convexity')", timeout=60_000)
        page.wait_for_selector("[data-testid='stSidebarNav']", timeout=30_000)
        nav = page.locator("[data-testid='stSidebarNav']").inner_text()
        assert "Optimization Algorithms" in nav and "streamlit app" not in nav.lower()
        page.wait_for_selector("[data-testid='stNumberInput']:has-text('Seed')", timeout=30_000)
        page.wait_for_selector("text=(not convex)", timeout=30_000)  # the URL's fn=x^3 was applied
        no_exceptions(page)


def test_home_navigation_and_a_slider(app_url, page):
    page.goto(app_url)
    page.wait_for_selector("h1:has-text('d2l playground')", timeout=60_000)
    shot(page, "browser-home")
    no_exceptions(page)
    page.locator("[data-testid='stSidebarNav'] a", has_text="Convexity").click()
    page.wait_for_selector("h1:has-text('Convexity')", timeout=60_000)
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    assert metric(page, "gap") == jensen_gap(-1.5)  # the defaults: f = x^2, a = -1.5, b = 1, λ = 0.3
    press_slider(page, "a", "ArrowRight", 5)  # a: -1.5 + 5 steps of 0.05
    wait_metric(page, "gap", jensen_gap(-1.25))
    wait_query(page, "a", "-1.25")
    assert query(page)["a"] == "-1.25"
    no_exceptions(page)
    shot(page, "browser-convexity")


def test_weight_decay_trains_live(app_url, page):
    page.goto(app_url + "/weight_decay?weight_decay=3&num_epochs=300")
    page.wait_for_selector("h1:has-text('Weight decay')", timeout=60_000)
    page.wait_for_selector("button:has-text('Start')", timeout=30_000)
    page.wait_for_selector("[data-testid='stVegaLiteChart'] g.mark-text text", timeout=30_000)
    assert live_placeholders(page).count(EMPTY_TEXT) == 3  # loss, ‖w‖, minibatch loss: no made-up axes
    assert live_ticks(page, "Loss") == []
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_selector("text=Epoch 300 of 300", timeout=120_000)
    time.sleep(1.0)
    drawn = live_series(page)
    assert drawn["Loss"] == {"train": 300, "test": 300} and drawn["L2 norm of w"] == {"‖w‖": 300}, drawn
    assert 300 < drawn["Minibatch loss"]["train"] <= 400  # 1,200 minibatches, drawn as at most 400 points
    assert EMPTY_TEXT not in live_placeholders(page)
    for title in ("Loss", "Minibatch loss"):  # log axes: powers of ten only, 0.01 or 1e-4 style
        ticks = live_ticks(page, title)
        assert len(ticks) >= 2 and not any("μ" in t or "m" in t or "k" in t for t in ticks), (title, ticks)
        values = [float(t.replace("\u2212", "-")) for t in ticks]
        assert all(abs(math.log10(v) - round(math.log10(v))) < 1e-9 for v in values), (title, ticks)
    w_norm = float(text_of(page, "[data-testid='stMetric']:has-text('‖w‖')").split()[-1])
    assert 0 < w_norm < 1, w_norm  # from about 14 at the start: λ = 3 shrinks the weights
    no_exceptions(page)
    shot(page, "browser-weight-decay")


def test_compare_preset_trains_both_side_by_side(app_url, page):
    """One click trains λ = 0 and λ = 3 side by side from the same initial weights;
    the page's own λ and the URL are left alone."""
    page.goto(app_url + "/weight_decay?weight_decay=1")
    page.wait_for_selector("button:has-text('Compare')", timeout=60_000)
    page.get_by_role("button", name="Compare λ = 0 and λ = 3").click()
    page.wait_for_selector("text=Epoch 100 of 100", timeout=90_000)
    time.sleep(1.0)
    loss = live_series(page, "Loss")["Loss"]
    assert loss["λ = 0 · test"] == loss["λ = 3 · test"] == loss["λ = 0 · train"] == 100, loss
    norms = [float(m.inner_text().split()[-1]) for m in page.locator("[data-testid='stMetric']:has-text('‖w‖')").all()]
    assert len(norms) == 2 and norms[0] > 10 and norms[1] < 1, norms
    assert page.locator("text=Losses shown").first.inner_text().startswith("λ = 1.")
    assert "weight_decay=1" in page.url
    no_exceptions(page)
    shot(page, "browser-weight-decay-compare")
