"""Presenter mode, settings hidden for students, and keyboard shortcuts, on every page.

* `?present=1` (or the sidebar's *Presenter mode* toggle, bound to the URL both
  ways and kept from page to page like the seed): larger type everywhere (the
  project's own CSS, `PRESENTER_CSS`), chart fonts `SCALE` times larger (the
  live panel's vega-lite specs and every plotly figure made by
  playground.charts read `font_scale()`), and the sidebar collapsed.
* `?hide=lr,num_epochs`: those settings' widgets are not drawn (playground.hiding,
  asked by controls.bound); their values still come from the link. The sidebar's
  *Set up for students* ticks them and shows the students' link.
* Keyboard shortcuts (`KEYS_JS`, installed once per browser tab): space
  Start/Pause, the right arrow Step (or Next on a step-through view), the left
  arrow Back, r Reset; never while typing in a box or with Ctrl/Alt/Meta.
"""
from __future__ import annotations

import urllib.parse

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.experiments import schema

from . import hiding, i18n
from .controls import SHARED, _control, _parse_plain, bound, namespace, widget_key
from .i18n import t
from .messages import code

PRESENT = "present"
SCALE = 1.5  # chart fonts in presenter mode, against the normal ones
ROOT_PX = 22  # the page's root font size in presenter mode (Streamlit's is 16 px): every rem grows with it
PRESENT_CONTROL = _control("toggle", "Presenter mode",  # shown as presenter.setting.present / .help.present
                           help="For a projector: larger type and charts, the sidebar folded away. "
                                "The link keeps it (present=1).")


def keys_help() -> str:
    """The line under the live panel's buttons that names the keys (in this session's language)."""
    return ":material/keyboard: " + t("presenter.keys_help")

# The project's own constant (no user text). Streamlit sizes its type in rem, so the
# root size scales body text, headings, labels, buttons and captions together.
PRESENTER_CSS = f"""<style>
html {{ font-size: {ROOT_PX}px; }}
[data-testid="stMain"] .block-container {{ padding-top: 2.5rem; max-width: 100%; }}
[data-testid="stCaptionContainer"], [data-testid="stWidgetLabel"] p {{ font-size: 0.95rem; }}
[data-testid="stMetricValue"] {{ font-size: 1.8rem; }}
</style>"""

# One listener per browser tab (the flag on the top window), looked up afresh at
# each key press, so it serves every page the tab visits and never doubles on a
# rerun. It clicks the button whose Streamlit key ends with the action's name
# (a button with key "k:start" is in an element of class "st-key-k-start").
KEYS_JS = """<script>
(() => {
  const top = window.parent;
  if (top.__d2lKeys) return;
  top.__d2lKeys = true;
  const doc = top.document;
  const TYPING = 'input, textarea, select, [contenteditable="true"], [role="slider"], [role="combobox"], ' +
                 '[role="textbox"], [role="spinbutton"]';
  const PRESSABLE = 'button, a, summary, [role="button"], [role="switch"], [role="checkbox"], [role="tab"]';
  function find(names) {
    for (const name of names) {
      for (const el of doc.querySelectorAll('[class*="st-key-"]')) {
        const hit = Array.from(el.classList).some(c => c.startsWith('st-key-') && c.endsWith('-' + name));
        const b = hit && el.querySelector('button');
        if (b && !b.disabled && b.offsetParent !== null) return b;
      }
    }
    return null;
  }
  doc.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey || e.repeat || e.defaultPrevented) return;
    const t = e.target instanceof top.Element ? e.target : null;
    if (t && t.closest(TYPING)) return;
    let b = null;
    if (e.key === ' ') {
      if (t && t.closest(PRESSABLE)) return;  // space presses the focused control itself
      b = find(['pause', 'start']);
    } else if (e.key === 'ArrowRight') {
      b = find(['next', 'step']);
    } else if (e.key === 'ArrowLeft') {
      b = find(['back', 'prev']);
    } else if (e.key === 'r' || e.key === 'R') {
      b = find(['reset']);
    }
    if (b) { e.preventDefault(); b.click(); }
  }, true);
})();
</script>"""


# --------------------------------------------------------------- the flag
def presenting() -> bool:
    """Whether this session shows the page in presenter mode: the toggle's value
    once drawn in this session, before that the link's (a bad value is off; the
    toggle then says why)."""
    if get_script_run_ctx() is None:
        return False
    key = widget_key(PRESENT, SHARED)
    if key in st.session_state:
        return bool(st.session_state[key])
    raw = st.query_params.get(PRESENT)
    try:
        return raw is not None and bool(_parse_plain(PRESENT_CONTROL, False)(raw))
    except schema.SettingError:
        return False


def font_scale() -> float:
    """What playground.charts multiplies its font sizes by."""
    return SCALE if presenting() else 1.0


def sidebar_state() -> str:
    """st.set_page_config's initial_sidebar_state: folded away in presenter mode."""
    return "collapsed" if presenting() else "auto"


# ------------------------------------------------------------- every run
def before_page() -> None:
    """The entry script's part before the page runs: the toggle (in the sidebar),
    the CSS, the keyboard script, and a fresh record of the settings drawn."""
    hiding.begin_run()
    with st.sidebar:
        bound(PRESENT, i18n.control(PRESENT_CONTROL, "presenter", PRESENT), False,
              parse=_parse_plain(PRESENT_CONTROL, False), ns=SHARED, encode=lambda on: "1" if on else "0")
        st.html(KEYS_JS, unsafe_allow_javascript=True)  # (the sidebar: no gap in the page; runs when folded)
    if presenting():
        st.html(PRESENTER_CSS)  # style only: Streamlit puts it where it takes no room


def after_page(notice) -> None:
    """The entry script's part after the page ran: say which hidden names the
    page does not have (in `notice`, a placeholder above the page), and the
    sidebar's *Set up for students*."""
    settings = {n: v for n, v in hiding.drawn().items() if not v[2] and n != PRESENT}
    unknown = [n for n in hiding.hidden_names() if n not in settings]
    if unknown and settings:
        names = ", ".join(code(n[:40]) for n in unknown[:8]) + (" ..." if len(unknown) > 8 else "")
        notice.info(t("presenter.unknown_hidden", names=names), icon=":material/visibility_off:")
    if settings:
        with st.sidebar.expander(t("presenter.setup"), icon=":material/co_present:"):
            _setup(settings)


def _setup(settings: dict) -> None:
    key = f"_hide_choice:{namespace()}"
    chosen = [n for n in hiding.hidden_names() if n in settings]
    st.session_state[key] = chosen

    def changed() -> None:
        names = [n for n in settings if n in st.session_state[key]]
        if names:
            st.query_params[hiding.HIDE] = ",".join(names)
        elif hiding.HIDE in st.query_params:
            del st.query_params[hiding.HIDE]

    st.multiselect(t("presenter.hide"), options=list(settings), key=key, on_change=changed,
                   format_func=lambda n: settings[n][0], help=t("presenter.hide_help"))
    st.caption(t("presenter.copy_link"))
    st.code(student_link(), language=None, wrap_lines=True)


def student_link(base: str | None = None) -> str:
    """The current page's address with every setting it drew (defaults included,
    so the run is pinned), the sidebar's too, present=1 and hide=..."""
    pairs: list[tuple[str, str]] = []
    for name, (_, text, _) in hiding.drawn().items():
        if name == PRESENT:
            continue
        pairs += [(name, t) for t in text] if isinstance(text, list) else [(name, text)]
    pairs.append((PRESENT, "1"))
    names = [n for n in hiding.hidden_names() if n in hiding.drawn()]
    if names:
        pairs.append((hiding.HIDE, ",".join(names)))
    if base is None:
        url = urllib.parse.urlsplit(str(getattr(st.context, "url", "") or ""))
        origin = f"{url.scheme}://{url.netloc}" if url.scheme in ("http", "https") and url.netloc else ""
        base = origin + "/" + ("" if namespace() == "home" else namespace())
    return base + "?" + urllib.parse.urlencode(pairs, safe=",")
