"""Two small word-level language models, same data and same size: an LSTM and a transformer.

The "RNN vs Transformer" page compares them side by side. `vocab` is the shared word tokenizer,
`rnn` and `gpt` are the two models, `checkpoints` loads what is shipped in data/small_models/,
and `compare` holds what the page computes live (next-word tables, hidden-state strips,
attention, occlusion, memory, step counts). Making the corpus, training and the held-out
measurement are offline tools: `tools/small_models/`.
"""
