"""Guided lessons: a teacher's path through the site, one short step at a time.

A lesson is a TOML file in data/lessons/ (format in the README): a title, objectives, timing, and
steps. Each step asks the class a question, sets the prompt and controls through the URL state the
pages already bind, opens a page (and names a section), says what to notice, and gives the
check-yourself answer. A step may carry `expect`: facts about the live model that `check_step`
measures, so a test can prove every lesson still tells the truth.
"""

from __future__ import annotations

import ast
import html
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import numpy as np

from explain import embeddings, generation, next_token, tokens
from explain.engine.models import LoadedModel
from explain.sampling import SAMPLE, SamplingSettings

ROOT = Path(__file__).resolve().parents[1]
LESSONS_DIR = ROOT / "data" / "lessons"
WALK_FILE = ROOT / "ui" / "walk.py"
LESSON_KEY, STEP_KEY = "lesson", "step"  # the URL query parameters of the lesson panel
GREEDY_TOKENS = 12
REROLLS, REROLL_TOKENS, REROLL_SEED = 10, 8, 0
_STEP_TEXT = ("title", "question", "page", "notice", "answer")
EXPECT_KINDS = {  # kind → the type its value must have in the TOML file
    "token_count": int,
    "top_token": str,
    "top_prob_at_least": float,
    "top_prob_at_most": float,
    "greedy_contains": str,
    "greedy_lacks": str,
    "distinct_rerolls_at_least": int,
    "nearest": dict,
    "attends_most": dict,
    "small_model_prefers": dict,
}


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file and what to fix."""


@dataclass(frozen=True)
class Step:
    title: str
    question: str  # asked of the class before anyone looks
    page: str  # a page of the navigation, by file name without .py ("tokenization")
    notice: str  # what to notice once the page shows the live model
    answer: str  # the check-yourself answer, shown after Reveal
    do: str = ""  # what to do on the page (click, type, move a slider)
    section: str = ""  # a header on that page, exactly as written there
    controls: dict[str, str | int | float | bool] = field(default_factory=dict)  # URL-bound keys
    wrong_answers: list[str] = field(default_factory=list)  # common wrong answers (teacher guide)
    expect: dict[str, object] = field(default_factory=dict)  # facts checked against the live model


@dataclass(frozen=True)
class Lesson:
    id: str  # the file name without .toml; also `?lesson=` in links
    title: str
    minutes: int
    summary: str
    objectives: list[str]
    terms: dict[str, str]  # new words with a one-line definition (glossary)
    steps: list[Step]


# ---------------------------------------------------------------------------------------------
# Loading


def _require_text(where: str, table: dict, name: str) -> str:
    value = table.get(name)
    if not isinstance(value, str) or not value.strip():
        raise LessonError(f"{where}: `{name}` must be a non-empty text")
    return value.strip()


def _step(where: str, raw: dict) -> Step:
    text = {name: _require_text(where, raw, name) for name in _STEP_TEXT}
    controls = raw.get("controls", {})
    if not isinstance(controls, dict) or not all(isinstance(v, (str, int, float, bool)) for v in controls.values()):
        raise LessonError(f"{where}: `controls` must be a table of texts, numbers or true/false")
    expect = raw.get("expect", {})
    for kind, value in expect.items():
        wanted = EXPECT_KINDS.get(kind)
        if wanted is None:
            raise LessonError(f"{where}: unknown expectation `{kind}` (known: {', '.join(EXPECT_KINDS)})")
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            raise LessonError(f"{where}: expectation `{kind}` must be a {wanted.__name__}")
    if expect and "prompt" not in controls:
        raise LessonError(f"{where}: a step with `expect` must set the prompt in `controls`")
    wrong = raw.get("wrong_answers", [])
    if not isinstance(wrong, list) or not all(isinstance(w, str) for w in wrong):
        raise LessonError(f"{where}: `wrong_answers` must be a list of texts")
    return Step(**text, do=str(raw.get("do", "")).strip(), section=str(raw.get("section", "")).strip(),
                controls=dict(controls), wrong_answers=list(wrong), expect=dict(expect))


def load_lesson(path: Path) -> Lesson:
    """One lesson file, checked for shape (not yet against the site: see `site_problems`)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise LessonError(f"{path.name}: not valid TOML ({err})") from err
    where = path.name
    minutes = raw.get("minutes")
    if not isinstance(minutes, int) or not 1 <= minutes <= 60:
        raise LessonError(f"{where}: `minutes` must be a whole number from 1 to 60")
    objectives, terms = raw.get("objectives", []), raw.get("terms", {})
    if not objectives or not all(isinstance(o, str) for o in objectives):
        raise LessonError(f"{where}: `objectives` must be a non-empty list of texts")
    if not isinstance(terms, dict) or not all(isinstance(v, str) for v in terms.values()):
        raise LessonError(f"{where}: `terms` must be a table of word = \"definition\"")
    raw_steps = raw.get("steps", [])
    if not raw_steps:
        raise LessonError(f"{where}: a lesson needs at least one [[steps]] table")
    return Lesson(
        id=path.stem,
        title=_require_text(where, raw, "title"),
        minutes=minutes,
        summary=_require_text(where, raw, "summary"),
        objectives=list(objectives),
        terms=dict(terms),
        steps=[_step(f"{where} step {n}", s) for n, s in enumerate(raw_steps, 1)],
    )


def load_lessons(folder: Path = LESSONS_DIR) -> list[Lesson]:
    """Every lesson, in file-name order (name the files 1-…, 2-… to set the order)."""
    return [load_lesson(path) for path in sorted(folder.glob("*.toml"))]


# ---------------------------------------------------------------------------------------------
# Checking lessons against the site: pages, sections and URL-bound controls


def navigation_pages(walk_file: Path = WALK_FILE) -> dict[str, str]:
    """The site's pages, from the walk app.py builds its navigation from (ui/walk.py, read as text
    so this library imports no UI): {"tokenization": "views/tokenization.py", …}."""
    found = {}
    for node in ast.walk(ast.parse(walk_file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Step" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found[first.value] = f"views/{first.value}.py"
    return found


def page_headers(page_file: Path) -> list[str]:
    """The literal texts a page passes to st.header / st.subheader (the sections a step can name),
    also when translated: `st.header(_("1 · Logits"))` heads the section "1 · Logits" (its English msgid)."""
    headers = []
    for node in ast.walk(ast.parse(page_file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in {"header", "subheader"} and node.args:
            first = node.args[0]
            if isinstance(first, ast.Call) and getattr(first.func, "id", "") == "_" and first.args:
                first = first.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                headers.append(first.value)
    return headers


def anchor(header: str) -> str:
    """The id Streamlit gives a header (its frontend's slug): "1 · Your prompt" → "1-your-prompt"."""
    slug = re.sub(r"[^\w\s-]", "", header.lower(), flags=re.ASCII)
    return re.sub(r"[\s_-]+", "-", slug).strip("-")


def site_problems(lessons: list[Lesson], bound_keys: Mapping[str, set[str]], root: Path = ROOT) -> list[str]:
    """Everything a step asks of the site that the site does not have (empty list = all good).

    `bound_keys` maps a page name to the query-parameter keys its widgets (and the sidebar's) bind;
    the test collects them from the running pages, in each step's state.
    """
    pages = navigation_pages(root / "ui" / "walk.py")
    problems = []
    for lesson in lessons:
        for n, step in enumerate(lesson.steps, 1):
            where = f"{lesson.id} step {n}"
            if step.page not in pages:
                problems.append(f"{where}: page `{step.page}` is not in the navigation ({', '.join(pages)})")
                continue
            if step.section and step.section not in page_headers(root / pages[step.page]):
                problems.append(f"{where}: page `{step.page}` has no section headed “{step.section}”")
            unbound = sorted(set(step.controls) - set(bound_keys.get(step.page, set())))
            if unbound:
                problems.append(f"{where}: page `{step.page}` binds no control {', '.join(unbound)} to the URL")
    return problems


# ---------------------------------------------------------------------------------------------
# Links to a step


def url_value(value: str | int | float | bool) -> str:
    """A control's value as the URL carries it (Streamlit writes booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def step_query(lesson: Lesson, index: int) -> dict[str, str]:
    """The query parameters that open step `index` (0-based): its controls, then lesson and step."""
    step = lesson.steps[index]
    return {**{k: url_value(v) for k, v in step.controls.items()}, LESSON_KEY: lesson.id, STEP_KEY: str(index + 1)}


def step_url(base: str, lesson: Lesson, index: int, default_page: str = "home") -> str:
    """The full link for a step: `{base}/{page}?…&lesson=…&step=n#section`."""
    step = lesson.steps[index]
    path = "" if step.page == default_page else step.page
    url = f"{base.rstrip('/')}/{path}?{urlencode(step_query(lesson, index), quote_via=quote)}"
    return url + (f"#{anchor(step.section)}" if step.section else "")


# ---------------------------------------------------------------------------------------------
# Checking a step's facts against the live model


@dataclass(frozen=True)
class ExpectationCheck:
    kind: str
    expected: object
    measured: object
    holds: bool


def _top(lm: LoadedModel, ids: list[int]) -> tuple[str, float]:
    probs = next_token.softmax(next_token.last_logits(lm, ids))
    best = int(np.argmax(probs))
    return tokens.decode(lm, [best]), float(probs[best])


def _nearest(lm: LoadedModel, spec: dict) -> ExpectationCheck:
    word = embeddings.word_vector(lm, spec["word"], spec.get("leading_space", True))
    found = embeddings.nearest_neighbours(lm, embeddings.embedding_index(lm), word.vector, int(spec.get("k", 10)))
    texts = [p.display.strip().lower() for p in found.pieces]
    return ExpectationCheck("nearest", spec, texts, str(spec["includes"]).lower() in texts)


def _attends_most(lm: LoadedModel, ids: list[int], spec: dict) -> ExpectationCheck:
    """Head-averaged attention of `from` at `layer` (first token left out): is `to` the top?"""
    from explain import attention
    from explain.engine import analysis

    result = analysis.analyze_prompt(lm, ids)
    texts = [p.display for p in tokens.token_pieces(lm, ids)]
    query = attention.find_token(texts, spec["from"])
    if query is None:
        return ExpectationCheck("attends_most", spec, f"no token {spec['from']!r}", False)
    focus = attention.follow_token(result.attentions, query)
    top = focus.top_excluding({0})[int(spec["layer"])]
    return ExpectationCheck("attends_most", spec, texts[top].strip(), texts[top].strip().lower() == spec["to"].lower())


def _small_model_prefers(text: str, spec: dict) -> ExpectationCheck:
    """Which small model (lstm or gpt) gives `word` the higher probability after `text`."""
    from explain.small_models import compare

    models = compare.load_small_models()
    ids = compare.prompt_words(models.vocab, text).ids
    probs = {kind: compare.guess_score(models.vocab, compare.next_words(models, kind, ids), spec["word"]).prob
             for kind in ("lstm", "gpt")}
    winner = max(probs, key=probs.get)
    return ExpectationCheck("small_model_prefers", spec, {k: round(v, 4) for k, v in probs.items()}, winner == spec["winner"])


def check_step(lm: LoadedModel, step: Step) -> list[ExpectationCheck]:
    """Measure every `expect` of the step on the live model, for the step's own prompt."""
    if not step.expect:
        return []
    text = str(step.controls["prompt"])
    ids = tokens.encode(lm, text)
    checks = []
    for kind, want in step.expect.items():
        if kind == "token_count":
            checks.append(ExpectationCheck(kind, want, len(ids), len(ids) == want))
        elif kind in {"top_token", "top_prob_at_least", "top_prob_at_most"}:
            top, prob = _top(lm, ids)
            if kind == "top_token":
                checks.append(ExpectationCheck(kind, want, top, top.strip() == str(want).strip()))
            else:
                holds = prob >= want if kind == "top_prob_at_least" else prob <= want
                checks.append(ExpectationCheck(kind, want, prob, holds))
        elif kind in {"greedy_contains", "greedy_lacks"}:
            written = generation.greedy_continuation(lm, ids, GREEDY_TOKENS).text
            inside = str(want).lower() in written.lower()
            checks.append(ExpectationCheck(kind, want, written, inside == (kind == "greedy_contains")))
        elif kind == "distinct_rerolls_at_least":
            samples = generation.sample_continuations(lm, ids, SamplingSettings(strategy=SAMPLE), REROLLS,
                                                      REROLL_TOKENS, REROLL_SEED)
            distinct = len({t.strip() for t in samples.texts})
            checks.append(ExpectationCheck(kind, want, distinct, distinct >= want))
        elif kind == "nearest":
            checks.append(_nearest(lm, want))
        elif kind == "attends_most":
            checks.append(_attends_most(lm, ids, want))
        elif kind == "small_model_prefers":
            checks.append(_small_model_prefers(text, want))
    return checks


# ---------------------------------------------------------------------------------------------
# Teacher guide: the lesson as one printable page


def teacher_guide_markdown(lesson: Lesson, base: str = "") -> str:
    """Objectives, timing, glossary, and per step the question, action, answer and wrong answers.

    With `base` (the site's address), each step also gets its link.
    """
    per_step = lesson.minutes / len(lesson.steps)
    lines = [f"# Teacher guide: {lesson.title}", "", f"*{lesson.minutes} minutes · {len(lesson.steps)} steps "
             f"(about {per_step:.0f} min each)*", "", lesson.summary, "", "## Objectives", ""]
    lines += [f"- {o}" for o in lesson.objectives]
    if lesson.terms:
        lines += ["", "## New words", ""] + [f"- **{term}**: {meaning}" for term, meaning in lesson.terms.items()]
    for n, step in enumerate(lesson.steps, 1):
        where = step.page + (f", section “{step.section}”" if step.section else "")
        lines += ["", f"## Step {n}. {step.title}", "", f"**Ask the class:** {step.question}", "",
                  f"**Open:** {where}" + (f" — {step.do}" if step.do else "")]
        if base:
            lines += ["", f"**Link:** {step_url(base, lesson, n - 1)}"]
        lines += ["", f"**What to notice:** {step.notice}", "", f"**Answer:** {step.answer}"]
        if step.wrong_answers:
            lines += ["", "**Common wrong answers:**", ""] + [f"- {w}" for w in step.wrong_answers]
    return "\n".join(lines) + "\n"


def teacher_guide_html(lesson: Lesson, base: str = "") -> str:
    """The teacher guide as a standalone, print-ready HTML page (all lesson text escaped)."""
    blocks = []
    for line in teacher_guide_markdown(lesson, base).splitlines():
        text = html.escape(line)
        text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
        text = re.sub(r"(?<!\*)\*([^*]+)\*(?!\*)", r"<em>\1</em>", text)
        if line.startswith("# "):
            blocks.append(f"<h1>{text[2:]}</h1>")
        elif line.startswith("## "):
            blocks.append(f"<h2>{text[3:]}</h2>")
        elif line.startswith("- "):
            blocks.append(f"<li>{text[2:]}</li>")
        elif line:
            blocks.append(f"<p>{text}</p>")
    body = re.sub(r"((?:<li>.*?</li>)+)", r"<ul>\1</ul>", "".join(blocks))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(lesson.title)}</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}"
        "h2{margin-top:1.6rem;break-after:avoid}@media print{body{margin:0}}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def write_teacher_guides(folder: Path = ROOT / "docs" / "lessons") -> list[Path]:
    """Write one Markdown guide per lesson (linked from the README); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for lesson in load_lessons():
        path = folder / f"{lesson.id}.md"
        path.write_text(teacher_guide_markdown(lesson), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_teacher_guides():
        print(written_path.relative_to(ROOT))
