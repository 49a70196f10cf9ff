"""What the server process sets up once, before the first visitor: called first thing by app.py.

Each setting here was measured on the site under load (README, Performance); they live in one
explicit call rather than as side effects of importing a module, so tests and notebooks that
import `ui` or `explain` get none of them.
"""

from __future__ import annotations

import ctypes
import threading

_done = threading.Event()


def configure_server_process() -> None:
    """Tune malloc, fix torch's thread count and preload pandas, once per process."""
    if _done.is_set():
        return
    _tune_malloc()
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
