"""Making the RNN vs Transformer page's two small models, offline (never imported by the site).

`corpus` writes the training stories with the embedded SmolLM2, `train` trains both models and
writes checkpoints + metrics into data/small_models/, `heldout` measures them on the whole
held-out text. `python -m tools.small_models train|evaluate|corpus …`.
"""
