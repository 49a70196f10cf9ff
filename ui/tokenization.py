"""Streamlit glue for the Tokenization page: cached wrappers, token chips, count cards, one chart.

Everything costly is cached by plain values (model name, text, ids, parameters); chips are drawn
by the site's one renderer (`ui.html.chip`), which escapes every piece of visitor-derived text.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
import streamlit as st

from explain import bpe, limits, tokenizer_compare, tokens
from explain.engine.models import LoadedModel
from ui import palette
from ui.html import chip, chip_row, grouped, markdown_escape, readable_label
from ui.i18n import N_, _, format_number, ngettext
from ui.presenter import SMALL_PRINT_CLASS
from ui.state import BY_MODEL_NAME

# Option values (English, kept in the URL) → the prompt; labels are shown translated.
PAGE_PRESETS: dict[str, str] = {
    N_("Unbelievable words"): "Tokenization splits unbelievable words into pieces.",
    N_("low lower lowest"): "low lower lowest",
    N_("French"): "Le petit chat dort sur le canapé parce qu'il fait froid.",
    N_("Chinese"): "今天天气很好，我们去公园散步。",
    N_("Arabic"): "القطة تنام على الأريكة لأن الجو بارد.",
    N_("Emoji"): "I love pizza 🍕 and coffee ☕ — see you soon! 👋🙂",
    N_("Python code"): "def fibonacci(n):\n    if n < 2:\n        return n",
}
# The texts of the "why English is cheap" table: one per language or kind of text.
SAMPLE_TEXTS: dict[str, str] = {
    N_("English"): "The weather is nice today, so we are going to the park.",
    N_("French"): "Il fait beau aujourd'hui, alors nous allons au parc.",
    N_("Chinese"): "今天天气很好，所以我们去公园。",
    N_("Emoji"): "☀️😎🌳🚶‍♀️🚶‍♂️🐕🎉",
    N_("Python code"): "if weather == 'nice':\n    go_to(park)",
}
# The myth card: one sentence in the site's four languages and two written right to left.
SAME_SENTENCE: dict[str, str] = {
    N_("English"): "The weather is nice today, so we are going to the park.",
    N_("Spanish"): "Hoy hace buen tiempo, así que vamos al parque.",
    N_("French"): "Il fait beau aujourd'hui, alors nous allons au parc.",
    N_("Chinese"): "今天天气很好，所以我们去公园。",
    N_("Arabic"): "الطقس جميل اليوم، لذلك سنذهب إلى الحديقة.",
    N_("Hebrew"): "מזג האוויר נעים היום, אז אנחנו הולכים לפארק.",
}
CLASSIC_CORPUS = (
    "low low low low low lower lower lowest lowest lowest "
    "newest newest newest newest newest newest widest widest widest"
)
BYTE_LEVEL_MARKERS = {"Ġ": N_("Ġ = a space"), "Ċ": N_("Ċ = a line break"), "ĉ": N_("ĉ = a tab")}
# What each tokenizer of the comparison is and how it writes its pieces, by `TokenizerView.key`.
VIEW_TEXT: dict[str, tuple[str, str, str]] = {
    "live": (N_("Byte-level BPE"), N_("the live model's own tokenizer"),
             N_("Starts from the 256 bytes, so nothing is ever unknown; a space is part of the next token.")),
    "wordpiece": (N_("WordPiece"), N_("BERT's uncased vocabulary, as the all-MiniLM-L6-v2 sentence encoder uses it"),
                  N_("Lower-cases and drops accents; ## marks a piece that continues a word; "
                     "characters it never saw become [UNK].")),
    "unigram": (N_("Unigram (SentencePiece)"), N_("AI21's SentencePiece model for its Jurassic-2 language models"),
                N_("▁ marks a space; pieces may span several words ('▁into▁pieces'); rare characters "
                   "fall back to bytes like <0xF0>.")),
    "whitespace": (N_("Whitespace"), N_("split at spaces"),
                   N_("Punctuation sticks to words; every new word form needs its own entry.")),
    "word": (N_("Word"), N_("words and punctuation marks"),
             N_("A word-level vocabulary can never hold every word: new words are unknown.")),
    "character": (N_("Character"), N_("one token per character"),
                  N_("A tiny vocabulary, but very long sequences for the model to read.")),
}


def method_name(view: tokenizer_compare.TokenizerView) -> str:
    """The tokenizer's kind in the learner's language ("WordPiece", "Whitespace" → "Espacios")."""
    return _(VIEW_TEXT[view.key][0])


# ---------------------------------------------------------------------------------------------
# Cached computations (plain keys in, plain data out)


@st.cache_data(max_entries=limits.PROMPT_SPANS_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_spans(lm: LoadedModel, ids: tuple[int, ...]) -> list[tokens.TokenSpan]:
    return tokens.prompt_spans(lm, list(ids))


@st.cache_data(max_entries=limits.TOKENIZER_COMPARISON_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_comparison(lm: LoadedModel, text: str) -> list[tokenizer_compare.TokenizerView]:
    return tokenizer_compare.compare_tokenizers(lm, text)


@st.cache_data(max_entries=limits.SAMPLE_COUNTS_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_sample_counts(lm: LoadedModel) -> dict[str, dict[str, tokenizer_compare.TokenCount]]:
    return tokenizer_compare.token_counts(lm, SAMPLE_TEXTS)


@st.cache_data(max_entries=limits.SENTENCE_COSTS_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_language_costs(lm: LoadedModel) -> list[tokenizer_compare.SentenceCost]:
    return tokenizer_compare.sentence_costs(lm, SAME_SENTENCE)


@st.cache_data(max_entries=limits.BPE_REPLAY_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_replay(lm: LoadedModel, word: str) -> bpe.BpeReplay:
    return bpe.replay_bpe(lm, word)


@st.cache_data(max_entries=limits.TRAINED_BPE_CACHE_ENTRIES, show_spinner=False)
def cached_training(corpus: str, vocab_size: int) -> bpe.TrainedBpe:
    return bpe.train_bpe(corpus, vocab_size)


@st.cache_data(max_entries=limits.TRAINED_TOKENIZE_CACHE_ENTRIES, show_spinner=False)
def cached_trained_tokenize(tokenizer_json: str, text: str) -> list[str]:
    from tokenizers import Tokenizer

    return Tokenizer.from_str(tokenizer_json).encode(text[: bpe.MAX_CORPUS_CHARS]).tokens


# ---------------------------------------------------------------------------------------------
# HTML


def more_text(more: int) -> str:
    return ngettext("… and {count} more", "… and {count} more", more).format(count=format_number(more)) if more > 0 else ""


def count_cards(counts: tokenizer_compare.TextCounts) -> str:
    """The counts as small cards that wrap on a phone (numbers and our own labels, escaped).

    Text colours are the theme's own (inherited, dimmed by opacity), so the cards read in dark mode.
    """
    cards = [
        (_("Characters"), format_number(counts.n_chars),
         _("{count} bytes in UTF-8").format(count=format_number(counts.n_bytes))),
        (_("Words"), format_number(counts.n_words), _("runs of text between spaces")),
        (_("Tokens"), format_number(counts.n_tokens), _("what the model reads")),
        (_("Tokens per word"), format_number(counts.tokens_per_word, 2) if counts.n_words else "–",
         _("rule of thumb ≈ {value}").format(value=format_number(tokenizer_compare.RULE_OF_THUMB_TOKENS_PER_WORD, 1))),
        (_("Characters per token"), format_number(counts.chars_per_token, 2) if counts.n_tokens else "–",
         _("rule of thumb ≈ {value}").format(value=format_number(tokenizer_compare.RULE_OF_THUMB_CHARS_PER_TOKEN))),
    ]
    boxes = "".join(
        f'<div style="flex:1 1 9rem;border:1px solid color-mix(in srgb, currentColor 25%, transparent);'
        f'border-radius:8px;padding:6px 10px">'
        f'<div style="font-size:0.85em;opacity:0.85">{html.escape(label)}</div>'
        f'<div style="font-size:1.8em;font-weight:600;line-height:1.2">{html.escape(value)}</div>'
        f'<div class="{SMALL_PRINT_CLASS}" style="font-size:0.75em;opacity:0.85">{html.escape(hint)}</div></div>'
        for label, value, hint in cards
    )
    return f'<div style="display:flex;flex-wrap:wrap;gap:8px">{boxes}</div>'


def span_chips(spans: list[tokens.TokenSpan], more: int = 0) -> str:
    """The prompt's tokens in reading order, spaces as ·, the id under each, details on hover;
    byte tokens that together form a character are dashed and framed under that character;
    `more` counts tokens left out."""
    chips = []
    for span in spans:
        hover = _("token #{index} · id {id} · stored as {raw} · bytes {bytes}").format(
            index=span.index, id=span.id, raw=repr(span.raw), bytes=span.piece_bytes.hex(" ").upper())
        if span.is_partial_character:
            hover += " · " + _("part of {characters}").format(characters=repr(span.split_characters))
        chips.append(chip(readable_label(span.display), span.index, title=hover, below=str(span.id),
                          kind="partial" if span.is_partial_character else "plain"))
    chips = grouped(chips, tokens.character_groups([span.piece_bytes for span in spans]))
    return chip_row(chips, tokens.text_direction("".join(span.text for span in spans)), more_text(more))


def piece_chips(
    pieces: list[str], total: int | None = None, highlight: set[int] | None = None,
    chunks: list[bytes | None] | None = None,
) -> str:
    """Any tokenizer's own piece strings as chips; `highlight` outlines pieces by position.
    Given each piece's bytes (`chunks`), pieces that together form a character are framed under it."""
    chips = [
        chip(readable_label(piece), i, title=_("token #{index}: {piece}").format(index=i, piece=repr(piece)),
             kind="marked" if highlight and i in highlight else "plain", bold=bool(highlight and i in highlight))
        for i, piece in enumerate(pieces)
    ]
    if chunks is not None:
        chips = grouped(chips, tokens.character_groups(chunks))
    return chip_row(chips, tokens.text_direction("".join(pieces)), more_text((total or len(pieces)) - len(pieces)))


def span_rows(spans: list[tokens.TokenSpan]) -> list[dict[str, object]]:
    """The table view: one row per token."""
    return [
        {"#": s.index, _("reads as"): readable_label(s.display), _("stored as"): s.raw, "id": s.id,
         _("bytes (hex)"): s.piece_bytes.hex(" ").upper(), _("note"): _span_note(s)}
        for s in spans
    ]


def token_table(spans: list[tokens.TokenSpan]) -> str:
    """Every token of the prompt as a table that wraps on a phone; each cell runs in its own
    direction, so an Arabic or Hebrew token reads right to left (a data grid would draw it left to right)."""
    return table_html(span_rows(spans), _("Table: every token with its id and bytes"), as_typed=("id",))


def _span_note(span: tokens.TokenSpan) -> str:
    if span.is_partial_character:
        return _("part of {characters} ({count} bytes in UTF-8)").format(
            characters=span.split_characters, count=len(span.split_characters.encode()))
    return ", ".join(_(meaning) for mark, meaning in BYTE_LEVEL_MARKERS.items() if mark in span.raw)


def sample_rows(counts: dict[str, dict[str, tokenizer_compare.TokenCount]]) -> list[dict[str, object]]:
    """The "why English is cheap" table: one row per text, one column per tokenizer."""
    def cell(count: tokenizer_compare.TokenCount) -> int | str:
        if count.n_tokens is None:
            return "–"
        if not count.n_unknown:
            return count.n_tokens
        return _("{count} ({unknown} unknown)").format(count=format_number(count.n_tokens),
                                                       unknown=format_number(count.n_unknown))

    return [
        {_("text"): _(label), _("characters"): len(SAMPLE_TEXTS[label]),
         **{_(VIEW_TEXT[key][0]): cell(count) for key, count in row.items()}}
        for label, row in counts.items()
    ]


# ---------------------------------------------------------------------------------------------
# Plotly


def comparison_bars(views: list[tokenizer_compare.TokenizerView]) -> go.Figure:
    """Token count per tokenizer, the live model's first (its own colour and "▶ live model" label,
    so colour is never the only sign)."""
    shown = [v for v in views if v.available]
    names = [
        ("▶ " if v.key == "live" else "") + html.escape(method_name(v))
        + ("" if v.name == v.method else f"<br><sup>{html.escape(v.name)}</sup>")
        for v in shown
    ]
    colours = [palette.CATEGORICAL[4] if v.key == "live" else palette.NEUTRAL_BAR for v in shown]
    fig = go.Figure(
        go.Bar(
            x=[v.n_tokens for v in shown],
            y=names,
            orientation="h",
            marker_color=colours,
            text=[format_number(v.n_tokens) for v in shown],
            textposition="auto",
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    fig.update_layout(
        height=60 + 48 * len(shown),
        margin=dict(l=10, r=10, t=10, b=30),
        xaxis_title=_("tokens for your prompt"),
        yaxis=dict(autorange="reversed"),
    )
    return fig


def comparison_sentence(views: list[tokenizer_compare.TokenizerView]) -> str:
    """The chart in words, for screen readers and the table-minded: fewest and most tokens."""
    shown = sorted((v for v in views if v.available), key=lambda v: v.n_tokens)
    live = views[0]
    return _(
        "For your prompt, {fewest} needs the fewest tokens ({few}) and {most} the most ({many}); "
        "the live model's byte-level BPE needs {live}."
    ).format(fewest=method_name(shown[0]), few=format_number(shown[0].n_tokens),
             most=method_name(shown[-1]), many=format_number(shown[-1].n_tokens),
             live=format_number(live.n_tokens))


def comparison_rows(views: list[tokenizer_compare.TokenizerView]) -> list[dict[str, object]]:
    """The chart as a table."""
    return [
        {_("tokenizer"): method_name(v), _("example model"): v.name if v.name != v.method else "–",
         _("tokens"): v.n_tokens, _("unknown"): v.n_unknown,
         _("vocabulary"): format_number(v.vocab_size) if v.vocab_size else _("open-ended")}
        for v in views if v.available
    ]


# ---------------------------------------------------------------------------------------------
# The game and the myth card


def guess_verdict(guess: str, n_tokens: int) -> str:
    """The learner's token-count guess checked against the tokenizer (Markdown)."""
    try:
        guessed = int(guess.strip())
    except ValueError:
        return _("Your guess “{guess}” is not a whole number; the tokenizer used **{count}** tokens.").format(
            guess=markdown_escape(guess), count=format_number(n_tokens))
    if guessed == n_tokens:
        return _("🎉 Exactly right: **{count}** tokens.").format(count=format_number(n_tokens))
    verdict = (_("You guessed {guess}; the tokenizer used **{count}** tokens: {difference} more than you guessed.")
               if n_tokens > guessed else
               _("You guessed {guess}; the tokenizer used **{count}** tokens: {difference} fewer than you guessed."))
    return verdict.format(guess=format_number(guessed), count=format_number(n_tokens),
                          difference=format_number(abs(n_tokens - guessed)))


def myth_text(counts: tokenizer_compare.TextCounts) -> str:
    """The myth card's text: words against tokens on the learner's own prompt (Markdown)."""
    intro = _("**Myth:** “tokens are words.” If they were, your prompt would have as many tokens as words.")
    if not counts.n_words:
        return intro
    return intro + " " + _(
        "It has **{words}** and **{tokens}**: {per_word} tokens per word. Below, the same sentence "
        "in six languages, counted by the live tokenizer."
    ).format(
        words=ngettext("{count} word", "{count} words", counts.n_words).format(count=format_number(counts.n_words)),
        tokens=ngettext("{count} token", "{count} tokens", counts.n_tokens).format(count=format_number(counts.n_tokens)),
        per_word=format_number(counts.tokens_per_word, 2),
    )


def table_html(rows: list[dict[str, object]], caption: str, as_typed: tuple[str, ...] = ()) -> str:
    """A small table that wraps on a phone instead of cutting cells ("15 (9 unknow") or scrolling
    sideways (headers wrap, long text cells may break anywhere): the first
    column as row headers, whole numbers in the locale's format at the end side, every cell
    `dir="auto"` so Arabic and Hebrew read right to left; whole numbers of the `as_typed` columns
    (ids) without thousands separators. Its scroll box is focusable, so a keyboard can scroll it.
    All text is escaped."""
    columns = list(rows[0]) if rows else []
    style = ("padding:2px 8px;vertical-align:top;text-align:{align};"
             "border-bottom:1px solid color-mix(in srgb, currentColor 20%, transparent)")

    def cell(value: object, header: bool, column: str) -> str:
        number = isinstance(value, int)
        text = html.escape(format_number(value) if number and column not in as_typed else str(value))
        if header:
            return f'<th scope="row" dir="auto" style="{style.format(align="start")};font-weight:600">{text}</th>'
        wrap = "" if number else ";overflow-wrap:anywhere"  # a long token ("ĠØ§ÙĦÙĤ") may break anywhere
        return f'<td dir="auto" style="{style.format(align="end" if number else "start")}{wrap}">{text}</td>'

    head = "".join(f'<th scope="col" style="{style.format(align="start")}">{html.escape(str(c))}</th>' for c in columns)
    body = "".join("<tr>" + "".join(cell(row[c], i == 0, c) for i, c in enumerate(columns)) + "</tr>" for row in rows)
    label = html.escape(caption, quote=True)
    return (f'<div role="region" aria-label="{label}" tabindex="0" style="overflow-x:auto">'
            f'<div aria-hidden="true" style="font-size:0.85em">{html.escape(caption)}</div>'
            f'<table aria-label="{label}" style="border-collapse:collapse;font-size:0.9em">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def language_cost_table(costs: list[tokenizer_compare.SentenceCost]) -> str:
    """The same sentence in several languages as a table (Arabic and Hebrew cells right to left)."""
    rows = [
        {_("language"): _(c.label), _("sentence"): c.text, _("words"): c.n_words, _("tokens"): c.n_tokens,
         _("× English"): format_number(c.vs_first, 1) + "×"}
        for c in costs
    ]
    return table_html(rows, _("The same sentence in six languages: words and tokens on the live tokenizer"))
