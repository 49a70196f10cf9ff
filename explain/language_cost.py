"""What a language costs a tokenizer: tokens for the same sentences in English and in another language.

A tokenizer learned from mostly English text has long pieces for English words and short ones
(down to single bytes) for other scripts, so the same meaning takes more tokens: less of the
context window, more steps to write, and pieces that carry less meaning each.
"""

from __future__ import annotations

from dataclasses import dataclass

from explain.engine.models import LoadedModel
from explain.tokenizer_compare import sentence_costs

# The same three short sentences in each language the site speaks (translated by meaning).
PARALLEL_SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "The cat sleeps on the sofa because it is warm.",
        "After school, my friends and I went to the park.",
        "The capital of France is Paris.",
    ),
    "es": (
        "El gato duerme en el sofá porque hace calor.",
        "Después de clase, mis amigos y yo fuimos al parque.",
        "La capital de Francia es París.",
    ),
    "fr": (
        "Le chat dort sur le canapé parce qu'il fait chaud.",
        "Après l'école, mes amis et moi sommes allés au parc.",
        "La capitale de la France est Paris.",
    ),
    "zh": (
        "猫睡在沙发上，因为那里很暖和。",
        "放学后，我和朋友们去了公园。",
        "法国的首都是巴黎。",
    ),
}
REFERENCE = "en"


@dataclass(frozen=True)
class LanguageCost:
    lang: str
    n_tokens: int  # tokens for PARALLEL_SENTENCES[lang], all sentences together
    n_reference_tokens: int  # tokens for the same sentences in English

    @property
    def ratio(self) -> float:
        """How many times as many tokens as English the same sentences take."""
        return self.n_tokens / self.n_reference_tokens


def language_cost(lm: LoadedModel, lang: str) -> LanguageCost:
    """Token counts of the parallel sentences in `lang` and in English, with `lm`'s tokenizer."""
    if lang not in PARALLEL_SENTENCES:
        raise ValueError(f"no parallel sentences for {lang!r}; add them to PARALLEL_SENTENCES ({', '.join(PARALLEL_SENTENCES)})")

    pairs = [sentence_costs(lm, {"reference": english, "other": other})  # counted as the Tokenization page does
             for english, other in zip(PARALLEL_SENTENCES[REFERENCE], PARALLEL_SENTENCES[lang])]
    return LanguageCost(lang, sum(other.n_tokens for _, other in pairs), sum(english.n_tokens for english, _ in pairs))
