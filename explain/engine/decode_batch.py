"""Greedy continuations that run at the same time advance together: one decode step for all of them.

Why: thirty visitors typing thirty prompts on Home each want a 20-token greedy continuation. Each
decoded in its own thread, they shared two cores thirty ways (≈ 30 × 1.4 s). A decode step is
bandwidth-bound — it streams every weight from memory once — so one `fast_decode.decode_step` over
30 rows costs a small multiple of a one-row step, not 30× (measured, `tools/decode_rows_bench.py`,
2026-12-02 on the shared 2-core machine at load 7–8, SmolLM2 fp32, median of 5 interleaved rounds
of 10 steps: 1 row 103 ms a step — the one-row decoder before the step was shared: 126 ms, equal
within the noise — 8 rows 208 ms, 30 rows 442 ms: 0.12× thirty one-row steps).

How (continuous batching): `stream(model, ids, max_new_tokens, stop_ids)` registers a row and
returns an iterator of (token id, probability), like `generation.greedy_stream`. One *round* at a
time runs on the process's inference worker (`InferenceQueue.call`), so a continuation never uses
the cores while a prompt analysis does, and a crowd's analyses and continuations take turns in
arrival order (a round is queued behind the analyses that arrived while the previous one ran).
Why the worker and not a decode thread of its own sharing a lock with it: Python's locks are not
first-come first-served, so a thread that releases and re-takes a lock between steps could keep
the analyses (and with them every newcomer's top-5) waiting for a whole continuation; one queue
orders both kinds of work, keeps background warm-up behind both, and needs no thread to manage.
A round:
1. drops the rows whose consumer stopped iterating (a Streamlit rerun closed the generator);
2. prefills rows that asked to join, at most `MAX_PREFILL_ROWS` × `MAX_PREFILL_TOKENS` per round
   (one padded forward of the model itself, `fast_decode.prefill`), and hands each its first token;
   a row whose prompt analysis came with it (`stream(..., analysed=)`) skips that forward: its
   keys/values come from the analysis' hidden states (`fast_decode.fill_from_hidden_states`) and
   its first token from the analysis' last logits, at most `MAX_HANDED_TOKENS` positions a round;
3. runs one `decode_step` for every live row (the ones that just joined included) and hands each
   row its next token; a row leaves after its end token or its last token.
It queues the next round while any row is live or waiting. The key/value buffers (`KVSlots`) keep
the live rows in slots 0 … rows-1 and are freed when the last row leaves.

A lone visitor pays nothing for this: one row takes the same `decode_step` as `LlamaDecoder`
(there is only one), plus a queue hand-off per token (≈ 0.1 ms). The greedy choice and its
probability are the softmax of each row's own fp32 logits, as in `generation.greedy_stream`; only
the last bits of the logits can differ (a batch adds in another order), tested on 20+ prompts.

Thread safety: rows are registered and cancelled under `_lock` from the visitors' threads; the
buffers and the live rows are touched only by the round, on the worker thread, and at most one
round per model is queued at a time. No thread of its own: nothing to leak or to stop.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch

from explain.engine import fast_decode, inference_queue
from explain.engine.analysis import PromptAnalysis
from explain.engine.two_core_matmul import two_core_matmuls

# The prompts of a round's prefill: the same bounds as the analyses' batches (inference_queue),
# and for the same reason — one round must not hold the cores long while others wait.
MAX_PREFILL_ROWS = inference_queue.MAX_BATCH
MAX_PREFILL_TOKENS = inference_queue.MAX_BATCH_TOKENS
# The keys/values of an analysed prompt's position cost 6 % of its prefill (two of a layer's seven
# products; fast_decode.fill_from_hidden_states), so a round takes 16× as many of them.
MAX_HANDED_TOKENS = 16 * MAX_PREFILL_TOKENS
MAX_ROWS = 48  # live rows per step; more wait to join (a class is ≈ 30)
# The key/value buffers of one batch: slots × longest (prompt + new tokens) × 45 KB a position for
# SmolLM2 (30 layers × keys and values × 3 heads × 64 × 4 B). 128 MB holds 32 slots of prompts up
# to ~70 tokens, or 8 slots at the prompt cap (limits.PROMPT_TOKEN_CAP + 20 new tokens); longer
# prompts decode in fewer rows at a time and the others join as rows leave (a batch's buffers never
# shrink while it runs, so one long prompt makes every slot long). The buffers are freed when the
# batch empties. Thirty one-row decoders at the cap held 380 MB between them.
KV_BUDGET_BYTES = 128 * 2**20
SLOT_STEP = 8  # slots are allocated in multiples of this
STEP_LOG = 4096  # how many steps' row counts `step_rows` remembers


@dataclass(eq=False)
class _Row:
    ids: list[int]
    max_new_tokens: int
    stop_ids: frozenset[int]
    outbox: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)  # (id, prob) or an exception
    produced: int = 0
    length: int = 0  # positions filled in its slot
    last: int = -1  # the token to feed next
    cancelled: bool = False
    analysed: PromptAnalysis | None = None  # the prompt's analysis, until the row has joined

    def cancel(self) -> None:
        self.cancelled = True

    def deliver(self, token_id: int, prob: float) -> bool:
        """Hand over one token; True if the row goes on (no end token, budget left)."""
        self.outbox.put((token_id, prob))
        self.produced += 1
        self.last = token_id
        return token_id not in self.stop_ids and self.produced < self.max_new_tokens


@dataclass(eq=False)
class _Batch:
    """The rows of one model; it exists while rows do (`GreedyBatcher._batches`)."""

    weights: fast_decode.LlamaWeights
    live: list[_Row] = field(default_factory=list)  # live[i] is in slot i
    joining: list[_Row] = field(default_factory=list)
    kv: fast_decode.KVSlots | None = None
    scheduled: bool = False  # a round is queued or running


class GreedyBatcher:
    """Batches the greedy continuations of every visitor (one instance per process: `shared()`)."""

    def __init__(self, worker: inference_queue.InferenceQueue | None = None):
        self._worker = worker
        # Reentrant: a round queued on a stopped worker fails at once, and its done-callback
        # (`_after_round`) then runs inside `_schedule`, in the thread that holds the lock.
        self._lock = threading.RLock()
        self._batches: dict[int, _Batch] = {}  # id(model) → its batch
        self.step_rows: deque[int] = deque(maxlen=STEP_LOG)  # rows of the latest decode steps (tests, bench)

    @property
    def worker(self) -> inference_queue.InferenceQueue:
        return inference_queue.shared() if self._worker is None else self._worker

    def applies(self, model) -> bool:
        """Whether `stream` can decode for `model` from this thread (plain fp32 Llama, and not
        called from the inference worker itself, which would wait for its own rounds)."""
        return fast_decode.supports(model) and not self.worker.on_worker()

    def stream(self, model, ids: list[int], max_new_tokens: int, stop_ids,
               analysed: PromptAnalysis | None = None) -> Iterator[tuple[int, float]]:
        """Greedy (token id, probability) pairs after `ids`, up to the first of `stop_ids` (yielded)
        or `max_new_tokens`, decoded together with every other row live at the same time.

        `analysed`: `ids`' analysis by this model (`analysis.analyze_batch`), when there is one —
        the row then joins without a forward of its own (no prefill).

        The row is registered now (before the first `next`), so rows asked for one after another
        in one thread still join the same round. Closing the iterator, or dropping it, frees the
        row at the next step boundary."""
        if not ids:
            raise ValueError("ids is empty: the model needs at least one token to continue from")
        if analysed is not None and analysed.ids != list(ids):
            raise ValueError("analysed is another prompt's analysis: pass the analysis of ids")
        if max_new_tokens < 1:
            return iter(())
        row = _Row(list(ids), max_new_tokens, frozenset(stop_ids), analysed=analysed)
        with self._lock:
            batch = self._batches.get(id(model))  # (an idle batch is forgotten, so the id is this model's)
            if batch is None:
                batch = self._batches[id(model)] = _Batch(fast_decode.LlamaWeights(model))
            batch.joining.append(row)
            self._schedule(batch)
        tokens = self._receive(row)
        weakref.finalize(tokens, row.cancel)  # never iterated, then dropped: free the row too
        return tokens

    def live_rows(self) -> int:
        """Rows decoding or waiting to join now, over every model (tests, bench)."""
        with self._lock:
            return sum(len(b.live) + len(b.joining) for b in self._batches.values())

    @staticmethod
    def _receive(row: _Row) -> Iterator[tuple[int, float]]:
        try:
            for _ in range(row.max_new_tokens):
                item = row.outbox.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item[0] in row.stop_ids:
                    return
        finally:  # also on GeneratorExit: the consumer stopped
            row.cancel()

    def _schedule(self, batch: _Batch) -> None:
        """Queue a round for `batch` unless one is queued (called with `_lock` held)."""
        if batch.scheduled:
            return
        batch.scheduled = True
        future = self.worker.call(lambda: self._round(batch))
        future.add_done_callback(lambda done: self._after_round(batch, done))

    def _after_round(self, batch: _Batch, done) -> None:
        """Queue the next round while rows remain; if the round never ran or failed, fail every row."""
        error = done.exception()
        with self._lock:
            batch.scheduled = False
            if error is not None:
                rows, batch.live, batch.joining = batch.live + batch.joining, [], []
                self._batches.pop(id(batch.weights.model), None)
                for row in rows:
                    row.outbox.put(error)
                return
            if batch.live or batch.joining:
                self._schedule(batch)
            else:  # forget it, buffers and all: the next row starts a small batch again
                self._batches.pop(id(batch.weights.model), None)

    def _round(self, batch: _Batch) -> None:
        """One step boundary (on the worker thread): drop, prefill the next joiners, step everyone."""
        with torch.inference_mode(), two_core_matmuls():
            for slot in reversed(range(len(batch.live))):
                if batch.live[slot].cancelled:
                    self._leave(batch, slot)
            joiners = self._take_joiners(batch)
            if joiners:
                self._prefill(batch, joiners)
            if batch.live:
                self._step(batch)

    def _take_joiners(self, batch: _Batch) -> list[_Row]:
        """The next rows to join, in arrival order and within the round's bounds (cancelled ones are
        forgotten); the first row of an empty batch always fits."""
        taken: list[_Row] = []
        with self._lock:
            waiting = [row for row in batch.joining if not row.cancelled]
            prefilled = longest = handed = 0
            capacity = batch.kv.capacity if batch.kv is not None else 0
            per_position = fast_decode.KVSlots.bytes_per_position(batch.weights)
            for row in waiting:
                rows = len(batch.live) + len(taken) + 1
                capacity = max(capacity, len(row.ids) + row.max_new_tokens)
                if row.analysed is None:
                    prefilled, longest = prefilled + 1, max(longest, len(row.ids))
                else:
                    handed += len(row.ids)
                if rows > 1 and (prefilled > MAX_PREFILL_ROWS or longest * prefilled > MAX_PREFILL_TOKENS
                                 or handed > MAX_HANDED_TOKENS or rows > MAX_ROWS
                                 or _slots(rows) * capacity * per_position > KV_BUDGET_BYTES):
                    break
                taken.append(row)
            batch.joining = waiting[len(taken):]
        return taken

    def _prefill(self, batch: _Batch, joiners: list[_Row]) -> None:
        first = len(batch.live)
        rows, capacity = first + len(joiners), max(len(r.ids) + r.max_new_tokens for r in batch.live + joiners)
        if batch.kv is None:
            batch.kv = fast_decode.KVSlots(batch.weights, _slots(rows), capacity)
        else:
            batch.kv.grow(_slots(rows), capacity)
        logits = _first_logits(batch.kv, dict(zip(range(first, rows), joiners)))
        for row in joiners:
            row.length, row.analysed = len(row.ids), None
        batch.live.extend(joiners)  # joiner i is in slot first + i
        self._deliver(batch, first, _greedy(logits))

    def _step(self, batch: _Batch) -> None:
        live = list(batch.live)
        tokens = torch.tensor([row.last for row in live])
        positions = torch.tensor([row.length for row in live])
        self.step_rows.append(len(live))
        logits = fast_decode.decode_step(batch.kv, tokens, positions)
        for row in live:
            row.length += 1
        self._deliver(batch, 0, _greedy(logits))

    def _deliver(self, batch: _Batch, first: int, chosen: list[tuple[int, float]]) -> None:
        """Hand `chosen[i]` to the row in slot first + i; the rows that are done then leave (from
        the last slot down, so a row moved into a freed slot has been handed its token already)."""
        going_on = [batch.live[first + i].deliver(token_id, prob) for i, (token_id, prob) in enumerate(chosen)]
        for i in reversed(range(len(chosen))):
            if not going_on[i]:
                self._leave(batch, first + i)

    @staticmethod
    def _leave(batch: _Batch, slot: int) -> None:
        """Free `slot`: the last live row moves into it (its filled positions copied)."""
        last = len(batch.live) - 1
        if slot != last:
            batch.kv.move(last, slot, batch.live[last].length)
            batch.live[slot] = batch.live[last]
        batch.live.pop()


def _first_logits(kv: fast_decode.KVSlots, joiners: dict[int, _Row]) -> torch.Tensor:
    """Fill each joiner's slot (slot → row) with its prompt's keys/values — from its analysis if it
    has one, else in one prefill for all the others — and return every joiner's next-token logits
    (len(joiners), vocab), in slot order."""
    handed = {slot: row for slot, row in joiners.items() if row.analysed is not None}
    fresh = [slot for slot in joiners if slot not in handed]
    logits: dict[int, torch.Tensor] = {}
    if fresh:
        logits.update(zip(fresh, fast_decode.prefill(kv, fresh, [joiners[slot].ids for slot in fresh])))
    if handed:
        fast_decode.fill_from_hidden_states(kv, list(handed), [row.analysed.hidden_states for row in handed.values()])
        logits.update((slot, torch.from_numpy(row.analysed.last_logits)) for slot, row in handed.items())
    return torch.stack([logits[slot] for slot in sorted(joiners)])


def _slots(rows: int) -> int:
    """Slots to allocate for `rows` rows: the next multiple of SLOT_STEP."""
    return -(-rows // SLOT_STEP) * SLOT_STEP


def _greedy(logits: torch.Tensor) -> list[tuple[int, float]]:
    """Each row's most likely token and its probability (softmax of that row's fp32 logits)."""
    probs = torch.softmax(logits.float(), dim=-1)
    best = probs.argmax(dim=-1)
    chosen = probs.gather(-1, best.view(-1, 1)).view(-1)
    return list(zip(best.tolist(), chosen.tolist()))


_shared = GreedyBatcher()


def shared() -> GreedyBatcher:
    """The process's one batcher (its rounds run on `inference_queue.shared()`)."""
    return _shared
