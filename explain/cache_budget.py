"""How much memory prompt analyses take, and how much of it the site may keep.

The budget, in MB (issue 15: every cache gets a budget in MB, not an entry count picked by hand):
- the target is ≤ 1.5 GB RSS after every page has been visited, the bf16 draft included, and < 200 MB
  growth for 30 sessions;
- measured before this budget (docs/performance-history.md): 1,188 MB RSS after one visitor opened every
  page, without the bf16 draft (+ 260 MB of weights). That leaves the analyses the 200 MB growth
  allowance, not the 16 GB of a Space: the 1.5 GB target, not the machine, is the limit;
- of those 200 MB, Streamlit's other caches have measured MB budgets (explain/limits.py, 81 MB in
  all with the 16 MB of figures every session shares, tested to fit with this one) and the sessions need some state; the rest, 112 MB, is the
  analysis cache's. One batched forward's transients (at the inference worker's cap of 8 rows × 64
  tokens the eager attention maps alone are 30 × 9 × 8 × 64² × 4 B ≈ 35 MB, about twice that with
  the softmax's intermediates) are blocks above the 1 MB mmap threshold (ui/startup._tune_malloc),
  returned to the system when freed: they raise the peak, not the level a class leaves behind.
112 MB holds 31 analyses of 32-token prompts (3.6 MB each for SmolLM2-135M): a class of 30 with
one prompt each stays cached. A prompt at the 256-token cap takes 89 MB, so an entry count can't
express this budget (16 entries at the cap would be 1.4 GB): `AnalysisCache` evicts by bytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future

from explain.engine.analysis import PromptAnalysis
from explain.limits import ANALYSIS_CACHE_MB  # the number lives with the site's other limits


def analysis_bytes(result: PromptAnalysis) -> int:
    """Bytes a cached `PromptAnalysis` holds: its three arrays plus its token ids (Python ints)."""
    arrays = result.attentions.nbytes + result.hidden_states.nbytes + result.last_logits.nbytes
    return arrays + 8 * len(result.ids) + 28 * len(set(result.ids))


def worst_case_bytes(n_layer: int, n_head: int, d_model: int, vocab: int, n_tokens: int) -> int:
    """`analysis_bytes` of an analysis of `n_tokens` tokens, from the model's shape (fp32 arrays)."""
    floats = n_layer * n_head * n_tokens**2 + (n_layer + 1) * n_tokens * d_model + vocab
    return 4 * floats + 36 * n_tokens


class AnalysisCache:
    """A thread-safe LRU bounded in bytes; concurrent requests for one key compute it once.

    `get(key, compute)` returns the cached value or runs `compute()` (once, however many threads
    ask for that key meanwhile), keeps it and evicts the least recently used entries until the
    total fits `budget_bytes`. A value larger than the whole budget is returned but not kept.
    """

    def __init__(self, budget_bytes: int, size: Callable[[object], int] = analysis_bytes) -> None:
        self.budget_bytes, self._size = budget_bytes, size
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._pending: dict[Hashable, Future] = {}
        self._lock = threading.Lock()
        self.bytes = 0

    def get(self, key: Hashable, compute: Callable[[], object]) -> object:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]
            pending = self._pending.get(key)
            owner = pending is None
            if owner:
                pending = self._pending[key] = Future()
        if not owner:
            return pending.result()
        try:
            value = compute()
        except BaseException as err:
            with self._lock:
                del self._pending[key]
            pending.set_exception(err)
            raise
        with self._lock:
            del self._pending[key]
            self._keep(key, value)
        pending.set_result(value)
        return value

    def peek(self, key: Hashable) -> object | None:
        """The cached value, or None (never computes; a value being computed is not waited for)."""
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key][0]

    def __len__(self) -> int:
        return len(self._entries)

    def _keep(self, key: Hashable, value: object) -> None:
        size = self._size(value)
        if size > self.budget_bytes:
            return
        self._entries[key] = (value, size)
        self.bytes += size
        while self.bytes > self.budget_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self.bytes -= evicted
