"""The message catalogs: extract the English messages, update every language, compile, check.

    python -m tools.i18n extract [DOMAIN…]  # new messages into locales/<lang>/LC_MESSAGES/<domain>.po
    python -m tools.i18n compile            # .po → .mo, which ui/i18n.py reads (`make i18n`)
    python -m tools.i18n check [DOMAIN…]    # missing, fuzzy or untranslated entries; placeholders that differ

Domains keep the catalogs in small files a translator (or a reviewer) can take one at a time:
one per page (`views/<stem>.py` with its `ui/<stem>.py`), `lessons` (`ui/lessons.py` and the
text fields of `data/lessons/*.toml`), and `site` (app.py and every other `ui/` module).

Adding a language: add it to `ui.i18n.LANGUAGES` and `BABEL_LOCALES`, run `extract`, translate
every `msgstr` in `locales/<lang>/LC_MESSAGES/*.po`, then `compile`; `check` (a test) must pass.
"""

from __future__ import annotations

import string
from datetime import datetime, timezone
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from ui.i18n import BABEL_LOCALES, DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parents[1]
# A fixed date in every header, so extracting again changes a catalog only where a message did.
CATALOG_DATE = datetime(2026, 12, 1, tzinfo=timezone.utc)
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE)
# Lesson fields a learner reads; the others (page, section, controls, expect) are data.
LESSON_TEXT_FIELDS = {"title", "summary", "objectives", "terms", "question", "do", "notice", "answer", "wrong_answers"}


def page_stems() -> list[str]:
    return sorted(path.stem for path in (ROOT / "views").glob("*.py"))


def domain_sources() -> dict[str, list[Path]]:
    """Each domain's Python files, relative to the project root."""
    domains = {stem: [ROOT / "views" / f"{stem}.py"] for stem in page_stems()}
    domains["lessons"] = []
    for stem in domains:
        if (ROOT / "ui" / f"{stem}.py").exists():
            domains[stem].append(ROOT / "ui" / f"{stem}.py")
    owned = {path for paths in domains.values() for path in paths}
    domains["site"] = [ROOT / "app.py", *(path for path in sorted((ROOT / "ui").glob("*.py")) if path not in owned)]
    return domains


def _lesson_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _lesson_strings(item)
    elif isinstance(value, dict):  # [terms]: the term and its definition are both read
        for key, item in value.items():
            yield key
            yield from _lesson_strings(item)


def lesson_messages(folder: Path = ROOT / "data" / "lessons") -> Iterator[tuple[str, str]]:
    """(message, "file:field") for every learner-facing text of every lesson file."""
    for path in sorted(folder.glob("*.toml")):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        tables = [raw, *raw.get("steps", [])]
        for table in tables:
            for field in sorted(LESSON_TEXT_FIELDS & table.keys()):
                for message in _lesson_strings(table[field]):
                    yield message, f"{path.relative_to(ROOT)}:{field}"


def template(domain: str) -> Catalog:
    """The domain's English messages, freshly extracted from its sources."""
    catalog = Catalog(domain=domain, project="LLM Explainer", charset="utf-8", creation_date=CATALOG_DATE)
    for path in domain_sources()[domain]:
        for lineno, message, comments, _context in extract_from_file("python", path):
            catalog.add(message, locations=[(str(path.relative_to(ROOT)), lineno)], auto_comments=comments)
    if domain == "lessons":
        for message, where in lesson_messages():
            catalog.add(message, locations=[(where, 0)])
    return catalog


def po_path(lang: str, domain: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(lang: str, domain: str) -> Catalog:
    path = po_path(lang, domain)
    if not path.exists():
        return Catalog(locale=BABEL_LOCALES[lang], domain=domain, project="LLM Explainer",
                       creation_date=CATALOG_DATE, revision_date=CATALOG_DATE, fuzzy=False)
    with path.open("rb") as handle:
        return read_po(handle, locale=BABEL_LOCALES[lang], domain=domain)


def extract(domains: list[str] | None = None) -> None:
    """Bring each language's catalogs up to date with the sources (new messages untranslated)."""
    for domain in domains or domain_sources():
        fresh = template(domain)
        for lang in TRANSLATED:
            catalog = read_catalog(lang, domain)
            catalog.update(fresh, no_fuzzy_matching=True)
            catalog.fuzzy = False  # the header: babel marks a new catalog's header fuzzy
            catalog.obsolete.clear()  # a message gone from the sources is gone from the catalog
            path = po_path(lang, domain)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as handle:
                write_po(handle, catalog, width=100, include_lineno=False)


def compile_catalogs() -> list[Path]:
    written = []
    for po_file in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")):
        lang = po_file.parent.parent.name
        with po_file.open("rb") as handle:
            catalog = read_po(handle, locale=BABEL_LOCALES.get(lang, lang), domain=po_file.stem)
        mo_file = po_file.with_suffix(".mo")
        with mo_file.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        written.append(mo_file)
    return written


def placeholders(text: str) -> set[str]:
    """The named `{fields}` of a str.format() text."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def problems(domains: list[str] | None = None) -> list[str]:
    """Every message a language lacks, leaves fuzzy or empty, or translates with other placeholders."""
    found = []
    for domain in domains or domain_sources():
        wanted = [message.id for message in template(domain) if message.id]
        for lang in TRANSLATED:
            catalog = read_catalog(lang, domain)
            where = po_path(lang, domain).relative_to(ROOT)
            for msgid in wanted:
                entry = catalog.get(msgid)
                key = msgid[0] if isinstance(msgid, tuple) else msgid
                if entry is None:
                    found.append(f"{where}: missing {key!r}")
                    continue
                strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
                if entry.fuzzy or not all(strings):
                    found.append(f"{where}: {'fuzzy' if entry.fuzzy else 'untranslated'} {key!r}")
                    continue
                sources = msgid if isinstance(msgid, tuple) else (msgid,)
                expected = set().union(*(placeholders(text) for text in sources))
                for text in strings:
                    if placeholders(text) != expected:
                        found.append(f"{where}: placeholders {sorted(placeholders(text))} ≠ {sorted(expected)} in {key!r}")
    return found


def main(argv: list[str]) -> int:
    command, domains = (argv[0], argv[1:]) if argv else ("check", [])
    unknown = set(domains) - set(domain_sources())
    if unknown:
        print(f"unknown domains {sorted(unknown)}; the domains are {', '.join(domain_sources())}")
        return 2
    if command == "extract":
        extract(domains)
    elif command == "compile":
        print(f"compiled {len(compile_catalogs())} catalogs")
    elif command == "check":
        found = problems(domains)
        print("\n".join(found) or "every catalog is complete")
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
