"""What "Share this view" keeps, read from the link itself.

The link is the page address plus the query string that URL-bound widgets (`bind="query-params"`)
write: a bound control appears there once it differs from its default. The popover lists exactly
those parameters, named by `PARAM_NAMES`, and what each page holds that no link can carry.
"""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.html import markdown_escape

# URL parameter (= widget key) -> the control's name in the popover; unknown keys show as typed.
PARAM_NAMES: dict[str, str] = {
    "prompt": "prompt",
    "model": "model",
    "present": "presenter mode",
    "softmax_top_n": "tokens shown (top N)",
    "softmax_temperature": "temperature",
    "softmax_word": "word looked up",
    "softmax_space": "after a space",
    "softmax_game": "predict, then reveal",
    "sampling_game": "guess the strategy",
    "sampling_strategy": "strategy",
    "sampling_temperature": "temperature",
    "sampling_top_k": "k",
    "sampling_top_p": "p",
    "sampling_min_p": "min-p",
    "sampling_seed": "seed",
    "sampling_beams": "beam width",
    "sampling_beam_steps": "beam steps",
    "icl_Zero-shot": "zero-shot box",
    "icl_One-shot": "one-shot box",
    "icl_Few-shot": "few-shot box",
}
# Page URL path -> what that page shows that is not a widget value, so no link can restore it.
NOT_IN_LINK: dict[str, str] = {
    "softmax": "your guess in the game and whether it was revealed (the game opens waiting for a guess)",
    "sampling": "the tokens written with Next token / Generate 10 (a link opens before the first step); "
                "whether Compare strategies and Run beam search were pressed (press them again: results "
                "already written for this prompt and seed come back at once); the game's guess",
}
VALUE_CHARS = 40  # longer values (prompts) are cut in the list, never in the link


def short(value: str, limit: int = VALUE_CHARS) -> str:
    """One line of at most `limit` characters: newlines shown as ⏎, a cut shown as …."""
    line = value.replace("\r\n", "\n").replace("\n", " ⏎ ")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def kept_lines(params: dict[str, str]) -> list[str]:
    """Markdown list items, one per parameter in the link: its name and value."""
    return [f"- {markdown_escape(PARAM_NAMES.get(key, key))}: “{markdown_escape(short(value))}”"
            for key, value in params.items()]


def share_popover(page_path: str) -> None:
    """The popover body: the link, what it holds (computed from the link), what it cannot hold."""
    params = st.query_params.to_dict()
    st.markdown("Copy this link: it opens this page with the settings listed below.")
    st.code(state.share_url(), language=None, wrap_lines=True)
    if params:
        st.markdown("**The link keeps**\n\n" + "\n".join(kept_lines(params)))
        st.caption("Every other control opens at its default value.")
    else:
        st.caption("Every control is at its default value, so the link is just the page address.")
    if page_path in NOT_IN_LINK:
        st.caption(f"Not in the link: {NOT_IN_LINK[page_path]}.")
