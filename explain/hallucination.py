"""Why it makes things up: factual questions the live model answers fluently, and sometimes wrongly.

Each question is a sentence to complete ("The capital of Australia is") with its accepted answers.
The model's greedy answer is checked against them; two confidence signals are measured for it: the
probability of its first token, and self-consistency (the share of seeded re-rolls at temperature 1
that give the same answer). `calibration` then says, over the whole set, how well each signal
separates right from wrong answers. `python -m tools.hallucination` refreshes the shipped JSON.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explain import generation, tokens
from explain.engine.models import LoadedModel
from explain.sampling import SAMPLE, SamplingSettings

DATA = Path(__file__).resolve().parents[1] / "data"
QUESTIONS_FILE = DATA / "hallucination_questions.toml"
RESULTS_FILE = DATA / "hallucination_results.json"
N_REROLLS = 10
SEED = 0
MAX_NEW_TOKENS = 8
REROLL_SETTINGS = SamplingSettings(strategy=SAMPLE, temperature=1.0)
_PHRASE_END = re.compile(r"[.,;:!?\n()\"]| and | which | in the | but ")
_ARTICLES = {"the", "a", "an"}


@dataclass(frozen=True)
class Question:
    prompt: str
    answers: tuple[str, ...]  # accepted spellings of the true answer


@dataclass(frozen=True)
class AnsweredQuestion:
    prompt: str
    answers: list[str]
    greedy_text: str  # what greedy decoding wrote (up to MAX_NEW_TOKENS tokens)
    greedy_answer: str  # its first phrase
    correct: bool
    top_prob: float  # the model's probability for the first token of its greedy answer
    rerolls: list[str]  # the first phrase of each seeded re-roll
    agreement: float  # share of re-rolls whose answer matches the greedy one (self-consistency)


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    n: int
    mean_signal: float  # nan when the bin is empty
    accuracy: float  # nan when the bin is empty


@dataclass(frozen=True)
class SignalCalibration:
    signal: str  # "agreement" or "top_prob"
    brier: float  # mean (signal − correct)²: 0 is perfect
    auroc: float  # chance a right answer scores higher than a wrong one (0.5 = no better than a coin)
    ece: float  # expected calibration error over the bins
    bins: list[CalibrationBin]


@dataclass(frozen=True)
class Calibration:
    n_questions: int
    accuracy: float
    signals: list[SignalCalibration]


def load_questions(path: Path = QUESTIONS_FILE) -> list[Question]:
    """The shipped questions; raises ValueError naming the entry that lacks a prompt or answers."""
    with open(path, "rb") as handle:
        entries = tomllib.load(handle).get("questions", [])
    questions = []
    for number, entry in enumerate(entries, 1):
        prompt, answers = entry.get("prompt", ""), entry.get("answers", [])
        if not str(prompt).strip() or not answers or not all(str(a).strip() for a in answers):
            raise ValueError(f"{path.name}: question {number} needs a `prompt` and a non-empty `answers` list")
        questions.append(Question(prompt=str(prompt), answers=tuple(str(a) for a in answers)))
    return questions


def first_phrase(text: str) -> str:
    """The answer part of a continuation: up to the first punctuation, newline or joining word."""
    return _PHRASE_END.split(text, maxsplit=1)[0].strip()


def answer_key(phrase: str) -> str:
    """What two answers must share to count as the same: the first word after any article, lower-cased."""
    words = [w for w in re.findall(r"\w+", phrase.lower())]
    while words and words[0] in _ARTICLES:
        words.pop(0)
    return words[0] if words else ""


def is_correct(phrase: str, answers: tuple[str, ...] | list[str]) -> bool:
    """True when one accepted answer appears in the phrase as whole words (ignoring case)."""
    return any(re.search(rf"(?<!\w){re.escape(a.lower())}(?!\w)", phrase.lower()) for a in answers)


def answer_question(
    lm: LoadedModel, question: Question, n_rerolls: int = N_REROLLS, seed: int = SEED
) -> AnsweredQuestion:
    """Greedy answer, its first-token probability, and `n_rerolls` seeded re-rolls at temperature 1."""
    ids = tokens.encode(lm, question.prompt)
    greedy = generation.greedy_continuation(lm, ids, MAX_NEW_TOKENS)
    greedy_answer = first_phrase(greedy.text)
    rerolls = reroll(lm, ids, n_rerolls, seed).answers
    key = answer_key(greedy_answer)
    agreeing = sum(1 for r in rerolls if key and answer_key(r) == key)
    return AnsweredQuestion(
        prompt=question.prompt,
        answers=list(question.answers),
        greedy_text=greedy.text,
        greedy_answer=greedy_answer,
        correct=is_correct(greedy_answer, question.answers),
        top_prob=float(greedy.probs[0]),
        rerolls=rerolls,
        agreement=agreeing / n_rerolls,
    )


@dataclass(frozen=True)
class Rerolls:
    texts: list[str]  # each re-roll's continuation
    answers: list[str]  # its first phrase
    token_probs: list[float]  # per re-roll: the geometric mean of its tokens' probabilities (T = 1)
    groups: list[tuple[str, int]]  # answers grouped by `answer_key`, most frequent first


def reroll(lm: LoadedModel, ids: list[int], n_rerolls: int = N_REROLLS, seed: int = SEED) -> Rerolls:
    """Ask the same prompt `n_rerolls` times (seeded draws at temperature 1, no filters)."""
    samples = generation.sample_continuations(lm, ids, REROLL_SETTINGS, n_rerolls, MAX_NEW_TOKENS, seed)
    answers = [first_phrase(text) for text in samples.texts]
    return Rerolls(
        texts=samples.texts,
        answers=answers,
        token_probs=[float(np.exp(lp)) for lp in samples.mean_logprob],
        groups=most_common_answers(answers),
    )


@dataclass(frozen=True)
class TemperaturePoint:
    temperature: float
    perplexity: float  # the model's own perplexity (T = 1) of the text it wrote, averaged over samples
    distinct_2: float  # unique token pairs / all token pairs, over all samples
    example: str  # the first sample's text


def distinct_n(rows: list[list[int]], n: int = 2) -> float:
    """Share of distinct n-grams among all n-grams of the rows (1 = never repeats itself)."""
    grams = [tuple(row[i:i + n]) for row in rows for i in range(len(row) - n + 1)]
    return len(set(grams)) / len(grams) if grams else float("nan")


def temperature_sweep(
    lm: LoadedModel, ids: list[int], temperatures: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0),
    n_samples: int = 8, max_new_tokens: int = 24, seed: int = SEED,
) -> list[TemperaturePoint]:
    """For the myth "temperature = creativity": what higher temperature buys, measured.

    Perplexity is exp(−mean log-probability per token) under the model at temperature 1: how
    surprising the model itself finds the text it wrote (higher = less coherent). distinct-2
    measures variety (higher = fewer repeated pairs).
    """
    points = []
    for temperature in temperatures:
        samples = generation.sample_continuations(
            lm, ids, SamplingSettings(strategy=SAMPLE, temperature=temperature), n_samples, max_new_tokens, seed)
        points.append(TemperaturePoint(
            temperature=temperature,
            perplexity=float(np.mean(np.exp(-np.array(samples.mean_logprob)))),
            distinct_2=distinct_n(samples.new_ids, 2),
            example=samples.texts[0],
        ))
    return points


def most_common_answers(rerolls: list[str]) -> list[tuple[str, int]]:
    """Re-roll answers grouped by `answer_key`, most frequent first: (an example phrase, count)."""
    counts = Counter(answer_key(r) for r in rerolls)
    example = {}
    for r in rerolls:
        example.setdefault(answer_key(r), r)
    return [(example[key] or "(nothing)", n) for key, n in counts.most_common()]


def auroc(signal: np.ndarray, correct: np.ndarray) -> float:
    """Probability that a random right answer has a higher signal than a random wrong one (ties = ½)."""
    right, wrong = signal[correct], signal[~correct]
    if right.size == 0 or wrong.size == 0:
        return float("nan")
    greater = (right[:, None] > wrong[None, :]).sum() + 0.5 * (right[:, None] == wrong[None, :]).sum()
    return float(greater / (right.size * wrong.size))


def calibration_bins(signal: np.ndarray, correct: np.ndarray, edges: tuple[float, ...]) -> list[CalibrationBin]:
    """Group by signal into [edges[i], edges[i+1]) (the last bin includes 1.0)."""
    bins = []
    for i, (low, high) in enumerate(zip(edges[:-1], edges[1:])):
        last = i == len(edges) - 2
        inside = (signal >= low) & ((signal <= high) if last else (signal < high))
        n = int(inside.sum())
        bins.append(CalibrationBin(
            low=low, high=high, n=n,
            mean_signal=float(signal[inside].mean()) if n else float("nan"),
            accuracy=float(correct[inside].mean()) if n else float("nan"),
        ))
    return bins


def calibration(answered: list[AnsweredQuestion], edges: tuple[float, ...] = (0.0, 0.4, 0.7, 1.0)) -> Calibration:
    """Accuracy of the greedy answers, and for each signal its Brier score, AUROC, bins and ECE."""
    if not answered:
        raise ValueError("no answered questions to calibrate")
    correct = np.array([a.correct for a in answered], dtype=bool)
    signals = []
    for name in ("agreement", "top_prob"):
        signal = np.array([getattr(a, name) for a in answered], dtype=np.float64)
        bins = calibration_bins(signal, correct, edges)
        ece = sum(b.n / len(answered) * abs(b.accuracy - b.mean_signal) for b in bins if b.n)
        signals.append(SignalCalibration(
            signal=name,
            brier=float(np.mean((signal - correct) ** 2)),
            auroc=auroc(signal, correct),
            ece=float(ece),
            bins=bins,
        ))
    return Calibration(n_questions=len(answered), accuracy=float(correct.mean()), signals=signals)


def load_results(path: Path = RESULTS_FILE) -> list[AnsweredQuestion]:
    """The precomputed answers shipped with the site (written by `python -m tools.hallucination`)."""
    return [AnsweredQuestion(**entry) for entry in json.loads(path.read_text(encoding="utf-8"))["answered"]]
