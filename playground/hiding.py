"""Settings a link hides (`?hide=lr,num_epochs`), and the record of the
settings a page run drew (what presenter mode's "Set up for students" lists and
puts in the students' link).

controls.bound asks `hidden(name)` before drawing a widget: a hidden setting is
not drawn, its value is the one the link (or the page's default) gives, and it
stays in the URL. Kept apart from playground.presenter so that controls can use
it without an import cycle."""
from __future__ import annotations

import streamlit as st

HIDE = "hide"  # the URL key: names separated by commas
MAX_NAMES = 64  # more names than any page has settings: the rest of a long list is ignored
_DRAWN = "_drawn_settings"  # session key: {name: (label, URL text, shared)} of this page run


def hidden_names() -> list[str]:
    """The names the link hides, in its order, without repeats or blanks (text only, never evaluated)."""
    names: list[str] = []
    for raw in st.query_params.get_all(HIDE):
        for part in str(raw)[:4000].split(","):
            name = part.strip()
            if name and name not in names and len(names) < MAX_NAMES:
                names.append(name)
    return names


def hidden(name: str) -> bool:
    return name in hidden_names()


def begin_run() -> None:
    """Forget the settings the last page run drew (the entry script calls it before the page runs)."""
    st.session_state[_DRAWN] = {}


def note(name: str, label: str, text, shared: bool) -> None:
    """Setting `name` was drawn (or hidden) this run with this URL text (a list for a multiselect)."""
    st.session_state.setdefault(_DRAWN, {})[name] = (label, text, shared)


def drawn() -> dict[str, tuple[str, object, bool]]:
    """{name: (label, URL text, shared)} of every URL-bound setting this page run went through."""
    return dict(st.session_state.get(_DRAWN, {}))
