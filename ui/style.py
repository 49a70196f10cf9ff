"""Site-wide CSS, injected once per run from app.py: phones, touch screens and both themes.

- Narrow screens (≤ 640 px): Plotly's mode bar, always shown on touch, moves into a strip above
  each chart, so it never covers a title or legend; the PNG download stays one tap away.
- The prompt bar at the top of the main area (`PROMPT_BAR_KEY`) shows only where Streamlit
  collapses the sidebar (≤ 768 px); on wider screens the sidebar box is in view.
- Text areas with a character limit get room at the bottom for the counter ("12/4000"), which
  otherwise sits on top of the last line of a long prompt.
Colours come from Streamlit's theme variables where one exists, so light and dark both read.
"""

from __future__ import annotations

import streamlit as st

PROMPT_BAR_KEY = "prompt_bar"  # st.container key: Streamlit renders it with class st-key-prompt_bar
MODE_BAR_STRIP_PX = 34  # room above a chart for the mode bar on narrow screens

_CSS = f"""
<style>
  @media (max-width: 640px) {{
    /* Inside the plot's own box: its overflow:hidden clips at the padding edge, not inside it. */
    [data-testid="stPlotlyChart"] .js-plotly-plot {{ padding-top: {MODE_BAR_STRIP_PX}px !important; }}
    /* The chart's element keeps the figure's height, so the strip is added below it. */
    [data-testid="stElementContainer"]:has([data-testid="stPlotlyChart"]) {{ margin-bottom: {MODE_BAR_STRIP_PX}px; }}
    [data-testid="stPlotlyChart"] .modebar-container {{ top: -{MODE_BAR_STRIP_PX}px !important; }}
    [data-testid="stPlotlyChart"] .modebar {{ opacity: 1 !important; }}
  }}
  @media (min-width: 769px) {{
    .st-key-{PROMPT_BAR_KEY} {{ display: none; }}
  }}
  [data-testid="stTextArea"] textarea {{ padding-bottom: 1.75rem !important; }}
</style>
"""


def apply_site_style() -> None:
    """Call once per run (app.py), before the page: the CSS above."""
    st.html(_CSS)
