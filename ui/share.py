"""What "Share this view" keeps, read from the link itself.

The link is the page address plus the query string that URL-bound widgets (`bind="query-params"`)
write: a bound control appears there once it differs from its default. The popover lists exactly
those parameters, named by `PARAM_NAMES`, and what each page holds that no link can carry.
"""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.html import markdown_escape
from ui.i18n import LANG_KEY, LANGUAGES, N_, _

# URL parameter (= widget key) -> the control's name in the popover (English, shown translated);
# unknown keys show as typed.
PARAM_NAMES: dict[str, str] = {
    "prompt": N_("prompt"),
    "model": N_("model"),
    LANG_KEY: N_("language"),
    "present": N_("presenter mode"),
    "sampling_strategy": N_("strategy"),
    "sampling_temperature": N_("temperature"),
    "sampling_top_k": "k",
    "sampling_top_p": "p",
    "sampling_min_p": "min-p",
    "sampling_seed": N_("seed"),
    "sampling_beams": N_("beam width"),
    "sampling_beam_steps": N_("beam steps"),
    "icl_Zero-shot": N_("zero-shot box"),
    "icl_One-shot": N_("one-shot box"),
    "icl_Few-shot": N_("few-shot box"),
}
# Page URL path -> what that page shows that is not a widget value, so no link can restore it.
NOT_IN_LINK: dict[str, str] = {
    "sampling": N_("the tokens written with Next token / Generate 10 (a link opens before the first step)"),
}
VALUE_CHARS = 40  # longer values (prompts) are cut in the list, never in the link


def short(value: str, limit: int = VALUE_CHARS) -> str:
    """One line of at most `limit` characters: newlines shown as ⏎, a cut shown as …."""
    line = value.replace("\r\n", "\n").replace("\n", " ⏎ ")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def shown_value(key: str, value: str) -> str:
    """A parameter's value as the list shows it: a language by its name ("es" → "Español")."""
    return LANGUAGES.get(value, value) if key == LANG_KEY else value


def kept_lines(params: dict[str, str]) -> list[str]:
    """Markdown list items, one per parameter in the link: its name and value."""
    return ["- " + _("{name}: “{value}”").format(name=markdown_escape(_(PARAM_NAMES[key]) if key in PARAM_NAMES else key),
                                                 value=markdown_escape(short(shown_value(key, value))))
            for key, value in params.items()]


def share_popover(page_path: str) -> None:
    """The popover body: the link, what it holds (computed from the link), what it cannot hold."""
    params = state.link_params()
    st.markdown(_("Copy this link: it opens this page with the settings listed below."))
    st.code(state.share_url(), language=None, wrap_lines=True)
    if params:
        st.markdown(_("**The link keeps**") + "\n\n" + "\n".join(kept_lines(params)))
        st.caption(_("Every other control opens at its default value."))
    else:
        st.caption(_("Every control is at its default value, so the link is just the page address."))
    if page_path in NOT_IN_LINK:
        st.caption(_("Not in the link: {what}.").format(what=_(NOT_IN_LINK[page_path])))
