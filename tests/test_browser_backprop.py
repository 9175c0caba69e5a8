"""The backpropagation page in a real browser (Chromium via Playwright): Next
walks the forward pass and into the backward one; the graph is drawn with the
step's node highlighted and the chain rule typeset. Screenshots go to
test-artifacts/.

Where Chromium or Playwright is missing these tests are skipped with the reason
printed, except under CI (CI=true), where a missing browser is a failure."""
from __future__ import annotations

import pytest
from browser_support import no_exceptions, open_page, query, require_browser, shot, wait_query, wait_settled

from playground.compgraph import CURRENT

pytestmark = pytest.mark.browser
require_browser()
TITLE = "Forward propagation, backward propagation and computational graphs"
VIEWPORT = (1500, 2000)  # tall enough for the graph and the chain rule in one screenshot


HIGHLIGHTED_JS = """(name) => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .flatMap(el => el.data || []).filter(tr => tr.name === name).flatMap(tr => tr.customdata || [])"""


def highlighted(page) -> list[str]:
    """The nodes the drawn graph highlights (its 'current step' trace), once
    plotly has drawn it (a loaded machine draws it after the script settles)."""
    page.wait_for_function(f"(name) => ({HIGHLIGHTED_JS})(name).length > 0", arg=CURRENT, timeout=60_000)
    return page.evaluate(HIGHLIGHTED_JS, CURRENT)


def drawn_nodes(page) -> int:
    return page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .flatMap(el => el.data || []).filter(tr => ['variable', 'parameter', 'operator'].includes(tr.name))
        .reduce((n, tr) => n + tr.x.length, 0)""")


def test_next_until_the_backward_pass_starts(app_url, page):
    open_page(page, app_url + "/backprop", TITLE)
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    assert drawn_nodes(page) == 16  # 10 variables and parameters, 6 operators
    assert sorted(highlighted(page)) == ["W1", "W2", "x", "y"]
    for k in range(1, 8):  # six forward steps, then the first backward one
        page.get_by_role("button", name="Next", exact=True).first.click()
        wait_query(page, "bp_step", str(k))
        wait_settled(page)
        no_exceptions(page)
    assert query(page)["bp_step"] == "7"
    page.wait_for_function("(name) => Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap("
                           "el => el.data || []).some(tr => tr.name === name && (tr.customdata || [])[0] === 'J')",
                           arg=CURRENT, timeout=30_000)
    assert page.get_by_text("Step 7 of 14: backward: ∂J/∂J.").count() == 1
    page.get_by_role("button", name="Next", exact=True).first.click()
    wait_query(page, "bp_step", "8")
    wait_settled(page)
    assert highlighted(page)[0] == "L"
    assert page.locator(".katex").count() == 2  # the equations, and dJ/dL = 1 (the seed: no numbers to show)
    no_exceptions(page)
    shot(page, "browser-backprop-backward")
    page.goto(app_url + "/backprop?bp_step=11")
    page.wait_for_selector("text=Step 11 of 14", timeout=30_000)
    wait_settled(page)
    assert highlighted(page)[0] == "W2"
    assert page.locator(".katex").count() == 3  # the equations, the book's chain rule, the same with numbers
    no_exceptions(page)
    shot(page, "browser-backprop-dW2")


def test_autograd_mode_in_the_browser(app_url, page):
    open_page(page, app_url + "/backprop?bp_mode=Autograd&expr=sigmoid(w.x%2Bb)&ag_step=7", TITLE)
    page.wait_for_selector("text=Step 7 of 9", timeout=30_000)
    wait_settled(page)
    assert highlighted(page)[0] == "b"
    assert drawn_nodes(page) == 9  # x, w, b, u, v, z and three operators
    page.get_by_role("button", name="Next", exact=True).first.click()
    wait_query(page, "ag_step", "8")
    wait_settled(page)
    assert highlighted(page)[0] == "w"
    no_exceptions(page)
    shot(page, "browser-backprop-autograd")


def test_larger_shapes_and_cross_entropy_at_the_last_step(app_url, page):
    link = ("/backprop?bp_step=14&phi=tanh&loss=softmax_ce&lambd=0.5&x=1,-2,0.5"
            "&W1=0.1,0.2,0.3;-1,0.5,2;0,1,-1;0.3,0.3,0.3&W2=1,0,-1,2;0.5,0.5,0.5,0.5;-2,1,0,1&y=0,0,1")
    open_page(page, app_url + link, TITLE)
    page.wait_for_selector("text=Step 14 of 14", timeout=30_000)
    wait_settled(page)
    assert highlighted(page)[0] == "W1"
    assert page.get_by_text("every value and gradient agrees with the hand computation").count() == 1
    no_exceptions(page)
    shot(page, "browser-backprop-large")
