"""One computation for everyone who asks for the same stream while it runs ("single flight").

A class opening the teacher's link asks for the same greedy continuation thirty times within a
second. The finished result is stored (`ui.results`), but until the first session has finished
writing it, every other session would start its own run of the model: measured on an idle
machine, 30 sessions on the same Home link took 36 s at p50, against 11 s on pages without a
continuation. `shared_stream` runs the stream once, in the first session that asks (the leader);
the others wait for its items and show them as they arrive (the newest only, if several came while
a session was busy drawing: thirty sessions redrawing every token took turns on the one GIL).

Items must be snapshots (each one the whole result so far), so that a session that joins late,
or starts again, loses nothing by seeing items from the beginning. If the leader stops early (its
visitor typed a new prompt, so Streamlit closed the generator) or fails, the flight is abandoned
and each waiting session starts the stream again itself; the first of them to do so leads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

WAIT_STEP_S = 0.1  # how long a waiting session sleeps between looks (it cannot be woken by a rerun)


@dataclass
class _Flight:
    items: list = field(default_factory=list)
    finished: bool = False
    abandoned: bool = False
    changed: threading.Condition = field(default_factory=threading.Condition)


_flights: dict[Hashable, _Flight] = {}
_flights_lock = threading.Lock()


def shared_stream(key: Hashable, produce: Callable[[], Iterator[T]]) -> Iterator[T]:
    """The items of `produce()`, computed once for every caller asking for `key` at the same time."""
    while True:
        with _flights_lock:
            flight = _flights.get(key)
            leading = flight is None
            if leading:
                flight = _flights[key] = _Flight()
        if leading:
            yield from _lead(key, flight, produce)
            return
        completed = yield from _follow(flight)
        if completed:
            return


def in_flight() -> int:
    """How many streams are running now (for tests and the bench)."""
    with _flights_lock:
        return len(_flights)


def _lead(key: Hashable, flight: _Flight, produce: Callable[[], Iterator[T]]) -> Iterator[T]:
    try:
        for item in produce():
            with flight.changed:
                flight.items.append(item)
                flight.changed.notify_all()
            yield item
        with flight.changed:
            flight.finished = True
    finally:  # also on GeneratorExit (the visitor moved on) or an error: the others start again
        with _flights_lock:
            _flights.pop(key, None)
        with flight.changed:
            flight.abandoned = not flight.finished
            flight.changed.notify_all()


def _follow(flight: _Flight) -> Iterator:
    """Yield the leader's newest item each time some came; True once it finished, False if it was abandoned."""
    seen = 0
    while True:
        with flight.changed:
            while len(flight.items) == seen and not (flight.finished or flight.abandoned):
                flight.changed.wait(WAIT_STEP_S)
            new, finished, abandoned = flight.items[seen:], flight.finished, flight.abandoned
        if new:  # snapshots: the newest holds every earlier one, so a session that fell behind draws it alone
            seen += len(new)
            yield new[-1]
        if finished and seen == len(flight.items):
            return True
        if abandoned:
            return False
