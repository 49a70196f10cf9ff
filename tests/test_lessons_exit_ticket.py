"""The student's exit ticket: the model's own top-5 for the student's prompt, on one page that parses."""

from __future__ import annotations

from html.parser import HTMLParser
from unittest import mock

import pytest

from explain import exit_ticket, tokens
from ui import i18n
from ui import lessons as panel
from ui.html import visible_text

VOID = {"meta", "br", "img", "input", "link", "hr"}
SVG_LEAVES = {"rect"}


class TicketParser(HTMLParser):
    """Checks that every tag closes in order, and collects the top-5 table and the chart."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.lang = ""
        self.cells: list[tuple[str, str]] = []  # (text, data-prob) of each probability or token cell
        self.rects = 0
        self.text: list[str] = []
        self._cell: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang", "")
        if tag == "rect":
            self.rects += 1
        if tag == "td":
            self._cell = {"prob": attrs.get("data-prob", ""), "text": ""}
        if tag not in VOID | SVG_LEAVES:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID | SVG_LEAVES:
            self.open.pop()

    def handle_endtag(self, tag):
        if tag in VOID | SVG_LEAVES:
            return
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()
        if tag == "td":
            self.cells.append((self._cell["text"], self._cell["prob"]))
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell["text"] += data


def parse(page: str) -> TicketParser:
    parser = TicketParser()
    parser.feed(page)
    parser.close()
    assert parser.open == [], f"unclosed tags: {parser.open}"
    return parser


def ticket_in(lang: str, lm, prompt: str) -> str:
    ids = tuple(tokens.encode(lm, prompt))
    with mock.patch.object(i18n, "current_language", return_value=lang), \
            mock.patch.object(panel, "current_language", return_value=lang):
        return panel.build_exit_ticket(lm, prompt, ids, "Words become tokens · test")


def test_the_numbers_on_the_ticket_are_the_models_own_top5(lm, full_logits):
    import torch

    prompt = "The capital of France is"
    page = parse(ticket_in("en", lm, prompt))
    rows = [page.cells[i:i + 3] for i in range(0, len(page.cells), 3)]
    assert len(rows) == panel.TOP_N
    probs = torch.softmax(full_logits(tokens.encode(lm, prompt))[-1].double(), -1)  # the reference
    top = torch.topk(probs, panel.TOP_N)
    for (rank, token, prob), want_p, want_id in zip(rows, top.values.tolist(), top.indices.tolist()):
        assert token[0] == f"‘{visible_text(lm.tokenizer.decode([want_id]))}’"
        assert float(prob[1]) == pytest.approx(want_p, abs=1e-5)
        assert prob[0] == f"{want_p:.1%}"  # what the student reads
    assert rows[0][1][0] == "‘·Paris’"
    assert prompt in "".join(page.text) and page.rects == panel.TOP_N


@pytest.mark.parametrize(("lang", "title"), [("en", "Exit ticket"), ("es", "Ticket de salida"),
                                             ("fr", "Ticket de sortie"), ("zh", "课堂小结单")])
def test_the_ticket_is_one_wellformed_page_in_every_language(lm, lang, title):
    prompt = "今天天气很好 <script>alert(1)</script>"
    raw = ticket_in(lang, lm, prompt)
    page = parse(raw)
    text = "".join(page.text)
    assert page.lang == lang and title in text
    assert "<script>" not in raw and "&lt;script&gt;" in raw and "今天天气很好" in text  # the student's text, escaped
    assert raw.count('class="answer"') == 3  # three questions, each with room to answer
    probabilities = [cell for cell, prob in page.cells if prob]
    assert len(probabilities) == panel.TOP_N
    assert all(("," if lang in {"es", "fr"} else ".") in cell for cell in probabilities)  # the locale's decimals


def test_bar_lengths_follow_the_probabilities():
    ticket = exit_ticket.ExitTicket(prompt="p", tokens=["a", "<b>", "c"], probs=[0.6, 0.3, 0.1],
                                    prob_labels=["60%", "30%", "10%"])
    svg = exit_ticket.bar_chart_svg(ticket, "chart")
    parser = parse(f"<html><body>{svg}</body></html>")
    widths = [float(w.split('"')[0]) for w in svg.split('width="')[2:]]  # the first is the svg's own
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[1] == pytest.approx(3 * widths[2])
    assert parser.rects == 3 and "&lt;b&gt;" in svg and 'role="img"' in svg and 'aria-label="chart"' in svg
