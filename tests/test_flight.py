"""ui.flight: identical streams asked for at the same time run once, and an abandoned run restarts."""

from __future__ import annotations

import threading
import time

from ui import flight


def _slow_counter(calls: list, release: threading.Event, n: int = 5):
    def produce():
        calls.append(threading.current_thread().name)
        for i in range(1, n + 1):
            release.wait(5)
            yield list(range(i))  # a snapshot: the whole result so far
    return produce


def test_sessions_asking_at_the_same_time_share_one_run():
    calls, release, seen = [], threading.Event(), {}

    def session(name):
        seen[name] = list(flight.shared_stream(("test", "shared"), _slow_counter(calls, release)))

    threads = [threading.Thread(target=session, args=(f"s{i}",), name=f"s{i}") for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # every session has asked (the leader is blocked on `release` meanwhile)
    release.set()
    for t in threads:
        t.join(10)
    assert len(calls) == 1  # one run of the producer for eight sessions
    assert all(items[-1] == [0, 1, 2, 3, 4] for items in seen.values()) and len(seen) == 8
    assert flight.in_flight() == 0


def test_a_session_that_stops_early_hands_the_run_to_one_that_waits():
    calls, release = [], threading.Event()
    produce = _slow_counter(calls, release)
    release.set()
    leader = flight.shared_stream(("test", "abandoned"), produce)
    assert next(leader) == [0]  # the leader is running…
    follower_items = []
    follower = threading.Thread(target=lambda: follower_items.extend(flight.shared_stream(("test", "abandoned"), produce)))
    follower.start()
    time.sleep(0.3)  # the follower has joined the flight and seen its first item
    leader.close()  # …and the leader's visitor moves on
    follower.join(10)
    assert not follower.is_alive()
    assert follower_items[:2] == [[0], [0]]  # the leader's item, then its own run from the start
    assert follower_items[-1] == [0, 1, 2, 3, 4]
    assert len(calls) == 2


def test_a_failing_run_fails_its_leader_and_the_next_caller_runs_again():
    def broken():
        yield [0]
        raise RuntimeError("model failed")

    stream = flight.shared_stream(("test", "broken"), broken)
    assert next(stream) == [0]
    try:
        next(stream)
    except RuntimeError:
        pass
    else:
        raise AssertionError("the failure must reach the leader")
    assert flight.in_flight() == 0
    assert list(flight.shared_stream(("test", "broken"), lambda: iter([[1]]))) == [[1]]


def test_a_session_that_fell_behind_draws_only_the_newest_snapshot():
    release = threading.Event()
    release.set()
    key = ("test", "behind")
    leader = flight.shared_stream(key, _slow_counter([], release))
    assert next(leader) == [0]
    follower = flight.shared_stream(key, _slow_counter([], release))
    assert next(leader) == [0, 1] and next(leader) == [0, 1, 2]
    assert next(follower) == [0, 1, 2]  # not [0], then [0, 1]: three items came while it was busy
    assert list(leader) == [[0, 1, 2, 3], [0, 1, 2, 3, 4]]
    assert list(follower) == [[0, 1, 2, 3, 4]]
    assert flight.in_flight() == 0
