"""Every limit the site sets, in one place, with the reason beside each number.

explain/ and ui/ import these names (plain ints, no imports here, so any module may); a page that
tells the learner about a limit formats the constant instead of typing the number. A bound on one
lesson's own input (the BPE replay's word length, the embeddings page's word list) stays beside
that lesson's code; the batch limits of the inference worker stay in explain/engine/inference_queue.

The memory budget behind the cache sizes (issue 15): ≤ 1.5 GB RSS after every page has been
visited, and < 200 MB growth for a class of 30. The model itself is most of the 1.5 GB
(SmolLM2-135M in fp32: 135 M parameters × 4 B ≈ 540 MB, its bf16 draft 260 MB more). Of the 200 MB,
the analyses get 128 MB (explain/cache_budget.py measures one); every other cache keeps an entry
count whose measured worst entry × count stays within a few MB, given beside it.
"""

# ---------------------------------------------------------------------------------------------
# The prompt

PROMPT_MAX_CHARS = 4_000  # the sidebar box refuses more: ~1,000 tokens of English, 4× the token cap
PROMPT_CHAR_CAP = 20_000  # a URL can carry more than the box: text beyond this is not even tokenized
# Longer prompts are cut here (and the page says so). The shared forward at the cap keeps
# 30 layers × 9 heads × 256² attention weights: 89 MB an analysis (cache_budget.worst_case_bytes),
# already 70 % of the analyses' 128 MB; the attention memory grows with the square of the length.
PROMPT_TOKEN_CAP = 256
WORD_TOKEN_CAP = 16  # a typed word or phrase is scored over at most this many tokens: one forward stays quick
ENCODER_TOKEN_CAP = 48  # the encoder demo's input (the same as VIEW_CAP: its heatmap shows every token)

# ---------------------------------------------------------------------------------------------
# What a picture shows

# Tokens in bertviz, the attention heatmaps and the scores view (beyond it the pictures say they
# show the first VIEW_CAP). bertviz's HTML grows with the square: measured for six layers of
# SmolLM2, the model view is 2.0 MB at 48 tokens and 6.9 MB at 96, the head view 0.6 and 1.4 MB,
# and every browser in the class downloads it.
VIEW_CAP = 48
MODEL_VIEW_LAYERS = 6  # layers per bertviz model view (the 2.0 MB above; all 30 layers would be about 10 MB)

# ---------------------------------------------------------------------------------------------
# Caches (per process, shared by every visitor)

ANALYSIS_CACHE_MB = 128  # the shared forwards, evicted by bytes (reasoning: explain/cache_budget.py)
MODEL_CACHE_ENTRIES = 2  # loaded models: the embedded SmolLM2 (≈ 540 MB) and one hub model at most
# Prompt → tokens: measured 13 KB for a prompt at the 256-token cap, so 256 entries ≤ 3.4 MB.
PROMPT_TOKENS_CACHE_ENTRIES = 256
# Greedy continuations: measured 2.4 KB for 100 new tokens, so 256 entries ≤ 0.7 MB.
CONTINUATION_CACHE_ENTRIES = 256
# ui.results (finished generations a page can peek at): measured 5.2 KB for a 100-step sampling
# trace, 4.3 KB for ten samples of up to 100 tokens, so 256 entries ≈ 1.5 MB.
RESULT_STORE_ENTRIES = 256
# Tokenizer cost per language (the sidebar's language note): three sentences' counts, < 1 KB each;
# one entry per (model, language), so 32 covers two models in every language with room to spare.
LANGUAGE_COST_CACHE_ENTRIES = 32
# bertviz documents (ui/attention.py, not yet reading these): at the view cap, measured 2.0 MB per
# model view and 0.6 MB per head view, so 16 + 32 entries hold up to 32 + 19 MB of HTML, a quarter
# of the 200 MB growth allowance beside the analyses' 128 MB: lower these before raising anything.
MODEL_VIEW_CACHE_ENTRIES = 16
HEAD_VIEW_CACHE_ENTRIES = 32
