"""Plotly figure builders: they draw `explain` results and compute nothing the site teaches."""

from __future__ import annotations

import html
import re
import unicodedata

import plotly.graph_objects as go

from explain.anatomy import ModelAnatomy, millions, share
from explain.next_token import NextTokenDistribution
from ui import palette
from ui.html import visible_text
from ui.i18n import N_, _, format_number, format_percent

# The model's parts as explain.anatomy names them, marked for translation (shown as _(part)).
PART_NAMES = (N_("embeddings"), N_("norms"), N_("attention"), N_("feed-forward"), N_("output head"), N_("other"))


VALUE_LABEL_ROOM = 0.3  # a bar chart's axis runs this share of its longest bar past it, for the value labels
# A chart's own title just above its plot; automargin grows the top margin to fit it, so a
# presenter-size title never clips (a fixed margin fits only the size it was measured at).
TITLE_ABOVE_PLOT = dict(yref="paper", y=1, yanchor="bottom", automargin=True, pad=dict(b=10))


def probability_bars(dist: NextTokenDistribution) -> go.Figure:
    """Horizontal bars of the top-n next tokens, most likely on top."""
    # Plotly reads a little HTML in labels (<b>, <br>, <a>): escape, so a token shows as typed.
    labels = [f"{rank + 1}. '{html.escape(visible_text(p.display), quote=False)}'" for rank, p in enumerate(dist.pieces)]
    fig = go.Figure(
        go.Bar(
            x=dist.probs,
            y=labels,
            orientation="h",
            # Outside the bar end, at the chart's type size (inside, Plotly shrank them to fit the bar).
            text=[format_percent(p) for p in dist.probs],
            textposition="outside",
            constraintext="none",
            cliponaxis=False,
            marker_color="#0072B2",
            customdata=dist.logits,
            hovertemplate=_("%{y}<br>probability %{x:.2%}<br>logit %{customdata:.2f}") + "<extra></extra>",
        )
    )
    fig.update_layout(
        yaxis=dict(autorange="reversed"),
        xaxis=dict(title=_("probability"), tickformat=".0%", range=[0, max(1e-9, max(dist.probs)) * (1 + VALUE_LABEL_ROOM)]),
        height=60 + 34 * len(labels),
        margin=dict(l=10, r=10, t=10, b=40),
    )
    return fig


def anatomy_bars(anatomy: ModelAnatomy) -> go.Figure:
    parts = sorted(anatomy.params_by_part.items(), key=lambda item: -item[1])
    fig = go.Figure(
        go.Bar(
            x=[count for _name, count in parts],
            y=[_(name) for name, _count in parts],
            orientation="h",
            text=[f"{millions(count)} ({share(count, anatomy.n_params)})" for _name, count in parts],
            textposition="auto",
            marker_color="#009E73",
            insidetextfont=dict(color=palette.CHIP_TEXT),  # 5.5:1 on this green (Plotly's own white: 3.4:1)
            customdata=[format_number(count) for _name, count in parts],
            hovertemplate=_("%{y}: %{customdata} parameters") + "<extra></extra>",
        )
    )
    fig.update_layout(
        yaxis=dict(autorange="reversed"),
        xaxis=dict(title=_("parameters")),
        height=60 + 40 * len(parts),
        margin=dict(l=10, r=10, t=10, b=40),
    )
    return fig


# ---------------------------------------------------------------------------------------------
# Exports a teacher can reuse: every chart named and captioned by page, chart, prompt and model.

EXPORT_PROMPT_COLUMNS = 48  # the prompt line in a chart's title is cut here (the full prompt is on the page)
# A title line's width in columns (a Latin letter is one, a Chinese character two): what a 390 px
# phone's chart holds at the title's size, so a longer (often translated) title wraps between words.
EXPORT_TITLE_COLUMNS = 40
EXPORT_TITLE_TOP_PX = 80  # top margin for the title, prompt and model lines (legends sit below them)
EXPORT_TITLE_LINE_PX = 24  # more top margin for each further line of a wrapped title
EXPORT_TITLE_PAD_PX = 8  # between the chart's top edge and its title
# Plotly draws a title of several lines higher, by more than the pad (7 px above the chart's edge at
# 17 px type, 12 px in presenter mode, measured in Chromium): such a title is pushed down this much.
WRAPPED_TITLE_DROP_PX = 16
PLOTLY_DEFAULT_HEIGHT = 450  # what Plotly draws a figure with no height at
# Where a line may break: after a word and its spaces, or around a wide (CJK) character. A no-break
# space (French "mot :") stays inside its word.
_WIDE = "\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6"
_PIECES = re.compile(f"[{_WIDE}]|[^ \\t\\n{_WIDE}]+[ \\t\\n]*|[ \\t\\n]+")


def columns(text: str) -> int:
    """How wide `text` is drawn, in columns: 2 for a wide (CJK, full-width) character, else 1."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrapped_lines(text: str, width: int = EXPORT_TITLE_COLUMNS) -> list[str]:
    """`text` in lines of at most `width` columns, broken between words or between wide characters
    (Chinese has no spaces); a line never starts with punctuation, and a word longer than a line
    keeps a line of its own."""
    lines = [""]
    for piece in _PIECES.findall(text):
        starts_with_mark = unicodedata.category(piece[0]).startswith("P") and not piece[0].isascii()
        if lines[-1].strip() and columns((lines[-1] + piece).rstrip()) > width and not starts_with_mark:
            lines.append("")
        lines[-1] += piece if lines[-1] else piece.lstrip()
    return [line.rstrip() for line in lines if line.strip()] or [""]


def cut(text: str, width: int) -> str:
    """`text` cut to at most `width` columns, with "…" where it was cut."""
    if columns(text) <= width:
        return text
    while columns(text) > width - 1:
        text = text[:-1]
    return text + "…"


def export_filename(page: str, chart: str, prompt: str) -> str:
    """The PNG's file name (no extension): 'sampling-filter-the-capital-of-france-is'."""

    def slug(text: str, limit: int) -> str:
        return re.sub(r"[\W_]+", "-", text.lower()).strip("-")[:limit].strip("-")

    return "-".join(part for part in (slug(page, 24), slug(chart, 24), slug(prompt, 40) or "prompt") if part)


def plotly_config(page: str, chart: str, prompt: str) -> dict:
    """`st.plotly_chart(config=…)`: no Plotly logo; the camera button saves a 2× PNG named by
    `export_filename`."""
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "scale": 2, "filename": export_filename(page, chart, prompt)},
    }


def with_export_title(fig: go.Figure, title: str, prompt: str, model_name: str) -> go.Figure:
    """`fig` itself, titled `title`, with the prompt and the model on a line each below it, so a
    saved PNG says what it shows. The title wraps between words (`wrapped_lines`) and the prompt is
    cut, so all of it fits a 390 px phone's chart (the same figure is sent to every screen); the
    figure grows by the title's room, so its plot keeps the height it was built with; axis titles
    get the margin they need (automargin) instead of being clipped. Pass a figure just built:
    it is changed in place, because copying a validated figure cost as much as the titling (a class
    typing thirty prompts builds thirty of each chart)."""
    shown = cut(prompt.replace("\n", " ⏎ "), EXPORT_PROMPT_COLUMNS)
    # Plotly reads a little HTML in titles: escape the user's text.
    subtitle = f"“{html.escape(shown, quote=False)}”<br>{html.escape(model_name, quote=False)}"
    lines = wrapped_lines(title)
    drop = WRAPPED_TITLE_DROP_PX if len(lines) > 1 else 0
    room = EXPORT_TITLE_TOP_PX + EXPORT_TITLE_LINE_PX * (len(lines) - 1) + drop
    fig.update_layout(
        title=dict(text="<br>".join(html.escape(line, quote=False) for line in lines), subtitle=dict(text=subtitle),
                   x=0, xanchor="left", yref="container", y=1, yanchor="top", pad=dict(t=EXPORT_TITLE_PAD_PX + drop)),
        margin=dict(t=room + (fig.layout.margin.t or 0)), height=room + (fig.layout.height or PLOTLY_DEFAULT_HEIGHT),
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig
