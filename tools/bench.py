"""`python -m tools.bench [--json]`: how fast the site's own paths are, against plain transformers.

Everything is measured in one run on the default model, so ratios compare like with like:
- load_first_s: a fresh process loading from the GGUF (no converted cache), including saving it;
- load_cached_s: a fresh process loading the converted copy that run wrote;
- forward_naive_ms / forward_app_ms / forward_app_over_naive: a fixed 32-token prompt, plain fp32
  forward with `output_attentions=True` vs the app's own analysis path (through the inference
  worker), timed alternately in the same loop (medians, and the median of the per-round ratios);
- generate_naive_tok_s / generate_app_tok_s: 64 new tokens, greedy, `model.generate` vs the app's
  own loop;
- sample_naive_tok_s / sample_app_tok_s: 64 new tokens sampled (T = 1, top-p 0.9, seeded),
  `model.generate(do_sample=True)` vs the app's seeded sampler (`generation.sample_continuations`,
  one row: what the strategy comparison and the re-rolls run; it may stop at the end token, so it
  is a rate, tokens made over time taken);
- neighbours_ms: one nearest-neighbour query (top 15 by cosine over the whole vocabulary) against
  the embedding index built once, as the Embeddings page does it (median);
- attention_page_ms: the Attention page's first render of the bench prompt with the model already
  loaded (AppTest in a fresh process: the forward pass, hooked scores pass, statistics, bertviz
  HTML and every figure; the browser's own drawing is not included);
- softmax_update_ms: a temperature change on the Softmax page (softmax over the vocabulary, entropy,
  top 15 with their text) from stored logits, no model call (median);
- bench_process_rss_mb: resident memory of this bench process at the end;
- torch_threads / omp_wait_policy / contended: the settings of the run (`--contended` keeps one
  busy process spinning beside the in-process measurements, as a shared vCPU does);
- bf16_max_prob_diff / bf16_top1_agreement: what bf16 weights would change (the pages stay fp32
  because the difference is visible at the precision they display);
- with the site measurements (tools/site_bench.py, skipped by --no-site, parts chosen by --site):
  cold_start_s, first_start_s, the classroom keys of issue 19 (home_top5_s, home_continuation_s,
  next_token_ms, generate10_s, generate10_first_token_ms, strategy_comparison_s,
  strategy_comparison_first_s, beam_search_s, beam_controls_s, warm_up_s, precomputed_preset_ms,
  new_prompt_softmax_ms, attention_80_tokens_s), rss_after_all_pages_mb, the crowds
  (concurrent_*, same_link_<page>_*, different_prompts_<page>_*: 30 websocket sessions at once),
  control_change_*, forwards_per_revisit. Each key is defined in tools/site_bench.py's docstring.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ui.startup import OMP_WAIT_POLICY  # noqa: E402

os.environ.setdefault("OMP_WAIT_POLICY", OMP_WAIT_POLICY)  # as the site runs (ui.startup), before torch loads

import torch  # noqa: E402

from explain import embeddings, generation, next_token, tokens  # noqa: E402
from explain.sampling import SamplingSettings  # noqa: E402
from explain.engine import analysis, models  # noqa: E402

BENCH_PROMPT = (
    "The history of the printing press begins in the fifteenth century, when a goldsmith in Mainz "
    "combined movable metal type with an oil-based ink and a wooden screw press, so that"
)
PROMPT_TOKENS = 32
NEW_TOKENS = 64
REPEATS = 7

_LOAD_SNIPPET = """
import sys, time
from pathlib import Path
from explain.engine.models import load_embedded
start = time.perf_counter()
loaded = load_embedded(Path(sys.argv[1]))
print(time.perf_counter() - start)
"""


def _load_seconds_in_fresh_process(cache_dir: Path) -> float:
    """Time `load_embedded` in a new interpreter (imports excluded, as they are paid anyway)."""
    result = subprocess.run(
        [sys.executable, "-c", _LOAD_SNIPPET, str(cache_dir)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return float(result.stdout.strip().splitlines()[-1])


def _median_ms(function, repeats: int = REPEATS) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _paired_medians_ms(first, second, repeats: int = 15) -> tuple[float, float, float]:
    """Time `first` and `second` alternately (one warm-up each): their medians and the median ratio
    second/first of each round, so drift on a shared machine hits both alike."""
    first(), second()
    a, b = [], []
    for _ in range(repeats):
        for function, times in ((first, a), (second, b)):
            start = time.perf_counter()
            function()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(a), statistics.median(b), statistics.median(y / x for x, y in zip(a, b))


def _tokens_per_second(generate) -> float:
    """`generate` returns how many tokens it made; one warm-up call, then one timed call."""
    generate()
    start = time.perf_counter()
    n_new = generate()
    return n_new / (time.perf_counter() - start)


def _softmax_update_ms(lm, ids) -> float:
    """Median time of a temperature change on the Softmax page: stored logits → top 15, no model call."""
    logits = next_token.last_logits(lm, ids)
    temperatures = iter([0.3, 0.7, 1.3, 2.0] * 50)
    return _median_ms(lambda: next_token.distribution_from_logits(lm, logits, next(temperatures), top_n=15), repeats=21)


def _neighbours_ms(lm) -> float:
    """Median time of one neighbour query; the embedding index is built once, outside the timing."""
    index = embeddings.embedding_index(lm)
    query = embeddings.word_vector(lm, "king").vector
    return _median_ms(lambda: embeddings.nearest_neighbours(lm, index, query, k=15), repeats=21)




def _attention_page_ms() -> float:
    """First render of the Attention page for a new prompt, model cached (fresh process, AppTest)."""
    result = subprocess.run(
        [sys.executable, "tools/attention_page_ms.py", BENCH_PROMPT],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return float(result.stdout.strip().splitlines()[-1])


FIDELITY_PROMPTS = (
    "The capital of France is", "Once upon a time, there was a", "The cat sat on the mat because it was",
    "def fibonacci(n):\n    if n < 2:\n        return", "I love pizza and", "The teacher taught the students with the",
    "In 1969, the first man to walk on the moon was", "Water boils at a temperature of", "My favourite colour is",
    "The quick brown fox jumps over the", "To be or not to be, that is the", "The largest planet in our solar system is",
    "She opened the door and saw", "import numpy as np\nx = np.", "Le petit chat dort sur le", "今天天气很好，我们去",
    "The best way to learn a language is", "2 + 2 =", "He gave her a gift because she", "The stock market fell today after",
)


def _bf16_fidelity(lm) -> tuple[float, float]:
    """How much bf16 weights would change what the pages teach, on 20 fixed prompts.

    Returns (largest absolute difference among the fp32 top-20 probabilities, top-1 agreement).
    """
    import copy

    bf16_model = copy.deepcopy(lm.model).to(torch.bfloat16)
    worst, agree = 0.0, 0
    for prompt in FIDELITY_PROMPTS:
        batch = torch.tensor([tokens.encode(lm, prompt)])
        with torch.inference_mode():
            fp32 = torch.softmax(lm.model(batch, logits_to_keep=1).logits[0, -1].float(), -1)
            bf16 = torch.softmax(bf16_model(batch, logits_to_keep=1).logits[0, -1].float(), -1)
        top = fp32.topk(20).indices
        worst = max(worst, float((fp32[top] - bf16[top]).abs().max()))
        agree += int(fp32.argmax() == bf16.argmax())
    del bf16_model
    return worst, agree / len(FIDELITY_PROMPTS)


def _site_measurements(parts: list[str]) -> dict:
    """Cold start, classroom actions, memory, the crowds, forwards per revisit: tools/site_bench.py."""
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, str(root / "tools" / "site_bench.py"), *(f"--only={part}" for part in parts)],
        capture_output=True, text=True, check=True, cwd=root,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def _busy_process():
    """One process spinning on a core for as long as the block runs."""
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        busy.kill()
        busy.wait()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="llm-explainer-bench-") as cache:
        load_first_s = _load_seconds_in_fresh_process(Path(cache))
        load_cached_s = _load_seconds_in_fresh_process(Path(cache))

    models.set_torch_threads()  # as the site does at start-up (ui.startup)
    lm = models.load_model()
    ids = tokens.encode(lm, BENCH_PROMPT)[:PROMPT_TOKENS]
    assert len(ids) == PROMPT_TOKENS, "the bench prompt must be at least 32 tokens long"
    batch = torch.tensor([ids])

    def naive_forward():
        with torch.inference_mode():
            lm.model(batch, output_attentions=True)

    def app_forward():
        analysis.analyze_prompt(lm, ids)  # the one forward every page shares

    def naive_generate() -> int:
        with torch.inference_mode():
            out = lm.model.generate(
                batch, do_sample=False, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                pad_token_id=lm.tokenizer.eos_token_id,
            )
        return out.shape[1] - len(ids)

    def app_generate() -> int:
        new_ids, _, _ = generation.greedy_ids(lm, ids, NEW_TOKENS)
        return len(new_ids)

    def naive_sample() -> int:
        torch.manual_seed(0)
        with torch.inference_mode():
            out = lm.model.generate(
                batch, do_sample=True, temperature=1.0, top_p=0.9, top_k=0, max_new_tokens=NEW_TOKENS,
                min_new_tokens=NEW_TOKENS, pad_token_id=lm.tokenizer.eos_token_id,
            )
        return out.shape[1] - len(ids)

    def app_sample() -> int:
        samples = generation.sample_continuations(lm, ids, SamplingSettings(top_p=0.9), 1, NEW_TOKENS, seed=0)
        return len(samples.new_ids[0])

    naive_ms, app_ms, app_over_naive = _paired_medians_ms(naive_forward, app_forward)
    return {
        "load_first_s": round(load_first_s, 2),
        "load_cached_s": round(load_cached_s, 2),
        "forward_naive_ms": round(naive_ms, 1),
        "forward_app_ms": round(app_ms, 1),
        "forward_app_over_naive": round(app_over_naive, 3),
        "generate_naive_tok_s": round(_tokens_per_second(naive_generate), 1),
        "generate_app_tok_s": round(_tokens_per_second(app_generate), 1),
        "sample_naive_tok_s": round(_tokens_per_second(naive_sample), 1),
        "sample_app_tok_s": round(_tokens_per_second(app_sample), 1),
        "neighbours_ms": round(_neighbours_ms(lm), 2),
        "softmax_update_ms": round(_softmax_update_ms(lm, ids), 2),
        "attention_page_ms": round(_attention_page_ms(), 0),
        "bench_process_rss_mb": round(rss_mb(), 0),
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
    } | _fidelity_keys(lm)


def _fidelity_keys(lm) -> dict:
    worst, agreement = _bf16_fidelity(lm)
    return {"bf16_max_prob_diff": round(worst, 4), "bf16_top1_agreement": agreement}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-site", action="store_true", help="skip the site measurements (a server, Chromium)")
    parser.add_argument("--site", action="append", choices=["cold", "classroom", "crowd", "revisit"],
                        help="only these parts of the site measurements (repeatable; default: all)")
    parser.add_argument("--contended", action="store_true",
                        help="one busy process spins beside the measurements (a shared CPU)")
    args = parser.parse_args(argv)
    with _busy_process() if args.contended else contextlib.nullcontext():
        results = run() | {"contended": args.contended}
        if not args.no_site:
            results |= _site_measurements(args.site or [])
    if args.json:
        print(json.dumps(results))
    else:
        for key, value in results.items():
            print(f"{key:>22}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
