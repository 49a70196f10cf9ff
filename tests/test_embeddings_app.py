"""AppTest: the Embeddings page in the real app — presets, odd input, widgets driven."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from tests import pages
from tests.markup import chip_id, tags_in, token_chips
from tests.pages import chart
from tests.pages import plotly_array as values

PAGE = "views/embeddings.py"


def run_page(**session_state) -> AppTest:
    return pages.run_page(PAGE, timeout=180, **session_state)


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [w.value for w in at.warning]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def default_page() -> AppTest:
    at = run_page()
    assert not at.exception, at.exception
    return at


def test_default_page_shows_all_seven_parts(default_page):
    headers = [h.value for h in default_page.header]
    assert [h.split(" · ")[0] for h in headers] == ["1", "2", "3", "4", "5", "6", "7"]
    metrics = {m.label: m.value for m in default_page.metric}
    assert metrics["Dimensions"] == "576"
    assert metrics["Input embeddings"] == "1.000"


def test_neighbours_table_equals_torch_on_the_models_matrix(default_page, lm):
    table = default_page.dataframe[0].value
    weight = lm.model.get_input_embeddings().weight.detach().float()
    query = weight[lm.tokenizer.encode(" king")[0]]
    sims = torch.nn.functional.cosine_similarity(weight, query[None], dim=1)
    assert len(table) == 15 and list(table["token"])[0] == "'·king'"
    assert list(table["cosine similarity"])[0] == 1.0
    np.testing.assert_allclose(table["cosine similarity"], sims[list(table["id"])].numpy(), atol=6e-4)
    assert list(table["cosine similarity"]) == sorted(table["cosine similarity"], reverse=True)
    assert "the query word itself" not in texts(default_page)  # nothing excluded by default


def test_preset_matrix_map_and_analogy(default_page):
    matrix = chart(default_page, "emb_matrix")["data"][0]
    assert matrix["x"] == ["king", "queen", "man", "woman", "apple", "banana", "Paris", "France", "London"]
    assert np.allclose(np.diag(values(matrix["z"])), 1.0)
    layout = chart(default_page, "emb_map")["layout"]
    pc1 = layout["xaxis"]["title"]["text"]
    assert pc1.startswith("PC1 (") and "% of the variance" in pc1
    assert "is lost" in texts(default_page)
    analogy = default_page.dataframe[1].value
    assert list(analogy["token"])[0] == "'·queen'"
    assert "·king" not in list(analogy["token"])  # inputs left out…
    assert "Left out on purpose: `·king` (input a (king)" in texts(default_page)  # …and said so
    assert "the arithmetic worked" in texts(default_page)


def test_context_drift_chart_and_position_statement(default_page):
    drift = chart(default_page, "emb_drift")["data"]
    similarities = values(drift[0]["y"])
    assert similarities.shape == (31,) and similarities[0] == pytest.approx(1.0, abs=1e-5)
    assert similarities[-1] < 0.8
    # the sentence under the chart describes this curve, whatever its shape
    sentence = next(m.value for m in default_page.markdown if "the two “bank” vectors" in m.value)
    lowest = int(np.argmin(similarities))
    assert f"lowest {'after the last layer' if lowest == 30 else f'after layer {lowest}'} (**{similarities[lowest]:.3f}**)" in sentence
    rises = [(similarities[j] - similarities[i], i, j) for i in range(31) for j in range(i + 1, 31)]
    rise, i, j = max(rises)
    assert rise > 0.02 and f"from {similarities[i]:.3f} after layer {i} it rises again to {similarities[j]:.3f} after layer {j}" in sentence
    assert "drifts apart layer by layer" not in texts(default_page)
    assert "rotary position embeddings" in texts(default_page)
    assert values(chart(default_page, "emb_sinusoids")["data"][0]["z"]).shape == (64, 128)


def test_widgets_leave_out_self_layer_slider_and_context_preset():
    at = run_page()
    at.checkbox(key="emb_exclude_self").check().run()
    assert list(at.dataframe[0].value["token"])[0] != "'·king'"
    assert "`·king` (the query word itself, similarity 1.000)" in texts(at)
    at.slider(key="emb_layer").set_value(30).run()
    assert any(m.label == "After layer 30" for m in at.metric)
    at.selectbox(key="emb_context_preset").set_value("bat: animal vs baseball").run()
    assert not at.exception
    assert at.text_input(key="emb_shared").value == "bat"
    assert "“bat” is ‘·bat’ (outlined; position 1, counting from 0)" in texts(at)
    at.text_input(key="emb_word").set_value("").run()
    assert "Type a word above" in texts(at)
    assert not at.exception


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("", "Type at least two words"),
        ("king", "Type at least two words"),
        ("king, queen", "The map needs at least three words"),
    ],
)
def test_too_few_words_get_a_hint(words, expected):
    at = run_page(emb_words=words)
    assert not at.exception
    assert expected in texts(at)


def test_fifty_words_and_more():
    fifty = ", ".join(f"word{i}" for i in range(45)) + ", king, queen, man, woman, apple"
    at = run_page(emb_words=fifty)
    assert not at.exception
    assert values(chart(at, "emb_matrix")["data"][0]["z"]).shape == (50, 50)
    assert len(values(chart(at, "emb_map")["data"][1]["x"])) == 50
    assert not at.warning
    at = run_page(emb_words=fifty + ", pear, plum")
    assert "2 more were left out" in texts(at)


def test_unknown_odd_and_hostile_words():
    hostile = "<img src=x onerror=alert(1)>"
    at = run_page(
        emb_word=hostile,
        emb_words="xqzvwj, 🍕, 東京, שלום, <script>alert(1)</script>",
        emb_a="", emb_shared="river",
    )
    assert not at.exception
    body = at.get("html")[0].proto.body
    assert tags_in(body) <= {"div", "span", "b"} and "&lt;img" in body
    assert "mean of their" in body
    assert "Split into several tokens" in texts(at)
    assert "Fill in a, b and c" in texts(at)
    assert "does not appear as a whole word" in texts(at)


def test_long_word_is_cut_and_empty_sidebar_prompt_does_not_block_the_page():
    at = run_page(emb_word="supercalifragilistic" * 30, prompt="   ")
    assert not at.exception
    assert at.dataframe  # the page does not depend on the sidebar prompt


def test_prompt_table_follows_the_sidebar_prompt_and_is_capped():
    at = run_page(prompt="The capital of France is")
    heatmap = chart(at, "emb_prompt_vectors")["data"][0]
    assert values(heatmap["z"]).shape == (5, 576) and heatmap["y"][1] == "1: ·capital"
    at = run_page(prompt="word " * 100)
    assert values(chart(at, "emb_prompt_vectors")["data"][0]["z"]).shape == (32, 576)
    assert "The first 32 rows are drawn" in texts(at)


def test_sentence_spans_escape_and_outline_the_word(lm):
    from explain.embeddings import locate_word
    from ui.embeddings import sentence_html

    found = locate_word(lm, "<script>alert(1)</script> the bank <b>x</b>", "bank")
    markup = sentence_html(found)
    assert tags_in(markup) == {"div", "span"}
    assert "<script>" not in markup and "&lt;" in markup
    chips = token_chips(markup)
    assert [chip_id(chip) for chip in chips] == [piece.id for piece in found.pieces]
    usual = max(set(borders := [chip.style("border") for chip in chips]), key=borders.count)
    outlined = [i for i, border in enumerate(borders) if border != usual]
    assert outlined == list(found.positions) and len(outlined) == 1
    assert chips[outlined[0]].text.strip("·  ") == "bank"


def test_crowded_map_labels_take_turns():
    from ui.embeddings import label_positions

    crowded = np.array([[0.0, 0.0], [0.01, 0.0], [0.02, 0.0], [5.0, 5.0]])
    assert label_positions(crowded) == ["top center", "bottom center", "middle left", "top center"]


def test_analogy_page_leaves_out_case_and_space_forms_and_says_so(lm):
    at = run_page(emb_a="Paris", emb_b="France", emb_c="Italy", emb_target="")
    assert not at.exception
    shown = list(at.dataframe[1].value["token"])
    for word in ("Paris", "France", "Italy"):  # no form of an input comes back, with or without space
        assert f"'{word}'" not in shown and f"'·{word}'" not in shown
    assert "`Italy` (another form of input c (Italy)" in texts(at)
    assert "another case or with or without its leading space" in texts(at)


def test_tables_use_one_precision_per_column(default_page):
    for table in default_page.dataframe[:2]:
        columns = json.loads(table.proto.columns)
        assert columns["cosine similarity"]["type_config"]["format"] == "%.3f"
        assert columns["angle (°)"]["type_config"]["format"] == "%.1f"
    assert chart(default_page, "emb_matrix")["data"][0]["texttemplate"] == "%{z:.2f}"


# ---------------------------------------------------------------------------------------------
# Predict, then reveal · other languages · a sentence and a table per chart (issues 17 and 18)


def test_predict_then_reveal_hides_the_neighbours_until_reveal(lm):
    from explain import embeddings as emb

    at = run_page(emb_game=True)
    assert not at.exception, at.exception
    assert not [d for d in at.dataframe if "cosine similarity" in d.value.columns]  # no neighbours yet
    assert "emb_matrix" not in " ".join(c.proto.id for c in at.get("plotly_chart"))  # nor the angle table
    assert "which word is nearest to “king”" in texts(at)
    at.text_input(key="emb_guess").set_value("queen").run()
    at.button(key="emb_reveal").click().run()
    assert not at.exception, at.exception
    index = emb.embedding_index(lm)
    king, queen = emb.word_vector(lm, "king", True), emb.word_vector(lm, "queen", True)
    similarity, rank = emb.rank_among(index, king.vector, queen.vector, tuple(king.ids))
    verdict = at.success[0].value
    assert verdict.startswith("✅") if rank == 1 else f"“queen” is number {rank:,} of {index.vocab_size:,} tokens" in verdict
    assert f"(cosine {similarity:.3f})" in verdict
    assert [d for d in at.dataframe if "cosine similarity" in d.value.columns]  # revealed
    at.text_input(key="emb_word").set_value("school").run()  # a new word: a new question
    assert at.text_input(key="emb_guess").value == ""
    assert not [d for d in at.dataframe if "cosine similarity" in d.value.columns]


@pytest.mark.parametrize("lang, title, norm_label", [
    ("fr", "🧭 Embeddings\u00a0: les mots comme vecteurs", "Longueur (norme)"),
    ("zh", "🧭 嵌入（embedding）：把词变成向量", "长度（范数）"),
])
def test_embeddings_page_in_french_and_chinese(lang, title, norm_label):
    at = run_page(lang=lang)
    assert not at.exception, at.exception
    assert at.title[0].value == title
    metrics = {m.label: m.value for m in at.metric}
    if lang == "fr":
        assert "," in metrics[norm_label]  # a decimal comma
        assert chart(at, "emb_map")["layout"]["xaxis"]["title"]["text"].endswith("de la variance)")
    assert norm_label in metrics


def test_every_chart_says_what_it_shows_and_offers_its_table():
    at = run_page(emb_vector_table=True, emb_matrix_table=True, emb_map_table=True, emb_drift_table=True,
                  emb_sinusoids_table=True)
    assert not at.exception, at.exception
    text = texts(at)
    assert "The 576 numbers of “king” run from" in text
    assert "The most similar pair is “" in text and "Along the first direction" in text
    assert "The first pair of dimensions repeats every 6.3 positions" in text
    tables = [d.value for d in at.dataframe]
    assert any(list(t.columns) == ["dimension", "value"] and len(t) == 576 for t in tables)
    matrix = next(t for t in tables if "king" in t.columns and "word" in t.columns)
    assert float(matrix["king"][0]) == pytest.approx(1.0, abs=1e-3)
    assert any(list(t.columns) == ["word", "PC1", "PC2"] for t in tables)
    assert any("A vs B" in t.columns for t in tables)
