"""The lesson panel in the sidebar: pick a lesson, walk its steps, show the class a QR code.

The open lesson and step live in the URL (`?lesson=…&step=…`, next to the step's prompt and
controls), so a link or a QR code puts 30 phones on the same step. Back / Next switch to the
step's page with its state; closing the panel removes the two parameters again.
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import segno
import streamlit as st

from explain import lessons

PICK_KEY = "lesson_pick"
REVEAL_KEY = "lesson_reveal"


@st.cache_data(show_spinner=False)
def all_lessons() -> dict[str, lessons.Lesson]:
    return {lesson.id: lesson for lesson in lessons.load_lessons()}


def page_file(step: lessons.Step) -> str:
    return lessons.navigation_pages()[step.page]


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


@st.dialog("Send the class to this step", width="large")
def show_qr(url: str, title: str) -> None:
    st.markdown(f"**{title}** — scan with a phone camera, or type the link.")
    st.image(qr_png(url), width=520, caption="QR code of the link below")
    st.code(url, language=None, wrap_lines=True)


GOTO_KEY = "lesson_goto"


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
    """Step n of N: the question, what to do, and (after Reveal) what to notice and the answer."""
    step = lesson.steps[index]
    st.markdown(f"**Step {index + 1} of {len(lesson.steps)}** · {step.title}")
    st.markdown(f"❓ **{step.question}**")
    if step.section:
        st.caption(f"On this page: section “{step.section}”.")
    if step.do:
        st.markdown(f"👉 {step.do}")
    reveal_key = f"{REVEAL_KEY}::{lesson.id}::{index}"
    st.button("Reveal the answer", key=reveal_key, width="stretch", on_click=st.session_state.__setitem__,
              args=(f"{reveal_key}::shown", True), disabled=bool(st.session_state.get(f"{reveal_key}::shown")))
    if st.session_state.get(f"{reveal_key}::shown"):
        st.markdown(f"🔎 **Notice:** {step.notice}")
        st.success(f"**Check yourself:** {step.answer}")
    back, forward = st.columns(2)
    back.button("◀ Back", key="lesson_back", on_click=_go_to, args=(lesson.id, index - 1),
                disabled=index == 0, width="stretch")
    forward.button("Next ▶", key="lesson_next", on_click=_go_to, args=(lesson.id, index + 1),
                   disabled=index == len(lesson.steps) - 1, width="stretch", type="primary")


def lesson_panel() -> None:
    """The sidebar panel (call from app.py inside `with st.sidebar`). Closed, it is one line."""
    _go_if_asked()
    current = open_step()
    st.session_state[PICK_KEY] = current[0].id if current else None
    with st.expander("🎓 Lessons", expanded=current is not None):
        catalogue = all_lessons()
        st.selectbox(
            "Lesson", list(catalogue), index=None, key=PICK_KEY, on_change=_start_lesson,
            format_func=lambda i: f"{catalogue[i].title} · {catalogue[i].minutes} min",
            placeholder="Pick a guided lesson…",
        )
        if current is None:
            st.caption("A short path through the live model: a question, an action, an answer.")
            return
        lesson, index = current
        step_body(lesson, index)
        url = lessons.step_url(app_root(), lesson, index)
        left, right = st.columns(2)
        if left.button("📱 QR code", key="lesson_qr", width="stretch", help="Show this step's link as a QR code."):
            show_qr(url, f"{lesson.title} · step {index + 1}")
        right.button("✖ Close", key="lesson_close", on_click=_close, width="stretch")
        st.download_button("📄 Teacher guide", data=lessons.teacher_guide_html(lesson, app_root()), mime="text/html",
                           file_name=f"teacher-guide-{lesson.id}.html", on_click="ignore", width="stretch")


def step_banner() -> None:
    """One line above the page while a lesson is open (phones keep the sidebar closed)."""
    current = open_step()
    if current is not None:
        lesson, index = current
        st.caption(f"🎓 **{lesson.title}** · step {index + 1} of {len(lesson.steps)}: "
                   f"{lesson.steps[index].question} — the lesson panel is in the sidebar.")
