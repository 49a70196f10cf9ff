"""HTML snippets for token spans. Every piece of text is escaped: a prompt is visitor input."""

from __future__ import annotations

import html
import re

from explain.tokens import CharacterGroup, TokenPiece, character_groups

# Okabe–Ito colours, lightened: distinguishable with colour-blindness, dark text readable on all.
SPAN_COLOURS = ("#CDE6F7", "#FBE3B5", "#C9EBDD", "#F6D2E4", "#E9E4B0", "#D9D2EE")
_VISIBLE_WHITESPACE = {" ": "·", "\n": "↵", "\t": "⇥", "\r": "␍"}
_HEX_GROUP = re.compile(r"(<[0-9A-F]{2}(?: [0-9A-F]{2})*>)")


def visible_text(text: str) -> str:
    """Whitespace and control characters made visible, so token boundaries can be seen."""
    out = []
    for char in text:
        if char in _VISIBLE_WHITESPACE:
            out.append(_VISIBLE_WHITESPACE[char])
        elif ord(char) < 32 or ord(char) == 127:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


def readable_label(text: str) -> str:
    """Whitespace made visible (· ↵ ⇥), except inside byte groups like <F0 9F>."""
    return "".join(part if _HEX_GROUP.fullmatch(part) else visible_text(part) for part in _HEX_GROUP.split(text))


def grouped(chips: list[str], groups: list[CharacterGroup]) -> list[str]:
    """Chips of tokens that only together form a character, framed together under that character."""
    out, position = [], 0
    for group in groups:
        out += chips[position:group.start]
        formed = visible_text(group.text)
        out.append(
            f'<span title="{html.escape(f"these {group.stop - group.start} tokens together form {formed}", quote=True)}" '
            'style="display:inline-flex;flex-direction:column;align-items:center;vertical-align:bottom;'
            'border:1px dashed currentColor;border-radius:6px;padding:0 2px;margin:2px 2px;line-height:1.3">'
            f'<span style="font-size:1.15em">{html.escape(formed)}</span>'
            f'<span style="white-space:nowrap">{"".join(chips[group.start:group.stop])}</span></span>'
        )
        position = group.stop
    return out + chips[position:]


def token_spans(pieces: list[TokenPiece], show_ids: bool = True, highlight_from: int | None = None) -> str:
    """Coloured spans, one per token, with the id under each. Pieces from `highlight_from` on
    get a thick border (used for generated tokens). Byte tokens that together form a character
    (an emoji, most Chinese characters) are framed together under the character they form."""
    spans = []
    for piece in pieces:
        colour = SPAN_COLOURS[piece.index % len(SPAN_COLOURS)]
        border = "2px solid #D55E00" if highlight_from is not None and piece.index >= highlight_from else "1px solid #0003"
        label = html.escape(readable_label(piece.display))
        token_id = f'<span style="display:block;font-size:0.7em;color:#444">{piece.id}</span>' if show_ids else ""
        spans.append(
            f'<span title="token #{piece.index}, id {piece.id}" style="display:inline-block;'
            f"background:{colour};color:#111;border:{border};border-radius:4px;padding:1px 4px;"
            f'margin:2px 1px;font-family:monospace;white-space:pre;text-align:center">'
            f"{label}{token_id}</span>"
        )
    spans = grouped(spans, character_groups([piece.piece_bytes for piece in pieces]))
    return f'<div style="line-height:2.2;word-break:break-all" dir="ltr">{"".join(spans)}</div>'


_PATH_STYLE = """<style>
.llmx-path{display:flex;align-items:stretch;gap:6px;margin:0.4rem 0 0.8rem}
.llmx-path .box{flex:1 1 0;border-radius:8px;padding:8px 10px;color:#111;border:1px solid #0003;min-width:0}
.llmx-path .big{font-size:1.6em;font-weight:700;line-height:1.15;overflow-wrap:anywhere}
.llmx-path .name{font-weight:600}
.llmx-path .detail{font-size:0.8em}
.llmx-path .arrow{align-self:center;font-size:1.6em;line-height:1}
@media (max-width: 640px){
  .llmx-path{flex-direction:column}
  .llmx-path .arrow{transform:rotate(90deg);align-self:center}
}
</style>"""


def path_diagram(stages: list[tuple[str, str, str]], description: str) -> str:
    """The walk as boxes joined by arrows, one box per (big figure, name, detail); stacked on a phone.

    `description` is the diagram's text equivalent (read out by screen readers). All text is escaped.
    """
    boxes = []
    for i, (big, name, detail) in enumerate(stages):
        if i:
            boxes.append('<div class="arrow" aria-hidden="true">→</div>')
        boxes.append(
            f'<div class="box" style="background:{SPAN_COLOURS[i % len(SPAN_COLOURS)]}">'
            f'<div class="big">{html.escape(big)}</div><div class="name">{html.escape(name)}</div>'
            f'<div class="detail">{html.escape(detail)}</div></div>'
        )
    label = html.escape(description, quote=True)
    return f'{_PATH_STYLE}<div class="llmx-path" role="img" aria-label="{label}">{"".join(boxes)}</div>'


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$:~])")


def markdown_escape(text: str) -> str:
    """`text` shown literally inside st.markdown / st.info / labels: every Markdown (and LaTeX)
    special character backslash-escaped, so a visitor's `**`, `[x](javascript:…)` or `$` stays text."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)

