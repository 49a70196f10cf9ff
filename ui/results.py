"""Generated results shared by every visitor, keyed by their inputs, that a page can *peek* at.

`st.cache_data` can only be asked by computing; a page that streams tokens as they are chosen, or
runs work only when a button is pressed, needs to know whether the answer is already there (a
revisit, a classmate opening the same link) and show it at once without recomputing. `results()`
is one bounded, thread-safe store per process: `peek(key)` or `None`, `put(key, value)` once a
run has finished (an interrupted run stores nothing, so a half-written answer is never served).
Keys are plain tuples: (kind, model name, ids, settings…, seed).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Hashable

import streamlit as st

from explain.limits import RESULT_STORE_ENTRIES  # sized from measured entries there


class ResultStore:
    """A least-recently-used dict of finished results, at most `max_entries` of them."""

    def __init__(self, max_entries: int = RESULT_STORE_ENTRIES):
        self.max_entries = max_entries
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: Hashable) -> Any | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)


@st.cache_resource(show_spinner=False)
def results() -> ResultStore:
    """The one store of this process (results are small: token ids, texts, traces; shared, so read-only)."""
    return ResultStore()
