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
    # After the chat template's assistant turn, "Yes" is followed by "." and <|im_end|> (measured).
    text = "<|im_start|>user\nSay yes.<|im_end|>\n<|im_start|>assistant\nYes"
    ids = tokens.tokenize_prompt(lm, text).ids
    result = generation.greedy_continuation(lm, ids, max_new_tokens=40)
    with torch.inference_mode():  # transformers stops at the same token, long before the budget
        reference = lm.model.generate(torch.tensor([ids]), do_sample=False, max_new_tokens=40,
                                      pad_token_id=eos)[0, len(ids):].tolist()
    assert result.stopped_at_end_token and len(result.new_ids) < 40
    assert result.new_ids == reference and result.new_ids[-1] == eos and eos not in result.new_ids[:-1]
    # Without an end token in sight, the whole budget is used and nothing claims it stopped.
    counting = generation.greedy_continuation(lm, tokens.tokenize_prompt(lm, "1, 2, 3, 4,").ids, max_new_tokens=6)
    assert not counting.stopped_at_end_token and len(counting.new_ids) == 6 and eos not in counting.new_ids


@pytest.mark.parametrize("text", ["The capital of France is", "1, 2, 3, 4,"])
def test_greedy_stream_yields_what_greedy_ids_returns(lm, text):
    ids = tokens.tokenize_prompt(lm, text).ids
    new_ids, probs, _ = generation.greedy_ids(lm, ids, 12)
    with torch.inference_mode():
        reference = lm.model.generate(
            torch.tensor([ids]), do_sample=False, max_new_tokens=12, pad_token_id=lm.tokenizer.eos_token_id
        )[0, len(ids):].tolist()
    stream = generation.greedy_stream(lm, ids, 12)
    first = next(stream)  # one token is ready before the others are computed
    streamed = [first, *stream]
    assert [i for i, _ in streamed] == new_ids == reference
    assert [p for _, p in streamed] == probs
    # Stopping early is allowed and a fresh stream starts from the prompt again.
    assert next(generation.greedy_stream(lm, ids, 12)) == first


def test_generate_steps_stream_equals_generate_steps(lm):
    from explain.sampling import SamplingSettings

    ids = tokens.tokenize_prompt(lm, "Once upon a time").ids
    settings = SamplingSettings(temperature=0.9, top_p=0.9)
    new_ids, trace, _ = generation.generate_steps(generation.IncrementalLogits(lm), ids, settings, 8, 7, 1)
    streamed = list(generation.generate_steps_stream(generation.IncrementalLogits(lm), ids, settings, 8, 7, 1))
    assert streamed == trace and [row.piece.id for row in streamed] == new_ids
    # Same seed, same text: three steps streamed, stopped, then five more continue the same draw.
    stepper = generation.IncrementalLogits(lm)
    head = []
    for row in generation.generate_steps_stream(stepper, ids, settings, 8, 7, 1):
        head.append(row)
        if len(head) == 3:
            break
    tail = list(generation.generate_steps_stream(stepper, ids + [r.piece.id for r in head], settings, 5, 7, 4))
    assert head + tail == trace
