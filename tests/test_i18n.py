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
    [({"lang": "es"}, "en-US", "es"), ({"lang": "Français"}, "en-US", "fr"), ({}, "fr-CA", "fr"),
     ({}, "de-DE", "en"), ({"lang": "xx"}, "zh-CN", "zh")],
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


class _Params(dict):
    def to_dict(self) -> dict[str, str]:
        return dict(self)


@pytest.mark.parametrize(
    ("query", "lang", "expected"),
    [
        ({"prompt": "Hola"}, "es", {"prompt": "Hola", "lang": "es"}),  # the browser's language goes in
        ({"lang": "中文（简体）"}, "zh", {"lang": "zh"}),  # the picker's own URL value becomes the code
        ({"prompt": "Hi"}, "en", {"prompt": "Hi"}),  # English links stay as they were
    ],
)
def test_a_shared_link_keeps_the_language_even_from_the_browser(query, lang, expected):
    from ui import state

    with mock.patch.object(state.st, "query_params", _Params(query)), \
            mock.patch.object(state, "current_language", return_value=lang):
        assert state.link_params() == expected


def test_the_share_list_names_the_language():
    from ui import share

    with mock.patch.object(i18n, "current_language", return_value="fr"):
        assert share.kept_lines({"lang": "zh"}) == ["- langue\u00a0: «\u202f中文（简体）\u202f»"]


def test_each_language_offers_its_own_examples_first_and_the_english_ones_after():
    from ui import state

    for lang in i18n.LANGUAGES:
        offered = state.presets(lang)
        own = state.LANGUAGE_PRESETS.get(lang, {})
        assert list(offered)[: len(own)] == list(own)
        assert set(offered.values()) == set(own.values()) | set(state.PRESETS.values())  # no prompt twice
        assert len(set(offered.values())) == len(offered)
    assert set(state.LANGUAGE_PRESETS) == set(i18n.LANGUAGES) - {i18n.DEFAULT_LANGUAGE}


def test_the_spanish_sidebar_is_spanish_and_says_what_spanish_costs_the_model(lm):
    from explain.language_cost import language_cost

    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["lang"] = "es"
    at.run()
    assert not at.exception
    examples = at.sidebar.selectbox(key="preset")
    assert examples.label == "Ejemplos"
    assert examples.options[0] == "Contar en español"
    assert at.sidebar.toggle(key="present").label == "Modo presentación"
    cost = language_cost(lm, "es")
    note = next(caption.value for caption in at.sidebar.caption if "tokenizador" in caption.value)
    assert f"{cost.n_tokens} tokens en español y {cost.n_reference_tokens} en inglés" in note
    assert f"({cost.ratio:.1f}× más)".replace(".", ",") in note  # a decimal comma in Spanish
    examples.select_index(0).run()
    assert at.session_state["prompt"] == "Uno, dos, tres, cuatro,"
