"""The student's exit ticket: one printable page made from the live session.

It carries the student's own prompt, the model's five most likely next tokens with their
probabilities (the same fp32 numbers the pages show), a bar chart of them drawn as inline SVG,
and three short questions with room to answer.

The page is print-ready HTML rather than a PDF: the prompt and the tokens can be in any script the
student typed (the lessons themselves use Chinese, French and emoji), and a PDF must embed a font
holding every one of those glyphs — no font on the server covers them all (CJK fonts are a Debian
package of tens of MB). The student's browser already has the fonts, renders the chart without
any image export (no kaleido or Chrome on the server), and its Print → Save as PDF gives the
one-page PDF.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

BAR_COLOUR = "#0072B2"  # ui.palette's blue (Okabe-Ito); contrast 5.0:1 on white
CHART_WIDTH, ROW_HEIGHT, LABEL_WIDTH, VALUE_WIDTH = 640, 36, 200, 80


@dataclass(frozen=True)
class TicketWords:
    """The page's texts in the student's language (ui.lessons translates them); `questions`
    are finished sentences (numbers already filled in)."""

    title: str = "Exit ticket"
    name: str = "Name:"
    date: str = "Date:"
    prompt: str = "Your prompt"
    top5: str = "The model's five most likely next tokens"
    rank: str = "Rank"
    token: str = "Token"
    probability: str = "Probability"
    chart: str = "Bar chart of the five probabilities"
    questions_heading: str = "Three questions"
    questions: tuple[str, ...] = ()
    footer: str = ""


@dataclass(frozen=True)
class ExitTicket:
    prompt: str  # the student's prompt, as typed
    tokens: list[str]  # the top-5 next tokens as shown on the site (whitespace made visible)
    probs: list[float]  # their probabilities (softmax over the whole vocabulary, fp32), most likely first
    prob_labels: list[str]  # the same, formatted for the student's locale ("77,3 %")
    subtitle: str = ""  # the lesson and model it comes from


def bar_chart_svg(ticket: ExitTicket, label: str) -> str:
    """Horizontal bars, most likely on top; each bar labelled with its token and value (the
    chart reads the same without colour). `label` names it for screen readers."""
    top = max(max(ticket.probs), 1e-9)
    bar_space = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    rows = []
    for n, (token, prob, text) in enumerate(zip(ticket.tokens, ticket.probs, ticket.prob_labels)):
        y = n * ROW_HEIGHT
        width = max(1.0, bar_space * prob / top)
        rows.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 23}" text-anchor="end">{n + 1}. ‘{html.escape(token)}’</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 6}" width="{width:.1f}" height="{ROW_HEIGHT - 12}" fill="{BAR_COLOUR}"/>'
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 23}">{html.escape(text)}</text>'
        )
    height = ROW_HEIGHT * len(ticket.tokens)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{html.escape(label)}" '
            f'viewBox="0 0 {CHART_WIDTH} {height}" width="100%" font-size="15" fill="#111">'
            f'<title>{html.escape(label)}</title>{"".join(rows)}</svg>')


_CSS = (
    "@page{size:A4;margin:14mm}"
    "body{font:15px/1.45 system-ui,'Noto Sans','Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif;"
    "color:#111;background:#fff;max-width:46rem;margin:1.5rem auto;padding:0 1rem}"
    "h1{font-size:1.5rem;margin:0 0 .2rem}h2{font-size:1.05rem;margin:1rem 0 .4rem}"
    ".sub{color:#444;margin:0 0 .8rem}.fill{display:flex;gap:2rem}.fill span{flex:1;border-bottom:1px solid #111;padding-bottom:.2rem}"
    ".prompt{border:1px solid #111;padding:.5rem .7rem;white-space:pre-wrap;overflow-wrap:anywhere}"
    "table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:.2rem .5rem;text-align:left}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "ol li{margin-bottom:.3rem}.answer{height:3.4rem;border-bottom:1px solid #111;margin-bottom:.6rem}"
    "footer{color:#444;font-size:.85rem;margin-top:.8rem}"
    "@media print{body{margin:0;max-width:none;font-size:11pt}h2{margin:.6rem 0 .3rem}"
    "figure svg{max-width:150mm;max-height:52mm}.answer{height:2.6rem}}"
)


def exit_ticket_html(ticket: ExitTicket, words: TicketWords, lang: str = "en") -> str:
    """The ticket as one standalone page (A4 when printed); all of the student's text is escaped."""
    rows = "".join(
        f'<tr><td class="num">{n}</td><td>‘{html.escape(token)}’</td>'
        f'<td class="num" data-prob="{prob!r}">{html.escape(text)}</td></tr>'
        for n, (token, prob, text) in enumerate(zip(ticket.tokens, ticket.probs, ticket.prob_labels), 1)
    )
    questions = "".join(f'<li>{html.escape(q)}<div class="answer"></div></li>' for q in words.questions)
    e = html.escape
    return (
        f"<!doctype html><html lang='{e(lang)}'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{e(words.title)}</title>"
        f"<style>{_CSS}</style></head><body><main>"
        f"<h1>{e(words.title)}</h1><p class='sub'>{e(ticket.subtitle)}</p>"
        f"<p class='fill'><span>{e(words.name)}</span><span>{e(words.date)}</span></p>"
        f"<h2>{e(words.prompt)}</h2><div class='prompt'>{e(ticket.prompt)}</div>"
        f"<h2>{e(words.top5)}</h2>"
        f"<table><thead><tr><th scope='col'>{e(words.rank)}</th><th scope='col'>{e(words.token)}</th>"
        f"<th scope='col'>{e(words.probability)}</th></tr></thead><tbody>{rows}</tbody></table>"
        f"<figure style='margin:.8rem 0'>{bar_chart_svg(ticket, words.chart)}</figure>"
        f"<h2>{e(words.questions_heading)}</h2><ol>{questions}</ol>"
        f"<footer>{e(words.footer)}</footer></main></body></html>\n"
    )
