"""The shared state every page reads: the loaded model and the learner's prompt.

The model is loaded once per process (`st.cache_resource`) and shared read-only by all visitors.
Forward passes are cached per (model, token ids) with `st.cache_data`, so moving a slider or
switching pages with the same prompt never reruns the model.
"""

from __future__ import annotations

import contextlib

import streamlit as st

from explain import cache_budget, generation, language_cost, limits, snapshot, tokens
from explain.engine import analysis, models
from ui.i18n import DEFAULT_LANGUAGE, LANG_KEY, N_, _, current_language, format_number

DEFAULT_PROMPT = snapshot.DEFAULT_PROMPT
PROMPT_KEY = "prompt"  # also the URL query parameter
MODEL_KEY = "model"  # also the URL query parameter
PROMPT_MAX_CHARS = limits.PROMPT_MAX_CHARS  # the text box refuses more; the token cap applies after this
PRESET_KEY = "preset"
# The sidebar's examples: name (English, shown translated) -> prompt (never translated: it is
# what the model reads). Every language gets these, after its own.
PRESETS: dict[str, str] = {
    N_("Capital of France"): "The capital of France is",
    N_("The cat and the mat"): "The cat sat on the mat because it was warm.",
    N_("Unbelievable words"): "Tokenization splits unbelievable words into pieces.",
    N_("French"): "Le petit chat dort sur le canapé parce qu'il",
    N_("Chinese"): "今天天气很好，我们去公园",
    N_("Emoji"): "I love pizza 🍕 and coffee ☕ because",
    N_("Python code"): "def fibonacci(n):\n    if n < 2:\n        return",
}
# Prompts in the learner's language where the live SmolLM2 does something worth looking at
# (tried on it: it counts on, "cinco" at 78 %, "cinq" at 37 %; it continues "一、二、三、" with
# further numerals; the capitals it gets wrong, which the language note says it will).
LANGUAGE_PRESETS: dict[str, dict[str, str]] = {
    "es": {
        N_("Counting in Spanish"): "Uno, dos, tres, cuatro,",
        N_("Capital of France, in Spanish"): "La capital de Francia es",
        N_("A story in Spanish"): "Había una vez un niño que",
    },
    "fr": {
        N_("Counting in French"): "Un, deux, trois, quatre,",
        N_("Capital of France, in French"): "La capitale de la France est",
        N_("A cat, in French"): "Le petit chat dort sur le canapé parce qu'il",
    },
    "zh": {
        N_("Counting in Chinese"): "一、二、三、",
        N_("The weather, in Chinese"): "今天天气很好，我们去公园",
        N_("Capital of France, in Chinese"): "中国的首都是北京。法国的首都是",
    },
}


def presets(lang: str) -> dict[str, str]:
    """The examples offered in `lang`: its own prompts first, then the English ones (but not one
    whose prompt it already offers, e.g. the French sentence)."""
    own = LANGUAGE_PRESETS.get(lang, {})
    return {**own, **{name: text for name, text in PRESETS.items() if text not in own.values()}}


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
    use_picked_preset(PRESET_KEY, presets(current_language()))


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
    # Once loaded, no spinner: it would start a timer thread on every run of every page, and under a
    # class's load each thread start waits for the GIL, for a message never shown.
    loading = (contextlib.nullcontext() if model_is_loaded(name) else
               st.spinner(_("Loading {name}… (the very first start converts the model: about 20 s)").format(name=name)))
    with loading:
        try:
            lm = get_model(name)
        except models.ModelUnavailable as err:
            if name == models.EMBEDDED_MODEL:
                st.error(str(err))
                st.stop()
            st.warning(_("{error} Showing {model} instead.").format(error=err, model=models.EMBEDDED_MODEL))
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
        st.info(_(
            "✍️ Type a prompt in the Prompt box (or pick an example in the sidebar) — the model needs some text "
            "to predict the next token from."
        ))
        st.stop()
    if prompt.truncated:
        st.warning(_(
            "Your prompt is long ({count} tokens). The site reads only the first {kept} tokens, so "
            "every page stays fast; the rest is ignored."
        ).format(count=format_number(prompt.n_tokens_before_cap), kept=format_number(len(prompt.ids))))
    return prompt


def page_prompt() -> tuple[models.LoadedModel, tokens.PromptTokens, tuple[int, ...]]:
    """What most pages start with: the sidebar's model, the prompt as its tokens (or a hint and a
    stopped page), and the ids as a tuple (the key of every cached result)."""
    lm = current_model()
    prompt = current_prompt_tokens(lm)
    return lm, prompt, tuple(prompt.ids)


# The `hash_funcs` of every page wrapper that takes the model itself: it is keyed by its name, so two
# models never share an entry and the model is never hashed (nor looked up again by name).
BY_MODEL_NAME = {models.LoadedModel: lambda lm: lm.name}


def page_analysis() -> tuple[models.LoadedModel, tokens.PromptTokens, tuple[int, ...], analysis.PromptAnalysis]:
    """`page_prompt()` and the prompt's one shared forward (`cached_analysis`): what the pages that
    read the model's output start with."""
    lm, prompt, ids = page_prompt()
    return lm, prompt, ids, cached_analysis(lm, ids)


def _loaded(model: models.LoadedModel | str) -> models.LoadedModel:
    """The model itself: pages pass the one they hold; the warm-up, which keeps only a name, passes
    the name."""
    return model if isinstance(model, models.LoadedModel) else get_model(model)


# The wrappers below accept the model or its name (the warm-up holds only the name); the cached
# functions behind them take the model, keyed by its name (BY_MODEL_NAME).


def cached_prompt_tokens(model: models.LoadedModel | str, text: str) -> tokens.PromptTokens:
    lm = _loaded(model)
    return _prompt_tokens(lm, text)


@st.cache_data(max_entries=limits.PROMPT_TOKENS_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def _prompt_tokens(lm: models.LoadedModel, text: str) -> tokens.PromptTokens:
    return tokens.tokenize_prompt(lm, text)


def cached_greedy_continuation(
    model: models.LoadedModel | str, ids: tuple[int, ...], max_new_tokens: int
) -> generation.Continuation:
    lm = _loaded(model)
    return _greedy_continuation(lm, tuple(ids), max_new_tokens)


@st.cache_data(max_entries=limits.CONTINUATION_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def _greedy_continuation(lm: models.LoadedModel, ids: tuple[int, ...], max_new_tokens: int) -> generation.Continuation:
    """Decoded with every other visitor's continuation, from the shared analysis of `ids` (the
    prompt does not run through the model again): `generation.greedy_stream_together`."""
    steps = list(generation.greedy_stream_together(lm, list(ids), max_new_tokens,
                                                   analysed=cached_analysis(lm, ids)))
    return generation.continuation_of(lm, list(ids), [token for token, _ in steps], [prob for _, prob in steps])


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


def analysis_if_cached(model: models.LoadedModel | str, ids: tuple[int, ...]) -> analysis.PromptAnalysis | None:
    """`cached_analysis` if it has already been computed, else None (nothing is run)."""
    return _analysis_cache().peek((_loaded(model).name, tuple(ids)))


def link_params() -> dict[str, str]:
    """What a shared link carries: every URL-bound control that differs from its default, and the
    language's code (`lang=fr`) whenever it is not English, also when it came from the browser
    (the reader's browser may speak another one)."""
    params = st.query_params.to_dict()
    params.pop(LANG_KEY, None)  # the picker writes the language's name ("Français"); links use its code
    if current_language() != DEFAULT_LANGUAGE:
        params[LANG_KEY] = current_language()
    return params


def share_url() -> str:
    """This view's address: the page URL plus `link_params()`."""
    from urllib.parse import urlencode

    base = st.context.url or ""
    query = urlencode({key: tokens.clean_text(value) for key, value in link_params().items()})
    return f"{base}?{query}" if query else base


@st.cache_data(max_entries=limits.LANGUAGE_COST_CACHE_ENTRIES, hash_funcs=BY_MODEL_NAME, show_spinner=False)
def cached_language_cost(lm: models.LoadedModel, lang: str) -> language_cost.LanguageCost:
    return language_cost.language_cost(lm, lang)


def language_note() -> str | None:
    """For a language other than English, once the model is loaded: an honest word on how weak the
    model is in it, with the tokenizer's cost computed on the same sentences in both languages."""
    lang, name = current_language(), selected_model_name()
    if lang == DEFAULT_LANGUAGE or not model_is_loaded(name):
        return None
    cost = cached_language_cost(get_model(name), lang)  # loaded already: a cache hit
    # Shown only in that language, so the message says "this language" and the translator names it.
    return _(
        "ℹ️ {model} learned mostly from English text, so it is much weaker in this language: expect "
        "odd or wrong next words. Its tokenizer is built for English too: three short sentences take "
        "{tokens} tokens in this language and {english} in English ({ratio}× as many), so less text "
        "fits in its context window and each token carries less meaning."
    ).format(model=name, tokens=cost.n_tokens, english=cost.n_reference_tokens, ratio=format_number(cost.ratio, 1))


PROMPT_EDITOR_KEY = "prompt_editor"  # the phone prompt box at the top of the main area


def mirror_prompt_into_editor() -> None:
    """Before the phone prompt box is drawn: show it the sidebar prompt (the one source of truth)."""
    st.session_state[PROMPT_EDITOR_KEY] = st.session_state.get(PROMPT_KEY, DEFAULT_PROMPT)


def apply_prompt_editor() -> None:
    """Widget callback: an edit in the phone prompt box becomes the sidebar (URL-bound) prompt."""
    st.session_state[PROMPT_KEY] = st.session_state.get(PROMPT_EDITOR_KEY, "")
