"""Drawing the precomputed Home snapshot (explain.snapshot) while the live model loads."""

from __future__ import annotations

import streamlit as st

from explain.snapshot import HomeSnapshot
from explain.tokens import TokenPiece
from ui.html import token_spans
from ui.i18n import _, format_percent


def show_snapshot(snapshot: HomeSnapshot) -> None:
    st.info(_(
        "⏳ **The live model is loading** (the very first start converts it: about 20 s). "
        "Meanwhile, this is what it computed earlier for the default prompt — a *precomputed* "
        "result, not a live one."
    ))
    pieces = [
        TokenPiece(index=i, id=token_id, text=text, display=text, is_partial_character=False)
        for i, (text, token_id) in enumerate(zip(snapshot.tokens, snapshot.ids))
    ]
    st.markdown(_("**Prompt:** {count} tokens").format(count=len(pieces)))
    st.html(token_spans(pieces))
    st.markdown(_("**The five most likely next tokens (precomputed):**"))
    st.table(
        {
            _("token"): [repr(token) for token in snapshot.top_tokens],
            _("probability"): [format_percent(p, 2) for p in snapshot.top_probs],
        }
    )
    st.markdown(_("**Greedy continuation (precomputed):**"))
    st.code(snapshot.prompt + snapshot.continuation, language=None, wrap_lines=True)
