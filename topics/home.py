"""Home: what the playground is, and every topic with one line."""
import streamlit as st

from playground.catalog import by_chapter

st.title("d2l playground")
st.markdown(
    "Live, seeded experiments for the topics of *Dive into Deep Learning*. Every page trains or "
    "computes a real PyTorch model while you move its controls; the same seed replays the same "
    "curve, and the page's address carries its settings, so a copied link reproduces what you see."
)
for chapter, topics in by_chapter().items():
    st.subheader(chapter)
    for t in topics:
        cols = st.columns([2, 5], vertical_alignment="center")
        cols[0].page_link(t.path, label=f"{t.section} {t.title}".strip(), icon=t.icon)
        cols[1].markdown(t.blurb + (" *Trains live.*" if t.training else ""))
