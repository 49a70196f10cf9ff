"""What the AppTest page tests share: the app's path, running a page, finding a chart by its key,
the page's text, and counting the model's forward passes.

A test module that uses `run_page` is marked `slow` (tests/conftest.py), like one importing AppTest.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
HOME = None  # run_page(HOME, …): stay on the page app.py opens first


def run_page(page: str | None, prompt: str | None = None, *, timeout: float = 300,
             query_params: dict[str, str] | None = None, **session_state) -> AppTest:
    """app.py run once on `page` ("views/<stem>.py", or HOME), with the sidebar's `prompt`, the URL's
    `query_params` and any other session state set before the first run."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    if prompt is not None:
        at.session_state["prompt"] = prompt
    for key, value in session_state.items():
        at.session_state[key] = value
    for key, value in (query_params or {}).items():
        at.query_params[key] = value
    if page is not None:
        at.switch_page(page)
    return at.run()


def chart_keys(at: AppTest) -> list[str]:
    """The element ids of every Plotly chart on the page (each ends with the chart's widget key)."""
    return [element.proto.id for element in at.get("plotly_chart")]


def _chart_element(at: AppTest, key: str):
    for element in at.get("plotly_chart"):
        if element.proto.id.endswith("-" + key) or f"-{key}-" in element.proto.id:
            return element
    raise AssertionError(f"no chart {key}: {chart_keys(at)}")


def chart(at: AppTest, key: str) -> dict:
    """The Plotly figure (JSON spec) of the chart drawn with widget key `key`."""
    return json.loads(_chart_element(at, key).proto.spec)


def chart_config(at: AppTest, key: str) -> dict:
    """The Plotly config (toolbar, locale…) of the chart with widget key `key`."""
    return json.loads(_chart_element(at, key).proto.config)


def plotly_array(value) -> np.ndarray:
    """A numeric array of a chart spec: a plain list (None → nan), or Plotly 6+'s typed array
    {dtype, bdata, shape}."""
    if isinstance(value, dict) and "bdata" in value:
        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        return data.reshape([int(n) for n in str(shape).split(",")]) if shape else data
    return np.array(value, dtype=float)


def markdown_text(at: AppTest) -> str:
    """Every markdown block of the page, one after another."""
    return "\n".join(m.value for m in at.markdown)


class ForwardCounter:
    """`with ForwardCounter(model) as counter:` counts calls of `model`'s forward (restored on exit)."""

    def __init__(self, model):
        self.model, self.calls = model, 0

    def __enter__(self):
        original = self.model.forward

        def counted(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)

        self.model.forward = counted
        return self

    def __exit__(self, *exc):
        del self.model.forward


def page_html(at: AppTest) -> list[str]:
    """The bodies of the run's st.html elements, without the site's own `<html lang>` script."""
    from ui.i18n import LANGUAGES
    from ui.style import page_language_script

    own = {page_language_script(lang) for lang in LANGUAGES}
    return [element.proto.body for element in at.get("html") if element.proto.body not in own]
