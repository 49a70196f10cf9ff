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


def contrast_violations(page) -> list[str]:
    """axe's colour-contrast rule alone (text against what is behind it), one line per text at fault."""
    options = {"runOnly": {"type": "rule", "values": ["color-contrast"]}, "resultTypes": ["violations"]}
    nodes = [node for violation in _AXE.run(page, options=options).response["violations"] for node in violation["nodes"]]
    return [f"{' '.join(str(part) for part in node.get('target', []))[-90:]} — {node['any'][0]['message'][:150]}"
            for node in nodes if node.get("any")]


OPEN_EVERY_EXPANDER = """() => document.querySelectorAll('[data-testid="stMain"] [data-testid="stExpander"] details:not([open])')
    .forEach(d => { if (!d.innerText.includes('✏️')) d.querySelector('summary').click(); })"""


def caption_colour(line: str) -> bool:
    """Streamlit's own `st.caption` grey (its theme's faded text, 3.9:1 on white): one site-wide
    theme setting, not a page's doing; listed apart so a page test sees everything else."""
    return line.startswith("color-contrast") and "stCaptionContainer" in line


def violations_with_every_table_open(page) -> list[str]:
    """Open every expander ("show as table", …) of the page, then axe's findings apart from
    Streamlit's own caption grey (`caption_colour`)."""
    page.evaluate(OPEN_EVERY_EXPANDER)
    page.wait_for_timeout(1500)
    return [line for line in axe_violations(page) if not caption_colour(line)]
