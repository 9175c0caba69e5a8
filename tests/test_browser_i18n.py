"""English and 中文 in a real browser (Chromium via Playwright against `streamlit
run`): /weight_decay?lang=zh draws its sidebar, title and panel in Chinese, the
language is kept when the navigation goes to another page, and the sidebar's
switch turns the page English. One page of every chapter is shot in Chinese to
test-artifacts/browser-i18n-<page>-zh.png (the CJK glyphs need a CJK font on the
machine: fonts-wqy-microhei, see the Makefile)."""
from __future__ import annotations

import pytest
from browser_support import no_exceptions, open_page, query, require_browser, shot, wait_idle, wait_query

from playground import i18n
from playground.catalog import CHAPTERS, TOPICS

pytestmark = pytest.mark.browser
require_browser()
VIEWPORT = (1400, 3000)  # tall: the linear-regression pictures sit below the live charts


def test_chinese_page_navigation_and_switch_to_english(app_url, page):
    open_page(page, app_url + "/weight_decay?lang=zh", "权重衰减")
    sidebar = page.locator("[data-testid='stSidebar']")
    nav = page.locator("[data-testid='stSidebarNav']")
    for text in ("线性神经网络（回归）", "模型选择、欠拟合和过拟合", "暂退法（Dropout）", "现代循环神经网络"):
        assert nav.get_by_text(text, exact=True).count() >= 1, text
    assert sidebar.get_by_text("随机种子", exact=True).count() == 1
    for name in ("开始", "单步", "重置", "比较 λ = 0 和 λ = 3"):
        page.get_by_role("button", name=name, exact=True).wait_for(timeout=60_000)
    page.wait_for_selector("text=第 0 / 100 个迭代周期", timeout=60_000)
    assert "The book's experiment" not in page.inner_text("body")
    no_exceptions(page)
    shot(page, "browser-i18n-weight-decay-zh")

    nav.get_by_text("线性回归", exact=True).click()  # another page: the language goes along
    page.wait_for_selector("h1:has-text('线性回归')", timeout=60_000)
    wait_query(page, "lang", "zh")
    page.wait_for_selector("text=第 0 / 3 个迭代周期", timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=120_000)
    wait_idle(page, 60_000)
    no_exceptions(page)
    shot(page, "browser-i18n-linear-regression-zh")

    sidebar.get_by_text("English", exact=True).click()
    page.wait_for_selector("h1:has-text('Linear regression')", timeout=60_000)
    page.get_by_role("button", name="Start", exact=True).wait_for(timeout=60_000)
    assert nav.get_by_text("Linear Neural Networks for Regression", exact=True).count() == 1
    assert sidebar.get_by_text("Seed", exact=True).count() == 1
    page.wait_for_function("() => !new URLSearchParams(location.search).has('lang')", timeout=30_000)
    assert "lang" not in query(page)
    no_exceptions(page)


# One page of each later chapter (chapter 3 is shot above), chosen for its pictures.
CHAPTER_PAGES = ["distribution_shift", "backprop", "layers_parameters", "padding_stride", "modern_cnns",
                 "sequence_models", "seq2seq", "convexity"]


@pytest.mark.parametrize("url_path", CHAPTER_PAGES)
def test_one_page_of_every_chapter_in_chinese(app_url, page, url_path):
    zh = i18n.table("zh")
    page.set_viewport_size({"width": VIEWPORT[0], "height": 1600})
    open_page(page, f"{app_url}/{url_path}?lang=zh", zh[f"page.{url_path}"], timeout=180_000)
    chapter = next(t.chapter for t in TOPICS if t.url_path == url_path)
    nav = page.locator("[data-testid='stSidebarNav']")
    assert nav.get_by_text(zh[f"chapter.{i18n._slug(chapter)}"], exact=True).count() >= 1
    page.wait_for_function("() => !document.querySelector(\"[data-testid='stSkeleton']\")", timeout=60_000)
    page.wait_for_timeout(1_000)  # the charts' last paint
    body = page.inner_text("[data-testid='stMain']")
    assert "What to look for" not in body and "Start" not in body.split()  # the panel's and the page's words
    no_exceptions(page)
    shot(page, f"browser-i18n-{url_path}-zh")


def test_the_chapter_pages_cover_every_chapter():
    by_url = {t.url_path: t.chapter for t in TOPICS}
    assert [by_url[u] for u in CHAPTER_PAGES] == CHAPTERS[1:]
