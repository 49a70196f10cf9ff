"""`python -m explain.bench [--json]`: how fast the site's own paths are, against plain transformers.

Everything is measured in one run on the default model, so ratios compare like with like:
- load_first_s: a fresh process loading from the GGUF (no converted cache), including saving it;
- load_cached_s: a fresh process loading the converted copy that run wrote;
- forward_naive_ms / forward_app_ms: a fixed 32-token prompt, plain fp32 forward with
  `output_attentions=True` vs the app's own analysis path (medians);
- generate_naive_tok_s / generate_app_tok_s: 64 new tokens, greedy, `model.generate` vs the app's
  own loop;
- rss_mb: resident memory of this process at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from explain import generation, models, next_token, tokens

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
from explain.models import load_embedded
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


def _tokens_per_second(generate) -> float:
    """`generate` returns how many tokens it made; one warm-up call, then one timed call."""
    generate()
    start = time.perf_counter()
    n_new = generate()
    return n_new / (time.perf_counter() - start)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="llm-explainer-bench-") as cache:
        load_first_s = _load_seconds_in_fresh_process(Path(cache))
        load_cached_s = _load_seconds_in_fresh_process(Path(cache))

    lm = models.load_model()
    ids = tokens.encode(lm, BENCH_PROMPT)[:PROMPT_TOKENS]
    assert len(ids) == PROMPT_TOKENS, "the bench prompt must be at least 32 tokens long"
    batch = torch.tensor([ids])

    def naive_forward():
        with torch.inference_mode():
            lm.model(batch, output_attentions=True)

    def app_forward():
        next_token.last_logits(lm, ids)

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

    return {
        "load_first_s": round(load_first_s, 2),
        "load_cached_s": round(load_cached_s, 2),
        "forward_naive_ms": round(_median_ms(naive_forward), 1),
        "forward_app_ms": round(_median_ms(app_forward), 1),
        "generate_naive_tok_s": round(_tokens_per_second(naive_generate), 1),
        "generate_app_tok_s": round(_tokens_per_second(app_generate), 1),
        "rss_mb": round(rss_mb(), 0),
        "torch_threads": torch.get_num_threads(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    results = run()
    if args.json:
        print(json.dumps(results))
    else:
        for key, value in results.items():
            print(f"{key:>22}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
