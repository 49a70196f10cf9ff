"""The walk through the site: the pages in teaching order, and the link at the end of each page.

app.py builds its navigation from WALK, so the order, titles and icons live here only.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class Step:
    stem: str  # file name in views/, without .py
    title: str
    icon: str


WALK: tuple[Step, ...] = (
    Step("home", "The whole journey", "🏠"),
    Step("tokenization", "Tokenization", "✂️"),
    Step("embeddings", "Embeddings", "🧭"),
    Step("attention", "Attention", "👀"),
    Step("inside_layer", "Inside a layer", "🔬"),
    Step("softmax", "Softmax", "🌡️"),
    Step("sampling", "Sampling", "🎲"),
    Step("hallucinations", "Why it makes things up", "🤥"),
    Step("rnn_vs_transformer", "RNN vs Transformer", "🔁"),
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
    label = "Back to the start: " if step is WALK[0] else "Next step: "
    st.page_link(f"views/{step.stem}.py", label=f"{label}{step.title} →", icon=step.icon)
