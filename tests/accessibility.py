"""axe-core in Chromium: the WCAG 2.1 A/AA violations on an open page, one readable line each."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
_AXE = Axe()


def axe_violations(page, context: str | dict | None = None) -> list[str]:
    """'rule-id (impact): where' for every WCAG 2.1 AA violation axe finds on `page` now."""
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    results = _AXE.run(page, context=context, options=options)
    lines = []
    for violation in results.response["violations"]:
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node.get("target", []))
            lines.append(f"{violation['id']} ({violation.get('impact')}): {target} — {node.get('failureSummary', '')[:200]}")
    return lines
