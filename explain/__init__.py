"""LLM Explainer's library: every number the site shows is computed here, with no UI imports.

One module per concept: `models` (loading), `tokens`, `next_token`, `generation`, `anatomy`.
Functions take a `LoadedModel` and plain values and return frozen dataclasses of plain data,
so they can be tested against torch/transformers and used from a notebook.
"""
