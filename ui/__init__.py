"""Streamlit glue shared by app.py and the pages: cached model access, shared state, rendering.

Nothing here computes what the site teaches — that is `explain/`. This package only caches
`explain` results per process, reads the shared sidebar state and turns results into HTML/Plotly.
The page scripts live in `views/`, not `pages/`: Streamlit 1.67 treats a `pages/` folder beside
the main script as an old-style multipage app, which made fresh deep links skip app.py.
"""
