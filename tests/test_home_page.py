"""Home: the path diagram, positions and quantization as the live model has them (AppTest), and the walk."""

from collections import Counter

import pytest

from streamlit.testing.v1 import AppTest

from tests.pages import APP, HOME, ROOT, run_page
from ui.walk import WALK, next_step


def run_home(prompt: str):
    return run_page(HOME, prompt, timeout=180)


def test_path_diagram_is_drawn_from_the_live_sizes_with_a_text_equivalent(lm):
    prompt = "The capital of France is"
    at = run_home(prompt)
    assert not at.exception
    n = len(lm.tokenizer.encode(prompt, add_special_tokens=False))
    config = lm.config
    diagram = next(h.proto.body for h in at.get("html") if "llmx-path" in h.proto.body)
    for figure in (f">{n}<", f">{n} × {config.hidden_size}<", f">{config.num_hidden_layers}<",
                   f">{config.vocab_size:,}<"):
        assert figure in diagram
    words = f"Your {n} tokens become {n} vectors of {config.hidden_size} numbers each"
    assert any(words in c.value for c in at.caption) and words in diagram  # caption and aria-label


def test_home_says_how_positions_enter_and_what_the_file_stores(lm):
    from gguf import GGUFReader

    from explain.engine.gguf_file import gguf_of

    at = run_home("The capital of France is")
    text = "\n".join(m.value for m in at.markdown)
    assert "(+ position)" not in text
    assert "RoPE" in text and "queries and keys are rotated" in text
    types = Counter(t.tensor_type.name for t in GGUFReader(str(gguf_of(lm))).tensors)  # independent read
    assert "4-bit quantized model computed in float32" in text
    assert f"**{types['Q4_1']} as Q4_1**" in text and f"**{types['Q8_0']} as Q8_0**" in text
    table = next(df.value for df in at.dataframe if "stored in the model file as" in df.value.columns)
    rows = dict(zip(table["part"], table["stored in the model file as"]))
    assert rows["embeddings"].startswith("Q8_0") and rows["attention"].startswith("Q4_1")
    millions = dict(zip(table["part"], table["millions"]))
    assert millions["norms"] == "<0.1 M"
    assert "Tokenization" in at.get("page_link")[-1].proto.label


def test_emoji_prompt_shows_the_emoji_not_a_replacement_character():
    at = run_home("I love pizza 🍕 because")
    assert not at.exception
    tokens_html = at.get("html")[0].proto.body
    assert "🍕" in tokens_html and "\ufffd" not in tokens_html


def test_every_page_of_the_walk_exists_and_nothing_else_is_in_views():
    assert sorted(s.stem for s in WALK) == sorted(p.stem for p in (ROOT / "views").glob("*.py"))
    assert next_step("home").stem == "tokenization"
    assert next_step(WALK[-1].stem) is WALK[0]


@pytest.mark.browser
def test_path_diagram_is_a_row_on_a_laptop_and_a_column_on_a_phone(site, browser):
    from urllib.parse import quote

    from tests.browser import open_page

    for width, height in ((1440, 2400), (390, 5000)):
        context, page, _ = open_page(browser, f"{site}/?prompt={quote('I love pizza 🍕')}", width=width, height=height)
        try:
            assert page.locator('[data-testid="stException"]').count() == 0
            page.wait_for_selector(".llmx-path .box", timeout=180_000)  # drawn once the model has loaded
            boxes = [b.bounding_box() for b in page.locator(".llmx-path .box").all()]
            assert len(boxes) == 4
            if width > 600:
                assert len({round(b["y"]) for b in boxes}) == 1  # one row
            else:
                assert all(b["x"] + b["width"] <= width for b in boxes)
                assert [b["y"] for b in boxes] == sorted(b["y"] for b in boxes) and boxes[0]["y"] < boxes[1]["y"]
            assert page.get_by_text("Next step: Tokenization").is_visible()
        finally:
            context.close()


def test_every_storage_type_description_is_marked_for_translation():
    import ast

    from explain.engine.gguf_file import TYPE_DESCRIPTIONS

    source = (ROOT / "views" / "home.py").read_text()
    marked = {node.args[0].value for node in ast.walk(ast.parse(source))
              if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "N_"}
    assert set(TYPE_DESCRIPTIONS.values()) <= marked


def test_guess_the_next_word_hides_the_top5_until_reveal_and_clears_on_a_new_prompt(lm, full_logits):
    import torch

    prompt = "The capital of France is"
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["prompt"] = prompt
    at.session_state["home_game"] = True
    at.run()

    def hidden() -> bool:
        headers = [h.value for h in at.header]
        return not at.get("plotly_chart") and not at.dataframe and "5 · Choose, append, repeat" not in headers

    assert not at.exception and hidden()
    at.text_input(key="home_guess").set_value("Paris").run()
    assert hidden()
    at.button(key="home_reveal").click().run()
    assert not at.exception and not hidden()
    ids = lm.tokenizer.encode(prompt, add_special_tokens=False)
    probs = torch.softmax(full_logits(ids)[-1], -1)
    paris = lm.tokenizer.encode(" Paris", add_special_tokens=False)[0]
    rank = int((probs > probs[paris]).sum()) + 1  # independent of explain.next_token
    verdict = at.success[0].value
    assert ("**first choice**" in verdict) if rank == 1 else (f"**{rank:,}**" in verdict)

    at.session_state["prompt"] = "The cat sat on the"
    at.run()
    assert at.text_input(key="home_guess").value == "" and hidden()


def test_top5_chart_has_a_computed_sentence_and_its_table(lm, full_logits):
    import torch

    prompt = "The capital of France is"
    at = run_home(prompt)
    probs = torch.softmax(full_logits(lm.tokenizer.encode(prompt, add_special_tokens=False))[-1], -1)
    top = torch.topk(probs, 5)
    sentence = next(m.value for m in at.markdown if m.value.startswith("The most likely next token is"))
    first = lm.tokenizer.decode([int(top.indices[0])])
    assert f"at {top.values[0].item():.1%}" in sentence and first.strip() in sentence
    assert f"the next four share {top.values[1:].sum().item():.1%}" in sentence
    table = next(df.value for df in at.dataframe if "probability" in df.value.columns)
    assert list(table["id"]) == [int(i) for i in top.indices]


@pytest.mark.parametrize(("lang", "title"), [("es", "🔎 Cómo elige un modelo de lenguaje su siguiente palabra"),
                                             ("zh", "🔎 语言模型如何挑选下一个词")])
def test_home_reads_in_another_language(lang, title):
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["lang"] = lang
    at.session_state["prompt"] = "The capital of France is"
    at.run()
    assert not at.exception
    assert at.title[0].value == title
    assert {"es": "1 · Texto → tokens → ids", "zh": "1 · 文本 → 词元 → id"}[lang] in [h.value for h in at.header]


def test_a_byte_piece_among_the_top5_is_called_part_of_a_character(lm):
    """Issue 20.8: after a Chinese prompt the favourites are byte pieces (`<E7>`); the sentence says
    they are parts of characters, not words — and says nothing of the kind after an English one."""
    note = "is not a word: it holds part of a character"
    chinese = next(m.value for m in run_home("今天天气").markdown if m.value.startswith("The most likely next token is"))
    assert "'\\<E" in chinese and note in chinese  # Markdown-escaped: '\<E6\>'
    english = next(m.value for m in run_home("The capital of France is").markdown
                   if m.value.startswith("The most likely next token is"))
    assert note not in english


def test_the_continuation_reuses_the_analysis_instead_of_prefilling_the_prompt(monkeypatch):
    """Home's top 5 come from the shared analysis; its greedy continuation is handed that analysis,
    so the prompt does not run through the model a second time (issue 15: 1.5 s of a class's crowd)."""
    from explain.engine import fast_decode

    prefills = []
    original = fast_decode.prefill
    monkeypatch.setattr(fast_decode, "prefill", lambda *args: prefills.append(1) or original(*args))
    at = run_home("Owls hunt at night because their eyes")  # a prompt no other test continues
    assert not at.exception
    assert any("continues your prompt like this" in m.value for m in at.markdown)
    assert not prefills
