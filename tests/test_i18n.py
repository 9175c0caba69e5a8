"""English and 中文 (playground/i18n.py, locales/*.toml): both files hold the
same keys with the same {named} values; every page of the catalog has its words
in both languages and shows no English in Chinese, every string the page sends included (markdown,
captions, labels, help texts, buttons, chart titles and axes, the sidebar):
no text of en.toml, and no run of four Latin words outside code and maths;
the navigation carries the Chinese edition's titles; a zh key that is missing
falls back to English and is recorded; ?lang= is checked like any setting."""
from __future__ import annotations

import json
import re
import string

import pytest
from apptest_support import APP, TIMEOUT, open_page, tick_until_stopped
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

from playground import i18n
from playground.catalog import CHAPTERS, TOPICS

# Every page's words come from locales/: chapter 3's from the language files themselves, every later
# page's from a file of its own in each language (locales/en/<page>.toml and locales/zh/<page>.toml).
IN_THE_MAIN_FILES = {"linear_regression", "model_selection", "weight_decay"}
PAGES = [t.url_path for t in TOPICS]

# 《动手学深度学习》's section titles (the catalog's pages) and chapter names.
ZH_TITLES = {
    "linear_regression": "线性回归", "model_selection": "模型选择、欠拟合和过拟合", "weight_decay": "权重衰减",
    "fashion_mnist": "图像分类数据集", "softmax_regression": "softmax回归", "distribution_shift": "环境和分布偏移",
    "mlp": "多层感知机", "backprop": "前向传播、反向传播和计算图", "initialization": "数值稳定性和模型初始化",
    "dropout": "暂退法（Dropout）", "house_prices": "实战Kaggle比赛：预测房价",
    "layers_parameters": "层和块 / 参数管理 / 自定义层", "file_io": "读写文件", "gpus": "GPU",
    "convolutions": "从全连接层到卷积 / 图像卷积", "padding_stride": "填充和步幅", "pooling": "汇聚层",
    "lenet": "卷积神经网络（LeNet）", "batch_norm": "批量规范化",
    "modern_cnns": "现代卷积神经网络：从AlexNet到DenseNet",
    "sequence_models": "序列模型", "text_preprocessing": "文本预处理", "language_models": "语言模型和数据集",
    "rnn": "循环神经网络", "bptt": "通过时间反向传播", "gru_lstm": "门控循环单元（GRU） / 长短期记忆网络（LSTM）",
    "deep_rnn": "深度循环神经网络", "bidirectional_rnn": "双向循环神经网络", "mt_dataset": "机器翻译与数据集",
    "seq2seq": "编码器-解码器架构 / 序列到序列学习（seq2seq）", "beam_search": "束搜索", "convexity": "凸性",
}
ZH_CHAPTERS = ["线性神经网络（回归）", "线性神经网络（分类）", "多层感知机", "深度学习计算", "卷积神经网络",
               "现代卷积神经网络", "循环神经网络", "现代循环神经网络", "优化算法"]


# ------------------------------------------------------------------ the files
def test_both_languages_have_the_same_keys_and_placeholders():
    en, zh = i18n.table("en"), i18n.table("zh")
    assert sorted(set(en) - set(zh)) == [], "in en.toml only"
    assert sorted(set(zh) - set(en)) == [], "in zh.toml only"
    differ = {k: (i18n.placeholders(en[k]), i18n.placeholders(zh[k])) for k in en
              if i18n.placeholders(en[k]) != i18n.placeholders(zh[k])}
    assert differ == {}
    for key, text in {**en, **{f"zh:{k}": v for k, v in zh.items()}}.items():  # every template formats
        assert isinstance(text.format(**dict.fromkeys(i18n.placeholders(text), 1)), str), key


def test_english_file_follows_the_catalog_and_the_configs():
    """en.toml is the English the code had: the catalog's titles and blurbs, the Configs' labels."""
    import dataclasses

    from core.experiments import linear_regression, polynomial, weight_decay
    from core.experiments.schema import controls

    en = i18n.table("en")
    assert {t.url_path: en[f"page.{t.url_path}"] for t in TOPICS} == {t.url_path: t.title for t in TOPICS}
    assert {t.url_path: en[f"blurb.{t.url_path}"] for t in TOPICS} == {t.url_path: t.blurb for t in TOPICS}
    assert [i18n.table("en")[f"chapter.{i18n._slug(c)}"] for c in CHAPTERS] == CHAPTERS
    for module in (linear_regression, polynomial, weight_decay):
        name = module.__name__.rsplit(".", 1)[-1]
        for field, c in controls(module.Config).items():
            assert en[f"{name}.setting.{field}"] == c.label
            assert en.get(f"{name}.help.{field}") == c.help
            shown = i18n.control(c, name, field)  # outside a session: English, from the file
            assert dataclasses.astuple(shown) == dataclasses.astuple(c)


def test_a_missing_chinese_key_falls_back_to_english_and_is_recorded(monkeypatch):
    i18n.clear_records()
    monkeypatch.setattr(i18n, "lang", lambda: "zh")
    assert i18n.t("live.start") == "开始" and i18n.missing() == set()
    monkeypatch.delitem(i18n.table("zh"), "live.progress")
    assert i18n.t("live.progress", epoch=3, num_epochs=10) == "Epoch 3 of 10"
    assert i18n.t("no.such.key") == "no.such.key"  # a mistake in the code shows its key, never an exception
    assert i18n.missing() == {("zh", "live.progress"), ("zh", "no.such.key")}
    # a setting no file names keeps the Config's English label, recorded as untranslated
    from core.experiments.house_prices import Config
    from core.experiments.schema import controls

    c = controls(Config)["k"]
    monkeypatch.delitem(i18n.table("zh"), "house_prices.setting.k", raising=False)
    monkeypatch.delitem(i18n.table("zh"), "house_prices.help.k", raising=False)
    monkeypatch.delitem(i18n.table("en"), "house_prices.setting.k", raising=False)  # a setting no file names
    monkeypatch.delitem(i18n.table("en"), "house_prices.help.k", raising=False)
    assert i18n.control(c, "house_prices", "k").label == c.label
    assert i18n.untranslated() == {("zh", "house_prices.setting.k")} | (
        {("zh", "house_prices.help.k")} if c.help else set())
    i18n.clear_records()


# ------------------------------------------------------------------ the pages
LISTINGS = {("Code", "code_text")}  # st.code's listing (an exported script, a link to copy): code, not words
HTML = {("Html", "body"), ("IFrame", "srcdoc")}  # st.html, components.html: their <script>s are code
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.S | re.I)


def _strings(value, out: list[str]) -> None:
    """Every string inside a protobuf message, JSON chart specs opened (plotly, vega-lite); code
    listings and the scripts in HTML left out (a download button's file is not in the message: a URL)."""
    if isinstance(value, Message):
        kind = value.DESCRIPTOR.full_name
        for field, v in value.ListFields():
            if field.name in ("id", "form_id"):  # a widget's id holds its key, which the page never shows
                continue
            if (kind, field.name) in LISTINGS:
                continue
            if (kind, field.name) in HTML:
                v = SCRIPT.sub(" ", v)
            _strings(v, out)
    elif isinstance(value, str):
        if value[:1] in "{[":
            try:
                _strings(json.loads(value), out)
                return
            except ValueError:
                pass
        out.append(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in ("labelExpr", "test", "expr"):  # vega-lite expressions: code, not words
                _strings(v, out)
    elif isinstance(value, (list, tuple)) or type(value).__name__.startswith("Repeated"):
        for v in value:
            _strings(v, out)


def test_the_collection_leaves_out_only_listings_and_scripts():
    from streamlit.proto.Code_pb2 import Code
    from streamlit.proto.DownloadButton_pb2 import DownloadButton
    from streamlit.proto.Html_pb2 import Html
    from streamlit.proto.Markdown_pb2 import Markdown

    out: list[str] = []
    for message in (Code(code_text="# the loss on all examples\nprint(loss)", language="python"),
                    Html(body="<p>words the page shows</p><script>for (const name of names) go(name);</script>"),
                    DownloadButton(id="k", label="Download run.py", url="/media/abc.py", help="words of its help"),
                    Markdown(body="# the loss on all examples")):
        _strings(message, out)
    assert out == ["python", "<p>words the page shows</p> ", "Download run.py", "words of its help", "/media/abc.py",
                   "# the loss on all examples"]


def page_strings(at: AppTest) -> list[str]:
    """What the page sends to the browser as text: main area and sidebar, widgets included."""
    out: list[str] = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None and isinstance(proto, Message):
            _strings(proto, out)
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)

    walk(at.main)
    walk(at.sidebar)
    return out


LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ ,;:()-]+[A-Za-z][A-Za-z'’]*){3,}")


def latin_runs(at: AppTest, strings: list[str]) -> list[str]:
    """Runs of four or more Latin words outside code listings, `code spans` and $maths$: English
    that a page may have kept in its code rather than in the language files."""
    listings = {el.proto.code_text for el in at.get("code")}
    found = []
    for s in strings:
        if s in listings:
            continue
        s = re.sub(r"`[^`]*`", " ", s)
        s = re.sub(r"\$\$.*?\$\$", " ", s, flags=re.S)
        found += LATIN_RUN.findall(re.sub(r"\$[^$]*\$", " ", s))
    return found


def english_only() -> dict[str, list[str]]:
    """Each English text that differs from its Chinese, as its literal pieces of more than 3 words."""
    en, zh = i18n.table("en"), i18n.table("zh")
    pieces = {}
    for key, text in en.items():
        if text == zh[key]:
            continue
        found = [p.strip() for p, *_ in string.Formatter().parse(text) if len(p.split()) > 3]
        if found:
            pieces[key] = found
    return pieces


def english_seen(strings: list[str]) -> dict[str, str]:
    return {key: piece for key, found in english_only().items() for piece in found
            if any(piece in s for s in strings)}


def test_every_page_has_its_words_in_both_languages():
    """A new page without its language files fails here (and then below, in Chinese)."""
    assert sorted(set(PAGES) - IN_THE_MAIN_FILES - set(i18n.converted())) == []


@pytest.mark.parametrize("url_path", PAGES)
def test_every_page_in_chinese_shows_no_english(url_path):
    i18n.clear_records()
    topic = next(t for t in TOPICS if t.url_path == url_path)
    at = open_page(topic.path, {"lang": "zh"})
    assert not at.exception, at.exception
    assert at.title[0].value == ZH_TITLES[url_path]
    if url_path == "model_selection":  # the validation curve and the folds too (cheap: 20 epochs)
        at.query_params["num_epochs"] = "20"
        next(b for b in at.button if b.key == "model_selection:compute").click().run()
        assert not at.exception, at.exception
        assert any("验证曲线" in s for s in page_strings(at))
    strings = page_strings(at)
    assert english_seen(strings) == {}
    assert latin_runs(at, strings) == []
    assert i18n.missing() == set() and i18n.untranslated() == set()
    assert at.query_params["lang"] == "zh", "kept across pages (open_page starts on the home page)"
    # the same collection in English finds the page's English (the check above can see it)
    en = open_page(topic.path)
    tables = {k.split(".")[0] for k in english_seen(page_strings(en))}
    live = any(b.label == "Start" for b in en.button)  # a page that shows the live panel: the panel's words
    assert tables >= {url_path, "sidebar"} | ({"live"} if live else set()), tables
    assert len(latin_runs(en, page_strings(en))) > 10


def test_weight_decay_in_chinese_after_a_side_by_side_run():
    """The panel's later words: the preset's caption, the finished run's buttons, the final table."""
    i18n.clear_records()
    at = open_page("topics/weight_decay.py", {"lang": "zh", "num_epochs": "10"})
    next(b for b in at.button if b.label == "比较 λ = 0 和 λ = 3").click().run()
    tick_until_stopped(at, timeout=120)
    strings = page_strings(at)
    assert "+2 个迭代周期" in [b.label for b in at.button]
    assert any("正在显示 *比较 λ = 0 和 λ = 3*：从同一个种子并排训练的 2 次运行" in s for s in strings)
    assert "新的运行" in strings  # the finished run's popover
    assert "第 10 / 10 个迭代周期" in strings
    assert english_seen(strings) == {}
    assert latin_runs(at, strings) == []
    assert i18n.missing() == set() and i18n.untranslated() == set()


def test_navigation_and_home_in_chinese(monkeypatch):
    import streamlit

    seen: list[dict] = []
    real = streamlit.navigation

    def spy(pages, **kw):
        seen.append({section: [p.title for p in entries] for section, entries in pages.items()})
        return real(pages, **kw)

    monkeypatch.setattr(streamlit, "navigation", spy)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception, at.exception
    nav = seen[-1]
    assert nav[""] == ["首页"]
    assert [s for s in nav if s] == ZH_CHAPTERS
    by_url = {t.url_path: t for t in TOPICS}
    titles = {ZH_TITLES[u]: by_url[u] for u in ZH_TITLES}
    assert sorted(title for entries in nav.values() for title in entries if title != "首页") == sorted(titles)
    for section, entries in nav.items():  # each title under its chapter's Chinese name
        for title in entries[1:] if section == "" else entries:
            assert ZH_CHAPTERS[CHAPTERS.index(titles[title].chapter)] == section
    # the home page: chapter headings, links and blurbs in Chinese
    assert at.title[0].value == "d2l 游乐场"
    assert [h.value for h in at.subheader] == ZH_CHAPTERS
    labels = {link.proto.label for link in at.get("page_link")}
    assert labels == {f"{t.section} {ZH_TITLES[t.url_path]}" for t in TOPICS}
    assert english_seen(page_strings(at)) == {}
    assert latin_runs(at, page_strings(at)) == []


@pytest.mark.parametrize("raw", ["fr", "\x07<script>alert(1)</script> 中文 " + "x" * 3000])
def test_an_unknown_language_falls_back_to_english_with_a_notice(raw):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lang"] = raw
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "d2l playground"
    notices = [c.value for c in at.sidebar.caption]
    shown = "`fr`" if raw == "fr" else "`<script>alert(1)</sc...`"  # cut, the bell character dropped
    assert any(f"The link's value for *Language / 语言* ({shown}) is not one of the choices; using English "
               "instead." in n for n in notices), notices
    assert at.session_state[i18n.KEY] == "en" and "lang" not in at.query_params


@pytest.mark.parametrize("url_path", ["fashion_mnist", "gru_lstm", "house_prices", "mt_dataset"])
def test_missing_data_in_chinese_shows_no_english(no_data, url_path):
    """Offline with no data files: the notice, where the playground looked, the upload and the
    stand-in, all in Chinese (the file names and the folder are data)."""
    i18n.clear_records()
    topic = next(t for t in TOPICS if t.url_path == url_path)
    at = open_page(topic.path, {"lang": "zh"})
    assert not at.exception, at.exception
    assert at.warning, "the page says its data is missing"
    strings = page_strings(at)
    assert english_seen(strings) == {}
    assert latin_runs(at, strings) == []
    assert i18n.missing() == set() and i18n.untranslated() == set()
