"""The modern-CNNs page in a real browser (Chromium via Playwright against
`streamlit run`): pick DenseNet in the net box, see the layer table and the
block diagram become DenseNet's, press Start and watch the accuracy chart and
the accuracy-against-seconds chart fill in. Screenshots go to test-artifacts/."""
from __future__ import annotations

import pytest
from browser_support import (
    live_points,
    metric,
    no_exceptions,
    open_page,
    query,
    require_browser,
    shot,
    wait_idle,
    wait_metric,
    wait_query,
    wait_settled,
    widget,
)

from core.experiments import modern_cnns as mc
from core.ops.layer_table import totals

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1400, 4200)  # tall: the table, the diagram and the live charts

DIAGRAM_JS = """() => Array.from(document.querySelectorAll('[data-testid="stGraphVizChart"] svg text'))
    .map(t => t.textContent).join(' | ')"""


def params(net: str) -> str:
    return f"{totals(mc.table(net, 16, 32))['params']:,}"


def test_pick_densenet_see_its_block_start_and_the_accuracy_grows(app_url, page):
    open_page(page, app_url + "/modern_cnns?width=16&num_train=1000&num_test=1000&num_epochs=2", "Modern CNNs")
    page.wait_for_function(f"() => ({DIAGRAM_JS})().includes('shortcut')", timeout=120_000)  # ResNet's block
    assert metric(page, "parameters") == params("resnet")  # the table's total, drawn on a canvas grid

    widget(page, "stSelectbox", "net").click()
    page.get_by_role("option", name="DenseNet (8.7)").click()
    wait_query(page, "net", "densenet")
    page.wait_for_function(f"() => ({DIAGRAM_JS})().includes('transition')", timeout=120_000)
    diagram = page.evaluate(DIAGRAM_JS)
    assert "concatenate: 4 + 2 = 6" in diagram and "shortcut" not in diagram  # width 16: 64/16 in, 32/16 growth
    wait_metric(page, "parameters", params("densenet"), timeout=60_000)
    wait_idle(page, 120_000)
    wait_settled(page, 120_000)  # every element redrawn for DenseNet before the picture
    no_exceptions(page)
    shot(page, "browser-modern-cnns-densenet")

    assert live_points(page, "Accuracy") == 0
    page.get_by_role("button", name="Start", exact=True).click()
    page.wait_for_selector("text=Epoch 2 of 2", timeout=120_000)
    page.wait_for_function("""() => Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]'))
        .some(el => (el.querySelector('g.role-title text') || {}).textContent === 'Test accuracy against wall time'
                    && el.querySelectorAll('g.mark-line path').length > 0)""", timeout=60_000)
    assert live_points(page, "Accuracy") == 2
    assert live_points(page, "Test accuracy against wall time") == 2
    assert query(page) == {"net": "densenet", "width": "16", "num_train": "1000", "num_test": "1000",
                           "num_epochs": "2"}
    no_exceptions(page)
    shot(page, "browser-modern-cnns-trained")
