"""The walk through the site: the pages in teaching order, and the link at the end of each page.

app.py builds its navigation from WALK, so the order, titles and icons live here only.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ui.i18n import N_, _


@dataclass(frozen=True)
class Step:
    stem: str  # file name in views/, without .py
    title: str  # English, marked for translation: show it as _(title)
    icon: str


WALK: tuple[Step, ...] = (
    Step("home", N_("The whole journey"), "🏠"),
    Step("tokenization", N_("Tokenization"), "✂️"),
    Step("embeddings", N_("Embeddings"), "🧭"),
    Step("attention", N_("Attention"), "👀"),
    Step("inside_layer", N_("Inside a layer"), "🔬"),
    Step("softmax", N_("Softmax"), "🌡️"),
    Step("sampling", N_("Sampling"), "🎲"),
    Step("hallucinations", N_("Why it makes things up"), "🤥"),
    Step("rnn_vs_transformer", N_("RNN vs Transformer"), "🔁"),
)


def next_step(current: str) -> Step:
    """The page after `current` (a stem from WALK); the last page leads back to the first."""
    stems = [step.stem for step in WALK]
    if current not in stems:
        raise ValueError(f"{current!r} is not a page of the walk; choose one of {', '.join(stems)}.")
    return WALK[(stems.index(current) + 1) % len(WALK)]


def next_step_link(current: str) -> None:
    """A divider and one link to the next step of the walk, for the end of a page."""
    step = next_step(current)
    st.divider()
    label = _("Back to the start: {title} →") if step is WALK[0] else _("Next step: {title} →")
    st.page_link(f"views/{step.stem}.py", label=label.format(title=_(step.title)), icon=step.icon)
