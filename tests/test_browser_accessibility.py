"""Overlays in the colour-blind-safe look, in a real browser: the weight-decay
compare preset (two runs: one marker each, train dashed), model selection's
three fits (one dash each), the softmax confusion matrix (viridis, before training) and the
distribution-shift picture (classes by marker). One server, four pages, a
screenshot of each in test-artifacts/ (accessible-*.png)."""
from __future__ import annotations

import pytest
from browser_support import no_exceptions, open_page, require_browser, shot

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1400, 2600)

# the traces of every plotly figure on the page: title, then (name, dash, marker symbol, colorscale) per trace
PLOTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => ({
    title: ((el.layout && el.layout.title && el.layout.title.text) || '').replace(/<[^>]+>/g, ''),
    traces: (el.data || []).map(tr => ({name: tr.name || '', dash: (tr.line && tr.line.dash) || '',
        symbol: (tr.marker && tr.marker.symbol) || '', colorscale: JSON.stringify(tr.colorscale || '')})),
}))"""
# the symbols vega drew on a live chart: their shapes (the path's outline) per legend entry
SYMBOLS_JS = """(title) => {
    for (const el of document.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
        const t = el.querySelector('g.role-title text');
        if (!t || t.textContent !== title) continue;
        const out = {};
        el.querySelectorAll('g.mark-symbol.role-mark path').forEach(p => {
            const m = /series: ([^;]*)/.exec(p.getAttribute('aria-label') || '');
            if (m) (out[m[1].trim()] = out[m[1].trim()] || new Set()).add(p.getAttribute('d'));
        });
        return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.size]));
    }
    return null;
}"""


def plots(page) -> dict[str, list[dict]]:
    return {p["title"]: p["traces"] for p in page.evaluate(PLOTS_JS)}


def show(page, title_start: str) -> None:
    """Scroll the plotly figure whose title starts with `title_start` into the screenshot."""
    page.locator(".js-plotly-plot").filter(has=page.locator(f"text={title_start}")).first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)


def train_preset(page, app_url: str, path: str, title: str, button: str, epochs: int) -> None:
    open_page(page, f"{app_url}/{path}?num_epochs={epochs}", title)
    page.wait_for_selector(f"text=Epoch 0 of {epochs}", timeout=60_000)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_selector(f"text=Epoch {epochs} of {epochs}", timeout=60_000)
    page.wait_for_timeout(1500)  # the last redraw of the charts and views


def test_overlays_differ_without_colour(app_url, page):
    # weight decay: λ = 0 and λ = 3 side by side, each run its own marker, test solid and train dashed
    train_preset(page, app_url, "weight_decay", "Weight decay", "Compare λ = 0 and λ = 3", 10)
    symbols = page.evaluate(SYMBOLS_JS, "Loss")
    runs = {name.rsplit(" · ", 1)[0] for name in symbols}
    assert runs == {"λ = 0", "λ = 3"} and all(n >= 1 for n in symbols.values()), symbols
    no_exceptions(page)
    shot(page, "accessible-weight-decay")

    # model selection: the three fits, one dash each, beside the dashed true cubic
    train_preset(page, app_url, "model_selection", "Model selection, underfitting and overfitting",
                 "Three cases: 4, 2 and 20 features", 20)
    page.wait_for_function(f"() => ({PLOTS_JS})().some(p => p.title === 'The fitted polynomials' "
                           "&& p.traces.some(t => t.name === 'overfit (20)'))", timeout=60_000)
    fits = {t["name"]: t for t in plots(page)["The fitted polynomials"]}
    dashes = [fits[name]["dash"] for name in ("normal (4)", "underfit (2)", "overfit (20)")]
    assert len(set(dashes + [fits["true cubic"]["dash"]])) == 4, fits
    assert fits["training examples"]["symbol"] != fits["test examples"]["symbol"]
    no_exceptions(page)
    show(page, "The fitted polynomials")
    shot(page, "accessible-model-selection")

    # softmax regression: the confusion matrix (drawn before training too) in viridis
    open_page(page, f"{app_url}/softmax_regression", "Softmax regression")
    page.wait_for_function(f"() => ({PLOTS_JS})().some(p => p.title.startsWith('Confusion matrix, epoch 0'))",
                           timeout=90_000)
    confusion = next(t for title, t in plots(page).items() if title.startswith("Confusion matrix"))
    assert "#440154" in confusion[0]["colorscale"].lower()  # viridis's dark end
    no_exceptions(page)
    show(page, "Confusion matrix")
    shot(page, "accessible-softmax")

    # distribution shift: classes by marker, the two learned boundaries by dash
    train_preset(page, app_url, "distribution_shift", "Environment and distribution shift",
                 "Uncorrected vs corrected", 2)
    page.wait_for_function(f"() => ({PLOTS_JS})().some(p => p.traces.some(t => "
                           "t.name === 'learned boundary: corrected (β)'))", timeout=60_000)
    scatter = next(t for t in plots(page).values() if any(tr["name"] == "train, y = 0 (size: β)" for tr in t))
    by_name = {t["name"]: t for t in scatter}
    assert by_name["train, y = 0 (size: β)"]["symbol"] != by_name["train, y = 1 (size: β)"]["symbol"]
    assert by_name["learned boundary: uncorrected"]["dash"] != by_name["learned boundary: corrected (β)"]["dash"]
    no_exceptions(page)
    show(page, "Training (source) and test (target) inputs")
    shot(page, "accessible-distribution-shift")
