"""Translations: every catalog complete and compiled, and each session in its own language."""

from __future__ import annotations

from unittest import mock

import pytest
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from tests.pages import APP
from tools import i18n as catalogs
from ui import i18n


def test_every_catalog_has_every_message_translated_with_the_same_placeholders():
    found = catalogs.problems()
    assert not found, f"{len(found)} catalog problems, e.g.:\n" + "\n".join(found[:20])


def test_the_site_reads_what_the_catalogs_say():
    """The compiled .mo files are current: each translation in a .po is what `_()` returns."""
    checked = 0
    for po_file in sorted(catalogs.LOCALE_DIR.glob("*/LC_MESSAGES/*.po")):
        lang = po_file.parent.parent.name
        with po_file.open("rb") as handle:
            catalog = read_po(handle, locale=i18n.BABEL_LOCALES[lang])
        for message in catalog:
            if message.id and isinstance(message.id, str) and message.string and not message.fuzzy:
                assert i18n.translations(lang).gettext(message.id) == message.string, (po_file, message.id)
                checked += 1
    assert checked > 0


def test_placeholders_are_the_named_format_fields():
    assert catalogs.placeholders("{count} tokens for {words} words") == {"count", "words"}
    assert catalogs.placeholders("no fields, {{literal}} braces") == set()


@pytest.mark.parametrize(("lang", "expected"), [("fr", "77,3\u00a0%"), ("en", "77.3%"), ("zh", "77.3%")])
def test_percentages_follow_the_locale(lang, expected):
    with mock.patch.object(i18n, "current_language", return_value=lang):
        assert i18n.format_percent(0.7734) == expected


@pytest.mark.parametrize(
    ("query", "browser", "expected"),
    [({"lang": "es"}, "en-US", "es"), ({}, "fr-CA", "fr"), ({}, "de-DE", "en"), ({"lang": "xx"}, "zh-CN", "zh")],
)
def test_language_comes_from_the_link_then_the_browser_then_english(query, browser, expected):
    with mock.patch.object(i18n.st, "session_state", {}), mock.patch.object(i18n.st, "query_params", query), \
            mock.patch.object(i18n.st, "context", mock.Mock(locale=browser)):
        assert i18n.current_language() == expected


def test_two_sessions_read_the_site_in_their_own_languages():
    """One process, two sessions: the French one's labels are French, the English one's English."""
    french = AppTest.from_file(APP, default_timeout=300)
    french.query_params["lang"] = "fr"
    french.run()
    english = AppTest.from_file(APP, default_timeout=300)
    english.run()
    assert not french.exception and not english.exception
    assert french.sidebar.selectbox(key=i18n.LANG_KEY).value == "fr"
    assert english.sidebar.selectbox(key=i18n.LANG_KEY).value == "en"
    def next_step_label(app: AppTest) -> str:
        links = [element for element in app.main if element.type == "page_link"]
        return links[-1].proto.label  # the walk's link at the end of the page

    assert next_step_label(french) == "Étape suivante : Tokenisation →"
    assert next_step_label(english) == "Next step: Tokenization →"
