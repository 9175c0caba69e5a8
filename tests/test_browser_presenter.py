"""Presenter mode in a real browser at a projector's 1280 × 720: the sidebar
folded away, larger type, the keyboard shortcuts (space Start/Pause, → Step,
r Reset; ← / → Back / Next on a step-through view; none while typing in a box),
and every control of a training page reachable with Tab. Screenshots go to
test-artifacts/ (presenter-*.png).

Where Chromium or Playwright is missing this test is skipped with the reason
printed, except under CI (CI=true), where a missing browser is a failure."""
from __future__ import annotations

import re

import pytest
from browser_support import no_exceptions, open_page, query, require_browser, shot, wait_query, wait_settled

from playground.presenter import ROOT_PX

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1280, 720)
EPOCHS = 300  # the slider's maximum: the run is still going when the second space arrives

PROGRESS_JS = """() => { const p = document.querySelector('[data-testid="stProgress"]');
                         return p ? p.innerText.trim() : ''; }"""
# Every enabled control of the page's main area, marked so that focus can be matched to it.
CONTROLS_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const found = Array.from(main.querySelectorAll(
      'button, [role="slider"], input[type="checkbox"], input[role="combobox"], input[type="text"], textarea'))
    .filter(el => !el.disabled && el.getClientRects().length > 0 && !el.closest('[data-testid="stVegaLiteChart"]')
                  && !el.closest('details:not([open])'));  // not inside a folded expander (Show the PyTorch)
  found.forEach((el, i) => el.setAttribute('data-tab-probe', String(i)));
  return found.map(el => (el.getAttribute('role') || el.tagName.toLowerCase()) + ':' +
                         (el.innerText || el.getAttribute('aria-label') || '').trim().slice(0, 30));
}"""

# the panel's buttons at the top of the window, below Streamlit's header
SCROLL_TO_JS = """(el) => { el.scrollIntoView({block: 'start'});
  const boxes = ['stMain', 'stAppScrollToBottomContainer'].map(id => document.querySelector(`[data-testid="${id}"]`));
  for (const s of [window, ...boxes]) if (s) s.scrollBy(0, -110); }"""


def progress(page) -> str:
    return page.evaluate(PROGRESS_JS)


def wait_progress(page, pattern: str, timeout: float = 60_000) -> str:
    page.wait_for_function(f"() => new RegExp({pattern!r}).test(({PROGRESS_JS})())", timeout=timeout)
    return progress(page)


def epoch(text: str) -> int:
    return int(re.match(r"Epoch (\d+) of", text).group(1))


def test_presenter_mode_keys_and_tab_order(app_url, page):
    open_page(page, f"{app_url}/weight_decay?present=1&num_epochs={EPOCHS}", "Weight decay")
    page.wait_for_selector(".st-key-weight_decay-start button")
    # the sidebar is folded away, the type larger (Streamlit's root size is 16 px)
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.count() == 0 or sidebar.evaluate("el => el.getBoundingClientRect().right") <= 1
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == f"{ROOT_PX}px"
    body = page.evaluate("parseFloat(getComputedStyle(document.querySelector("
                         "'[data-testid=stMain] [data-testid=stMarkdownContainer] p')).fontSize)")
    assert body >= 20  # 0.95 rem: 15.2 px normally
    assert query(page)["present"] == "1"
    shot(page, "presenter-weight-decay-top")

    # keys typed into a control are the control's: a focused slider keeps its r and space
    page.get_by_role("slider").first.focus()
    page.keyboard.press("r")
    page.keyboard.press(" ")
    page.wait_for_timeout(1500)
    assert progress(page) == f"Epoch 0 of {EPOCHS}"
    page.evaluate("document.activeElement.blur()")

    page.keyboard.press(" ")  # Start
    wait_progress(page, r"\(running\)")
    page.keyboard.press(" ")  # Pause
    paused = wait_progress(page, r"^Epoch \d+ of \d+$")
    k = epoch(paused)
    assert 0 <= k < EPOCHS
    page.keyboard.press("ArrowRight")  # Step: one epoch
    wait_progress(page, rf"^Epoch {k + 1} of {EPOCHS}$")
    wait_settled(page)
    page.locator(".st-key-weight_decay-start").evaluate(SCROLL_TO_JS)
    shot(page, "presenter-weight-decay-panel")
    page.keyboard.press("r")  # Reset
    wait_progress(page, rf"^Epoch 0 of {EPOCHS}$")
    no_exceptions(page)

    # Tab reaches every control of the page
    wait_settled(page)
    controls = page.evaluate(CONTROLS_JS)
    assert len(controls) >= 6, controls  # two sliders, the preset, Start, Step, Reset at least
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    reached: set[str] = set()
    for _ in range(4 * len(controls) + 30):
        page.keyboard.press("Tab")
        probe = page.evaluate("document.activeElement && document.activeElement.getAttribute('data-tab-probe')")
        if probe is not None:
            reached.add(probe)
        if len(reached) == len(controls):
            break
    missed = [i for i in range(len(controls)) if str(i) not in reached]
    assert not missed, "not reached with Tab: " + " | ".join(page.evaluate(
        "(ids) => ids.map(i => document.querySelector(`[data-tab-probe='${i}']`).outerHTML.slice(0, 300))", missed))
    page.evaluate("document.activeElement.blur()")

    # a step-through view: → Next, ← Back; never while typing in a box
    open_page(page, f"{app_url}/backprop?present=1",
              "Forward propagation, backward propagation and computational graphs")
    page.wait_for_selector(".st-key-bp_step-next button")
    for key, step in (("ArrowRight", 1), ("ArrowRight", 2), ("ArrowLeft", 1)):
        wait_settled(page)  # (a key, like a click, pressed while the page redraws can be lost)
        page.keyboard.press(key)
        wait_query(page, "bp_step", str(step))
    wait_settled(page)
    box = page.get_by_role("textbox", name="x (d entries)")
    box.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press(" ")
    page.keyboard.press("r")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(1500)
    assert query(page)["bp_step"] == "1"
    assert box.input_value() == "1,  r2"  # the keys went into the box: ← moved the cursor before the 2
    shot(page, "presenter-backprop")
    no_exceptions(page)
