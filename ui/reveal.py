"""Predict, then reveal: a classroom game that hides a page's predictions until the learner guesses.

Used by the Softmax, RNN vs Transformer and Inside-a-layer pages; the toggle lives in the URL (`?<prefix>_game=true`).
`pick_before_reveal` is the same gate for a multiple-choice guess (Sampling: which strategy wrote it?),
and `choose_before_reveal` that pick behind the game's toggle, stopping the page until Reveal.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ui.i18n import _


def guess_before_reveal(prefix: str, context: object, hidden: str, max_chars: int = 60, example: str = "Paris") -> str | None:
    """Show the game's toggle; when on, return the revealed guess, or stop the page until Reveal.

    `hidden` names what stays hidden, already translated (e.g. _("the model's probabilities")); it
    is filled into whole sentences, never glued to a fragment. `example` is a translated example
    guess. `context` identifies
    what is being predicted (e.g. the prompt's ids): a new context empties the guess box and hides
    the answer again. Returns None when the game is off.
    """
    if not st.toggle(_("🎯 Predict, then reveal"), key=f"{prefix}_game", bind="query-params",
                     help=_("A classroom game: everyone guesses the next word before seeing {hidden}.").format(hidden=hidden)):
        return None
    guess_key, context_key = f"{prefix}_guess", f"{prefix}_guess_context"
    if st.session_state.get(context_key) != context:  # a guess belongs to the prompt it was made for
        st.session_state[context_key] = context
        st.session_state[guess_key] = ""
    guess = st.text_input(_("Your guess for the next word"), key=guess_key, max_chars=max_chars,
                          placeholder=_("e.g. {example}").format(example=example))
    revealed_key = f"{prefix}_game_revealed"
    if st.button(_("Reveal the answer"), disabled=not guess.strip(), key=f"{prefix}_reveal"):
        st.session_state[revealed_key] = (context, guess)
    if st.session_state.get(revealed_key) != (context, guess):
        st.info(_("Write down your guess first: {hidden} stay hidden until you press Reveal.").format(hidden=hidden))
        st.stop()
    return guess.strip()


def pick_before_reveal(prefix: str, context: object, label: str, options: list[str], format_func,
                       button: str) -> str | None:
    """A guess picked from `options` (a radio, nothing picked at first) and a Reveal button; the pick
    once revealed, else None. The page goes on either way: the caller shows nothing of the answer
    until this returns a pick. A new `context` clears the pick and hides the answer again.
    `label` and `button` are the caller's (translated) texts."""
    pick_key, context_key, revealed_key = f"{prefix}_pick", f"{prefix}_pick_context", f"{prefix}_pick_revealed"
    if st.session_state.get(context_key) != context:  # a pick belongs to the text it was made for
        st.session_state[context_key] = context
        st.session_state[pick_key] = None
    pick = st.radio(label, options, index=None, format_func=format_func, key=pick_key)
    if st.button(button, disabled=pick is None, key=f"{prefix}_reveal"):
        st.session_state[revealed_key] = (context, pick)
    if pick is None or st.session_state.get(revealed_key) != (context, pick):
        return None
    return pick


@dataclass(frozen=True)
class ChoiceGame:
    """The texts of a multiple-choice round, in the learner's language (the caller translates)."""

    toggle: str  # the toggle's label
    question: str  # the radio's label
    button: str
    waiting: str  # shown (and the page stopped) until Reveal


def choose_before_reveal(prefix: str, context: object, game: ChoiceGame, options: list[str],
                         format_func=str) -> str | None:
    """The game with a multiple choice instead of a typed word: None when the game is off, else the
    chosen option once revealed; the page stops until then. A new `context` clears the choice and
    hides the answer again. The toggle is kept in the URL (`?<prefix>_game=true`)."""
    if not st.toggle(game.toggle, key=f"{prefix}_game", bind="query-params"):
        return None
    choice = pick_before_reveal(prefix, context, game.question, options, format_func, game.button)
    if choice is None:
        st.info(game.waiting)
        st.stop()
    return choice
