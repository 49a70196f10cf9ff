"""`python -m tools.lessons`: write the teacher guides in docs/lessons/ from data/lessons/*.toml.

One Markdown page per lesson (English, linked from the README); run it after editing a lesson
(tests/test_lessons.py fails while a guide is stale). The site serves the same guide, in the
learner's language, as a print-ready HTML download from the lesson panel.
"""

from __future__ import annotations

from pathlib import Path

from explain import lessons

GUIDES_DIR = lessons.ROOT / "docs" / "lessons"


def write_teacher_guides(folder: Path = GUIDES_DIR) -> list[Path]:
    """Write one Markdown guide per lesson; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for lesson in lessons.load_lessons():
        path = folder / f"{lesson.id}.md"
        path.write_text(lessons.teacher_guide_markdown(lesson), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_teacher_guides():
        print(written_path.relative_to(lessons.ROOT))
