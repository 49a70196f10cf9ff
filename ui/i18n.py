"""The interface in the learner's language: gettext catalogs chosen per session, never globally.

Two students in different languages share one server process, so nothing here calls
`gettext.install()`: every `_()` looks up the language of the session whose script is running
(the sidebar's `lang` selectbox, kept in the URL as `?lang=es`; without one, the browser's
language from `st.context.locale`; English otherwise) and translates with that language's
catalog. Catalogs are loaded once per process and only read afterwards.

Catalogs live in `locales/<lang>/LC_MESSAGES/<domain>.po`, one domain per page (its
`views/<stem>.py` and `ui/<stem>.py`), `lessons` (the lesson panel and `data/lessons/*.toml`) and
`site` (app.py and the shared `ui/` modules). `python -m tools.i18n extract` adds new messages,
`compile` writes the `.mo` files this module reads (`make i18n`; `make run` and `make test` do
it), `check` reports anything missing. English is the source language: its text is the msgid.

Write messages with named `{placeholders}` and fill them with `.format()` after translating,
so a translator can move them: `_("{count} tokens").format(count=n)`. Strings defined at import
time (constants, presets) are marked with `N_()` and translated where they are shown: `_(title)`.
"""

from __future__ import annotations

import functools
import gettext
from pathlib import Path

import streamlit as st
from babel import Locale, numbers
from babel.support import Translations

LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "fr": "Français", "zh": "中文（简体）"}
DEFAULT_LANGUAGE = "en"
_CODE_OF_NAME = {name: code for code, name in LANGUAGES.items()}
LANG_KEY = "lang"  # the sidebar's widget key and the URL parameter
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locales"
# Babel's locale for number formatting; Simplified Chinese as written in mainland China.
BABEL_LOCALES: dict[str, str] = {"en": "en", "es": "es", "fr": "fr", "zh": "zh_Hans_CN"}


def _known(value: object) -> str | None:
    """A language code from a code ("fr") or from its name as the URL-bound picker writes it
    into the address ("Français"); None for anything else."""
    if not isinstance(value, str):
        return None
    return value if value in LANGUAGES else _CODE_OF_NAME.get(value)


def browser_language() -> str | None:
    """The browser's language if the site speaks it ("es-MX" → "es"), else None."""
    locale = getattr(st.context, "locale", None) or ""
    return _known(locale.replace("_", "-").split("-")[0].lower())


def current_language() -> str:
    """The session's language: the sidebar's choice (from the URL), the browser's, or English.

    Readable before the sidebar's selectbox exists (app.py titles the navigation first), so it
    falls back to the URL parameter the selectbox is bound to. Unknown values are ignored.
    """
    return (
        _known(st.session_state.get(LANG_KEY))
        or _known(st.query_params.get(LANG_KEY))
        or browser_language()
        or DEFAULT_LANGUAGE
    )


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """Every domain's compiled catalog for `lang`, merged into one (read-only once built)."""
    merged: gettext.NullTranslations = gettext.NullTranslations()
    if lang == DEFAULT_LANGUAGE:
        return merged
    for mo_file in sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.mo")):
        with mo_file.open("rb") as handle:
            catalog = Translations(handle, domain=mo_file.stem)
        if isinstance(merged, Translations):
            merged.merge(catalog)
        else:
            merged = catalog
    return merged


def _(message: str) -> str:
    """`message` (English) in the session's language; itself where no translation exists."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for `count`, by the rules of the session's language."""
    return translations(current_language()).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Marks `message` for extraction without translating it (translate it with `_` when shown)."""
    return message


@functools.cache
def _locale(lang: str) -> Locale:
    return Locale.parse(BABEL_LOCALES[lang])


def babel_locale(lang: str | None = None) -> Locale:
    """`lang`'s (default: the session's) Babel locale, parsed once per language and only read."""
    return _locale(lang or current_language())


def _with_decimals(pattern: numbers.NumberPattern, digits: int) -> numbers.NumberPattern:
    """The locale's own pattern (its spacing, signs and separators) with exactly `digits` decimals."""
    return numbers.NumberPattern(
        pattern.pattern, pattern.prefix, pattern.suffix, pattern.grouping, pattern.int_prec,
        (digits, digits), pattern.exp_prec, pattern.exp_plus, pattern.number_pattern,
    )


@functools.cache
def _pattern(lang: str, percent: bool, digits: int) -> numbers.NumberPattern:
    """`_with_decimals` of `lang`'s percent or decimal pattern, made once (a page formats thousands)."""
    formats = _locale(lang).percent_formats if percent else _locale(lang).decimal_formats
    return _with_decimals(formats[None], digits)


def format_percent(fraction: float, digits: int = 1) -> str:
    """A fraction as a percentage in the session's locale: 0.773 → "77.3%" (en), "77,3 %" (fr)."""
    lang = current_language()
    return _pattern(lang, True, digits).apply(fraction, _locale(lang))


def format_number(value: float, digits: int = 0) -> str:
    """A number with the locale's separators and exactly `digits` decimals: "50,257" / "50 257"."""
    lang = current_language()
    return _pattern(lang, False, digits).apply(value, _locale(lang))


def plotly_separators() -> str:
    """Plotly's `layout.separators` for the session's locale: its decimal sign, then its group sign."""
    locale = babel_locale()
    return numbers.get_decimal_symbol(locale) + numbers.get_group_symbol(locale)
