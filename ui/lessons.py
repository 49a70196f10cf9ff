"""The lesson panel in the sidebar: pick a lesson, walk its steps, show the class a QR code,
download the teacher guide and the student's exit ticket.

The open lesson and step live in the URL (`?lesson=…&step=…`, next to the step's prompt and
controls, and the language), so a link or a QR code puts 30 phones on the same step. Back / Next
switch to the step's page with its state; closing the panel removes the two parameters again.
Everything is shown in the session's language: the lesson files' texts are messages of the
`lessons` catalog, and a step's section is named by its page's translated header (the anchor of
its link is the id Streamlit gives that header in that language).
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import segno
import streamlit as st

from explain import exit_ticket, lessons, tokens
from explain.engine import models
from explain.next_token import distribution_from_logits
from ui import state
from ui.html import markdown_escape, visible_text
from ui.i18n import _, current_language, format_percent
from ui.walk import WALK

PICK_KEY = "lesson_pick"
REVEAL_KEY = "lesson_reveal"
GOTO_KEY = "lesson_goto"
TOP_N = 5  # tokens on the exit ticket


@st.cache_data(show_spinner=False)
def all_lessons() -> dict[str, lessons.Lesson]:
    return {lesson.id: lesson for lesson in lessons.load_lessons()}


def shown(lesson: lessons.Lesson) -> lessons.Lesson:
    """The lesson in the session's language."""
    return lessons.translated(lesson, _)


def page_file(step: lessons.Step) -> str:
    return lessons.navigation_pages()[step.page]


def page_title(stem: str) -> str:
    """A page as the navigation names it, translated ("tokenization" → "Tokenization")."""
    return next((_(step.title) for step in WALK if step.stem == stem), stem)


def step_link(lesson: lessons.Lesson, index: int) -> str:
    """The step's link in the session's language (its anchor from the page's translated header)."""
    step = lesson.steps[index]
    return lessons.step_url(app_root(), lesson, index, lang=current_language(),
                            section=_(step.section) if step.section else None)


def open_step() -> tuple[lessons.Lesson, int] | None:
    """The lesson and 0-based step the URL names, or None (unknown ids and steps are ignored)."""
    lesson = all_lessons().get(st.query_params.get(lessons.LESSON_KEY, ""))
    if lesson is None:
        return None
    try:
        index = int(st.query_params.get(lessons.STEP_KEY, "1")) - 1
    except ValueError:
        index = 0
    return lesson, min(max(index, 0), len(lesson.steps) - 1)


def app_root() -> str:
    """The site's address without page or query, for links that work on any phone."""
    parts = urlsplit(st.context.url or "http://localhost:8501")
    base_path = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{parts.scheme}://{parts.netloc}" + (f"/{base_path}" if base_path else "")


def qr_png(url: str) -> bytes:
    """The link as a QR code: a black-on-white PNG with a quiet zone, sharp when scaled up."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=12, border=4)
    return buffer.getvalue()


def _qr_body(url: str, title: str) -> None:
    st.markdown(_("**{title}** — scan with a phone camera, or type the link.").format(title=markdown_escape(title)))
    st.image(qr_png(url), width=520, caption=_("QR code of the link below"))
    st.code(url, language=None, wrap_lines=True)


def show_qr(url: str, title: str) -> None:
    """The QR code in a dialog (titled in the session's language, so built per call)."""
    st.dialog(_("Send the class to this step"), width="large")(_qr_body)(url, title)


def _start_lesson() -> None:
    """Selectbox callback: open the chosen lesson at its first step."""
    lesson = all_lessons().get(st.session_state.get(PICK_KEY) or "")
    if lesson is not None:
        _go_to(lesson.id, 0)


def _go_to(lesson_id: str, index: int) -> None:
    """Back / Next callback: set the step's controls; the panel switches to its page on this run.

    (Callbacks run before any widget, so this is where widget values may be set.)
    """
    lesson = all_lessons()[lesson_id]
    st.session_state[GOTO_KEY] = (page_file(lesson.steps[index]), _split_controls(lesson, index))


def _split_controls(lesson: lessons.Lesson, index: int) -> dict[str, str]:
    """Set the step's controls: widgets this session already has get the value directly (the URL
    of a bound widget cannot be set while it is bound); the rest go in the URL, which a bound
    widget reads when its page first creates it. Returns the query parameters for the switch."""
    query = lessons.step_query(lesson, index)
    for key, value in lesson.steps[index].controls.items():
        if key in st.session_state:
            st.session_state[key] = value
            query.pop(key)
    return query


def _close() -> None:
    for key in (lessons.LESSON_KEY, lessons.STEP_KEY):
        st.query_params.pop(key, None)
    st.session_state[PICK_KEY] = None


def _go_if_asked() -> None:
    """Open the step a callback asked for: its page, with its controls, lesson and step in the URL.

    (`st.switch_page` rather than a page link: a link to the page already open leaves the
    address bar on the old step.)
    """
    goto = st.session_state.pop(GOTO_KEY, None)
    if goto is not None:
        st.switch_page(goto[0], query_params=goto[1])


def step_body(lesson: lessons.Lesson, index: int) -> None:
    """Step n of N: the question, what to do, and (after Reveal) what to notice and the answer.

    `lesson` is already in the session's language (see `shown`)."""
    step = lesson.steps[index]
    st.markdown(_("**Step {number} of {total}** · {title}").format(number=index + 1, total=len(lesson.steps),
                                                                 title=step.title))
    st.markdown(f"❓ **{step.question}**")
    if step.section:
        st.caption(_("On this page: section “{section}”.").format(section=_(step.section)))
    if step.do:
        st.markdown(f"👉 {step.do}")
    if current_language() != "en" and "prompt" in step.controls:
        st.caption(_("The lesson's prompts stay in English: the model learned mostly from English text."))
    reveal_key = f"{REVEAL_KEY}::{lesson.id}::{index}"
    st.button(_("Reveal the answer"), key=reveal_key, width="stretch", on_click=st.session_state.__setitem__,
              args=(f"{reveal_key}::shown", True), disabled=bool(st.session_state.get(f"{reveal_key}::shown")))
    if st.session_state.get(f"{reveal_key}::shown"):
        st.markdown(_("🔎 **Notice:** {notice}").format(notice=step.notice))
        st.success(_("**Check yourself:** {answer}").format(answer=step.answer))
    back, forward = st.columns(2)
    back.button(_("◀ Back"), key="lesson_back", on_click=_go_to, args=(lesson.id, index - 1),
                disabled=index == 0, width="stretch")
    forward.button(_("Next ▶"), key="lesson_next", on_click=_go_to, args=(lesson.id, index + 1),
                   disabled=index == len(lesson.steps) - 1, width="stretch", type="primary")


def guide_words() -> lessons.GuideWords:
    """The teacher guide's own words in the session's language."""
    return lessons.GuideWords(
        heading=_("Teacher guide: {title}"),
        timing=_("{minutes} minutes · {steps} steps (about {per_step} min each)"),
        objectives=_("Objectives"),
        new_words=_("New words"),
        step=_("Step {number}. {title}"),
        ask=_("**Ask the class:** {question}"),
        open_page=_("**Open:** {page}"),
        open_section=_("**Open:** {page}, section “{section}”"),
        link=_("**Link:** {url}"),
        notice=_("**What to notice:** {notice}"),
        answer=_("**Answer:** {answer}"),
        wrong_answers=_("**Common wrong answers:**"),
    )


def teacher_guide(lesson: lessons.Lesson) -> str:
    """The lesson's teacher guide as print-ready HTML, in the session's language."""
    return lessons.teacher_guide_html(shown(lesson), app_root(), guide_words(), current_language(),
                                      link=lambda index: step_link(lesson, index), section=_, page=page_title)


def lesson_panel():
    """The sidebar panel (call from app.py inside `with st.sidebar`). Closed, it is one line.

    Returns the slot for the exit ticket while a lesson is open (None otherwise): app.py fills it
    with `exit_ticket_button` after the page has run, when the prompt and its analysis are known.
    """
    _go_if_asked()
    current = open_step()
    st.session_state[PICK_KEY] = current[0].id if current else None
    with st.expander(_("🎓 Lessons"), expanded=current is not None):
        catalogue = all_lessons()
        st.selectbox(
            _("Lesson"), list(catalogue), index=None, key=PICK_KEY, on_change=_start_lesson,
            format_func=lambda i: _("{title} · {minutes} min").format(title=_(catalogue[i].title),
                                                                     minutes=catalogue[i].minutes),
            placeholder=_("Pick a guided lesson…"),
        )
        if current is None:
            st.caption(_("A short path through the live model: a question, an action, an answer."))
            return None
        lesson, index = current
        step_body(shown(lesson), index)
        if index == len(lesson.steps) - 1:
            st.markdown(_("🏁 **End of the lesson.** Download your exit ticket below and answer its three questions."))
        ticket_slot = st.empty()
        left, right = st.columns(2)
        if left.button(_("📱 QR code"), key="lesson_qr", width="stretch", help=_("Show this step's link as a QR code.")):
            show_qr(step_link(lesson, index), _("{title} · step {number}").format(title=_(lesson.title), number=index + 1))
        right.button(_("✖ Close"), key="lesson_close", on_click=_close, width="stretch")
        st.download_button(_("📄 Teacher guide"), data=teacher_guide(lesson), mime="text/html",
                           file_name=f"teacher-guide-{lesson.id}.html", on_click="ignore", width="stretch")
        return ticket_slot


def ticket_words(top_token: str, top_prob: str) -> exit_ticket.TicketWords:
    """The exit ticket's texts in the session's language; the first question quotes the top token."""
    return exit_ticket.TicketWords(
        title=_("Exit ticket"),
        name=_("Name:"),
        date=_("Date:"),
        prompt=_("Your prompt"),
        top5=_("The model's five most likely next tokens"),
        rank=_("Rank"),
        token=_("Token"),
        probability=_("Probability"),
        chart=_("Bar chart of the five probabilities above, most likely on top"),
        questions_heading=_("Three questions"),
        questions=(
            _("The model gave ‘{token}’ a probability of {probability}. In your own words, what does that "
              "number mean?").format(token=top_token, probability=top_prob),
            _("Change one word of your prompt. Which of the five tokens would you expect to change, and why?"),
            _("A fluent answer can still be false. Name one way to check what a model tells you."),
        ),
        footer=_("Print this page, or save it as a PDF (Print → Save as PDF)."),
    )


def build_exit_ticket(lm: models.LoadedModel, prompt: str, ids: tuple[int, ...], subtitle: str) -> str:
    """The exit ticket's HTML: the prompt's top-5 next tokens from the shared fp32 analysis."""
    dist = distribution_from_logits(lm, state.cached_analysis(lm, ids).last_logits, top_n=TOP_N)
    labels = [format_percent(p) for p in dist.probs]
    ticket = exit_ticket.ExitTicket(prompt=prompt, tokens=[visible_text(p.display) for p in dist.pieces],
                                    probs=dist.probs, prob_labels=labels, subtitle=subtitle)
    return exit_ticket.exit_ticket_html(ticket, ticket_words(ticket.tokens[0], labels[0]), current_language())


def exit_ticket_button(slot) -> None:
    """Fill the panel's slot (see `lesson_panel`) with the exit-ticket download for this prompt."""
    current = open_step()
    if slot is None or current is None:
        return
    try:
        lm = state.get_model(state.selected_model_name())
    except models.ModelUnavailable:
        lm = state.get_model(models.EMBEDDED_MODEL)
    prompt = state.current_prompt_text()
    try:
        ids = tuple(state.cached_prompt_tokens(lm, prompt).ids)
    except tokens.EmptyPrompt:
        slot.caption(_("Type a prompt in the Prompt box to make your exit ticket."))
        return
    lesson, index = current
    subtitle = _("{lesson} · {model}").format(lesson=_(lesson.title), model=lm.name)
    slot.download_button(_("📝 Exit ticket (your prompt, printable)"), data=build_exit_ticket(lm, prompt, ids, subtitle),
                         mime="text/html", file_name=f"exit-ticket-{lesson.id}.html", on_click="ignore",
                         width="stretch", key="lesson_exit_ticket",
                         type="primary" if index == len(lesson.steps) - 1 else "secondary",
                         help=_("One page to print: your prompt, the model's top 5, a chart and three questions."))


def step_banner() -> None:
    """One line above the page while a lesson is open (phones keep the sidebar closed)."""
    current = open_step()
    if current is not None:
        lesson, index = current
        shown_lesson = shown(lesson)
        st.caption(_("🎓 **{lesson}** · step {number} of {total}: {question} — the lesson panel is in the sidebar.")
                   .format(lesson=shown_lesson.title, number=index + 1, total=len(lesson.steps),
                           question=shown_lesson.steps[index].question))
