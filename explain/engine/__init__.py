"""The engine: the one place that imports transformers and knows each architecture's layout.

- `models`: loading (the embedded GGUF, its converted cache, hub models) → `LoadedModel`;
- `analysis`: the one shared forward per (model, prompt), through `inference_queue` (one worker
  that batches concurrent requests);
- `fast_decode` + `two_core_matmul`: the fp32 Llama decode step behind greedy continuations;
- `decode_batch`: every visitor's greedy continuation running at the same time advances in one
  batched step (continuous batching, its rounds on the inference worker);
- `family` + one adapter per family (`llama.py`, `gpt2.py`): blocks, final norm, heads, norm
  weights, queries and keys (as projected and with positions applied), feed-forward hidden units,
  parameter groups;
- `runtime`: the few transformers helpers lesson modules need (KV cache, byte alphabet, encoder);
- `gguf_file`: the GGUF header (quantization per tensor).

Lesson modules reach a model's parts only through `family_of(model)`, so a transformers upgrade
or a new model family touches this package alone (tests/test_layout.py checks that nothing else
imports transformers, or names a family's attributes). Adding a family means one adapter module
here, listed in `family._families`.
"""

from explain.engine.family import BlockParts, FamilyUnknown, ModelFamily, family_of, norm_weights

__all__ = ["BlockParts", "FamilyUnknown", "ModelFamily", "family_of", "norm_weights"]
