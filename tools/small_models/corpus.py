"""The training text: short simple stories written by the embedded SmolLM2 (TinyStories-style).

Eldan & Li (2023) showed that models of a few million parameters learn coherent English from
simple synthetic stories. This one-time script prompts SmolLM2-135M-Instruct through its chat
template with varied characters, places, objects and feelings, samples in batches (bf16 weights,
`explain.engine.fast_decode.LlamaBatchSampler`), and appends every batch to `data/small_models/stories.jsonl.gz` as its own gzip
member, so a stopped run keeps everything already written and a new run continues (resumable).
Cleaning and deduplication happen in `load_stories`, so they are the same for every reader.

    python -m tools.small_models.corpus --minutes 40          # append for 40 minutes
    python -m tools.small_models.corpus --target-words 500000 # or until this many words
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from explain.small_models.checkpoints import DATA_DIR

STORIES_PATH = DATA_DIR / "stories.jsonl.gz"
CORPUS_META_PATH = DATA_DIR / "corpus_meta.json"

BASE_SEED = 20261123
BATCH_SIZE = 32
MAX_NEW_TOKENS = 240
TEMPERATURE = 0.8
TOP_P = 0.95

CHARACTERS = (
    "a little girl", "a little boy", "a small dog", "a curious cat", "a brave rabbit",
    "a kind old man", "a happy grandma", "a tiny bird", "a shy bear", "a young fox",
    "a friendly frog", "a clever mouse", "a big elephant", "a silly duck", "a gentle cow",
    "a little robot", "a sleepy owl", "a playful puppy", "a wise turtle", "a busy bee",
)
NAMES = (
    "Lily", "Tom", "Mia", "Ben", "Sue", "Max", "Anna", "Sam", "Lucy", "Tim", "Emma", "Jack",
    "Zoe", "Leo", "Ella", "Finn", "Rosa", "Ollie", "Kate", "Noah", "Molly", "Pip", "Daisy", "Joe",
)
PLACES = (
    "the park", "the beach", "a forest", "a farm", "the garden", "a big city", "a small town",
    "the school", "the zoo", "a river", "a snowy hill", "the kitchen", "a library", "the sea",
    "a market", "a playground", "a cave", "a pond", "the backyard", "a train station",
)
OBJECTS = (
    "a red ball", "a shiny key", "a kite", "a teddy bear", "a blue box", "a map", "a hat",
    "a cake", "a toy car", "a flower", "a book", "a balloon", "a little boat", "a drum",
    "a basket of apples", "a lost shoe", "a magic stone", "a paper plane", "a lamp", "a cookie",
)
FEELINGS = (
    "happy", "sad", "scared", "excited", "angry", "surprised", "proud", "lonely", "curious",
    "brave", "tired", "worried", "kind", "grateful", "silly", "calm",
)
ENDINGS = (
    "a happy ending", "a lesson about sharing", "a lesson about being kind", "a surprise",
    "a new friend", "a funny ending", "a lesson about being careful", "a quiet ending",
)


@dataclass(frozen=True)
class StoryPrompt:
    """One sampled combination of story ingredients and the request sent to SmolLM2."""

    character: str
    name: str
    place: str
    obj: str
    feeling: str
    ending: str

    @property
    def request(self) -> str:
        return (
            f"Write a short story (about 150 words) for a three-year-old child. Use only simple "
            f"words. The story is about {self.character} named {self.name} at {self.place} "
            f"with {self.obj}. {self.name} feels {self.feeling}. The story has {self.ending}."
        )


def sample_prompts(rng: random.Random, n: int) -> list[StoryPrompt]:
    """n story prompts drawn with `rng` (seeded per batch, so any batch can be regenerated)."""
    return [
        StoryPrompt(
            rng.choice(CHARACTERS), rng.choice(NAMES), rng.choice(PLACES),
            rng.choice(OBJECTS), rng.choice(FEELINGS), rng.choice(ENDINGS),
        )
        for _ in range(n)
    ]


_TITLE = re.compile(r"^\s*(\*\*|#+\s*)?(title\s*:)?.{0,60}(\*\*)?\s*$", re.IGNORECASE)
_ALLOWED = re.compile(r"[^A-Za-z0-9 .,!?'\"\-:;\n]")


def clean_story(text: str) -> str | None:
    """Plain story text, or None when the sample is unusable (too short, not a story).

    Drops a leading title line and markdown, normalises quotes and whitespace, cuts an
    unfinished last sentence, and removes characters outside simple English punctuation.
    """
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    text = text.replace("\u201d", '"').replace("\u2014", " - ").replace("\u2013", " - ")
    text = text.replace("*", "").replace("#", "")
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) > 1 and len(lines[0].split()) <= 8 and not lines[0].endswith((".", "!", "?", '"')):
        lines = lines[1:]  # a title
    text = " ".join(lines)
    text = _ALLOWED.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    last_end = max(text.rfind("."), text.rfind("!"), text.rfind("?"))
    if last_end < 0:
        return None
    text = text[: last_end + 1]
    if text.endswith('."') is False and text.count('"') % 2 == 1 and text[last_end + 1 :].startswith('"'):
        text += '"'
    if len(text.split()) < 40:
        return None
    return text


def load_stories(path: Path = STORIES_PATH) -> list[str]:
    """Clean, deduplicated stories in generation order (exact duplicates and repeated openings
    of 12 words are dropped). Reads every complete gzip member; a truncated tail is ignored."""
    records: list[dict] = []
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    break
    except (EOFError, gzip.BadGzipFile, OSError):
        pass  # keep what was read before a truncated member
    stories, seen = [], set()
    for rec in records:
        text = clean_story(rec.get("text", ""))
        if text is None:
            continue
        key = " ".join(text.lower().split()[:12])
        if key in seen:
            continue
        seen.add(key)
        stories.append(text)
    return stories


def _count_batches(path: Path) -> int:
    n = 0
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                try:
                    n = max(n, json.loads(line)["batch"] + 1)
                except (json.JSONDecodeError, KeyError):
                    break
    except (FileNotFoundError, EOFError, gzip.BadGzipFile, OSError):
        pass
    return n


def write_meta(extra: dict | None = None) -> dict:
    """Recount the cleaned corpus and record the settings next to it (corpus_meta.json)."""
    stories = load_stories()
    meta = {
        "generator": "SmolLM2-135M-Instruct (embedded GGUF, dequantized, bf16 weights)",
        "prompt_template": StoryPrompt("<character>", "<name>", "<place>", "<object>",
                                       "<feeling>", "<ending>").request,
        "base_seed": BASE_SEED,
        "seed_rule": "batch b: random.Random(base_seed + b) draws the prompts, "
                     "torch.manual_seed(base_seed + b) the samples",
        "batch_size": BATCH_SIZE,
        "max_new_tokens": MAX_NEW_TOKENS,
        "temperature": TEMPERATURE,
        "top_p": TOP_P,
        "batches": _count_batches(STORIES_PATH),
        "stories_clean_dedup": len(stories),
        "words_clean_dedup": sum(len(s.split()) for s in stories),
    }
    if CORPUS_META_PATH.exists():
        old = json.loads(CORPUS_META_PATH.read_text())
        meta["generation_log"] = old.get("generation_log", [])
    else:
        meta["generation_log"] = []
    if extra:
        meta["generation_log"].append(extra)
    CORPUS_META_PATH.write_text(json.dumps(meta, indent=1))
    return meta


def generate(minutes: float, target_words: int, threads: int) -> None:
    """Append batches of stories until the time or word budget runs out (or SIGTERM/SIGINT)."""
    import torch

    from explain.engine.fast_decode import LlamaBatchSampler
    from explain.engine.models import load_embedded

    torch.set_num_threads(threads)
    stop = {"now": False}

    def _stop(signum, frame):  # finish the current batch, then stop cleanly
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    lm = load_embedded()
    model, tok = lm.model.to(torch.bfloat16), lm.tokenizer
    # transformers' generate spent ~5/6 of each step on bookkeeping (cache copies, padding masks);
    # the batch sampler keeps one preallocated cache and no padding (≈ 4× the words per minute).
    model.set_attn_implementation("sdpa")  # the prompts' own forward; no attention weights needed
    sampler = LlamaBatchSampler(model)
    stop_ids = {tok.eos_token_id, *([model.generation_config.eos_token_id] if isinstance(
        model.generation_config.eos_token_id, int) else model.generation_config.eos_token_id or [])}
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    batch = _count_batches(STORIES_PATH)
    start, words_run, first_batch = time.time(), 0, batch
    words_now = write_meta()["words_clean_dedup"]
    print(f"resuming at batch {batch}, corpus has {words_now} clean words", flush=True)
    while not stop["now"] and time.time() - start < minutes * 60 and words_now < target_words:
        prompts = sample_prompts(random.Random(BASE_SEED + batch), BATCH_SIZE)
        texts = [
            tok.apply_chat_template([{"role": "user", "content": p.request}], tokenize=False,
                                    add_generation_prompt=True)
            for p in prompts
        ]
        prompt_ids = [tok(text)["input_ids"] for text in texts]
        t0 = time.time()
        new = sampler.sample(prompt_ids, MAX_NEW_TOKENS, TEMPERATURE, TOP_P, stop_ids,
                             torch.Generator().manual_seed(BASE_SEED + batch))
        stories = tok.batch_decode(new, skip_special_tokens=True)
        with gzip.open(STORIES_PATH, "at", encoding="utf-8") as f:  # one gzip member per batch
            for p, s in zip(prompts, stories):
                f.write(json.dumps({"batch": batch, "prompt": p.request, "text": s}) + "\n")
        n_words = sum(len(s.split()) for s in stories)
        words_run += n_words
        words_now += n_words  # raw estimate; recounted cleanly at the end
        dt = time.time() - t0
        print(f"batch {batch}: {n_words} raw words in {dt:.0f} s "
              f"({60 * n_words / dt:.0f} words/min), run total {words_run}", flush=True)
        batch += 1
    meta = write_meta({"batches": [first_batch, batch], "seconds": round(time.time() - start),
                       "raw_words": words_run, "sampler": "explain.engine.fast_decode.LlamaBatchSampler", "ended_utc": time.strftime("%Y-%m-%d %H:%M:%S",
                                                                           time.gmtime())})
    print(f"stopped: {meta['stories_clean_dedup']} clean stories, "
          f"{meta['words_clean_dedup']} words", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--target-words", type=int, default=500_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--meta-only", action="store_true", help="recount and rewrite the meta")
    args = parser.parse_args(argv)
    if args.meta_only:
        print(json.dumps(write_meta(), indent=1))
    else:
        generate(args.minutes, args.target_words, args.threads)


if __name__ == "__main__":
    main()
