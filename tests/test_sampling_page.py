"""The Sampling page in AppTest: filters without forwards, step-by-step buttons, beams, ICL box."""

from __future__ import annotations

import ast
import html

import numpy as np
import torch
from streamlit.testing.v1 import AppTest
from transformers import TopKLogitsWarper

from explain import generation, next_token, tokens
from explain.sampling import SamplingSettings
from tests import pages
from tests.markup import chip_id, token_chips
from tests.pages import APP, ForwardCounter, chart, run_page
from ui.html import visible_text

PROMPT = "The capital of France is"


def sampling_page(prompt: str = PROMPT) -> AppTest:
    return run_page("views/sampling.py", prompt, timeout=240)


def test_sampling_page_filters_steps_and_beams(lm):
    from ui.results import results

    results.clear()  # start with no stored beam tree (another test may have run this one)
    at = sampling_page()
    assert not at.exception
    from ui.state import get_model

    model = get_model("SmolLM2-135M-Instruct (embedded)").model
    logits = next_token.last_logits(lm, tokens.encode(lm, PROMPT))
    with ForwardCounter(model) as counter:
        at.radio(key="sampling_strategy").set_value("Top-k").run()
        at.slider(key="sampling_top_k").set_value(3).run()
        at.slider(key="sampling_temperature").set_value(0.7).run()
    assert not at.exception
    assert counter.calls == 0  # strategy, k and temperature re-derive from the stored logits
    assert any(m.label == "Candidates kept" and m.value == "3 of 49,152" for m in at.metric)
    kept = chart(at, "filter_chart")["data"][1]["y"]
    scores = TopKLogitsWarper(3)(None, torch.from_numpy(logits)[None] / 0.7)
    reference = torch.softmax(scores[0].double(), -1)
    np.testing.assert_allclose(kept, torch.sort(reference, descending=True).values[:20].numpy(), atol=1e-6)

    # Step by step: one click, then ten; the same as generate_steps in one go; the cache is reused.
    with ForwardCounter(model) as counter:
        at.button(key="sampling_next").click().run()
        at.button(key="sampling_many").click().run()
    assert not at.exception
    trace = at.dataframe[0].value
    assert list(trace["step"]) == list(range(1, 12))
    assert counter.calls == 11  # one forward per new token, never the whole prefix again
    reference_ids, _, _ = generation.generate_steps(
        generation.IncrementalLogits(lm), tokens.encode(lm, PROMPT), SamplingSettings(temperature=0.7, top_k=3),
        11, seed=42, first_step=1,
    )
    assert [lm.tokenizer.decode([i]) for i in reference_ids] == [ast.literal_eval(t) for t in trace["chosen token"]]
    assert set(trace["candidates"]) == {3}
    at.button(key="sampling_reset").click().run()
    assert not at.dataframe or "step" not in at.dataframe[0].value

    # The beam tree is drawn when asked; its winner equals generate(num_beams=3).
    assert not any("beam_tree" in (e.proto.id or "") for e in at.get("plotly_chart"))
    at.button(key="sampling_beam_run").click().run()
    assert not at.exception
    with torch.inference_mode():
        ids = tokens.encode(lm, PROMPT)
        best = lm.model.generate(torch.tensor([ids]), num_beams=3, do_sample=False, max_new_tokens=4,
                                 pad_token_id=lm.tokenizer.eos_token_id)[0, len(ids):].tolist()
    winner = [h.proto.body for h in at.get("html") if "token #0" in h.proto.body][-1]
    shown = winner.count("2px solid #D55E00")  # the winner's new tokens are outlined
    assert shown == len(best)
    for piece in tokens.token_pieces(lm, best):
        assert html.escape(visible_text(piece.display)) in winner

    # In-context learning: the few-shot box makes ' negative' more likely than zero-shot does.
    negatives = [m.value for m in at.metric if m.label == "P(' negative')"]
    assert len(negatives) == 3
    assert float(negatives[2].rstrip("%")) > float(negatives[0].rstrip("%"))


def compare_codes(at: AppTest) -> list[str]:
    """The comparison's texts (the share popover's link, "?prompt=…", is a code block too)."""
    return [c.value for c in at.code if not c.value.startswith("?")]


def test_compare_strategies_runs_on_its_button_and_is_kept_for_the_next_visitor(lm):
    from ui.state import get_model

    model = get_model("SmolLM2-135M-Instruct (embedded)").model
    at = sampling_page("Once upon a time")
    with ForwardCounter(model) as counter:
        at.run()  # any rerun (here: none of the comparison's inputs changed) writes nothing
    assert counter.calls == 0 and not compare_codes(at)
    assert any("Compare strategies" in c.value for c in at.caption)
    at.button(key="sampling_compare_run").click().run()
    assert not at.exception
    codes = compare_codes(at)
    assert len(codes) == 10  # greedy once (it never varies), then 3 strategies × 3 samples
    ids = tokens.encode(lm, "Once upon a time")
    assert codes[0] == lm.tokenizer.decode(generation.greedy_ids(lm, ids, 15)[0], skip_special_tokens=True)
    assert len(set(codes[1:])) > 3  # sampling varies
    # A classmate opening the same prompt and seed sees the same texts at once, without a forward.
    with ForwardCounter(model) as counter:
        again = sampling_page("Once upon a time")
    assert compare_codes(again) == codes and counter.calls == 0


def test_generate_ten_writes_the_seeded_trace(lm):
    at = sampling_page("The weather today")
    at.number_input(key="sampling_seed").set_value(1234).run()
    at.button(key="sampling_many").click().run()
    assert not at.exception
    trace = at.dataframe[0].value
    reference_ids, reference, _ = generation.generate_steps(
        generation.IncrementalLogits(lm), tokens.encode(lm, "The weather today"),
        SamplingSettings(temperature=1.0, top_p=0.9), 10, seed=1234, first_step=1,
    )
    assert list(trace["step"]) == list(range(1, len(reference) + 1))
    assert list(trace["chosen token"]) == [repr(lm.tokenizer.decode([i])) for i in reference_ids]
    assert list(trace["model's probability"]) == [f"{row.prob:.2%}" for row in reference]
    # The strip: the prompt's tokens, then every chosen token in order, and only those marked.
    prompt_ids = tokens.encode(lm, "The weather today")
    chips = token_chips(next(body for body in pages.page_html(at) if "token #0" in body))  # the strip
    assert [chip_id(chip) for chip in chips] == prompt_ids + list(reference_ids)
    borders = [chip.style("border") for chip in chips]
    assert len(set(borders[: len(prompt_ids)])) == len(set(borders[len(prompt_ids):])) == 1
    assert borders[0] != borders[-1]


def test_sampling_page_in_chinese_keeps_english_values_in_the_link():
    """Issue 18: translated header, labels and strategy names; the URL keeps the English value."""
    at = AppTest.from_file(APP, default_timeout=240)
    at.session_state["prompt"] = PROMPT
    at.query_params["lang"] = "zh"
    at.switch_page("views/sampling.py")
    at.run()
    assert not at.exception
    assert at.title[0].value == "🎲 采样：选出下一个词元"
    strategy = at.radio(key="sampling_strategy")
    assert strategy.value == "Top-p (nucleus)" and "Top-p（核采样）" in strategy.options
    strategy.set_value("Top-k").run()
    assert not at.exception and at.radio(key="sampling_strategy").value == "Top-k"  # the value the URL keeps
    assert any(m.label == "保留的候选词元" and m.value == "10 / 49,152" for m in at.metric)
    assert any(e.label == "以表格显示" for e in at.expander)
    assert any(c.value.startswith("采样，T = 1, top-k = 10：49,152 个词元中有 10 个通过过滤") for c in at.caption)


def test_guess_the_strategy_hides_everything_until_reveal_and_checks_the_pick(lm):
    """Issue 17: a text from a hidden strategy of the live comparison; the pick is checked against the
    strategies that really wrote it; the columns appear only after Reveal; a new prompt clears the pick."""
    prompt = "The best thing about rain is"
    at = AppTest.from_file(APP, default_timeout=240)
    at.session_state["prompt"] = prompt
    at.query_params["sampling_game"] = "true"
    at.switch_page("views/sampling.py")
    at.run()
    assert at.toggle(key="sampling_game").value
    at.button(key="sampling_compare_run").click().run()
    assert not at.exception
    codes = compare_codes(at)
    assert len(codes) == 1, "only the mystery text may be shown before Reveal"
    mystery = codes[0]
    assert not any("different texts out of" in c.value or "No randomness" in c.value for c in at.caption)
    pick = at.radio(key="sampling_pick")
    assert pick.value is None and at.button(key="sampling_reveal").disabled
    # The writers, computed independently: each compared strategy's own three continuations.
    ids = tokens.encode(lm, prompt)
    compared = {"Greedy": SamplingSettings(strategy="greedy"), "Top-k (k = 10)": SamplingSettings(top_k=10),
                "Top-p (p = 0.9)": SamplingSettings(top_p=0.9),
                "High temperature (T = 1.6)": SamplingSettings(temperature=1.6)}
    writers = [name for name, settings in compared.items()
               if mystery in generation.sample_continuations(lm, ids, settings, 3, 15, 42).texts]
    assert writers
    wrong = next(name for name in compared if name not in writers)
    pick.set_value(wrong).run()
    assert len(compare_codes(at)) == 1 and not at.error  # picked, not yet revealed: still hidden
    at.button(key="sampling_reveal").click().run()
    assert not at.exception
    assert at.error and f"not {wrong}" in at.error[0].value and writers[0] in at.error[0].value
    assert len(compare_codes(at)) == 1 + 10  # revealed: the four columns (greedy once, 3 × 3 samples)
    at.radio(key="sampling_pick").set_value(writers[0]).run()
    assert len(compare_codes(at)) == 1 and not at.success  # a new pick hides the answer again
    at.button(key="sampling_reveal").click().run()
    assert at.success and writers[0] in at.success[0].value
    # A new prompt clears the pick: nothing revealed, nothing picked.
    at.session_state["prompt"] = "The worst thing about rain is"
    at.run()
    assert not at.success and not at.error and len(compare_codes(at)) == 0
    at.session_state["prompt"] = prompt  # back to the first prompt: its texts are stored, the pick is gone
    at.run()
    assert at.radio(key="sampling_pick").value is None and len(compare_codes(at)) == 1 and not at.success
