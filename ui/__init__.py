"""Streamlit glue shared by app.py and the pages: cached model access, shared state, rendering.

Nothing here computes what the site teaches — that is `explain/`. This package only caches
`explain` results per process, reads the shared sidebar state and turns results into HTML/Plotly.
"""

import ctypes
import sys
from pathlib import Path

# Imported here, once, before any visitor's thread needs it: two first visitors importing pandas
# at the same moment (st.dataframe does it lazily) saw "partially initialized module 'pandas'".
import pandas  # noqa: F401
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx


def _leave_pages_directory_mode() -> None:
    """Make deep links run app.py (sidebar, URL-bound prompt) even in a fresh server process.

    Streamlit treats a folder named `pages/` beside the main script as an old-style multipage
    app until the first `st.navigation` call, so a link such as `/attention?prompt=…` opened
    before anyone has visited `/` runs the page file alone: no sidebar, prompt ignored. A page run
    that way switches the mode off for the whole process and reloads the browser tab once; the
    new session then goes through app.py and opens the same page with the same URL.
    """
    ctx = get_script_run_ctx()
    if not PagesManager.uses_pages_directory or ctx is None:
        return
    main_script = Path(ctx.pages_manager.main_script_path).resolve()
    frame = sys._getframe(1)
    while frame is not None:
        filename = Path(frame.f_code.co_filename)
        if filename.resolve() == main_script:
            return  # app.py itself is running: its st.navigation call ends the old mode
        if filename.name == "local_script_runner.py" and filename.parent.name == "v1":
            return  # AppTest: no browser to reload; tests set the shared state themselves
        frame = frame.f_back
    PagesManager.uses_pages_directory = False
    st.html("<script>window.location.reload()</script>", unsafe_allow_javascript=True)
    st.stop()


_leave_pages_directory_mode()


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


_tune_malloc()
