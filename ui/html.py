"""HTML snippets for token chips: the site's ONE token-chip renderer, and the path diagram.

Every token on the site is drawn by `chip` (one token: a tinted box from `ui.palette`, the id or a
probability underneath) inside `chip_row` (the tokens in reading order: right to left for an
Arabic or Hebrew prompt, each chip isolated with `dir="auto"` so its own text runs the right way).
`grouped` frames byte tokens that only together form a character under that character. Every
piece of text is escaped here: a prompt is visitor input.
"""

from __future__ import annotations

import html
import re

from explain.tokens import CharacterGroup, TokenPiece, character_groups, text_direction
from ui import palette
from ui.i18n import N_, _

_VISIBLE_WHITESPACE = {" ": "·", "\n": "↵", "\t": "⇥", "\r": "␍"}
_HEX_GROUP = re.compile(r"(<[0-9A-F]{2}(?: [0-9A-F]{2})*>)")
# Chip borders: a pattern or a thickness, so an outline never relies on its colour alone.
CHIP_BORDERS = {
    "plain": "1px solid #0003",
    "partial": "1px dashed #111",  # only part of a character: its bytes are shown
    "marked": "2px solid #D55E00",  # generated or just merged (thick, with its colour)
    "chosen": "3px solid #D55E00",  # the one word a view is about (thicker still, shown bold)
}
_CHIP_STYLE = (
    "display:inline-block;background:{background};color:{text};border:{border};border-radius:4px;"
    "padding:1px 4px;margin:2px 1px;font-family:monospace;white-space:pre;text-align:center;"
    "font-weight:{weight};vertical-align:bottom"
)
_BELOW_STYLE = "display:block;font-size:0.7em;color:#333"
BELOW_CLASS = "llmx-below"  # presenter mode enlarges it (ui.presenter): 0.7em of 21 px is below a projector's 16


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


def chip(label: str, index: int, *, title: str = "", below: str = "", kind: str = "plain",
         background: str | None = None, bold: bool = False) -> str:
    """One token as a box: `label` (shown as given: pass `readable_label(...)`), tinted by its
    position `index` (or `background`), with `below` under it and `title` on hover. `kind` is a
    `CHIP_BORDERS` key. `dir="auto"` isolates the label, so Arabic or Hebrew runs right to left."""
    style = _CHIP_STYLE.format(background=background or palette.tint(index), text=palette.CHIP_TEXT,
                               border=CHIP_BORDERS[kind], weight=700 if bold else 400)
    sub = f'<span class="{BELOW_CLASS}" style="{_BELOW_STYLE}">{html.escape(below)}</span>' if below else ""
    hover = f' title="{html.escape(title, quote=True)}"' if title else ""
    return f'<span dir="auto"{hover} style="{style}">{html.escape(label)}{sub}</span>'


def chip_row(chips: list[str], direction: str = "ltr", tail: str = "") -> str:
    """Chips in reading order: `direction` "rtl" lays them out from the right (an Arabic prompt).
    `tail` (plain text, escaped here) follows the chips, e.g. "… and 12 more"."""
    end = f'<span style="font-style:italic"> {html.escape(tail)}</span>' if tail else ""
    return f'<div dir="{direction}" style="line-height:2.3;word-break:break-all">{"".join(chips)}{end}</div>'


def grouped(chips: list[str], groups: list[CharacterGroup]) -> list[str]:
    """Chips of tokens that only together form a character, framed together under that character."""
    out, position = [], 0
    for group in groups:
        out += chips[position:group.start]
        formed = visible_text(group.text)
        title = _("these {count} tokens together form {text}").format(count=group.stop - group.start, text=formed)
        out.append(
            f'<span title="{html.escape(title, quote=True)}" '
            'style="display:inline-flex;flex-direction:column;align-items:center;vertical-align:bottom;'
            'border:1px dashed currentColor;border-radius:6px;padding:0 2px;margin:2px 2px;line-height:1.3">'
            f'<span dir="auto" style="font-size:1.15em">{html.escape(formed)}</span>'
            f'<span style="white-space:nowrap">{"".join(chips[group.start:group.stop])}</span></span>'
        )
        position = group.stop
    return out + chips[position:]


def token_spans(pieces: list[TokenPiece], show_ids: bool = True, highlight_from: int | None = None) -> str:
    """The tokens as chips in reading order, the id under each. Pieces from `highlight_from` on
    get a thick border (used for generated tokens). Byte tokens that together form a character
    (an emoji, most Chinese characters) are dashed and framed together under that character."""
    chips = []
    for piece in pieces:
        marked = highlight_from is not None and piece.index >= highlight_from
        chips.append(chip(
            readable_label(piece.display), piece.index,
            title=_("token #{index}, id {id}").format(index=piece.index, id=piece.id),
            below=str(piece.id) if show_ids else "",
            kind="marked" if marked else "partial" if piece.is_partial_character else "plain",
        ))
    chips = grouped(chips, character_groups([piece.piece_bytes for piece in pieces]))
    return chip_row(chips, text_direction("".join(piece.text for piece in pieces)))


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
            f'<div class="box" style="background:{palette.tint(i)}">'
            f'<div class="big">{html.escape(big)}</div><div class="name">{html.escape(name)}</div>'
            f'<div class="detail">{html.escape(detail)}</div></div>'
        )
    label = html.escape(description, quote=True)
    return f'{_PATH_STYLE}<div class="llmx-path" role="img" aria-label="{label}">{"".join(boxes)}</div>'


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$:~])")


BYTE_PIECE_NOTE = N_("A token shown as bytes in angle brackets, like `<F0 9F>`, is not a word: it holds part "
                     "of a character (an emoji, a Chinese character…) that the model writes over several tokens.")


def with_byte_piece_note(sentence: str, pieces: list[TokenPiece]) -> str:
    """`sentence` (Markdown), followed by what a byte piece is when any of `pieces` is one: after a
    Chinese or emoji prompt the candidates a chart ranks are often `<E6>`-like bytes, which a class
    would otherwise read as strange words."""
    if not any(piece.is_partial_character for piece in pieces):
        return sentence
    return sentence + " " + _(BYTE_PIECE_NOTE)


def markdown_escape(text: str) -> str:
    """`text` shown literally inside st.markdown / st.info / labels: every Markdown (and LaTeX)
    special character backslash-escaped, so a visitor's `**`, `[x](javascript:…)` or `$` stays text."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)

