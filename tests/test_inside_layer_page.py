"""The Inside-a-layer page in AppTest: computed sentences equal explain's numbers, controls don't rerun
the model, generation waits for its button, and a GPT-2-family model gets its own explanations."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from explain import generation, layer_parts, residual, tokens, writing_attention
from explain.engine import analysis
from tests import pages
from tests.pages import ForwardCounter, chart_keys, plotly_array
from tests.pages import markdown_text as text

PAGE = "views/inside_layer.py"
CAT = "The cat sat on the mat because it was warm."


def run_page(prompt: str = CAT, **state) -> AppTest:
    return pages.run_page(PAGE, prompt, **state)


@pytest.fixture(scope="module")
def cat_page():
    return run_page()


def test_every_section_renders_with_measured_numbers(cat_page, lm):
    at = cat_page
    assert not at.exception, at.exception
    ids = tokens.encode(lm, CAT)
    ref = analysis.analyze_prompt(lm, ids)
    page = text(at)
    sinks = writing_attention.sink_heads(ref.attentions[:, :, -1, :])
    assert f"**{sinks} of 270 heads**" in page
    shares = layer_parts.parameter_shares(lm)
    assert f"**{shares.feed_forward_share:.0%}**" in page and f"{shares.feed_forward:,}" in page
    assert "**9 query heads** but only **3 key/value heads**" in page and "11,520 numbers per token" in page
    assert "**RMSNorm**" in page and "**SwiGLU**" in page and "θ = 100,000" in page
    assert "the decoder's **0%**" in page
    keys = " ".join(chart_keys(at))
    for key in ("layer_writes", "layer_cosines", "layer_norm_chart", "layer_gqa_drawing", "layer_gqa_head_0",
                "layer_rope_pair_chart", "layer_rope_scores", "layer_ffn_units", "layer_encoder_map", "layer_decoder_map"):
        assert key in keys, key
    # the encoder's map really looks ahead; the decoder's upper triangle is empty
    z = plotly_array(pages.chart(at, "layer_decoder_map")["data"][0]["z"])
    assert np.allclose(z[np.triu_indices(z.shape[0], 1)], 0)
    assert any("Press the button" in c.value for c in at.caption)  # no generation yet


def test_controls_never_rerun_the_model_and_generation_waits_for_the_button(cat_page, lm):
    at = cat_page
    from explain.engine.models import EMBEDDED_MODEL
    from ui.inside_layer import quoted
    from ui.state import get_model

    with ForwardCounter(get_model(EMBEDDED_MODEL).model) as forwards:  # the app's own model instance
        at.slider(key="layer_norm_layer").set_value(5).run()
        at.slider(key="layer_gqa_layer").set_value(7).run()
        at.radio(key="layer_gqa_kv").set_value(2).run()
        at.slider(key="layer_rope_pair").set_value(20).run()
        at.slider(key="layer_ffn_layer").set_value(2).run()
        assert not at.exception
        assert forwards.calls == 0
        page = text(at)
        assert "entering layer **5**" in page and "Layer 7: query heads 6, 7, 8" in page and "Pair 20 turns" in page
        at.selectbox(key="layer_rope_i").set_value(3).run()
        assert not at.exception and at.selectbox(key="layer_rope_j").value <= 3
        at.button(key="layer_write_go").click().run()
        assert not at.exception
        assert forwards.calls > 0  # the button ran the model
        greedy = generation.greedy_continuation(lm, tokens.encode(lm, CAT), 10)
        assert len(pages.chart(at, "layer_write_map")["data"][0]["y"]) == len(greedy.new_ids)
        assert f"Writing token 1, {quoted(greedy.pieces[0])}" in text(at)
        forwards.calls = 0
        at.select_slider(key="layer_write_step").set_value(3).run()
        at.selectbox(key="layer_write_head").set_value(4).run()
        assert not at.exception and forwards.calls == 0  # stepping reads the cached run
    assert "Writing token 4" in text(at)


def test_one_token_prompt_and_a_shorter_prompt_after_a_longer_one(lm):
    at = run_page(CAT)
    at.selectbox(key="layer_rope_i").set_value(10).run()
    at.session_state["prompt"] = "Hello"
    at.run()
    assert not at.exception
    assert "**30 layers**" in text(at) and "position 0" in text(at)


@pytest.fixture
def tiny_gpt2_as_hub_model(lm, monkeypatch, request):
    """A random 2-layer GPT-2 with SmolLM2's tokenizer, served as the hub's "gpt2" (no network)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    from explain.engine import models
    from ui import state

    torch.manual_seed(0)
    config = GPT2Config(n_layer=2, n_head=2, n_embd=32, vocab_size=len(lm.tokenizer), n_positions=512,
                        attn_implementation="eager")
    tiny = models.LoadedModel("gpt2", GPT2LMHeadModel(config).eval().requires_grad_(False), lm.tokenizer, "random init", 0.0)
    monkeypatch.setattr(models, "load_from_hub", lambda name: tiny)
    state.get_model.clear()
    request.addfinalizer(state.get_model.clear)
    return tiny


def test_gpt2_family_model_says_what_it_does_instead(tiny_gpt2_as_hub_model):
    at = run_page(CAT, model="gpt2")
    assert not at.exception, at.exception
    page = text(at)
    assert "**LayerNorm**" in page and "subtracts the vector's mean" in page
    assert "its own key and value" in page
    assert "**GELU**" in page
    assert any("learned position vector" in i.value for i in at.info)
    at.button(key="layer_write_go").click().run()
    assert not at.exception


def test_predict_then_reveal_hides_the_page_until_revealed_and_answers_from_the_model(lm):
    at = run_page(CAT, layer_game=True)
    assert not at.exception
    assert not at.get("plotly_chart") and not at.slider  # nothing of the answer before Reveal
    assert at.button(key="layer_reveal").disabled  # no choice yet
    at.radio(key="layer_pick").set_value("the attention block").run()
    assert not at.get("plotly_chart")
    at.button(key="layer_reveal").click().run()
    assert not at.exception and at.get("plotly_chart")
    writes = residual.block_writes(residual.trace_residual(lm, tokens.encode(lm, CAT)))
    n_ffn = int((writes.ffn_norm > writes.attn_norm).sum())
    verdict = (at.success or at.warning or at.info)[0].value
    assert f"**{n_ffn} of 30** layers" in verdict
    assert verdict.startswith("Right" if n_ffn < 15 else "Not this time" if n_ffn > 15 else "A tie")
    # A new prompt: the choice is cleared and the answer hidden again.
    at.session_state["prompt"] = "Hello there"
    at.run()
    assert not at.exception
    assert at.radio(key="layer_pick").value is None and not at.get("plotly_chart")


def test_page_in_french_and_chinese(lm):
    at = run_page(CAT, lang="fr")
    assert not at.exception, at.exception
    assert at.title[0].value == "🔬 Dans une couche\u202f: les pièces d'un décodeur moderne"
    assert at.header[0].value == "1 · Le flux résiduel, couche par couche"
    assert "Afficher sous forme de tableau" in [e.label for e in at.expander]
    writes = json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("layer_writes")).proto.spec)
    assert writes["layout"]["separators"] == ",\u202f" and writes["data"][0]["name"] == "écriture de l'attention"
    assert "« ·" in text(at) or "«\u00a0·" in text(at)  # tokens quoted the French way
    at = run_page(CAT, lang="zh")
    assert not at.exception, at.exception
    assert at.header[0].value == "1 · 残差流，一层一层看"


def test_every_chart_has_a_sentence_and_a_table():
    at = run_page()
    labels = [e.label for e in at.expander]
    # 13 charts: writes, cosines, norm + gain (one table), the K/V drawing, three query heads (one
    # table), RoPE pair, RoPE scores, units, encoder and decoder maps: 10 tables, plus the readout's.
    assert len(at.get("plotly_chart")) == 13
    assert labels.count("Show as table") == 8
    assert "Show both charts as a table" in labels and "Show the three heads as a table" in labels
    page = text(at)
    assert "Largest after the norm: dimension" in page, page[-3000:]
    assert "The last token, “\\.”, looks most at" in page


def test_the_link_restores_the_section_controls():
    at = AppTest.from_file(pages.APP, default_timeout=300)
    link = {"prompt": CAT, "layer_norm_layer": "5", "layer_gqa_layer": "7", "layer_gqa_kv": "K/V2",
            "layer_rope_pair": "20", "layer_ffn_layer": "2", "layer_write_n": "4"}
    for key, value in link.items():
        at.query_params[key] = value
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    page = text(at)
    assert "entering layer **5**" in page and "Layer 7: query heads 6, 7, 8" in page and "Pair 20 turns" in page
    assert at.slider(key="layer_ffn_layer").value == 2 and at.number_input(key="layer_write_n").value == 4
