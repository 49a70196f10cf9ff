"""The shared state every page reads: the loaded model and the learner's prompt.

The model is loaded once per process (`st.cache_resource`) and shared read-only by all visitors.
Forward passes are cached per (model, token ids) with `st.cache_data`, so moving a slider or
switching pages with the same prompt never reruns the model.
"""

from __future__ import annotations

import streamlit as st

from explain import cache_budget, generation, limits, snapshot, tokens
from explain.engine import analysis, models

DEFAULT_PROMPT = snapshot.DEFAULT_PROMPT
PROMPT_KEY = "prompt"  # also the URL query parameter
MODEL_KEY = "model"  # also the URL query parameter
PROMPT_MAX_CHARS = limits.PROMPT_MAX_CHARS  # the text box refuses more; the token cap applies after this
PRESET_KEY = "preset"
PRESETS: dict[str, str] = {
    "Capital of France": "The capital of France is",
    "The cat and the mat": "The cat sat on the mat because it was warm.",
    "Unbelievable words": "Tokenization splits unbelievable words into pieces.",
    "French": "Le petit chat dort sur le canapé parce qu'il",
    "Chinese": "今天天气很好，我们去公园",
    "Emoji": "I love pizza 🍕 and coffee ☕ because",
    "Python code": "def fibonacci(n):\n    if n < 2:\n        return",
}


def use_prompt(text: str) -> None:
    """Button callback (`on_click=use_prompt, args=(text,)`): make `text` the shared prompt."""
    st.session_state[PROMPT_KEY] = text


def use_picked_preset(picker_key: str, presets: dict[str, str]) -> None:
    """Picker callback (`on_change=use_picked_preset, args=(key, presets)`): copy the chosen
    example into the shared prompt, then clear the picker so the same example can be picked again."""
    choice = st.session_state.get(picker_key)
    if choice in presets:
        use_prompt(presets[choice])
    st.session_state[picker_key] = None


def apply_preset() -> None:
    """The sidebar's Examples picker."""
    use_picked_preset(PRESET_KEY, PRESETS)


@st.cache_resource(max_entries=limits.MODEL_CACHE_ENTRIES, show_spinner=False)
def get_model(name: str) -> models.LoadedModel:
    return models.load_model(name)


_loaded_models: set[str] = set()  # names this process has finished loading (for the snapshot)


def model_is_loaded(name: str) -> bool:
    return name in _loaded_models


def selected_model_name() -> str:
    name = st.session_state.get(MODEL_KEY, models.EMBEDDED_MODEL)
    return name if name in models.MODEL_CHOICES else models.EMBEDDED_MODEL


def current_model() -> models.LoadedModel:
    """The model chosen in the sidebar; on failure, says why and falls back to the embedded one."""
    name = selected_model_name()
    with st.spinner(f"Loading {name}… (the very first start converts the model: about 20 s)"):
        try:
            lm = get_model(name)
        except models.ModelUnavailable as err:
            if name == models.EMBEDDED_MODEL:
                st.error(str(err))
                st.stop()
            st.warning(f"{err} Showing {models.EMBEDDED_MODEL} instead.")
            lm = current_model_fallback()
    _loaded_models.add(lm.name)
    for note in lm.notes:
        st.info(note)
    return lm


def current_model_fallback() -> models.LoadedModel:
    try:
        return get_model(models.EMBEDDED_MODEL)
    except models.ModelUnavailable as err:
        st.error(str(err))
        st.stop()


def clean_prompt_state() -> None:
    """Before the sidebar's URL-bound prompt box is drawn: a URL (or a test) can carry lone
    surrogates, which the box can't write back into the address; they become U+FFFD."""
    text = st.session_state.get(PROMPT_KEY)
    if isinstance(text, str) and tokens.clean_text(text) != text:
        st.session_state[PROMPT_KEY] = tokens.clean_text(text)


def current_prompt_text() -> str:
    """The sidebar prompt, made safe to hash and encode (URLs can carry lone surrogates)."""
    return tokens.clean_text(st.session_state.get(PROMPT_KEY, DEFAULT_PROMPT) or "")


def current_prompt_tokens(lm: models.LoadedModel) -> tokens.PromptTokens:
    """The prompt as tokens, or a friendly hint and a stopped page when there is nothing to read."""
    try:
        prompt = cached_prompt_tokens(lm, current_prompt_text())
    except tokens.EmptyPrompt:
        st.info(
            "✍️ Type a prompt in the sidebar (or pick an example there) — the model needs some text "
            "to predict the next token from."
        )
        st.stop()
    if prompt.truncated:
        st.warning(
            f"Your prompt is long ({prompt.n_tokens_before_cap:,} tokens). The site reads only the "
            f"first {len(prompt.ids)} tokens, so every page stays fast; the rest is ignored."
        )
    return prompt


def page_prompt() -> tuple[models.LoadedModel, tokens.PromptTokens, tuple[int, ...]]:
    """What most pages start with: the sidebar's model, the prompt as its tokens (or a hint and a
    stopped page), and the ids as a tuple (the key of every cached result)."""
    lm = current_model()
    prompt = current_prompt_tokens(lm)
    return lm, prompt, tuple(prompt.ids)


def _loaded(model: models.LoadedModel | str) -> models.LoadedModel:
    """The model itself: pages pass the one they hold; a cached wrapper that keeps only a name
    (keys must be plain values) passes the name."""
    return model if isinstance(model, models.LoadedModel) else get_model(model)


# The wrappers below are keyed by the model's name; the model rides along unhashed (`_lm`), so a
# page holding the model never has it looked up again by name.


def cached_prompt_tokens(model: models.LoadedModel | str, text: str) -> tokens.PromptTokens:
    lm = _loaded(model)
    return _prompt_tokens(lm.name, text, lm)


@st.cache_data(max_entries=limits.PROMPT_TOKENS_CACHE_ENTRIES, show_spinner=False)
def _prompt_tokens(model_name: str, text: str, _lm: models.LoadedModel) -> tokens.PromptTokens:
    return tokens.tokenize_prompt(_lm, text)


def cached_greedy_continuation(
    model: models.LoadedModel | str, ids: tuple[int, ...], max_new_tokens: int
) -> generation.Continuation:
    lm = _loaded(model)
    return _greedy_continuation(lm.name, tuple(ids), max_new_tokens, lm)


@st.cache_data(max_entries=limits.CONTINUATION_CACHE_ENTRIES, show_spinner=False)
def _greedy_continuation(
    model_name: str, ids: tuple[int, ...], max_new_tokens: int, _lm: models.LoadedModel
) -> generation.Continuation:
    return generation.greedy_continuation(_lm, list(ids), max_new_tokens)


@st.cache_resource(show_spinner=False)
def _analysis_cache() -> cache_budget.AnalysisCache:
    """One per process, evicting by bytes (see limits.ANALYSIS_CACHE_MB for the budget)."""
    return cache_budget.AnalysisCache(limits.ANALYSIS_CACHE_MB * 2**20)


def cached_analysis(model: models.LoadedModel | str, ids: tuple[int, ...], background: bool = False) -> analysis.PromptAnalysis:
    """The one forward pass per (model, prompt) that every page shares (read-only: don't mutate).

    `background=True` is for work computed ahead (ui.startup's warm-up): its forward waits for
    every visitor's."""
    lm = _loaded(model)
    return _analysis_cache().get((lm.name, tuple(ids)), lambda: analysis.analyze_prompt(lm, list(ids), background))


def share_url() -> str:
    """This view's address: the page URL plus every URL-bound control that differs from its default."""
    from urllib.parse import urlencode

    base = st.context.url or ""
    query = urlencode({key: tokens.clean_text(value) for key, value in st.query_params.to_dict().items()})
    return f"{base}?{query}" if query else base


PROMPT_EDITOR_KEY = "prompt_editor"  # the phone prompt box at the top of the main area


def mirror_prompt_into_editor() -> None:
    """Before the phone prompt box is drawn: show it the sidebar prompt (the one source of truth)."""
    st.session_state[PROMPT_EDITOR_KEY] = st.session_state.get(PROMPT_KEY, DEFAULT_PROMPT)


def apply_prompt_editor() -> None:
    """Widget callback: an edit in the phone prompt box becomes the sidebar (URL-bound) prompt."""
    st.session_state[PROMPT_KEY] = st.session_state.get(PROMPT_EDITOR_KEY, "")
