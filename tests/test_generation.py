import pytest
import torch

from explain import generation, tokens


@pytest.mark.parametrize("text", ["The capital of France is", "Once upon a time", "1, 2, 3, 4,"])
def test_greedy_continuation_equals_transformers_generate(lm, full_logits, text):
    ids = tokens.tokenize_prompt(lm, text).ids
    ours = generation.greedy_continuation(lm, ids, max_new_tokens=20)
    with torch.inference_mode():
        reference = lm.model.generate(
            torch.tensor([ids]), do_sample=False, max_new_tokens=20, pad_token_id=lm.tokenizer.eos_token_id
        )[0, len(ids):].tolist()
    assert ours.new_ids == reference
    assert ours.text == lm.tokenizer.decode(reference)
    assert [p.index for p in ours.pieces] == list(range(len(ids), len(ids) + len(reference)))
    # Each step's probability is the softmax of the model's own logits at that position.
    everything = ids + ours.new_ids
    probs = torch.softmax(full_logits(everything[:-1]), dim=-1)
    for step, chosen in enumerate(ours.new_ids):
        assert ours.probs[step] == pytest.approx(probs[len(ids) - 1 + step, chosen].item(), abs=1e-4)


@pytest.mark.parametrize(
    "which, ids, n_new",
    [
        ("tiny_gpt2", [5, 17, 42, 8], 12),  # another architecture: transformers' forward per step
        ("tiny_llama", [7, 1, 8, 2, 8], 15),  # another Llama shape: through fast_decode.LlamaDecoder
    ],
)
def test_greedy_matches_generate_on_a_second_architecture(which, ids, n_new, request):
    small = request.getfixturevalue(which)
    new_ids, probs, _ = generation.greedy_ids(small, ids, max_new_tokens=n_new)
    with torch.inference_mode():
        reference = small.model.generate(
            torch.tensor([ids]), do_sample=False, max_new_tokens=n_new, eos_token_id=None, pad_token_id=0
        )[0, len(ids):].tolist()
    assert new_ids == reference
    assert all(0 < p <= 1 for p in probs)


def test_generation_stops_at_the_end_token(lm):
    eos = lm.tokenizer.eos_token_id
    # After the chat template's assistant turn ends, <|im_end|> is the likely next token.
    text = "<|im_start|>user\nSay yes.<|im_end|>\n<|im_start|>assistant\nYes"
    ids = tokens.tokenize_prompt(lm, text).ids
    result = generation.greedy_continuation(lm, ids, max_new_tokens=40)
    if result.stopped_at_end_token:
        assert result.new_ids[-1] == eos
        assert eos not in result.new_ids[:-1]
    else:
        assert eos not in result.new_ids and len(result.new_ids) == 40
