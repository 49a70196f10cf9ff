"""What the server process sets up once: `configure_server_process()`, called first thing by
app.py, `preload_model()` right after its imports, and `start_warm_up()`, called last (after the
first page has been served).

Each setting here was measured on the site under load (docs/performance-history.md); they live in explicit
calls rather than as side effects of importing a module, so tests and notebooks that import `ui`
or `explain` get none of them.
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import os
import threading
import time

from streamlit.logger import get_logger

_done = threading.Event()
WARMUP_ENV = "LLM_EXPLAINER_WARMUP"  # "0": no warm-up (the test suite's servers: forwards stay countable)
_warm_up_lock = threading.Lock()
_warm_up_started = threading.Event()
warm_up_finished = threading.Event()  # set when the background warm-up has ended (tests, bench)
_heap_frozen = threading.Event()
_preload_started = threading.Event()
_stop_warm_up = threading.Event()  # set at exit: the warm-up stops before its next prompt
WARM_UP_EXIT_WAIT_S = 30.0  # at exit, how long to wait for the warm-up's prompt in progress
_log = get_logger(__name__)  # Streamlit's logger: shown in the server's log at its level


# OpenMP's wait policy, read once when torch loads its OpenMP runtime (so set before torch is imported).
# Measured 2026-12-01 on the shared 2-core machine (load average 17-40), 20 greedy tokens, one fresh
# process per setting (tools/thread_contention.py): 2 threads with the default policy 83 s, and 101 s
# with one busy process beside it; 2 threads with PASSIVE 4.1 s / 3.1 s; 1 thread 10.2 s / 10.6 s.
# Side by side in one run: 1 thread 6.8 s, 2 threads PASSIVE 5.3 s. Threads that spin waiting for a
# core that another job holds collapse; passive ones sleep. Not measured on an idle machine.
OMP_WAIT_POLICY = "PASSIVE"


def configure_server_process() -> None:
    """Tune malloc, OpenMP's wait policy (unless set) and torch's thread count, and preload pandas,
    once per process. Call it before anything imports torch, or the wait policy has no effect."""
    if _done.is_set():
        return
    _tune_malloc()
    os.environ.setdefault("OMP_WAIT_POLICY", OMP_WAIT_POLICY)
    from explain.engine import models

    models.set_torch_threads()
    # Imported once, before any visitor's thread needs it: two first visitors importing pandas
    # at the same moment (st.dataframe does it lazily) saw "partially initialized module 'pandas'".
    import pandas  # noqa: F401

    _done.set()


def _tune_malloc(arenas: int = 2, mmap_threshold: int = 1 << 20) -> bool:
    """Keep the server's memory flat while many visitors come and go (glibc only; else a no-op).

    Streamlit runs every visitor's script in its own thread. By default glibc (a) gives busy
    threads malloc arenas of their own, up to 8 per core, and (b) raises its mmap threshold each
    time a large block is freed, so later temporaries of up to 32 MB (logits over the vocabulary,
    hidden states, figures) come from those arenas and stay with the process after they are freed.
    Measured with 30 simultaneous visitors on the Softmax page: the server grew by 387 MB; with two
    arenas and a fixed 1 MB mmap threshold (blocks above it go back to the system when freed), by
    76 MB, at the same speed. This is what MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=1048576 would
    do at launch, applied here so every way of starting the app gets it.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    M_ARENA_MAX, M_MMAP_THRESHOLD = -8, -3
    fixed_mmap = libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold)
    return bool(libc.mallopt(M_ARENA_MAX, arenas)) and bool(fixed_mmap)


def warm_up_prompts() -> list[str]:
    """What a class is likely to click: every sidebar example and every lesson step's prompt for the
    embedded model, each once, in that order."""
    from explain.engine.models import EMBEDDED_MODEL
    from explain.lessons import load_lessons
    from ui.state import MODEL_KEY, PRESETS

    prompts = list(PRESETS.values())
    for lesson in load_lessons():
        for step in lesson.steps:
            if "prompt" in step.controls and step.controls.get(MODEL_KEY, EMBEDDED_MODEL) == EMBEDDED_MODEL:
                prompts.append(str(step.controls["prompt"]))
    return list(dict.fromkeys(prompts))


def freeze_long_lived_objects() -> None:
    """Collect garbage, then move every object still alive out of the collector's sight (`gc.freeze`).

    A full collection walks every object the process holds: with torch, transformers, plotly and
    the model loaded that is about 480,000 objects, 0.3 s each time (measured 2026-12-01, idle
    machine). Streamlit would run one after every script run (`runner.postScriptGC`, off in
    .streamlit/config.toml: with the caches full it cost more than the page itself under a class);
    Python's own collector still runs one now and then. Frozen objects are still freed when their
    last reference goes; only a reference cycle among them is never collected, so this runs once
    (the first page served with the model loaded), not after every run; not at the warm-up's end
    either, where its 0.3 s collection would hold the GIL in the middle of a visitor's run."""
    gc.collect()
    gc.freeze()


def start_warm_up() -> None:
    """Once per process, after a page has been served with the embedded model loaded: freeze the
    long-lived objects (`freeze_long_lived_objects`), then compute the shared analysis of every
    `warm_up_prompts()` ahead, in a background thread, so a class clicking an example or a lesson
    step gets a cached answer. Each forward is background work of the inference worker (one at a
    time, after every visitor's). `LLM_EXPLAINER_WARMUP=0` turns the warm-up off (not the freeze).

    At exit (`atexit`, while threads still run) the warm-up is told to stop and is joined: a daemon
    thread left inside torch or the tokenizer when the interpreter finalizes aborts the process."""
    from explain.engine.models import EMBEDDED_MODEL
    from ui import state

    if _warm_up_started.is_set() or not state.model_is_loaded(EMBEDDED_MODEL):
        return  # started already; or this run used another model or stopped early: a later run starts it
    if not _heap_frozen.is_set():
        _heap_frozen.set()
        freeze_long_lived_objects()
    if os.environ.get(WARMUP_ENV, "1") == "0":
        return
    with _warm_up_lock:
        if _warm_up_started.is_set():
            return
        _warm_up_started.set()
    thread = threading.Thread(target=warm_up, args=(EMBEDDED_MODEL, warm_up_prompts()), name="warm-up", daemon=True)
    thread.start()
    atexit.register(stop_warm_up, thread)


def stop_warm_up(thread: threading.Thread, timeout: float = WARM_UP_EXIT_WAIT_S) -> bool:
    """Ask the warm-up to stop after its prompt in progress and wait for it (at most `timeout`);
    whether it has ended."""
    _stop_warm_up.set()
    thread.join(timeout)
    return not thread.is_alive()


def warm_up(model_name: str, prompts: list[str]) -> None:
    """Put the analysis of each prompt in the shared cache (`ui.state.cached_analysis`, tokenized
    as a page does it), one after the other as background work, and the Softmax page's own results
    for it (`ui.softmax.warm_up`); a prompt already cached costs nothing.
    Stops before the next prompt once the process is exiting (`stop_warm_up`, or the inference
    worker has shut down)."""
    from explain.engine.inference_queue import WorkerStopped
    from ui import softmax, state

    start, done = time.perf_counter(), 0
    _log.info("warm-up: %d prompts", len(prompts))
    try:
        lm = state.get_model(model_name)
        for text in prompts:
            if _stop_warm_up.is_set():
                break
            ids = tuple(state.cached_prompt_tokens(lm, text).ids)
            state.cached_analysis(lm, ids, background=True)
            softmax.warm_up(lm, ids)
            done += 1
    except WorkerStopped:
        pass  # the process is exiting
    except Exception:  # the warm-up is a bonus: a failure must never reach a visitor
        _log.exception("warm-up stopped")
    finally:
        warm_up_finished.set()
    if done < len(prompts):
        _log.info("warm-up: stopped after %d of %d prompts in %.1f s", done, len(prompts), time.perf_counter() - start)
    else:
        _log.info("warm-up: %d prompts in %.1f s", len(prompts), time.perf_counter() - start)


def preload_model() -> None:
    """Once per process, on the first page run: load the embedded model in a background thread, so
    it loads while the first page's own imports and sidebar run (Home then waits for the same
    `st.cache_resource` entry instead of starting the load itself). Only when this visitor uses
    the embedded model and it is not loaded yet; joined at exit like the warm-up (a daemon thread
    inside torch at exit aborts the process)."""
    from explain.engine.models import EMBEDDED_MODEL
    from ui import state

    if state.selected_model_name() != EMBEDDED_MODEL or state.model_is_loaded(EMBEDDED_MODEL):
        return
    with _warm_up_lock:
        if _preload_started.is_set():
            return
        _preload_started.set()
    thread = threading.Thread(target=_preload, args=(state.get_model, EMBEDDED_MODEL), name="model-preload", daemon=True)
    thread.start()
    atexit.register(thread.join, WARM_UP_EXIT_WAIT_S)


def _preload(get_model, name: str) -> None:
    start = time.perf_counter()
    try:
        get_model(name)
    except Exception:  # the page's own call shows the error to the visitor
        _log.exception("model preload failed")
        return
    _log.info("start-up: %s loaded in the background in %.1f s", name, time.perf_counter() - start)
