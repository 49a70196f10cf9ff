"""Streamlit glue shared by app.py and the pages: cached model access, shared state, rendering.

Nothing here computes what the site teaches — that is `explain/`. This package only caches
`explain` results per process, reads the shared sidebar state and turns results into HTML/Plotly.
"""

import sys
from pathlib import Path

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
