"""What "Share this view" keeps, read from the link itself.

The link is the page address plus the query string that URL-bound widgets (`bind="query-params"`)
write: a bound control appears there once it differs from its default. The popover lists exactly
those parameters, named by `PARAM_NAMES`, and what each page holds that no link can carry.
"""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.html import markdown_escape
from ui.i18n import LANG_KEY, LANGUAGES, N_, _

# URL parameter (= widget key) -> the control's name in the popover (English, shown translated);
# unknown keys show as typed.
PARAM_NAMES: dict[str, str] = {
    "prompt": N_("prompt"),
    "model": N_("model"),
    LANG_KEY: N_("language"),
    "present": N_("presenter mode"),
    "sampling_strategy": N_("strategy"),
    "sampling_temperature": N_("temperature"),
    "softmax_top_n": N_("tokens shown (top N)"),
    "softmax_temperature": N_("temperature"),
    "softmax_word": N_("word looked up"),
    "softmax_space": N_("after a space"),
    "softmax_game": N_("predict, then reveal"),
    "sampling_game": N_("guess the strategy"),
    "sampling_top_k": "k",
    "sampling_top_p": "p",
    "sampling_min_p": "min-p",
    "sampling_seed": N_("seed"),
    "sampling_beams": N_("beam width"),
    "sampling_beam_steps": N_("beam steps"),
    "icl_Zero-shot": N_("zero-shot box"),
    "icl_One-shot": N_("one-shot box"),
    "icl_Few-shot": N_("few-shot box"),
    "bpe_word": N_("BPE word"),
    "bpe_space": N_("space in front"),
    "bpe_corpus": N_("BPE training text"),
    "bpe_vocab": N_("vocabulary size"),
    "bpe_trial": N_("text tried on your tokenizer"),
    "tok_game": N_("token-count game"),
    "home_game": N_("next-word game"),
    "attn_layer": N_("layer"), "attn_head": N_("head"), "attn_view": N_("attention view"), "attn_model_layers": N_("model-view layers"),
    "attn_statistic": N_("gallery colouring"), "attn_follow": N_("followed token"), "attn_follow_head": N_("followed heads"),
    "attn_score_row": N_("worked row"), "attn_game": N_("predict, then reveal"),
    "attn_scores_layer": N_("Layer (scores)"), "attn_scores_head": N_("Head (scores)"),  # the page's own labels
    "emb_word": N_("word"), "emb_space": N_("mid-sentence spacing"), "emb_k": N_("neighbours"), "emb_exclude_self": N_("leave out the word"),
    "emb_words": N_("word list"), "emb_background": N_("map background"), "emb_a": N_("a"), "emb_b": N_("b"), "emb_c": N_("c"),
    "emb_target": N_("expected word"), "emb_sentence_a": N_("sentence A"), "emb_sentence_b": N_("sentence B"),
    "emb_shared": N_("shared word"), "emb_layer": N_("layer"), "emb_positions": N_("positions"), "emb_dims": N_("dimensions"),
    "emb_game": N_("predict, then reveal"),
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
    "hall_seed": N_("seed"),
    "hall_sweep": N_("Run the measurement (≈ 10–30 s)"),  # the Hallucinations page's own label
    "lesson": N_("Lesson"), "step": N_("Lesson step"),  # the lesson panel's (explain.lessons.LESSON_KEY, STEP_KEY)
}
PARAM_NAMES.update(dict.fromkeys((  # the Attention and Embeddings pages' "show as table" switches
    "attn_follow_table", "attn_gallery_table", "attn_head_view_table", "attn_heatmap_table", "attn_model_view_table",
    "attn_scores_table", "emb_drift_table", "emb_learned_table", "emb_map_table", "emb_matrix_table",
    "emb_prompt_table", "emb_sinusoids_table", "emb_vector_table",
), N_("show as table")))
# Page URL path -> what that page shows that is not a widget value, so no link can restore it.
NOT_IN_LINK: dict[str, str] = {
    "softmax": N_("your guess in the game and whether it was revealed (the game opens waiting for a guess)"),
    "sampling": N_("the tokens written with Next token / Generate 10 (a link opens before the first step); "
                   "whether Compare strategies and Run beam search were pressed (press them again: results "
                   "already written for this prompt and seed come back at once); the game's guess"),
    "tokenization": N_("the BPE merge step (a link opens at step 0) and a guess typed in the game"),
    "": N_("a guess typed in the game (a link opens with the answer hidden again)"),
    "attention": N_("a guess typed in Predict, then reveal (a link opens the game before the guess)"),
    "embeddings": N_("a guess typed in Predict, then reveal (a link opens the game before the guess)"),
    "rnn_vs_transformer": N_("the guess of the predict-then-reveal game (a link opens before Reveal)"),
    "inside_layer": N_("the guess of the predict-then-reveal game, the query and key tokens of section 4, and the "
                       "tokens written in section 7 with their step, layer and head (press the button again)"),
}
VALUE_CHARS = 40  # longer values (prompts) are cut in the list, never in the link


def short(value: str, limit: int = VALUE_CHARS) -> str:
    """One line of at most `limit` characters: newlines shown as ⏎, a cut shown as …."""
    line = value.replace("\r\n", "\n").replace("\n", " ⏎ ")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def shown_value(key: str, value: str) -> str:
    """A parameter's value as the list shows it: a language by its name ("es" → "Español")."""
    return LANGUAGES.get(value, value) if key == LANG_KEY else value


def kept_lines(params: dict[str, str]) -> list[str]:
    """Markdown list items, one per parameter in the link: its name and value."""
    return ["- " + _("{name}: “{value}”").format(name=markdown_escape(_(PARAM_NAMES[key]) if key in PARAM_NAMES else key),
                                                 value=markdown_escape(short(shown_value(key, value))))
            for key, value in params.items()]


def share_popover(page_path: str) -> None:
    """The popover body: the link, what it holds (computed from the link), what it cannot hold."""
    params = state.link_params()
    st.markdown(_("Copy this link: it opens this page with the settings listed below."))
    st.code(state.share_url(), language=None, wrap_lines=True)
    if params:
        st.markdown(_("**The link keeps**") + "\n\n" + "\n".join(kept_lines(params)))
        st.caption(_("Every other control opens at its default value."))
    else:
        st.caption(_("Every control is at its default value, so the link is just the page address."))
    if page_path in NOT_IN_LINK:
        st.caption(_("Not in the link: {what}.").format(what=_(NOT_IN_LINK[page_path])))
