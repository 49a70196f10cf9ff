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
# Finished figures and tables every session of a page shares (ui/drawn.py), by their JSON / Arrow bytes.
DRAWN_CACHE_MB = 32
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
# bertviz documents (ui/attention.py): at the view cap, measured 2.0 MB per
# model view and 0.6 MB per head view, so 16 + 32 entries hold up to 32 + 19 MB of HTML, a quarter
# of the 200 MB growth allowance beside the analyses' 128 MB: lower these before raising anything.
MODEL_VIEW_CACHE_ENTRIES = 16
HEAD_VIEW_CACHE_ENTRIES = 32

# ---------------------------------------------------------------------------------------------
# The pages' own caches (ui/<page>.py, views/hallucinations.py). Sizes below are estimated from
# each result's shapes (float32 = 4 B; SmolLM2: 30 layers, 9 heads, d_model 576, 49,152 tokens),
# at the prompt's token cap where the prompt's length matters; most are small enough that the
# count only bounds the bookkeeping. The large ones are marked: lower them first.

# Home/Sampling: the in-context-learning box's label probabilities, a few floats, < 1 KB each.
LABEL_PROBS_CACHE_ENTRIES = 64

# Embeddings
EMBEDDING_INDEX_CACHE_ENTRIES = 2  # the model's own matrix (a view) plus 49,152 row norms: 0.2 MB each
WORD_VECTOR_CACHE_ENTRIES = 1_024  # 576 floats and a few pieces ≈ 3 KB each, so ≤ 3 MB
COMMON_WORDS_CACHE_ENTRIES = 4  # the map's 300 background tokens ≈ 30 KB each
LOCATE_WORD_CACHE_ENTRIES = 64  # one sentence's pieces and positions, < 5 KB each
POSITION_SCHEME_CACHE_ENTRIES = 4  # rotary: a few numbers; GPT-2's learned table 1,024 × 768: 3 MB each
SINUSOIDS_CACHE_ENTRIES = 16  # ≤ 200 positions × 576 dimensions in float64: ≤ 0.9 MB each, so ≤ 15 MB

# Inside a layer
RESIDUAL_TRACE_CACHE_ENTRIES = 32  # what each of 30 blocks writes for the last token: ≈ 0.2 MB each
STREAM_READOUT_CACHE_ENTRIES = 32  # the top 3 tokens read at each layer, < 10 KB each
ROPE_DEMO_CACHE_ENTRIES = 64  # 21 shifts of one query/key pair, < 20 KB each
ENCODER_MODEL_CACHE_ENTRIES = 1  # the encoder demo's MiniLM (≈ 90 MB of weights): one copy
ENCODER_ATTENTION_CACHE_ENTRIES = 64  # large: 6 layers × 12 heads × 48² × 4 B = 0.66 MB each, so ≤ 42 MB
# Large: attention while writing, 24 steps × 30 layers × 9 heads × (256 + 23) × 4 B = 7.2 MB at the
# token cap, so 8 entries ≤ 58 MB (a short prompt's entry is a few hundred KB).
WRITING_ATTENTION_CACHE_ENTRIES = 8

# Attention (besides the bertviz documents above)
HEAD_STATISTICS_CACHE_ENTRIES = 64  # a few numbers per head, 270 heads: < 20 KB each
ATTENTION_SCORES_CACHE_ENTRIES = 64  # one layer's 9 heads × 48² scores × 4 B = 83 KB each, so ≤ 5.3 MB

# Softmax
LOGIT_LENS_CACHE_ENTRIES = 64  # the top 3 tokens at each of 31 layers, < 10 KB each
POSITION_PREDICTIONS_CACHE_ENTRIES = 64  # a few values per prompt position: ≤ 256 × ~100 B ≈ 26 KB each
# Large: a typed word's (k, 49,152) logits, 197 KB a token, up to WORD_TOKEN_CAP = 16 tokens
# (3.1 MB); 16 entries ≤ 50 MB worst case, a one-token word 0.2 MB.
CHAIN_LOGITS_CACHE_ENTRIES = 16

# Tokenization
PROMPT_SPANS_CACHE_ENTRIES = 64  # one span per token: ≤ 256 × ~200 B ≈ 50 KB each
TOKENIZER_COMPARISON_CACHE_ENTRIES = 64  # six tokenizers' pieces of one prompt: ≤ 0.3 MB each, so ≤ 19 MB
SAMPLE_COUNTS_CACHE_ENTRIES = 4  # one entry per model: counts of five fixed texts, < 5 KB
SENTENCE_COSTS_CACHE_ENTRIES = 4  # one entry per model: counts of the parallel sentences, < 5 KB
BPE_REPLAY_CACHE_ENTRIES = 128  # one word's merges, step by step: < 20 KB each
TRAINED_BPE_CACHE_ENTRIES = 64  # a tokenizer trained on a ≤ MAX_CORPUS_CHARS corpus, its JSON < 100 KB
TRAINED_TOKENIZE_CACHE_ENTRIES = 128  # a list of pieces of one short text, < 10 KB each

# RNN vs Transformer (the two small word models: vocabularies of a few thousand words)
SMALL_NEXT_WORDS_CACHE_ENTRIES = 128  # a top-k table, < 5 KB each
SMALL_CONTINUATION_CACHE_ENTRIES = 128  # 15 words (ui.rnn_vs_transformer.CONTINUATION_WORDS), < 1 KB each
SMALL_RNN_TRACE_CACHE_ENTRIES = 64  # the LSTM's hidden state at each word of a short prompt: < 0.1 MB each
SMALL_ATTENTION_CACHE_ENTRIES = 64  # the small transformer's attention over a short prompt: < 0.1 MB each
SMALL_OCCLUSION_CACHE_ENTRIES = 128  # one probability per left-out word, < 5 KB each

# Why it makes things up
REROLL_CACHE_ENTRIES = 64  # ten seeded re-rolls of a short answer, < 10 KB each
TEMPERATURE_SWEEP_CACHE_ENTRIES = 16  # a handful of (temperature, probability) points, < 5 KB each
