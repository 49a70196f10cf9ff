"""What every session draws the same way, built once per process: finished figures, table data, and
the results a page computes on each run to draw them (neighbours, a PCA map, a drift curve).

A class opening the teacher's link runs the same page thirty times at once. The results were
already shared (one forward per prompt), but drawing them was not, and drawing is Python under
the one GIL the thirty sessions take turns on: measured on this stack, building a three-trace
Plotly figure costs 54 ms, its export title's validated copy 34 ms more, presenter mode's another
32 ms; turning table rows into Arrow costs a few ms per table. `shared(inputs, build)` runs
`build()` once per (inputs, session language, presenter mode) — sessions asking for the same key
meanwhile wait for the first one's result (single flight) — and gives every session the same
object. So an object built here is read-only: `st.plotly_chart` only reads a figure (it copies it
with `to_dict`), and Streamlit serializes an Arrow table without changing it.

`inputs` must hold everything `build` reads that differs between sessions: the model's name, the
prompt's ids or text, every control value the drawing depends on. The language and presenter mode
are added here, because every figure and table is translated and presenter mode enlarges figures.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Hashable
from typing import TypeVar

import plotly.graph_objects as go
import streamlit as st
from streamlit import dataframe_util

from explain import cache_budget, limits
from ui import presenter
from ui.i18n import current_language

T = TypeVar("T")


def _bytes(value: object) -> int:
    """An entry's size for the budget, roughly: a figure's dict as Python holds it, the buffers of
    arrays and Arrow tables, and the parts of dataclasses, lists, dicts and strings (counted once,
    when it is kept). A figure's JSON is about a quarter of the memory its dict takes."""
    if isinstance(value, go.Figure):
        return _python_bytes(value.to_dict())  # what a finished figure keeps (ui.charts.FinishedFigure)
    if hasattr(value, "nbytes"):  # numpy arrays, Arrow tables
        return int(value.nbytes)
    if isinstance(value, str):
        return 50 + len(value.encode())
    if dataclasses.is_dataclass(value):
        return 50 + sum(_bytes(getattr(value, field.name)) for field in dataclasses.fields(value))
    if isinstance(value, dict):
        return 50 + sum(_bytes(k) + _bytes(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return 50 + sum(_bytes(v) for v in value)
    return 32


def _python_bytes(value: object) -> int:
    """`sys.getsizeof` of `value` and of everything its dicts, lists and tuples hold."""
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        return size + sum(_python_bytes(k) + _python_bytes(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return size + sum(_python_bytes(v) for v in value)
    return size


@st.cache_resource(show_spinner=False)
def _store() -> cache_budget.AnalysisCache:
    """One per process, evicting the least recently used entries by bytes (limits.DRAWN_CACHE_MB)."""
    return cache_budget.AnalysisCache(limits.DRAWN_CACHE_MB * 2**20, size=_bytes)


def shared(inputs: Hashable, build: Callable[[], T]) -> T:
    """`build()`, once per `inputs`, language and presenter mode for the whole process (never mutate it)."""
    return _store().get((inputs, current_language(), presenter.presenter_mode()), build)  # type: ignore[return-value]


def arrow_table(rows: list[dict] | dict[str, list]):
    """Table rows (or a dict of columns) as the Arrow table `st.table` / `st.dataframe` would make of
    them (same bytes sent)."""
    return dataframe_util.convert_pandas_df_to_arrow_table(dataframe_util.convert_anything_to_pandas_df(rows))


def shared_table(inputs: Hashable, rows: Callable[[], list[dict] | dict[str, list]]):
    """`arrow_table(rows())`, built once per `inputs` (see `shared`): pass it to st.table / st.dataframe."""
    return shared(("table", inputs), lambda: arrow_table(rows()))
