"""One inference worker per process: at most one forward uses the cores at a time.

Thirty Streamlit sessions each calling torch with two intra-op threads oversubscribe two cores.
Every prompt analysis therefore goes through one worker thread. Requests that arrive while the
worker is busy are coalesced into one batched forward (`analysis.analyze_batch`: right-padded,
masked) and each caller gets its own slice back. A request that finds the queue empty runs at
once; when others are already waiting (a crowd is arriving), the worker waits up to `window_s`
for more company.

Other model work runs on the same worker as calls (`call(fn)`): the greedy continuations'
batched decode steps (`explain.engine.decode_batch`) are queued one step at a time, at a visitor's
priority and in arrival order with the analyses, so a crowd's analyses and its continuations take
turns on the cores instead of fighting over them. A call always runs alone.

Background work (`submit(..., background=True)`: the start-up warm-up of presets and lessons) has
the lowest priority: it runs only when no visitor's request is waiting, alone, one job at a time,
so a visitor waits at most for the one background forward already running.

Batches are capped in rows (`max_batch`) and in padded tokens (`max_batch_tokens`): the eager
attention maps of a batch grow with rows × T², so a few long prompts run in smaller batches.
Prompts of different models never share a batch.

Thread safety: callers block on a `concurrent.futures.Future`; a call made from the worker thread
itself (e.g. from code the worker runs) runs inline instead of queueing behind itself.
`torch.inference_mode` is thread-local, so the worker enters it in its own thread.

Shutdown: the worker is a daemon thread, and a daemon thread still inside torch when the interpreter
finalizes is killed mid-C++ (the process aborts: "terminate called without an active exception").
So `shutdown()` — registered with `atexit` when the worker starts, and atexit runs while threads
are still alive — lets the forward in progress finish, fails every job still waiting, and joins
the worker (bounded wait).
"""

from __future__ import annotations

import atexit
import itertools
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TypeVar

import torch

from explain.engine import analysis
from explain.engine.models import LoadedModel

T = TypeVar("T")

# Measured (2026-12-01, SmolLM2 fp32 eager with attentions and hidden states, A/B interleaved in one
# process, 5 rounds, machine at load ≈ 20 on 2 cores): one forward of 8 × 32 rows took a median 0.28×
# the time of 8 separate 32-row forwards. So batching pays; 8 rows is the size measured.
MAX_BATCH = 8  # rows per forward
MAX_BATCH_TOKENS = 8 * 64  # rows × padded length per forward (bounds the attention maps' memory)
# Paid only when requests are already waiting (a lone visitor never waits: the bench's
# forward_app_ms measured 1.12× a plain forward when every request waited 4 ms for company).
# Requests that arrive while a forward runs are coalesced anyway, with no wait.
WINDOW_S = 0.004  # how long the worker waits for more company when a batch already has some
BATCH_LOG = 4096  # how many forwards' row counts `batch_sizes` remembers (a soak runs thousands)


class WorkerStopped(RuntimeError):
    """The job was not run: the worker has shut down (the process is exiting)."""


STOP, VISITOR, BACKGROUND = -1, 0, 1  # priorities: a lower number runs first
SHUTDOWN_WAIT_S = 30.0  # how long `shutdown` waits for the forward in progress (≈ 0.1-1 s idle)


@dataclass(order=True)
class _Job:
    priority: int
    order: int  # arrival order within a priority
    lm: LoadedModel | None = field(compare=False)  # None: the STOP marker or a call
    ids: list[int] = field(compare=False)
    future: Future = field(default_factory=Future, compare=False)
    call: Callable[[], object] | None = field(default=None, compare=False)  # run alone, instead of an analysis


class InferenceQueue:
    """A single worker thread that runs prompt analyses, coalescing those that arrive together."""

    def __init__(self, window_s: float = WINDOW_S, max_batch: int = MAX_BATCH,
                 max_batch_tokens: int = MAX_BATCH_TOKENS) -> None:
        self.window_s, self.max_batch, self.max_batch_tokens = window_s, max_batch, max_batch_tokens
        self._jobs: queue.PriorityQueue[_Job] = queue.PriorityQueue()
        self._arrivals = itertools.count()
        self._held: _Job | None = None  # taken from the queue but not fitting the last batch
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._stopped = False
        self.batch_sizes: deque[int] = deque(maxlen=BATCH_LOG)  # rows of the latest forwards (tests, bench)

    def analyze(self, lm: LoadedModel, ids: list[int], background: bool = False) -> analysis.PromptAnalysis:
        """`analysis.analyze_batch(lm, [ids])[0]`, run on the worker (inline if called from it)."""
        if self.on_worker():
            with torch.inference_mode():
                return analysis.analyze_batch(lm, [ids])[0]
        return self.submit(lm, ids, background).result()

    def submit(self, lm: LoadedModel, ids: list[int], background: bool = False) -> Future:
        """Queue one prompt; the future resolves to its `PromptAnalysis` (or the forward's error).

        `background=True`: run it only when no visitor's request is waiting, in a forward of its own.
        After `shutdown()` the future fails at once (`WorkerStopped`).
        """
        if not ids:
            raise ValueError("ids is empty: the model needs at least one token")
        job = _Job(BACKGROUND if background else VISITOR, next(self._arrivals), lm, list(ids))
        return self._enqueue(job)

    def run(self, fn: Callable[[], T]) -> T:
        """`fn()` on the worker, between the forwards: inline when called from the worker itself
        (it must not wait behind its own job), else queued with `call` and waited for. For the
        model products a page computes from stored hidden states (the output head over every layer
        or position): thirty sessions computing them in their own threads would put thirty
        products on two cores at once, each with its own MKL buffers."""
        return fn() if self.on_worker() else self.call(fn).result()

    def call(self, fn: Callable[[], object]) -> Future:
        """Queue `fn()` to run alone on the worker, at a visitor's priority, in arrival order with
        the analyses; the future resolves to its result (or error). After `shutdown()` it fails at
        once (`WorkerStopped`)."""
        job = _Job(VISITOR, next(self._arrivals), None, [], call=fn)
        return self._enqueue(job)

    def _enqueue(self, job: _Job) -> Future:
        """Hand `job` to the worker (started if needed), or fail it at once after `shutdown()`."""
        with self._start_lock:
            if self._stopped:
                job.future.set_exception(WorkerStopped("the inference worker has shut down"))
                return job.future
            self._ensure_worker()
            self._jobs.put(job)
        return job.future

    def on_worker(self) -> bool:
        """Whether the calling thread is the worker itself (which must not wait for its own jobs)."""
        return threading.current_thread() is self._worker

    def _ensure_worker(self) -> None:
        """Start the worker if needed (called with `_start_lock` held)."""
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, name="inference-worker", daemon=True)
            self._worker.start()
            atexit.register(self.shutdown)

    def shutdown(self, timeout: float = SHUTDOWN_WAIT_S) -> bool:
        """Stop the worker after the forward in progress; jobs still waiting fail (`WorkerStopped`).
        Idempotent. Returns whether the worker has ended within `timeout` (True if it never ran)."""
        with self._start_lock:
            first = not self._stopped
            self._stopped = True
            worker = self._worker
        if worker is None:
            return True
        if first:
            self._jobs.put(_Job(STOP, next(self._arrivals), None, []))
        worker.join(timeout)
        return not worker.is_alive()

    def _fail_waiting(self) -> None:
        """Fail every job not run yet with `WorkerStopped` (the worker is stopping)."""
        waiting = [self._held] if self._held else []
        self._held = None
        while not self._jobs.empty():
            waiting.append(self._jobs.get_nowait())
        for job in waiting:
            if job.priority != STOP:
                job.future.set_exception(WorkerStopped("the inference worker has shut down"))

    def _run(self) -> None:
        with torch.inference_mode():
            while self._serve(self._next_batch()):
                pass

    def _serve(self, batch: list[_Job]) -> bool:
        """Run one batch of analyses or one call; False once the STOP marker comes.

        A separate frame on purpose: when it returns, nothing of the finished jobs stays referenced
        while the worker waits for the next one. Held in a loop variable instead, the last job kept
        its call alive — a decode round's closure, and with it that batch's key/value buffers (up
        to decode_batch.KV_BUDGET_BYTES) — for as long as the site stayed idle."""
        if batch[0].priority == STOP:
            self._fail_waiting()
            return False
        if batch[0].call is not None:
            self._run_call(batch[0])
            return True
        self.batch_sizes.append(len(batch))
        try:
            results = analysis.analyze_batch(batch[0].lm, [job.ids for job in batch])
        except BaseException as err:  # every waiting caller gets the error, the worker lives on
            for job in batch:
                job.future.set_exception(err)
        else:
            for job, result in zip(batch, results):
                job.future.set_result(result)
        return True

    @staticmethod
    def _run_call(job: _Job) -> None:
        try:
            result = job.call()
        except BaseException as err:  # the caller gets the error, the worker lives on
            job.future.set_exception(err)
        else:
            job.future.set_result(result)

    def _next_batch(self) -> list[_Job]:
        first = self._held or self._jobs.get()
        self._held = None
        batch, longest = [first], len(first.ids)
        if first.priority != VISITOR or first.call is not None or self._jobs.empty():
            return batch  # STOP, calls and background work run alone; a lone visitor runs at once
        deadline = time.perf_counter() + self.window_s
        while len(batch) < self.max_batch:
            try:
                job = self._jobs.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                break
            if job.priority != VISITOR:
                self._jobs.put(job)  # back in line: STOP before, background work behind every visitor
                break
            wider = max(longest, len(job.ids))
            if job.call is not None or job.lm is not first.lm or wider * (len(batch) + 1) > self.max_batch_tokens:
                self._held = job  # it starts the next batch
                break
            batch.append(job)
            longest = wider
        return batch


_shared = InferenceQueue()


def shared() -> InferenceQueue:
    """The process's one inference worker."""
    return _shared
