"""One inference worker per process: at most one forward uses the cores at a time.

Thirty Streamlit sessions each calling torch with two intra-op threads oversubscribe two cores.
Every prompt analysis therefore goes through one worker thread. Requests that arrive while the
worker is busy, or within `window_s` of the first one, are coalesced into one batched forward
(`analysis.analyze_batch`: right-padded, masked) and each caller gets its own slice back.

Batches are capped in rows (`max_batch`) and in padded tokens (`max_batch_tokens`): the eager
attention maps of a batch grow with rows × T², so a few long prompts run in smaller batches.
Prompts of different models never share a batch.

Thread safety: callers block on a `concurrent.futures.Future`; a call made from the worker thread
itself (e.g. from code the worker runs) runs inline instead of queueing behind itself.
`torch.inference_mode` is thread-local, so the worker enters it in its own thread.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

import torch

from explain.engine import analysis
from explain.engine.models import LoadedModel

# Measured (2026-12-01, SmolLM2 fp32 eager with attentions and hidden states, A/B interleaved in one
# process, 5 rounds, machine at load ≈ 20 on 2 cores): one forward of 8 × 32 rows took a median 0.28×
# the time of 8 separate 32-row forwards. So batching pays; 8 rows is the size measured.
MAX_BATCH = 8  # rows per forward
MAX_BATCH_TOKENS = 8 * 64  # rows × padded length per forward (bounds the attention maps' memory)
# Not tuned by measurement (the machine was too loaded for millisecond timings): a few ms lets
# requests that arrive together share a forward at a cost a learner can't notice; requests that
# arrive while a forward runs are coalesced anyway, with no wait.
WINDOW_S = 0.004  # how long the worker waits for company after the first request of a batch


@dataclass
class _Job:
    lm: LoadedModel
    ids: list[int]
    future: Future = field(default_factory=Future)


class InferenceQueue:
    """A single worker thread that runs prompt analyses, coalescing those that arrive together."""

    def __init__(self, window_s: float = WINDOW_S, max_batch: int = MAX_BATCH,
                 max_batch_tokens: int = MAX_BATCH_TOKENS) -> None:
        self.window_s, self.max_batch, self.max_batch_tokens = window_s, max_batch, max_batch_tokens
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self._held: _Job | None = None  # taken from the queue but not fitting the last batch
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batch_sizes: list[int] = []  # rows of every forward run so far (for tests and the bench)

    def analyze(self, lm: LoadedModel, ids: list[int]) -> analysis.PromptAnalysis:
        """`analysis.analyze_batch(lm, [ids])[0]`, run on the worker (inline if called from it)."""
        if threading.current_thread() is self._worker:
            with torch.inference_mode():
                return analysis.analyze_batch(lm, [ids])[0]
        return self.submit(lm, ids).result()

    def submit(self, lm: LoadedModel, ids: list[int]) -> Future:
        """Queue one prompt; the future resolves to its `PromptAnalysis` (or the forward's error)."""
        if not ids:
            raise ValueError("ids is empty: the model needs at least one token")
        self._ensure_worker()
        job = _Job(lm, list(ids))
        self._jobs.put(job)
        return job.future

    def _ensure_worker(self) -> None:
        with self._start_lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="inference-worker", daemon=True)
                self._worker.start()

    def _run(self) -> None:
        with torch.inference_mode():
            while True:
                batch = self._next_batch()
                self.batch_sizes.append(len(batch))
                try:
                    results = analysis.analyze_batch(batch[0].lm, [job.ids for job in batch])
                except BaseException as err:  # every waiting caller gets the error, the worker lives on
                    for job in batch:
                        job.future.set_exception(err)
                else:
                    for job, result in zip(batch, results):
                        job.future.set_result(result)

    def _next_batch(self) -> list[_Job]:
        first = self._held or self._jobs.get()
        self._held = None
        batch, longest = [first], len(first.ids)
        deadline = time.perf_counter() + self.window_s
        while len(batch) < self.max_batch:
            try:
                job = self._jobs.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                break
            wider = max(longest, len(job.ids))
            if job.lm is not first.lm or wider * (len(batch) + 1) > self.max_batch_tokens:
                self._held = job  # it starts the next batch
                break
            batch.append(job)
            longest = wider
        return batch


_shared = InferenceQueue()


def shared() -> InferenceQueue:
    """The process's one inference worker."""
    return _shared
