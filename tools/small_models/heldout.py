"""Held-out measurements of the two small models over the WHOLE held-out text (offline only).

Every id of the held-out stream (each word or punctuation mark of the held-out stories, and each
story's end marker) is predicted once from exactly k ids before it, for each k in CONTEXTS (1, 2, 4 … 64).
The stream is read as a circle, so even its first ids have k ids before them (the end of the
last held-out story). Both models start fresh on every context, so "k words of context" means
the same for both. The probe picks out the repeated names (and places, objects) among the
same predictions. `python -m tools.small_models evaluate` writes the result into metrics.json;
the app only reads that file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from explain.small_models.checkpoints import BLOCK
from tools.small_models import corpus
from explain.small_models.vocab import WordVocab, split_words

CONTEXTS = (1, 2, 4, 8, 16, 32, BLOCK)  # the context lengths of the loss-vs-context curve
DISTANCE_BUCKETS = ((1, 4), (5, 8), (9, 16), (17, 32), (33, BLOCK))
HELDOUT_EVERY = 8  # every 8th story is held out


def _last_words(phrases: tuple[str, ...]) -> set[str]:
    return {p.split()[-1].lower() for p in phrases}


# The words the story prompts asked for (corpus.py): names, and the noun of each place and object
# ("the park" → park). Nouns that also name a character ("a shy bear") are left out of objects.
PROBE_GROUPS: dict[str, tuple[str, ...]] = {
    "names": tuple(sorted(n.lower() for n in corpus.NAMES)),
    "places": tuple(sorted(_last_words(corpus.PLACES))),
    "objects": tuple(sorted(_last_words(corpus.OBJECTS) - _last_words(corpus.CHARACTERS))),
}


def split_stories(stories: list[str]) -> tuple[list[str], list[str]]:
    """(train, held-out): every HELDOUT_EVERY-th story is held out."""
    held = [s for i, s in enumerate(stories) if i % HELDOUT_EVERY == HELDOUT_EVERY - 1]
    train = [s for i, s in enumerate(stories) if i % HELDOUT_EVERY != HELDOUT_EVERY - 1]
    return train, held


def stream_ids(vocab: WordVocab, stories: list[str]) -> np.ndarray:
    """All stories as one id stream, each preceded by <eos> (the start-of-story marker)."""
    ids: list[int] = []
    for s in stories:
        ids.append(vocab.eos_id)
        ids.extend(vocab.encode_words(split_words(s)))
    return np.asarray(ids, dtype=np.int64)


@dataclass(frozen=True)
class HeldOutText:
    ids: np.ndarray  # (N,) the held-out stream: per story, <eos> then its words
    story: np.ndarray  # (N,) the story each id belongs to as a target; an <eos> ends the previous one


def held_out_text(vocab: WordVocab, stories: list[str] | None = None) -> HeldOutText:
    """The held-out stories (every 8th of the corpus) as one stream, with each id's story."""
    stories = corpus.load_stories() if stories is None else stories
    held = split_stories(stories)[1]
    ids = stream_ids(vocab, held)
    is_eos = ids == vocab.eos_id
    story = np.cumsum(is_eos) - 1  # words belong to the story their <eos> opened …
    story[is_eos] = (story[is_eos] - 1) % len(held)  # … and an <eos> ends the one before it
    return HeldOutText(ids, story)


@torch.inference_mode()
def context_losses(model, ids: np.ndarray, contexts: tuple[int, ...] = CONTEXTS,
                   batch: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """(len(contexts), N) cross-entropy (nats) and top-1 hit of every id of the circular stream
    `ids`; row r = each id predicted from exactly the contexts[r] ids before it.

    One pass over N + block − 1 windows of block = max(contexts) input ids, one id apart: the
    window starting at s, read up to its position k − 1, predicts ring position s + k − block
    from k ids. Only those positions go through the output layer.
    """
    model.eval()
    n, block = len(ids), max(contexts)
    ring = np.concatenate([ids[-block:], ids, ids[:block]])  # (N + 2·block,)
    windows = np.lib.stride_tricks.sliding_window_view(ring, block + 1)[: n + block - 1]
    pos = torch.tensor(contexts) - 1  # (K,) the positions that predict with k ids of context
    losses = np.empty((len(windows), len(contexts)), dtype=np.float32)
    hits = np.empty((len(windows), len(contexts)), dtype=bool)
    for s in range(0, len(windows), batch):
        w = torch.from_numpy(np.ascontiguousarray(windows[s : s + batch]))
        logits = model.lm_head(model.features(w[:, :-1])[0][:, pos]).float()  # (b, K, V)
        y = w[:, pos + 1]  # (b, K)
        ce = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), reduction="none")
        losses[s : s + batch] = ce.view(y.shape).numpy()
        hits[s : s + batch] = (logits.argmax(-1) == y).numpy()
    k = np.asarray(contexts)[:, None]  # (K, 1)
    start = np.arange(n)[None, :] + block - k  # (K, N): the window that gives id i k ids
    col = np.arange(len(contexts))[:, None]
    return losses[start, col], hits[start, col]


@dataclass(frozen=True)
class ProbeTarget:
    index: int  # position of the repeated word in the held-out stream
    distance: int  # how many ids back the same word last occurred, in the same story
    group: str  # "names", "places" or "objects"


def probe_targets(vocab: WordVocab, text: HeldOutText, limit: int | None = BLOCK,
                  ) -> list[ProbeTarget]:
    """Every repeat of a probe word: the same word occurred earlier in the same story, its
    latest earlier occurrence `distance` ids back. `limit`: keep only distance ≤ limit (the
    earlier occurrence is inside a `limit`-id context); None keeps all."""
    group_of = {vocab.encode_words([w])[0]: g for g, words in PROBE_GROUPS.items() for w in words}
    group_of.pop(vocab.unk_id, None)
    found, last = [], {}
    for i, tok in enumerate(text.ids.tolist()):
        if tok == vocab.eos_id:
            last = {}  # a new story: earlier mentions don't count
        elif tok in group_of:
            if tok in last and (limit is None or i - last[tok] <= limit):
                found.append(ProbeTarget(i, i - last[tok], group_of[tok]))
            last[tok] = i
    return found


def probe_summary(losses: np.ndarray, hits: np.ndarray, targets: list[ProbeTarget]) -> dict:
    """Per group and distance bucket: count, top-1 accuracy, mean probability of the right word.

    losses, hits: (N,) of one context length (the longest, so every earlier mention is visible).
    """
    out = {}
    for group in PROBE_GROUPS:
        rows = {"bucket": [], "n": [], "accuracy": [], "mean_prob": []}
        for lo, hi in DISTANCE_BUCKETS:
            idx = [t.index for t in targets if t.group == group and lo <= t.distance <= hi]
            rows["bucket"].append(f"{lo}–{hi}")
            rows["n"].append(len(idx))
            rows["accuracy"].append(round(float(hits[idx].mean()), 4) if idx else None)
            rows["mean_prob"].append(round(float(np.exp(-losses[idx]).mean()), 4) if idx else None)
        out[group] = rows
    return out


def evaluate(models: dict, vocab: WordVocab, stories: list[str] | None = None) -> dict:
    """Everything the page reports about the held-out text, per model, plus what it covers."""
    text = held_out_text(vocab, stories)
    targets = probe_targets(vocab, text)
    n_stories = int(text.story.max()) + 1
    is_eos = text.ids == vocab.eos_id
    out = {
        "coverage": {
            "targets": int(len(text.ids)), "stories": n_stories,
            "words": int((~is_eos).sum()), "story_ends": int(is_eos.sum()),
            "unknown": int((text.ids == vocab.unk_id).sum()), "context": BLOCK,
            "story_targets": np.bincount(text.story, minlength=n_stories).tolist(),
            "probe_words": {g: list(w) for g, w in PROBE_GROUPS.items()},
            "probe_repeats_beyond_context": {
                g: sum(t.group == g and t.distance > BLOCK
                       for t in probe_targets(vocab, text, limit=None)) for g in PROBE_GROUPS},
        },
    }
    for kind, model in models.items():
        losses, hits = context_losses(model, text.ids)
        longest, hit = losses[-1].astype(np.float64), hits[-1]
        out[kind] = {
            "heldout_loss": round(float(longest.mean()), 4),
            "heldout_perplexity": round(float(np.exp(longest.mean())), 2),
            "heldout_accuracy": round(float(hit.mean()), 4),
            "context_curve": {
                "context": list(CONTEXTS),
                "loss": [round(float(r.astype(np.float64).mean()), 4) for r in losses],
                "accuracy": [round(float(r.mean()), 4) for r in hits],
            },
            "story_loss_sum": np.round(np.bincount(text.story, longest, n_stories), 3).tolist(),
            "story_hits": np.bincount(text.story, hit, n_stories).astype(int).tolist(),
            "distance_probe": probe_summary(losses[-1], hit, targets),
        }
    return out
