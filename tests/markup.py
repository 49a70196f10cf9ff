"""Checks on HTML the pages render: which tags a snippet really contains once parsed."""

from __future__ import annotations

from html.parser import HTMLParser


def tags_in(markup: str) -> set[str]:
    """The set of element names in `markup` (escaped visitor text contributes none)."""
    found: set[str] = set()

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.add(tag)

    Collector().feed(markup)
    return found
