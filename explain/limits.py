"""Every limit the site sets, in one place, with the reason beside each number.

explain/ and ui/ import these names (plain ints, no imports here, so any module may); a page that
tells the learner about a limit formats the constant instead of typing the number. A bound on one
lesson's own input (the BPE replay's word length, the embeddings page's word list) stays beside
that lesson's code; the batch limits of the inference worker stay in explain/engine/inference_queue.

The memory budget behind the cache sizes (issue 15): ≤ 1.5 GB RSS after every page has been
visited, and < 200 MB growth for a class of 30 (GROWTH_ALLOWANCE_MB). The model itself is most of
the 1.5 GB (SmolLM2-135M in fp32: 135 M parameters × 4 B ≈ 540 MB). Of the 200 MB, the analyses get
112 MB (explain/cache_budget.py measures one) and the figures every session shares 16 MB (ui/drawn.py); every other cache has an MB budget beside its entry
count, which its measured worst entry × its count stays within (see "Caches" below; tested).
"""

# ---------------------------------------------------------------------------------------------
# The prompt

PROMPT_MAX_CHARS = 4_000  # the sidebar box refuses more: ~1,000 tokens of English, 4× the token cap
PROMPT_CHAR_CAP = 20_000  # a URL can carry more than the box: text beyond this is not even tokenized
# Longer prompts are cut here (and the page says so). The shared forward at the cap keeps
# 30 layers × 9 heads × 256² attention weights: 89 MB an analysis (cache_budget.worst_case_bytes),
# already 79 % of the analyses' 112 MB; the attention memory grows with the square of the length.
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
#
# Every cache has an MB budget beside its entry count, and tests/test_cache_budget.py holds each to
# it: it builds the cache's worst entry (a prompt at PROMPT_TOKEN_CAP, in English and in Chinese with
# emoji; the longest word, corpus, view… a visitor can send), measures what the cache keeps (the
# pickled bytes, for st.cache_data) and checks entries × that ≤ budget. A cache whose worst entry is
# large is bounded by its bytes instead (`max_size=` on its decorator: Streamlit evicts the least
# recently used entries to stay within it), so short prompts still get many entries; the test then
# checks the decorator uses the budget and that one worst entry fits. Sizes in the comments are
# those measured worst entries (2026-12-02). The budgets, ANALYSIS_CACHE_MB included, sum to at most
# GROWTH_ALLOWANCE_MB (tested); the rest of it is the sessions' own state. A forward's working memory
# is not in it: its blocks are above the 1 MB mmap threshold (ui/startup._tune_malloc), so they go
# back to the system when freed.

GROWTH_ALLOWANCE_MB = 200  # what a class of 30 may add to the server's memory (issue 15)
ANALYSIS_CACHE_MB = 112  # the shared forwards, evicted by bytes (reasoning: explain/cache_budget.py)
# Loaded models and what is built once per model (below: the embedding index, the position scheme,
# the encoder's weights) are not in the allowance: they are in the ≤ 1.5 GB after every page.
# Finished figures and tables every session of a page shares (ui/drawn.py), by their JSON / Arrow bytes.
DRAWN_CACHE_MB = 16
MODEL_CACHE_ENTRIES = 2  # loaded models: the embedded SmolLM2 (≈ 540 MB) and one hub model at most
PROMPT_TOKENS_CACHE_ENTRIES = 256  # prompt → tokens, 14.3 KB at the cap: 3.6 MB
PROMPT_TOKENS_CACHE_MB = 4
CONTINUATION_CACHE_ENTRIES = 256  # greedy continuations (8 tokens) with their prompt's ids, 1.5 KB: 0.4 MB
CONTINUATION_CACHE_MB = 0.5
# ui.results (finished generations a page can peek at), key and value: 5.7 KB for the largest kind
# (a beam search of 4 × 6, ten sampled steps, 3 × 15 samples, Home's 20-token continuation).
RESULT_STORE_ENTRIES = 256  # 1.4 MB
RESULT_STORE_MB = 2
# Tokenizer cost per language (the sidebar's language note): three sentences' counts, 109 B each;
# one entry per (model, language), so 32 covers two models in every language with room to spare.
LANGUAGE_COST_CACHE_ENTRIES = 32
LANGUAGE_COST_CACHE_MB = 0.01
# bertviz documents (ui/attention.py), by bytes: at the view cap a model view is 1.7 MB and a head
# view 0.56 MB (a 10-token prompt's are a tenth of that), and every browser in the class downloads them.
MODEL_VIEW_CACHE_ENTRIES = 16
MODEL_VIEW_CACHE_MB = 4
HEAD_VIEW_CACHE_ENTRIES = 32
HEAD_VIEW_CACHE_MB = 4

# ---------------------------------------------------------------------------------------------
# The pages' own caches (ui/<page>.py, views/hallucinations.py)

# Home/Sampling: the in-context-learning box's two label probabilities, 34 B each.
LABEL_PROBS_CACHE_ENTRIES = 64
LABEL_PROBS_CACHE_MB = 0.01

# Embeddings
EMBEDDING_INDEX_CACHE_ENTRIES = 2  # per model: a view of its matrix plus 49,152 row norms (0.2 MB)
WORD_VECTOR_CACHE_ENTRIES = 512  # 576 floats and the pieces of a 60-character word: 8.6 KB, so 4.3 MB
WORD_VECTOR_CACHE_MB = 5
COMMON_WORDS_CACHE_ENTRIES = 4  # the map's 300 background tokens, 14.4 KB each
COMMON_WORDS_CACHE_MB = 0.1
LOCATE_WORD_CACHE_ENTRIES = 64  # one 400-character sentence's pieces and positions, 5.3 KB: 0.3 MB
LOCATE_WORD_CACHE_MB = 0.5
POSITION_SCHEME_CACHE_ENTRIES = 4  # per model: rotary, a few numbers; GPT-2's learned table 1,024 × 768, 3 MB
SINUSOIDS_CACHE_ENTRIES = 16  # by bytes: 200 positions × 576 dimensions in float64 are 0.9 MB
SINUSOIDS_CACHE_MB = 2

# Inside a layer
RESIDUAL_TRACE_CACHE_ENTRIES = 16  # what each of 30 blocks writes, with the norms at the cap: 0.31 MB, so 5 MB
RESIDUAL_TRACE_CACHE_MB = 5.5
STREAM_READOUT_CACHE_ENTRIES = 32  # the top 3 tokens read at each layer, 10.7 KB each
STREAM_READOUT_CACHE_MB = 0.5
ROPE_DEMO_CACHE_ENTRIES = 64  # 21 shifts of one query/key pair, 1.8 KB each
ROPE_DEMO_CACHE_MB = 0.2
ENCODER_MODEL_CACHE_ENTRIES = 1  # the encoder demo's MiniLM (≈ 90 MB of weights): one copy
# By bytes: 6 layers × 12 heads × 48² weights at ENCODER_TOKEN_CAP are 0.63 MB an entry.
ENCODER_ATTENTION_CACHE_ENTRIES = 64
ENCODER_ATTENTION_CACHE_MB = 2
# By bytes: attention while writing, 24 steps × 30 layers × 9 heads × (256 + 23) × 4 B = 6.9 MB at
# the token cap (a short prompt's entry is a few hundred KB), so at least one fits.
WRITING_ATTENTION_CACHE_ENTRIES = 8
WRITING_ATTENTION_CACHE_MB = 8

# Attention (besides the bertviz documents above)
HEAD_STATISTICS_CACHE_ENTRIES = 64  # a few numbers per head, 270 heads: 9.5 KB each
HEAD_STATISTICS_CACHE_MB = 1
ATTENTION_SCORES_CACHE_ENTRIES = 32  # one layer's 9 heads × 48² scores × 4 B = 81 KB each, so 2.5 MB
ATTENTION_SCORES_CACHE_MB = 3

# Softmax
LOGIT_LENS_CACHE_ENTRIES = 64  # the top 3 tokens at each of 31 layers, 5.2 KB each
LOGIT_LENS_CACHE_MB = 0.5
POSITION_PREDICTIONS_CACHE_ENTRIES = 64  # a few values per prompt position: 32 KB at the cap, so 2 MB
POSITION_PREDICTIONS_CACHE_MB = 2.5
# By bytes: a typed word's (k, 49,152) logits, 197 KB a token, up to WORD_TOKEN_CAP = 16 tokens
# (3.0 MB); a one-token word's entry is 0.2 MB.
CHAIN_LOGITS_CACHE_ENTRIES = 16
CHAIN_LOGITS_CACHE_MB = 4

# Tokenization
PROMPT_SPANS_CACHE_ENTRIES = 64  # one span per token: 16 KB at the cap, so 1 MB
PROMPT_SPANS_CACHE_MB = 1.5
TOKENIZER_COMPARISON_CACHE_ENTRIES = 64  # the tokenizers' pieces of one prompt at the cap: 11.5 KB
TOKENIZER_COMPARISON_CACHE_MB = 1
SAMPLE_COUNTS_CACHE_ENTRIES = 4  # one entry per model: counts of five fixed texts, 0.8 KB
SAMPLE_COUNTS_CACHE_MB = 0.01
SENTENCE_COSTS_CACHE_ENTRIES = 4  # one entry per model: counts of the parallel sentences, 0.7 KB
SENTENCE_COSTS_CACHE_MB = 0.01
BPE_REPLAY_CACHE_ENTRIES = 128  # one 64-character word's merges, step by step: 10.8 KB each
BPE_REPLAY_CACHE_MB = 2
TRAINED_BPE_CACHE_ENTRIES = 64  # a tokenizer trained on a MAX_CORPUS_CHARS corpus, its JSON: 14.5 KB
TRAINED_BPE_CACHE_MB = 1.5
TRAINED_TOKENIZE_CACHE_ENTRIES = 128  # the pieces of a MAX_CORPUS_CHARS text: 13 KB each
TRAINED_TOKENIZE_CACHE_MB = 2

# RNN vs Transformer (the two small word models: vocabularies of a few thousand words, prompts of
# at most their context)
SMALL_NEXT_WORDS_CACHE_ENTRIES = 64  # a top-k table, 34 KB each, so 2.1 MB
SMALL_NEXT_WORDS_CACHE_MB = 2.5
SMALL_CONTINUATION_CACHE_ENTRIES = 128  # 15 words (ui.rnn_vs_transformer.CONTINUATION_WORDS), 121 B each
SMALL_CONTINUATION_CACHE_MB = 0.05
SMALL_RNN_TRACE_CACHE_ENTRIES = 64  # the LSTM's hidden state at each word: 20 KB each, so 1.3 MB
SMALL_RNN_TRACE_CACHE_MB = 2
SMALL_ATTENTION_CACHE_ENTRIES = 16  # the small transformer's attention over a full context: 128 KB each
SMALL_ATTENTION_CACHE_MB = 2.5
SMALL_OCCLUSION_CACHE_ENTRIES = 128  # one probability per left-out word, 0.7 KB each
SMALL_OCCLUSION_CACHE_MB = 0.2

# Why it makes things up
REROLL_CACHE_ENTRIES = 64  # ten seeded re-rolls of a short answer, 1 KB each
REROLL_CACHE_MB = 0.1
TEMPERATURE_SWEEP_CACHE_ENTRIES = 16  # a handful of (temperature, perplexity, example) points, 0.7 KB each
TEMPERATURE_SWEEP_CACHE_MB = 0.02
