"""Home: what the playground is, and every topic with one line."""
import streamlit as st

from playground import i18n
from playground.catalog import by_chapter
from playground.i18n import t

st.title(t("app.title"))
st.markdown(t("home.intro"))
for chapter, topics in by_chapter().items():
    st.subheader(i18n.chapter(chapter))
    for topic in topics:
        cols = st.columns([2, 5], vertical_alignment="center")
        cols[0].page_link(topic.path, label=f"{topic.section} {i18n.page_title(topic.url_path)}".strip(),
                          icon=topic.icon)
        cols[1].markdown(i18n.blurb(topic.url_path) + (" " + t("home.trains_live") if topic.training else ""))
