"""The site's one palette: Okabe & Ito's eight colours, distinguishable with every common colour
vision deficiency (deuteranopia, protanopia, tritanopia), and light tints of them for text chips.

Colour never carries meaning alone here: every coloured thing also has a label, a number, a
position or a pattern. Chips put dark text (#111) on a tint: contrast ≥ 7:1 on every tint, above
WCAG AA's 4.5:1. Lines and markers use the full colours on a white or dark plot background.
"""

from __future__ import annotations

# Okabe & Ito (2008), "Color Universal Design": orange, sky blue, bluish green, yellow, blue,
# vermillion, reddish purple (black, the eighth, is the text colour).
CATEGORICAL: tuple[str, ...] = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
# Each colour mixed 65 % towards white: backgrounds for token chips and boxes under #111 text.
TINTS: tuple[str, ...] = ("#F6DDA6", "#C4E5F7", "#A6DDCE", "#FAF6BD", "#A6CEE4", "#F0C7A6", "#EDD0E0")
CHIP_TEXT = "#111111"
# Neutral bars (not the one a chart is about): Plotly writes its #444 labels inside them, 5:1 on this
# grey (3.4:1 on a #999 one); light and dark page backgrounds both show it.
NEUTRAL_BAR = "#BBBBBB"
# Two-sided scales (a signed value) and one-sided ones (a weight), both readable in grey scale.
DIVERGING = "RdBu"  # ColorBrewer, colour-blind safe
SEQUENTIAL = "Viridis"


def categorical(index: int) -> str:
    return CATEGORICAL[index % len(CATEGORICAL)]


def tint(index: int) -> str:
    return TINTS[index % len(TINTS)]
