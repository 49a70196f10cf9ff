"""Drawing the precomputed Home snapshot (explain.snapshot) while the live model loads."""

from __future__ import annotations

import streamlit as st

from explain.snapshot import HomeSnapshot
from explain.tokens import TokenPiece
from ui.html import token_spans


def show_snapshot(snapshot: HomeSnapshot) -> None:
    st.info(
        "⏳ **The live model is loading** (the very first start converts it: about 20 s). "
        "Meanwhile, this is what it computed earlier for the default prompt — a *precomputed* "
        "result, not a live one."
    )
    pieces = [
        TokenPiece(index=i, id=token_id, text=text, display=text, is_partial_character=False)
        for i, (text, token_id) in enumerate(zip(snapshot.tokens, snapshot.ids))
    ]
    st.markdown(f"**Prompt:** {len(pieces)} tokens")
    st.html(token_spans(pieces))
    st.markdown("**The five most likely next tokens (precomputed):**")
    st.table(
        {
            "token": [repr(token) for token in snapshot.top_tokens],
            "probability": [f"{p:.2%}" for p in snapshot.top_probs],
        }
    )
    st.markdown("**Greedy continuation (precomputed):**")
    st.code(snapshot.prompt + snapshot.continuation, language=None, wrap_lines=True)
