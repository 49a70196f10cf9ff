"""What "Share this view" keeps, read from the link itself.

The link is the page address plus the query string that URL-bound widgets (`bind="query-params"`)
write: a bound control appears there once it differs from its default. The popover lists exactly
those parameters, named by `PARAM_NAMES`, and what each page holds that no link can carry.
"""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.html import markdown_escape
from ui.i18n import N_

# URL parameter (= widget key) -> the control's name in the popover; unknown keys show as typed.
PARAM_NAMES: dict[str, str] = {
    "prompt": "prompt",
    "model": "model",
    "present": "presenter mode",
    "sampling_strategy": "strategy",
    "sampling_temperature": "temperature",
    "sampling_top_k": "k",
    "sampling_top_p": "p",
    "sampling_min_p": "min-p",
    "sampling_seed": "seed",
    "sampling_beams": "beam width",
    "sampling_beam_steps": "beam steps",
    "icl_Zero-shot": "zero-shot box",
    "icl_One-shot": "one-shot box",
    "icl_Few-shot": "few-shot box",
    "bpe_word": "BPE word",
    "bpe_space": "space in front",
    "bpe_corpus": "BPE training text",
    "bpe_vocab": "vocabulary size",
    "bpe_trial": "text tried on your tokenizer",
    "tok_game": "token-count game",
    "home_game": "next-word game",
    "attn_layer": "layer", "attn_head": "head", "attn_view": "attention view", "attn_model_layers": "model-view layers",
    "attn_statistic": "gallery colouring", "attn_follow": "followed token", "attn_follow_head": "followed heads",
    "attn_score_row": "worked row", "attn_game": "predict, then reveal",
    "emb_word": "word", "emb_space": "mid-sentence spacing", "emb_k": "neighbours", "emb_exclude_self": "leave out the word",
    "emb_words": "word list", "emb_background": "map background", "emb_a": "a", "emb_b": "b", "emb_c": "c",
    "emb_target": "expected word", "emb_sentence_a": "sentence A", "emb_sentence_b": "sentence B",
    "emb_shared": "shared word", "emb_layer": "layer", "emb_positions": "positions", "emb_dims": "dimensions",
    "emb_game": "predict, then reveal",
    # The RNN and Inside-a-layer pages: their controls' own labels (translated in those pages' catalogs).
    "rvt_game": N_("🎯 Predict, then reveal"),
    "rvt_mode": N_("Continue the text"),
    "rvt_seed": N_("Seed"),
    "rvt_probe_group": N_("Repeated word"),
    "layer_game": N_("🎯 Predict, then reveal"),
    "layer_norm_layer": N_("Layer (norm)"),
    "layer_gqa_layer": N_("Layer (grouped-query attention)"),
    "layer_gqa_kv": N_("Key/value head"),
    "layer_rope_layer": N_("Layer (RoPE)"),
    "layer_rope_head": N_("Query head"),
    "layer_rope_pair": N_("Pair of numbers to watch (p and p + d/2)"),
    "layer_ffn_layer": N_("Layer (feed-forward)"),
    "layer_write_n": N_("Tokens to write"),
}
PARAM_NAMES.update(dict.fromkeys((  # the Attention and Embeddings pages' "show as table" switches
    "attn_follow_table", "attn_gallery_table", "attn_head_view_table", "attn_heatmap_table", "attn_model_view_table",
    "attn_scores_table", "emb_drift_table", "emb_learned_table", "emb_map_table", "emb_matrix_table",
    "emb_prompt_table", "emb_sinusoids_table", "emb_vector_table",
), "show as table"))
# Page URL path -> what that page shows that is not a widget value, so no link can restore it.
NOT_IN_LINK: dict[str, str] = {
    "sampling": "the tokens written with Next token / Generate 10 (a link opens before the first step)",
    "tokenization": "the BPE merge step (a link opens at step 0) and a guess typed in the game",
    "": "a guess typed in the game (a link opens with the answer hidden again)",
    "attention": "a guess typed in Predict, then reveal (a link opens the game before the guess)",
    "embeddings": "a guess typed in Predict, then reveal (a link opens the game before the guess)",
    "rnn_vs_transformer": N_("the guess of the predict-then-reveal game (a link opens before Reveal)"),
    "inside_layer": N_("the guess of the predict-then-reveal game, the query and key tokens of section 4, and the "
                       "tokens written in section 7 with their step, layer and head (press the button again)"),
}
VALUE_CHARS = 40  # longer values (prompts) are cut in the list, never in the link


def short(value: str, limit: int = VALUE_CHARS) -> str:
    """One line of at most `limit` characters: newlines shown as ⏎, a cut shown as …."""
    line = value.replace("\r\n", "\n").replace("\n", " ⏎ ")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def kept_lines(params: dict[str, str]) -> list[str]:
    """Markdown list items, one per parameter in the link: its name and value."""
    return [f"- {markdown_escape(PARAM_NAMES.get(key, key))}: “{markdown_escape(short(value))}”"
            for key, value in params.items()]


def share_popover(page_path: str) -> None:
    """The popover body: the link, what it holds (computed from the link), what it cannot hold."""
    params = st.query_params.to_dict()
    st.markdown("Copy this link: it opens this page with the settings listed below.")
    st.code(state.share_url(), language=None, wrap_lines=True)
    if params:
        st.markdown("**The link keeps**\n\n" + "\n".join(kept_lines(params)))
        st.caption("Every other control opens at its default value.")
    else:
        st.caption("Every control is at its default value, so the link is just the page address.")
    if page_path in NOT_IN_LINK:
        st.caption(f"Not in the link: {NOT_IN_LINK[page_path]}.")
