"""The dark theme (a visitor whose system asks for it): every text on every page of the walk, and a
lesson step, keeps WCAG AA contrast (4.5:1) against what is drawn behind it. English, 1440 px, one
tab, one load per page.

axe-core checks the page's HTML text but not a chart's: Plotly draws its text as SVG, which axe
leaves out. `CHART_TEXT_CONTRAST` measures those in the browser: each text's computed fill against
the page background, or against the mark it sits on (a bar's label inside the bar, a label centred
inside a marker; a hatched bar counts as the page). Heatmap cell labels are left out: the cells are painted as one image, and Plotly picks
each label's colour (dark or white) against its own cell.
"""

from __future__ import annotations

import pytest

from tests.accessibility import contrast_violations
from tests.browser import ARTIFACTS, block_the_internet, wait_until_idle
from ui.walk import WALK

pytestmark = pytest.mark.browser

MAX_HEIGHT = 24_000  # the whole page in the window, so axe sees all of it
MAIN_HEIGHT = "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
# Every chart text whose contrast is below 4.5:1, as "ratio fill: text". Colours are composed with
# their alpha and opacity over what lies behind (a mark over the page background).
CHART_TEXT_CONTRAST = """() => {
    const channels = colour => colour.match(/[\\d.]+/g).map(Number);
    const over = (style, below) => {
        const [r, g, b, alpha = 1] = channels(style.fill);
        const a = alpha * parseFloat(style.opacity) * parseFloat(style.fillOpacity);
        return [r, g, b].map((v, i) => v * a + below[i] * (1 - a));
    };
    const luminance = rgb => rgb.map(v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    const ratio = (a, b) => { const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x); return (hi + 0.05) / (lo + 0.05); };
    const page = channels(getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor);
    const holds = (outer, r) => outer.left <= r.left + 1 && r.right <= outer.right + 1 && outer.top <= r.top + 1 && r.bottom <= outer.bottom + 1;
    return [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].flatMap(chart => {
        const markers = [...chart.querySelectorAll('path.point')];
        return [...chart.querySelectorAll('svg text')].flatMap(text => {
            const r = text.getBoundingClientRect();
            if (!r.width || !text.textContent.trim() || text.closest('.heatmap-label')) return [];
            const mark = text.classList.contains('bartext-inside') ? text.parentElement.querySelector('path')
                : markers.find(m => holds(m.getBoundingClientRect(), r));
            const fill = mark && getComputedStyle(mark);  // a hatched bar (a pattern) shows the page between its lines
            const behind = fill && fill.fill.startsWith('rgb') ? over(fill, page) : page;
            const style = getComputedStyle(text);
            const contrast = ratio(over(style, behind), behind);
            return contrast < 4.5 ? [`${contrast.toFixed(2)} ${style.fill}: ${text.textContent.slice(0, 50)}`] : [];
        });
    });
}"""


def test_every_text_reads_in_the_dark_theme(site, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1200}, color_scheme="dark")
    block_the_internet(context)
    page = context.new_page()
    urls = {step.stem: f"{site}/{'' if step is WALK[0] else step.stem}" for step in WALK}
    urls["lesson"] = f"{site}/attention?lesson=3-where-it-looks&step=1"
    found = {}
    try:
        for name, url in urls.items():
            page.set_viewport_size({"width": 1440, "height": 1200})
            page.goto(url, timeout=180_000)
            wait_until_idle(page)
            page.set_viewport_size({"width": 1440, "height": min(MAX_HEIGHT, page.evaluate(MAIN_HEIGHT))})
            wait_until_idle(page)
            found[name] = contrast_violations(page) + [f"chart text {line}" for line in page.evaluate(CHART_TEXT_CONTRAST)]
            page.screenshot(path=str(ARTIFACTS / f"dark-{name}-1440.png"))
    finally:
        context.close()
    assert found == {name: [] for name in urls}, "\n".join(f"{name}: {line}" for name, lines in found.items() for line in lines)
