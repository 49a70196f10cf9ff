"""ui.results: the shared store of finished results a page can peek at without computing."""

from ui.results import ResultStore


def test_store_keeps_the_most_recently_used_results():
    store = ResultStore(max_entries=2)
    assert store.peek(("a",)) is None  # absent: peeking never computes
    store.put(("a",), 1)
    store.put(("b",), 2)
    assert store.peek(("a",)) == 1  # "a" is now the most recently used
    store.put(("c",), 3)
    assert store.peek(("b",)) is None and store.peek(("a",)) == 1 and store.peek(("c",)) == 3
