"""A/B: one batched forward of B prompts × T tokens vs B separate forwards, interleaved in one process.

Usage: python tools/batch_forward_ab.py B T [ROUNDS]. Prints the medians and batched/separate ratio.
Same outputs as explain.engine.analysis (eager, attentions + hidden states, last-position logits).
"""
import statistics, sys, time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from explain.engine.models import load_model, set_torch_threads
set_torch_threads()
lm = load_model()
B, T = int(sys.argv[1]), int(sys.argv[2])
ids = [[(17 * b + 3 * t) % 40000 + 100 for t in range(T)] for b in range(B)]
def separate():
    for row in ids:
        lm.model(torch.tensor([row]), output_attentions=True, output_hidden_states=True, logits_to_keep=1, use_cache=False)
def batched():
    x = torch.tensor(ids)
    lm.model(x, attention_mask=torch.ones_like(x), output_attentions=True, output_hidden_states=True,
             logits_to_keep=1, use_cache=False)
sep, bat = [], []
with torch.inference_mode():
    batched(); separate()
    for _ in range(int(sys.argv[3]) if len(sys.argv) > 3 else 5):
        t = time.perf_counter(); separate(); sep.append(time.perf_counter() - t)
        t = time.perf_counter(); batched(); bat.append(time.perf_counter() - t)
s, b = statistics.median(sep), statistics.median(bat)
print(f"B={B} T={T} separate med {s*1000:.0f} ms  batched med {b*1000:.0f} ms  ratio batched/separate {b/s:.2f}  sep={[round(x*1000) for x in sep]} bat={[round(x*1000) for x in bat]}", flush=True)
