"""How many torch threads hold up on a shared CPU: 20-token greedy decoding, idle vs contended.

A free Space's vCPUs are shared: two threads that wait for each other collapse when another job
takes a core away. This runs the site's greedy path in a fresh process per setting (thread count
and OpenMP wait policy, which OpenMP reads once at start), each with and without one busy process
beside it, interleaved so drift hits every setting alike, and prints one JSON object of medians.

    .venv/bin/python tools/thread_contention.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {  # name: extra environment for the measured process
    "threads1": {"LLM_EXPLAINER_THREADS": "1"},
    "threads2": {"LLM_EXPLAINER_THREADS": "2"},
    "threads2_passive": {"LLM_EXPLAINER_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"},
}
_MEASURE = """
import time, torch
from explain import generation, tokens
from explain.engine import models
models.set_torch_threads()
lm = models.load_model()
ids = tokens.encode(lm, "The capital of France is")
generation.greedy_ids(lm, ids, 4)  # warm-up
times = []
for _ in range(3):
    start = time.perf_counter(); generation.greedy_ids(lm, ids, 20); times.append(time.perf_counter() - start)
print(min(times))
"""
_BUSY = "import time\nend = time.time() + 600\nwhile time.time() < end: pass"


def measure(env_extra: dict, contended: bool) -> float:
    busy = subprocess.Popen([sys.executable, "-c", _BUSY]) if contended else None
    try:
        out = subprocess.run(
            [sys.executable, "-c", _MEASURE], capture_output=True, text=True, check=True,
            cwd=ROOT, env=os.environ | env_extra, timeout=900,
        ).stdout
    finally:
        if busy:
            busy.kill()
            busy.wait()
    return float(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for name, env in SETTINGS.items():
            for contended in (False, True):
                key = f"greedy20_{name}_{'contended' if contended else 'idle'}_s"
                runs.setdefault(key, []).append(measure(env, contended))
                print(key, round(runs[key][-1], 3), file=sys.stderr, flush=True)  # progress on a slow machine
    print(json.dumps({key: round(statistics.median(values), 3) for key, values in runs.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
