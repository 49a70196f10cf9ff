"""Two small word-level language models, same data and same size: an LSTM and a transformer.

The "RNN vs Transformer" page compares them side by side. `corpus` generates the training text
with the embedded SmolLM2 (TinyStories-style), `vocab` is the shared word tokenizer, `rnn` and
`gpt` are the two models, `train` trains both and writes checkpoints + metrics into `data/`,
`heldout` measures them on the whole held-out text (offline), and `compare` holds what the page
computes live (next-word tables, hidden-state strips, attention, occlusion, memory, step counts).
"""
