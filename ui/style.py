"""Site-wide CSS, injected once per run from app.py: phones, touch screens and both themes.

- Narrow screens (≤ 640 px): Plotly's mode bar, always shown on touch, moves into a strip above
  each chart, so it never covers a title or legend (nor clips the axis titles at the chart's
  foot); the PNG download stays one tap away.
- The prompt bar at the top of the main area (`PROMPT_BAR_KEY`) shows only where Streamlit
  collapses the sidebar (≤ 768 px); on wider screens the sidebar box is in view.
- Tables drawn with st.table wrap their cells and headers on a phone instead of growing wider than it.
- Text areas with a character limit get room at the bottom for the counter ("12/4000"), which
  otherwise sits on top of the last line of a long prompt.
- Accessibility, for every page: captions darker than Streamlit's (its 60 % grey is 3.9:1 on
  white, below WCAG AA's 4.5:1; 78 % of the theme's text colour is ≥ 5:1 in light and dark), a
  visible focus ring for keyboard users (`:focus-visible`), and no animation or transition for
  visitors who ask their system for reduced motion.
Colours come from Streamlit's theme (inherited text colour) or `ui.palette`, so light and dark both read.

`set_page_language` writes the chosen language into `<html lang>` (Streamlit has no API for it),
so screen readers pronounce the page in that language.
"""

from __future__ import annotations

import json

import streamlit as st
from streamlit.delta_generator_singletons import get_dg_singleton_instance

from ui import palette

PROMPT_BAR_KEY = "prompt_bar"  # st.container key: Streamlit renders it with class st-key-prompt_bar
MODE_BAR_STRIP_PX = 34  # room above a chart for the mode bar on narrow screens
CAPTION_OPACITY = 0.78  # of the theme's text colour: 5.5:1 on the light sidebar, 9:1 in the dark theme
FOCUS_RING = palette.CATEGORICAL[4]  # Okabe-Ito blue: 5:1 on white, 3.7:1 on the dark theme's background

_CSS = f"""
<style>
  @media (max-width: 640px) {{
    /* Inside the plot's own box: its overflow:hidden clips at the padding edge, not inside it. */
    [data-testid="stPlotlyChart"] .js-plotly-plot {{ padding-top: {MODE_BAR_STRIP_PX}px !important; }}
    /* The chart's element keeps the figure's height, so the strip is added below it; the element
       must not clip (Streamlit's overflow:auto there cut the axis titles at the figure's foot). */
    [data-testid="stElementContainer"]:has([data-testid="stPlotlyChart"]) {{
      margin-bottom: {MODE_BAR_STRIP_PX}px; overflow: visible;
    }}
    [data-testid="stPlotlyChart"] .modebar-container {{ top: -{MODE_BAR_STRIP_PX}px !important; }}
    [data-testid="stPlotlyChart"] .modebar {{ opacity: 1 !important; }}
  }}
  @media (min-width: 769px) {{
    .st-key-{PROMPT_BAR_KEY} {{ display: none; }}
  }}
  /* st.table keeps each cell on one line (white-space: nowrap), so a table of five columns or a
     long token pushed a phone's table wider than the page: there, cells and headers wrap, between
     words first, inside a word if need be. */
  @media (max-width: 640px) {{
    [data-testid="stTable"] :is(th, td) {{ white-space: normal; }}
  }}
  [data-testid="stTable"] :is(th, td) :is([data-testid="stMarkdownContainer"], p) {{ overflow-wrap: anywhere; }}
  [data-testid="stTextArea"] textarea {{ padding-bottom: 1.75rem !important; }}
  [data-testid="stCaptionContainer"] {{ color: inherit; opacity: {CAPTION_OPACITY}; }}
  /* A slider's value over its thumb: the theme's text colour (its red is 3.9:1 on the dark theme). */
  [data-testid="stSliderThumbValue"] {{ color: inherit; }}
  /* Streamlit's light chart theme writes ticks, axis titles and subtitles in #808495, 3.7:1 on white:
     like captions, they take the theme's text colour (its dark chart theme's are light enough already). */
  [data-testid="stPlotlyChart"] text[style*="fill: rgb(128, 132, 149)"] {{
    fill: currentColor !important; fill-opacity: {CAPTION_OPACITY} !important;
  }}
  :focus-visible {{ outline: 3px solid {FOCUS_RING} !important; outline-offset: 2px; }}
  /* Text boxes and pickers: the ring goes on their frame (the input inside it is clipped). */
  [data-baseweb="select"] > div:has(input:focus-visible),
  [data-baseweb="textarea"]:has(textarea:focus-visible),
  [data-baseweb="input"]:has(input:focus-visible) {{ outline: 3px solid {FOCUS_RING}; outline-offset: 1px; }}
  @media (prefers-reduced-motion: reduce) {{
    *, *::before, *::after {{
      animation-duration: 0.01ms !important; animation-iteration-count: 1 !important;
      transition-duration: 0.01ms !important; scroll-behavior: auto !important;
    }}
  }}
</style>
"""


def apply_site_style() -> None:
    """Call once per run (app.py), before the page: the CSS above (only a <style>, which Streamlit
    puts outside the page's layout, so the page's own first elements stay first)."""
    st.html(_CSS)


def page_language_script(lang: str) -> str:
    """The site's only script: it sets `<html lang="…">` to `lang` (a code from ui.i18n.LANGUAGES)."""
    return f"<script>document.documentElement.lang = {json.dumps(lang)};</script>"


def set_page_language(lang: str) -> None:
    """`<html lang="…">` = `lang`, by a script run in the page itself (st.html, no iframe). It goes
    where Streamlit puts style-only HTML, its event container: outside the page's layout and after
    the page's own elements (a page's first HTML stays its first)."""
    get_dg_singleton_instance().event_dg.html(page_language_script(lang), unsafe_allow_javascript=True)
