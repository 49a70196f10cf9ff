"""Lessons: the TOML files load, every step fits the site, and every stated fact holds on the live model."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from explain import lessons
from tests.pages import HOME, ROOT, run_page
LESSONS = lessons.load_lessons()
STEPS = [(lesson, n) for lesson in LESSONS for n in range(len(lesson.steps))]
CHECKED = [(lesson, n) for lesson, n in STEPS if lesson.steps[n].expect]


def step_id(item) -> str:
    lesson, n = item
    return f"{lesson.id}-{n + 1}"


def test_six_lessons_in_site_order_of_ten_to_fifteen_minutes():
    assert [lesson.title for lesson in LESSONS] == [
        "Words become tokens", "Meaning as direction", "Where it looks", "From scores to a choice",
        "Why it makes things up", "Why transformers replaced RNNs",
    ]
    assert all(10 <= lesson.minutes <= 15 and 4 <= len(lesson.steps) <= 6 for lesson in LESSONS)


@pytest.mark.parametrize(("text", "message"), [
    ('title = "x"\nminutes = 10\nsummary = "s"\nobjectives = ["o"]\n', "at least one [[steps]]"),
    ('title = "x"\nminutes = "ten"\n', "`minutes`"),
    ('title = "x"\nminutes = 10\nsummary = "s"\nobjectives = ["o"]\n[[steps]]\ntitle = "t"\nquestion = "q"\n'
     'page = "softmax"\nnotice = "n"\nanswer = "a"\nexpect = { top_token = "Paris" }\n', "must set the prompt"),
    ('title = "x"\nminutes = 10\nsummary = "s"\nobjectives = ["o"]\n[[steps]]\ntitle = "t"\nquestion = "q"\n'
     'page = "softmax"\nnotice = "n"\nanswer = "a"\ncontrols = { prompt = "p" }\nexpect = { vibes = 1 }\n', "unknown expectation"),
    ('title = "x"\nminutes = 10\nsummary = "s"\nobjectives = ["o"]\n[[steps]]\ntitle = "t"\nquestion = ""\n', "`question`"),
    ("title = [", "not valid TOML"),
])
def test_a_broken_lesson_file_says_what_to_fix(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(lessons.LessonError, match=message.replace("[", r"\[")):
        lessons.load_lesson(path)


def test_site_problems_catch_a_missing_page_section_and_control():
    lesson = LESSONS[0]
    step = lesson.steps[0]
    broken = [
        lessons.Lesson(**{**lesson.__dict__, "steps": [
            lessons.Step(**{**step.__dict__, "page": "nowhere"}),
            lessons.Step(**{**step.__dict__, "section": "9 · No such section"}),
            lessons.Step(**{**step.__dict__, "controls": {"prompt": "x", "tok_nothing": 1}}),
        ]})
    ]
    problems = lessons.site_problems(broken, {"tokenization": {"prompt"}})
    assert len(problems) == 3
    assert "not in the navigation" in problems[0] and "no section" in problems[1] and "tok_nothing" in problems[2]


def _bound_keys(node) -> set[str]:
    """Every query-parameter key a widget in this AppTest subtree is bound to."""
    found = set()
    key = getattr(getattr(node, "proto", None), "query_param_key", "")
    if key:
        found.add(key)
    for child in getattr(node, "children", {}).values():
        found |= _bound_keys(child)
    return found


@pytest.fixture(scope="module")
def bound_keys_by_page() -> dict[str, set[str]]:
    """Run each page once per kind of step state (AppTest) and collect the keys its widgets bind."""
    home = run_page(HOME)
    sidebar = _bound_keys(home.sidebar)
    found: dict[str, set[str]] = {}
    seen = set()
    for lesson, n in STEPS:
        step = lesson.steps[n]
        state = (step.page, tuple(sorted(step.controls)))
        if state in seen:
            continue
        seen.add(state)
        at = run_page(lessons.navigation_pages()[step.page], query_params=lessons.step_query(lesson, n))
        assert not at.exception, f"{step.page}: {at.exception}"
        found.setdefault(step.page, set(sidebar)).update(_bound_keys(at.main) | _bound_keys(at.sidebar))
    return found


def test_every_step_names_a_real_page_section_and_bound_controls(bound_keys_by_page):
    assert "prompt" in bound_keys_by_page["tokenization"]
    assert {"attn_layer", "attn_head"} <= bound_keys_by_page["attention"]
    assert lessons.site_problems(LESSONS, bound_keys_by_page) == []


@pytest.mark.parametrize("item", CHECKED, ids=[step_id(i) for i in CHECKED])
def test_what_to_notice_still_holds_on_the_live_model(lm, item):
    lesson, n = item
    checks = lessons.check_step(lm, lesson.steps[n])
    assert len(checks) == len(lesson.steps[n].expect)
    failed = [c for c in checks if not c.holds]
    assert not failed, f"{lesson.id} step {n + 1}: expected vs measured: {failed}"


def test_a_false_expectation_is_caught(lm):
    step = lessons.Step(title="t", question="q", page="tokenization", notice="n", answer="a",
                        controls={"prompt": "The capital of France is"},
                        expect={"token_count": 6, "top_token": "London", "nearest": {"word": "king", "includes": "banana"}})
    assert [c.holds for c in lessons.check_step(lm, step)] == [False, False, False]


def test_step_links_carry_state_lesson_step_and_section():
    lesson = LESSONS[0]
    url = lessons.step_url("http://example.org/", lesson, 0)
    assert url == ("http://example.org/tokenization?prompt=The%20capital%20of%20France%20is"
                   "&lesson=1-words-become-tokens&step=1#1-your-prompt-as-tokens")
    assert lessons.url_value(True) == "true" and lessons.url_value(0.3) == "0.3"
    assert lessons.anchor("3 · Every head at once: each learns something different") == \
        "3-every-head-at-once-each-learns-something-different"


def test_teacher_guides_in_docs_are_generated_from_the_lessons():
    for lesson in LESSONS:
        path = ROOT / "docs" / "lessons" / f"{lesson.id}.md"
        assert path.read_text(encoding="utf-8") == lessons.teacher_guide_markdown(lesson), \
            f"{path.name} is stale: run `python -m tools.lessons`"


def test_teacher_guide_html_escapes_lesson_text():
    lesson = LESSONS[0]
    step = lessons.Step(**{**lesson.steps[0].__dict__, "question": "<script>alert(1)</script> **bold**"})
    page = lessons.teacher_guide_html(lessons.Lesson(**{**lesson.__dict__, "steps": [step]}), "http://x")
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "<strong>bold</strong>" in page
    assert "Common wrong answers" in page and "http://x/tokenization?" in page


# ---------------------------------------------------------------------------------------------
# The panel in AppTest


def run_panel(query: dict[str, str]) -> AppTest:
    return run_page(HOME, query_params=query)


def sidebar_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.sidebar.markdown) + "\n".join(s.value for s in at.sidebar.success)


def test_closed_panel_shows_only_the_picker():
    at = run_panel({})
    assert not at.exception
    assert at.selectbox(key="lesson_pick").value is None
    assert "Step 1" not in sidebar_text(at)
    assert not [b for b in at.sidebar.button if b.key == "lesson_next"]


def test_panel_shows_the_step_and_hides_the_answer_until_reveal():
    lesson = LESSONS[0]
    at = run_panel(lessons.step_query(lesson, 1))
    assert not at.exception
    text = sidebar_text(at)
    assert "Step 2 of 5" in text and lesson.steps[1].question in text
    assert lesson.steps[1].answer not in text and lesson.steps[1].notice not in text
    at.button(key="lesson_reveal::1-words-become-tokens::1").click().run()
    assert not at.exception
    # AppTest drops app.py's sidebar from its tree after a rerun (see GOTCHAS): read the state;
    # the browser test sees the revealed answer on screen.
    assert at.session_state["lesson_reveal::1-words-become-tokens::1::shown"] is True


def test_next_opens_the_next_step_with_its_prompt():
    lesson = LESSONS[0]
    at = run_panel(lessons.step_query(lesson, 1))
    at.button(key="lesson_next").click().run()
    assert not at.exception
    assert at.session_state["prompt"] == lesson.steps[2].controls["prompt"]
    # AppTest does not show the query parameters of st.switch_page; the browser test checks the URL.


def test_unknown_lesson_or_step_in_the_url_is_ignored():
    at = run_panel({"lesson": "<script>", "step": "x"})
    assert not at.exception and "Step" not in sidebar_text(at)
    at = run_panel({"lesson": LESSONS[0].id, "step": "99"})
    assert not at.exception and "Step 5 of 5" in sidebar_text(at)


# ---------------------------------------------------------------------------------------------
# In every language: translated text, section anchors from the translated header, links with lang


@pytest.mark.parametrize(("header", "expected"), [
    ("1 · Your prompt as tokens", "1-your-prompt-as-tokens"),
    ("3 · Ángulos entre palabras", "3-angulos-entre-palabras"),
    ("2 · Représentation « vectorielle » : où ?", "2-representation-vectorielle-ou"),
    ("4 · Qu'est-ce que l’attention ?", "4-qu-est-ce-que-l-attention"),
    ("It’s SmolLM2 — Müller & Œuvre", "its-smol-lm-2-mueller-and-o-euvre"),  # Œ → "OE", then decamelized
    ("2 · 最近的邻居", "2"),
    ("最近的邻居", ""),
])
def test_anchor_is_streamlits_id_for_a_header_in_any_language(header, expected):
    assert lessons.anchor(header) == expected  # the browser test checks these against Streamlit itself


def test_a_step_link_in_another_language_carries_lang_and_the_translated_anchor():
    lesson = LESSONS[0]
    url = lessons.step_url("http://example.org", lesson, 0, lang="es", section="1 · Tu prompt en tokens")
    assert url.endswith("&lesson=1-words-become-tokens&step=1&lang=es#1-tu-prompt-en-tokens")
    assert lessons.step_url("http://x", lesson, 0, lang="zh", section="最近的邻居").endswith("&lang=zh")  # no anchor


def test_translated_passes_every_text_a_learner_reads_and_keeps_the_data():
    lesson = LESSONS[1]
    loud = lessons.translated(lesson, str.upper)
    assert loud.title == lesson.title.upper() and loud.objectives == [o.upper() for o in lesson.objectives]
    assert loud.terms == {t.upper(): m.upper() for t, m in lesson.terms.items()}
    for before, after in zip(lesson.steps, loud.steps):
        assert (after.question, after.notice, after.answer, after.do) == \
            (before.question.upper(), before.notice.upper(), before.answer.upper(), before.do.upper())
        assert after.wrong_answers == [w.upper() for w in before.wrong_answers]
        assert (after.page, after.section, after.controls, after.expect) == \
            (before.page, before.section, before.controls, before.expect)


def _in_language(lang: str):
    from unittest import mock

    from ui import i18n
    from ui import lessons as panel

    return mock.patch.object(i18n, "current_language", return_value=lang), \
        mock.patch.object(panel, "current_language", return_value=lang)


@pytest.mark.parametrize(("lang", "ask"), [("es", "Pregunta a la clase"), ("fr", "Demandez à la classe"),
                                           ("zh", "向全班提问")])
def test_the_teacher_guide_is_served_in_the_chosen_language(lang, ask):
    from ui import i18n
    from ui import lessons as panel

    lesson = LESSONS[0]
    first, second = _in_language(lang)
    with first, second:
        page = panel.teacher_guide(lesson)
    question = i18n.translations(lang).gettext(lesson.steps[0].question)
    assert question != lesson.steps[0].question  # the lesson text itself is translated…
    assert f"lang='{lang}'" in page and ask in page and question.split("“")[0] in page
    assert f"&amp;lang={lang}" in page  # …and each step's link opens the site in that language
    first, second = _in_language("en")
    with first, second:
        assert ask not in panel.teacher_guide(lesson)


def test_panel_in_chinese_shows_the_translated_step():
    from ui import i18n

    lesson = LESSONS[0]
    zh = i18n.translations("zh")
    at = run_panel({**lessons.step_query(lesson, 1), "lang": "zh"})
    assert not at.exception
    text = sidebar_text(at)
    assert "**第 2 步，共 5 步**" in text and zh.gettext(lesson.steps[1].question) in text
    assert lesson.steps[1].question not in text
    assert [b.label for b in at.sidebar.button if b.key == "lesson_next"] == ["下一步 ▶"]


def test_the_newer_expectations_catch_a_false_claim(lm):
    base = dict(title="t", question="q", page="softmax", notice="n", answer="a")
    cold = lessons.Step(**base, controls={"prompt": "The capital of France is", "softmax_temperature": 0.3},
                        expect={"temperature_effect": "flatter", "median_logit_gap_at_least": 1000.0})
    assert [c.holds for c in lessons.check_step(lm, cold)] == [False, False]
    causal = lessons.Step(**base, controls={"prompt": "The cat sat", "attn_layer": 2}, expect={"attention_is_causal": True})
    assert [c.holds for c in lessons.check_step(lm, causal)] == [True]
    draws = lessons.Step(**base, controls={"prompt": "Once upon a time", "sampling_top_k": 1, "sampling_seed": 3},
                         expect={"seeded_draws_repeat": 4})
    assert [c.holds for c in lessons.check_step(lm, draws)] == [False]  # top-k = 1: every seed writes the same
    same = {"a": "The bank was closed.", "b": "The bank was closed.", "word": "bank", "below": 0.99}
    words = lessons.Step(**base, controls={"prompt": "x"}, expect={"contexts_differ": same})
    assert [c.holds for c in lessons.check_step(lm, words)] == [False]  # one sentence twice: nothing differs
