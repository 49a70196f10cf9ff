"""The engine: the one place that knows transformers' internals and each architecture's layout.

Lesson modules (`tokens`, `attention`, `residual`, `logit_lens`, `positions`, `rope`, …) reach a
model's parts only through `family_of(model)`, so a transformers upgrade or a new model family
touches this package alone. Adding a family means adding one adapter module here (see `llama.py`
and `gpt2.py`) and registering it in `family.FAMILIES`.
"""

from explain.engine.family import BlockParts, FamilyUnknown, ModelFamily, family_of

__all__ = ["BlockParts", "FamilyUnknown", "ModelFamily", "family_of"]
