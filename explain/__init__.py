"""LLM Explainer's library: every number the site shows is computed here, with no UI imports.

One module per concept — `tokens`, `bpe`, `tokenizer_compare`, `embeddings`, `positions`,
`attention`, `residual`, `layer_parts`, `rope`, `encoder_decoder`, `writing_attention`,
`next_token`, `word_probability`, `logit_lens`, `sampling`, `generation`, `anatomy`,
`hallucination`, `lessons`, `exit_ticket`, `language_cost`, `snapshot`, `small_models` — on top of `engine/`, the only part that
touches transformers. Beside them: `limits` (every cap and cache size, with its reason) and
`cache_budget` (the bytes a shared forward keeps, and the byte-bounded cache of them). Functions take a `LoadedModel` (or a `PromptAnalysis`) and plain values and
return frozen dataclasses of plain data, so they can be tested against torch/transformers and used
from a notebook.
"""
