"""The d2l playground: entry script. Navigation over the topic pages, grouped by
the book's chapters, and the controls every page shares (seed, device)."""
import streamlit as st

from core.train.device import set_threads_once
from playground import i18n, presenter
from playground.catalog import by_chapter
from playground.controls import PAGE, sidebar_seed_and_device
from playground.data import data_folder_setting
from playground.i18n import t
from playground.state import timed_run

set_threads_once()
i18n.switch()  # ?lang=: first, as the navigation's words depend on it
st.set_page_config(page_title=t("app.title"), page_icon=":material/school:", layout="wide",
                   initial_sidebar_state=presenter.sidebar_state())  # ?present=1: folded away

home = st.Page("topics/home.py", title=t("home.nav"), icon=":material/home:", default=True)
sections = {"": [home]}
for chapter, topics in by_chapter().items():
    sections[i18n.chapter(chapter)] = [st.Page(p.path, title=i18n.page_title(p.url_path), icon=p.icon,
                                               url_path=p.url_path) for p in topics]
page = st.navigation(sections, expanded=True)  # every chapter in view, however many pages
st.session_state[PAGE] = page.url_path or "home"  # namespaces each page's widget keys
presenter.before_page()  # presenter mode's toggle and type, the keyboard shortcuts
sidebar_seed_and_device()
data_folder_setting()
hide_notice = st.empty()  # says which names a link's ?hide= does not know, once the page has run
with timed_run(page.url_path or "home"):  # PLAYGROUND_RUN_LOG: each script run's duration (benchmarks)
    page.run()
presenter.after_page(hide_notice)  # the sidebar's "Set up for students"
