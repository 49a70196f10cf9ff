"""bertviz's head view and model view as self-contained HTML that draws with no internet.

bertviz (`html_action="return"`) emits HTML that loads require.js, d3 5.7 and jQuery from a CDN:
in a classroom without network that is an empty box. Here the same bertviz output gets d3 v5.7.0
(shipped by the `mpld3` wheel) and jQuery (the `xstatic-jquery` wheel) inlined, plus a five-line
stand-in for require.js that hands those two globals to bertviz's `requirejs([...], fn)` call.
Token text is passed through placeholders and re-inserted as JSON with `<`, `>` and `&` escaped,
so a prompt such as `</script><img onerror=…>` can never leave the script; d3 draws it as text.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ui.i18n import _

CDN_REQUIRE = re.compile(r'<script src="https://cdnjs\.cloudflare\.com/ajax/libs/require\.js/[^"]*"></script>')
CDN_CONFIG = re.compile(r"require\.config\(\{.*?\}\);", re.DOTALL)
# bertviz only ever calls requirejs(['jquery', 'd3'], fn): give it the inlined globals.
AMD_STAND_IN = """
window.requirejs = window.require = function (deps, callback) {
  var modules = {jquery: window.jQuery, d3: window.d3};
  callback.apply(null, deps.map(function (name) { return modules[name]; }));
};
window.require.config = function () {};
"""
DECIMALS = 3  # weights are rounded in the HTML: 3 decimals are plenty for line opacity
_PLACEHOLDER = "\u2063tok{}\u2063"  # invisible separator: never produced by our token display


class OfflineAssetsMissing(RuntimeError):
    """The wheels that ship d3 / jQuery are not installed."""


def _package_file(package: str, relative: str, wheel: str) -> Path:
    """A file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise OfflineAssetsMissing(_("Install `{wheel}` (see requirements-nodeps.txt) to draw bertviz offline.").format(wheel=wheel))
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.is_file():
        raise OfflineAssetsMissing(f"{path} is missing: reinstall `{wheel}`.")
    return path


@lru_cache(maxsize=1)
def offline_scripts() -> str:
    """d3 5.7 + jQuery + the require.js stand-in, as one inline <script> block (~330 kB)."""
    d3 = _package_file("mpld3", "js/d3.v5.min.js", "mpld3==0.5.12").read_text(encoding="utf-8")
    jquery = _package_file("xstatic.pkg.jquery", "data/jquery.min.js", "xstatic-jquery==3.7.1.1").read_text(
        encoding="utf-8"
    )
    for name, source in (("d3", d3), ("jQuery", jquery), ("stand-in", AMD_STAND_IN)):
        if "</script" in source.lower():
            raise ValueError(f"{name} contains '</script' and cannot be inlined")
    return "".join(f"<script>{source}</script>\n" for source in (d3, jquery, AMD_STAND_IN))


def _safe_json_string(text: str) -> str:
    """A JSON string literal that is also safe inside an HTML <script> element."""
    return json.dumps(text).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _layers_as_tensors(attentions: np.ndarray, include_layers: list[int]) -> list[torch.Tensor]:
    """bertviz's input format: one (1, n_head, T, T) tensor per layer, rounded (float64, so the
    JSON holds `0.123`, not `0.12300000339`). Only included layers are converted; bertviz skips
    the rest, which just repeat the first included one."""
    included = {
        layer: torch.from_numpy(np.round(attentions[layer].astype(np.float64), DECIMALS)).unsqueeze(0)
        for layer in include_layers
    }
    filler = included[include_layers[0]]
    return [included.get(layer, filler) for layer in range(attentions.shape[0])]


def _finish(raw_html: str, tokens: list[str], title: str, extra_css: str = "") -> str:
    """Swap the CDN loaders for inline scripts, put the real tokens back, wrap in a page."""
    body = CDN_REQUIRE.sub("", raw_html)
    body = CDN_CONFIG.sub("", body, count=1)
    for index, token in enumerate(tokens):
        body = body.replace(json.dumps(_PLACEHOLDER.format(index)), _safe_json_string(token))
    if "cdnjs" in body:
        raise RuntimeError("bertviz's HTML still points at a CDN: its format changed; update bertviz_offline.py")
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        # bertviz draws black text on a transparent page: fix both so dark themes stay readable.
        "<style>html,body{background:#fff;color:#111;margin:0;padding:6px;color-scheme:light}"
        f"select{{color:#111;background:#fff}}{extra_css}</style>"
        f"{offline_scripts()}</head><body>{body}</body></html>"
    )


def head_view_html(
    attentions: np.ndarray,
    tokens: list[str],
    include_layers: list[int],
    layer: int,
    heads: list[int] | None = None,
    zoom: float = 1.0,
) -> str:
    """bertviz's head view (lines from each token to the tokens it attends to), offline.

    attentions: (n_layer, n_head, T, T) rows summing to 1; tokens: T display strings (raw text:
    they are escaped here); include_layers: the layers offered in the view's menu; zoom: scales
    the whole drawing (text, boxes and lines together: bertviz fixes its text at 15 px), e.g.
    for a projector.
    """
    from bertviz import head_view

    placeholders = [_PLACEHOLDER.format(i) for i in range(len(tokens))]
    raw = head_view(
        _layers_as_tensors(attentions, include_layers),
        placeholders,
        prettify_tokens=False,
        layer=layer,
        heads=heads,
        include_layers=include_layers,
        html_action="return",
    ).data
    # With one layer, bertviz's own layer menu has a single entry: hide it (the page picks layers).
    hide_menu = "div[id^=bertviz-] > span{display:none}" if len(include_layers) == 1 else ""
    scale = f"body{{zoom:{float(zoom):g}}}" if zoom != 1.0 else ""
    return _finish(raw, tokens, "bertviz head view", hide_menu + scale)


def model_view_html(attentions: np.ndarray, tokens: list[str], include_layers: list[int]) -> str:
    """bertviz's model view (a thumbnail per layer × head; click one to enlarge), offline.

    attentions: (n_layer, n_head, T, T); tokens: T display strings (escaped here).
    """
    from bertviz import model_view

    placeholders = [_PLACEHOLDER.format(i) for i in range(len(tokens))]
    raw = model_view(
        _layers_as_tensors(attentions, include_layers),
        placeholders,
        prettify_tokens=False,
        display_mode="light",
        include_layers=include_layers,
        html_action="return",
    ).data
    return _finish(raw, tokens, "bertviz model view")


def with_caption(document: str, caption: str) -> str:
    """The saved page with `caption` (escaped) as its first line and title, so a file a teacher
    keeps says which prompt, layer and model it shows."""
    line = html.escape(caption)
    document = re.sub(r"<title>.*?</title>", f"<title>{line}</title>", document, count=1, flags=re.DOTALL)
    return document.replace("<body>", f"<body><p style='font:15px sans-serif;margin:0 0 8px'>{line}</p>", 1)

