"""HTML snippets for token spans. Every piece of text is escaped: a prompt is visitor input."""

from __future__ import annotations

import html

from explain.tokens import TokenPiece

# Okabe–Ito colours, lightened: distinguishable with colour-blindness, dark text readable on all.
SPAN_COLOURS = ("#CDE6F7", "#FBE3B5", "#C9EBDD", "#F6D2E4", "#E9E4B0", "#D9D2EE")
_VISIBLE_WHITESPACE = {" ": "·", "\n": "↵", "\t": "⇥", "\r": "␍"}


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


def token_spans(pieces: list[TokenPiece], show_ids: bool = True, highlight_from: int | None = None) -> str:
    """Coloured spans, one per token, with the id under each. Pieces from `highlight_from` on
    get a thick border (used for generated tokens)."""
    spans = []
    for piece in pieces:
        colour = SPAN_COLOURS[piece.index % len(SPAN_COLOURS)]
        border = "2px solid #D55E00" if highlight_from is not None and piece.index >= highlight_from else "1px solid #0003"
        label = html.escape(visible_text(piece.display))
        token_id = f'<span style="display:block;font-size:0.7em;color:#444">{piece.id}</span>' if show_ids else ""
        spans.append(
            f'<span title="token #{piece.index}, id {piece.id}" style="display:inline-block;'
            f"background:{colour};color:#111;border:{border};border-radius:4px;padding:1px 4px;"
            f'margin:2px 1px;font-family:monospace;white-space:pre;text-align:center">'
            f"{label}{token_id}</span>"
        )
    return f'<div style="line-height:2.2;word-break:break-all" dir="ltr">{"".join(spans)}</div>'
