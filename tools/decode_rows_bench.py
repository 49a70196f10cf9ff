"""How much a decode step costs with 1, 8 and 30 rows (explain.engine.fast_decode.decode_step).

Run: `python -m tools.decode_rows_bench [rounds]`. Each round times 10 steps of each batch size in
turn (interleaved, so a busy neighbour slows all sizes alike); prints the median ms per step and
the cost of one n-row step relative to n one-row steps, as JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

ROWS = (1, 8, 30)
STEPS = 10
PROMPT = "Pupil 3 on the home page says the sky is"


def _ms_per_step(weights, prompt: list[int], rows: int) -> float:
    import torch

    from explain.engine import fast_decode

    kv = fast_decode.KVSlots(weights, rows, len(prompt) + STEPS)
    with torch.inference_mode():
        fast_decode.prefill(kv, list(range(rows)), [prompt] * rows)
    positions = torch.full((rows,), len(prompt))
    start = time.perf_counter()
    for step in range(STEPS):
        fast_decode.decode_step(kv, torch.full((rows,), 100 + step), positions + step)
    return (time.perf_counter() - start) / STEPS * 1000


def main(argv: list[str]) -> int:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the server sets it (ui.startup)
    from explain.engine import fast_decode, models

    models.set_torch_threads()
    lm = models.load_embedded()
    weights = fast_decode.LlamaWeights(lm.model)
    prompt = lm.tokenizer(PROMPT)["input_ids"]
    times: dict[int, list[float]] = {rows: [] for rows in ROWS}
    for _ in range(int(argv[0]) if argv else 5):
        for rows in ROWS:
            times[rows].append(_ms_per_step(weights, prompt, rows))
    median = {rows: statistics.median(values) for rows, values in times.items()}
    print(json.dumps({
        "ms_per_step": {rows: round(value, 1) for rows, value in median.items()},
        "vs_one_row_steps": {rows: round(value / (rows * median[1]), 3) for rows, value in median.items()},
        "load_average": os.getloadavg()[0],
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
