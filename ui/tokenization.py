"""Streamlit glue for the Tokenization page: cached wrappers, HTML chips and one Plotly chart.

Everything costly is cached by plain values (model name, text, ids, parameters); every piece of
visitor-derived text is escaped before it goes into HTML.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
import streamlit as st

from explain import bpe, tokenizer_compare, tokens
from ui.html import SPAN_COLOURS, grouped, readable_label
from ui.state import get_model

PAGE_PRESETS: dict[str, str] = {
    "Unbelievable words": "Tokenization splits unbelievable words into pieces.",
    "low lower lowest": "low lower lowest",
    "French": "Le petit chat dort sur le canapé parce qu'il fait froid.",
    "Chinese": "今天天气很好，我们去公园散步。",
    "Emoji": "I love pizza 🍕 and coffee ☕ — see you soon! 👋🙂",
    "Python code": "def fibonacci(n):\n    if n < 2:\n        return n",
}
# The texts of the "why English is cheap" table: one per language or kind of text.
SAMPLE_TEXTS: dict[str, str] = {
    "English": "The weather is nice today, so we are going to the park.",
    "French": "Il fait beau aujourd'hui, alors nous allons au parc.",
    "Chinese": "今天天气很好，所以我们去公园。",
    "Emoji": "☀️😎🌳🚶‍♀️🚶‍♂️🐕🎉",
    "Python code": "if weather == 'nice':\n    go_to(park)",
}
CLASSIC_CORPUS = (
    "low low low low low lower lower lowest lowest lowest "
    "newest newest newest newest newest newest widest widest widest"
)
BYTE_LEVEL_MARKERS = {"Ġ": "a space", "Ċ": "a line break", "ĉ": "a tab"}


# ---------------------------------------------------------------------------------------------
# Cached computations (plain keys in, plain data out)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_spans(model_name: str, ids: tuple[int, ...]) -> list[tokens.TokenSpan]:
    return tokens.prompt_spans(get_model(model_name), list(ids))


@st.cache_data(max_entries=64, show_spinner=False)
def cached_comparison(model_name: str, text: str) -> list[tokenizer_compare.TokenizerView]:
    return tokenizer_compare.compare_tokenizers(get_model(model_name), text)


@st.cache_data(max_entries=4, show_spinner=False)
def cached_sample_counts(model_name: str) -> dict[str, dict[str, str]]:
    return tokenizer_compare.token_counts(get_model(model_name), SAMPLE_TEXTS)


@st.cache_data(max_entries=128, show_spinner=False)
def cached_replay(model_name: str, word: str) -> bpe.BpeReplay:
    return bpe.replay_bpe(get_model(model_name), word)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_training(corpus: str, vocab_size: int) -> bpe.TrainedBpe:
    return bpe.train_bpe(corpus, vocab_size)


@st.cache_data(max_entries=128, show_spinner=False)
def cached_trained_tokenize(tokenizer_json: str, text: str) -> list[str]:
    from tokenizers import Tokenizer

    return Tokenizer.from_str(tokenizer_json).encode(text[: bpe.MAX_CORPUS_CHARS]).tokens


# ---------------------------------------------------------------------------------------------
# HTML


def _chip(label: str, colour: str, title: str = "", below: str = "", border: str = "1px solid #0003") -> str:
    """One token as a coloured box; `label`, `title` and `below` are escaped here."""
    sub = f'<span style="display:block;font-size:0.7em;color:#444">{html.escape(below)}</span>' if below else ""
    return (
        f'<span title="{html.escape(title, quote=True)}" style="display:inline-block;background:{colour};'
        f"color:#111;border:{border};border-radius:4px;padding:1px 4px;margin:2px 1px;"
        f'font-family:monospace;white-space:pre;text-align:center">{html.escape(label)}{sub}</span>'
    )


def _wrap(chips: list[str], more: int = 0) -> str:
    tail = f'<span style="opacity:0.75;font-style:italic"> … and {more:,} more</span>' if more > 0 else ""
    return f'<div style="line-height:2.3;word-break:break-all" dir="ltr">{"".join(chips)}{tail}</div>'


def count_cards(counts: tokenizer_compare.TextCounts) -> str:
    """The counts as small cards that wrap on a phone (numbers only: nothing to escape).

    Text colours are the theme's own (inherited, dimmed by opacity), so the cards read in dark mode.
    """
    cards = [
        ("Characters", f"{counts.n_chars:,}", f"{counts.n_bytes:,} bytes in UTF-8"),
        ("Words", f"{counts.n_words:,}", "runs of text between spaces"),
        ("Tokens", f"{counts.n_tokens:,}", "what the model reads"),
        ("Tokens per word", f"{counts.tokens_per_word:.2f}" if counts.n_words else "–",
         f"rule of thumb ≈ {tokenizer_compare.RULE_OF_THUMB_TOKENS_PER_WORD}"),
        ("Characters per token", f"{counts.chars_per_token:.2f}" if counts.n_tokens else "–",
         f"rule of thumb ≈ {tokenizer_compare.RULE_OF_THUMB_CHARS_PER_TOKEN:.0f}"),
    ]
    boxes = "".join(
        f'<div style="flex:1 1 9rem;border:1px solid color-mix(in srgb, currentColor 25%, transparent);'
        f'border-radius:8px;padding:6px 10px">'
        f'<div style="font-size:0.85em;opacity:0.8">{label}</div>'
        f'<div style="font-size:1.8em;font-weight:600;line-height:1.2">{value}</div>'
        f'<div style="font-size:0.75em;opacity:0.7">{hint}</div></div>'
        for label, value, hint in cards
    )
    return f'<div style="display:flex;flex-wrap:wrap;gap:8px">{boxes}</div>'


def span_chips(spans: list[tokens.TokenSpan], more: int = 0) -> str:
    """The prompt's tokens, alternating colours, spaces as ·, the id under each, details on hover;
    byte tokens that together form a character are framed under that character; `more` counts
    tokens left out."""
    chips = []
    for span in spans:
        hover = f"token #{span.index} · id {span.id} · stored as {span.raw!r} · bytes {span.piece_bytes.hex(' ').upper()}"
        if span.is_partial_character:
            hover += f" · part of {span.split_characters!r}"
        chips.append(
            _chip(
                readable_label(span.display),
                SPAN_COLOURS[span.index % len(SPAN_COLOURS)],
                title=hover,
                below=str(span.id),
                border="1px dashed #D55E00" if span.is_partial_character else "1px solid #0003",
            )
        )
    return _wrap(grouped(chips, tokens.character_groups([span.piece_bytes for span in spans])), more)


def piece_chips(
    pieces: list[str], total: int | None = None, highlight: set[int] | None = None,
    chunks: list[bytes | None] | None = None,
) -> str:
    """Any tokenizer's own piece strings as chips; `highlight` outlines pieces by position.
    Given each piece's bytes (`chunks`), pieces that together form a character are framed under it."""
    chips = [
        _chip(
            readable_label(piece),
            SPAN_COLOURS[i % len(SPAN_COLOURS)],
            title=f"token #{i}: {piece!r}",
            border="2px solid #D55E00" if highlight and i in highlight else "1px solid #0003",
        )
        for i, piece in enumerate(pieces)
    ]
    if chunks is not None:
        chips = grouped(chips, tokens.character_groups(chunks))
    return _wrap(chips, (total or len(pieces)) - len(pieces))


def span_rows(spans: list[tokens.TokenSpan]) -> dict[str, list]:
    """The table view: one row per token."""
    return {
        "#": [s.index for s in spans],
        "reads as": [readable_label(s.display) for s in spans],
        "stored as": [s.raw for s in spans],
        "id": [s.id for s in spans],
        "bytes (hex)": [s.piece_bytes.hex(" ").upper() for s in spans],
        "note": [_span_note(s) for s in spans],
    }


def _span_note(span: tokens.TokenSpan) -> str:
    if span.is_partial_character:
        return f"part of {span.split_characters} ({len(span.split_characters.encode())} bytes in UTF-8)"
    markers = [f"{mark} = {meaning}" for mark, meaning in BYTE_LEVEL_MARKERS.items() if mark in span.raw]
    return ", ".join(markers)


# ---------------------------------------------------------------------------------------------
# Plotly


def comparison_bars(views: list[tokenizer_compare.TokenizerView]) -> go.Figure:
    """Token count per tokenizer, the live model's first (highlighted)."""
    shown = [v for v in views if v.available]
    names = [v.method if v.name == v.method else f"{v.method}<br><sup>{html.escape(v.name)}</sup>" for v in shown]
    colours = ["#0072B2" if v.key == "live" else "#999999" for v in shown]
    fig = go.Figure(
        go.Bar(
            x=[v.n_tokens for v in shown],
            y=names,
            orientation="h",
            marker_color=colours,
            text=[f"{v.n_tokens:,}" for v in shown],
            textposition="auto",
            hovertemplate="%{y}: %{x} tokens<extra></extra>",
        )
    )
    fig.update_layout(
        height=60 + 48 * len(shown),
        margin=dict(l=10, r=10, t=10, b=30),
        xaxis_title="tokens for your prompt",
        yaxis=dict(autorange="reversed"),
    )
    return fig
