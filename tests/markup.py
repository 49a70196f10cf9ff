"""Checks on HTML the pages render: which tags a snippet really contains once parsed."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser


def tags_in(markup: str) -> set[str]:
    """The set of element names in `markup` (escaped visitor text contributes none)."""
    found: set[str] = set()

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.add(tag)

    Collector().feed(markup)
    return found


@dataclass(frozen=True)
class Element:
    tag: str
    attrs: dict[str, str]
    text: str  # all the text inside it, nested elements' included

    def style(self, name: str) -> str | None:
        """One property of the inline style (`border`, `background`…), or None."""
        for declaration in self.attrs.get("style", "").split(";"):
            key, _, value = declaration.partition(":")
            if key.strip() == name:
                return value.strip()
        return None


_VOID = {"br", "img", "hr", "input", "meta", "link", "wbr"}


def elements(markup: str) -> list[Element]:
    """Every element of `markup` in document order (by where it starts), with its text."""
    done: list[tuple[int, Element]] = []
    open_: list[tuple[int, str, dict[str, str], list[str]]] = []
    counter = iter(range(10**9))

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = {name: value or "" for name, value in attrs}
            if tag in _VOID:
                done.append((next(counter), Element(tag, attrs, "")))
            else:
                open_.append((next(counter), tag, attrs, []))

        def handle_endtag(self, tag):
            while open_:
                order, name, attrs, parts = open_.pop()
                done.append((order, Element(name, attrs, "".join(parts))))
                if name == tag:
                    break

        def handle_data(self, data):
            for *_, parts in open_:
                parts.append(data)

    Collector().feed(markup)
    return [element for _, element in sorted(done, key=lambda pair: pair[0])]


def token_chips(markup: str) -> list[Element]:
    """The token chips of `markup`: the elements titled "token #<index>, id <id>"."""
    return [e for e in elements(markup) if e.attrs.get("title", "").startswith("token #")]


def chip_id(chip: Element) -> int:
    return int(chip.attrs["title"].rsplit("id ", 1)[1])
