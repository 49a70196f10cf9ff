"""Train the LSTM and the transformer on the same words with the same budget; ship the results.

    python -m explain.small_models train                    # both models (3,000 steps each), then evaluate
    python -m explain.small_models evaluate                 # re-measure the shipped checkpoints

Same vocabulary, same training windows in the same order (one seed), same optimiser (AdamW, same
learning-rate schedule, same gradient clipping), same budget (steps × batch × context). Writes
fp16 checkpoints, the vocabulary and `metrics.json` (loss curves, held-out loss vs context
length, name-recall vs distance probe) into `data/small_models/`. The app only loads these.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from explain.small_models import corpus
from explain.small_models.gpt import GPT, GPTConfig
from explain.small_models.rnn import LSTMLM, RNNConfig
from explain.small_models.vocab import WordVocab, build_vocab, split_words

DATA_DIR = corpus.DATA_DIR
VOCAB_PATH = DATA_DIR / "vocab.json"
METRICS_PATH = DATA_DIR / "metrics.json"
CHECKPOINTS = {"lstm": DATA_DIR / "lstm.pt", "gpt": DATA_DIR / "gpt.pt"}
SEED = 1337
BLOCK = 64
CONTEXT_LENGTHS = (1, 2, 4, 8, 16, 32, 64)
DISTANCE_BUCKETS = ((1, 4), (5, 8), (9, 16), (17, 32), (33, 63))
HELDOUT_EVERY = 8  # every 8th story is held out
PROBE_WORDS = tuple(n.lower() for n in corpus.NAMES)  # characters' names


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 3000
    batch_size: int = 32
    block_size: int = BLOCK
    lr: float = 3e-3
    warmup: int = 30
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    seed: int = SEED
    eval_every: int = 50


# ---------------------------------------------------------------------------------------------
# Data


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


def eval_windows(heldout: np.ndarray, n: int = 2000, block: int = BLOCK, stride: int = 1) -> np.ndarray:
    """(≤n, block+1) held-out windows starting every `stride` words: input = w[:, :-1],
    target = w[:, 1:]. Overlapping windows let every held-out word be predicted with every
    context length from 1 to block, so the loss-vs-context curve averages over many words."""
    starts = range(0, len(heldout) - block, stride)[:n]
    return np.stack([heldout[s : s + block + 1] for s in starts])


def make_models(vocab_size: int) -> dict[str, torch.nn.Module]:
    """The two models, sized to within ±10 % of each other's parameter count.

    Small on purpose: the generated corpus is small (see corpus_meta.json), and bigger models
    would only memorise it. Same word-vector size, depth and dropout for both.
    """
    return {
        "lstm": LSTMLM(RNNConfig(vocab_size=vocab_size, n_embd=64, n_hidden=80, n_layer=2,
                                 dropout=0.2)),
        "gpt": GPT(GPTConfig(vocab_size=vocab_size, block_size=BLOCK, n_layer=2, n_head=4,
                             n_embd=64, dropout=0.2)),
    }


def logits_of(model, x: torch.Tensor) -> torch.Tensor:
    """(B, T) ids → (B, T, V) logits for either model."""
    return model(x)[0]


# ---------------------------------------------------------------------------------------------
# Training


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to a tenth: the same schedule for both models."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train_model(model, train_ids: np.ndarray, held_windows: np.ndarray, cfg: TrainConfig,
                log=print) -> dict:
    """Train in place. Batches come from a generator seeded with cfg.seed, so both models see
    exactly the same windows in the same order. Returns the loss curves."""
    torch.manual_seed(cfg.seed)
    gen = np.random.default_rng(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                            betas=(0.9, 0.99))
    curve = {"step": [], "train_loss": [], "eval_step": [], "heldout_loss": []}
    start = time.time()
    for step in range(cfg.steps):
        starts = gen.integers(0, len(train_ids) - cfg.block_size - 1, size=cfg.batch_size)
        chunk = np.stack([train_ids[s : s + cfg.block_size + 1] for s in starts])
        x, y = torch.from_numpy(chunk[:, :-1]), torch.from_numpy(chunk[:, 1:])
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        model.train()
        loss = model(x, y)[1]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        curve["step"].append(step + 1)
        curve["train_loss"].append(round(loss.item(), 4))
        if (step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps:
            held = heldout_loss(model, held_windows[::10])  # a spread-out tenth, for speed
            curve["eval_step"].append(step + 1)
            curve["heldout_loss"].append(round(held, 4))
            log(f"  step {step + 1}/{cfg.steps}: train {curve['train_loss'][-1]:.3f} "
                f"held-out {held:.3f} ({time.time() - start:.0f} s)")
    curve["seconds"] = round(time.time() - start, 1)
    return curve


# ---------------------------------------------------------------------------------------------
# Held-out measurements (all with the saved fp16-rounded weights)


@torch.inference_mode()
def per_position_losses(model, windows: np.ndarray, batch: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """(N, T) cross-entropy (nats) and top-1 correctness of every position of every window.

    Position j is predicted from exactly j+1 words of context (both models start fresh at the
    start of each window), so column j is "loss given j+1 words of context".
    """
    model.eval()
    losses, correct = [], []
    for i in range(0, len(windows), batch):
        w = torch.from_numpy(windows[i : i + batch])
        logits = logits_of(model, w[:, :-1]).float()
        losses.append(F.cross_entropy(logits.transpose(1, 2), w[:, 1:], reduction="none"))
        correct.append(logits.argmax(-1) == w[:, 1:])
    return torch.cat(losses).numpy(), torch.cat(correct).numpy()


def heldout_loss(model, windows: np.ndarray) -> float:
    return float(per_position_losses(model, windows)[0].mean())


def context_curve(losses: np.ndarray, correct: np.ndarray) -> dict:
    """Mean held-out loss and accuracy given k = 1, 2, 4 … 64 words of context."""
    return {
        "context": list(CONTEXT_LENGTHS),
        "loss": [round(float(losses[:, k - 1].mean()), 4) for k in CONTEXT_LENGTHS],
        "accuracy": [round(float(correct[:, k - 1].mean()), 4) for k in CONTEXT_LENGTHS],
    }


def probe_targets(vocab: WordVocab, windows: np.ndarray, stride: int = 1) -> list[tuple[int, int, int]]:
    """(window, position, distance) for every character name in a window that is a repeat:
    the same name occurred `distance` words earlier (its latest earlier occurrence) in the same
    window, so a model can only predict it by remembering that far back. Each held-out word
    counts once, in the first (= longest-context) window that holds it; `stride` is the
    windows' spacing in the held-out stream."""
    probe_ids = {vocab.encode_words([w])[0] for w in PROBE_WORDS} - {vocab.unk_id}
    found, seen = [], set()
    for n, w in enumerate(windows):
        last: dict[int, int] = {}
        for t, tok in enumerate(w):
            tok = int(tok)
            if tok in probe_ids:
                if tok in last and t >= 1 and n * stride + t not in seen:
                    seen.add(n * stride + t)  # overlapping windows: count each word once
                    found.append((n, t - 1, t - last[tok]))  # predicted at input position t-1
                last[tok] = t
            if tok == vocab.eos_id:
                last = {}  # a new story: earlier names don't count
    return found


@torch.inference_mode()
def distance_probe(model, vocab: WordVocab, windows: np.ndarray) -> dict:
    """Top-1 accuracy and mean probability of a repeated name vs how far back it was last seen."""
    model.eval()
    targets = probe_targets(vocab, windows)
    probs = {}
    for n in sorted({t[0] for t in targets}):
        w = torch.from_numpy(windows[n : n + 1])
        probs[n] = torch.softmax(logits_of(model, w[:, :-1]).float()[0], -1).numpy()
    rows = {"bucket": [], "n": [], "accuracy": [], "mean_prob": []}
    for lo, hi in DISTANCE_BUCKETS:
        sel = [(n, t) for n, t, d in targets if lo <= d <= hi]
        hits = [probs[n][t].argmax() == windows[n][t + 1] for n, t in sel]
        p = [probs[n][t][windows[n][t + 1]] for n, t in sel]
        rows["bucket"].append(f"{lo}–{hi}")
        rows["n"].append(len(sel))
        rows["accuracy"].append(round(float(np.mean(hits)), 4) if sel else None)
        rows["mean_prob"].append(round(float(np.mean(p)), 4) if sel else None)
    return rows


# ---------------------------------------------------------------------------------------------
# Saving and loading


def save_checkpoint(model, kind: str, path: Path) -> None:
    """fp16 weights + the config: a few MB each."""
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save({"kind": kind, "config": asdict(model.config), "state_dict": state}, path)


def load_checkpoint(path: Path):
    """A model in float32, eval mode, no gradients."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if ckpt["kind"] == "lstm":
        model = LSTMLM(RNNConfig(**ckpt["config"]))
    else:
        model = GPT(GPTConfig(**ckpt["config"]))
    model.load_state_dict({k: v.float() for k, v in ckpt["state_dict"].items()})
    model.eval()
    model.requires_grad_(False)
    return model


def held_out_windows(vocab: WordVocab, stories: list[str] | None = None) -> np.ndarray:
    """The evaluation windows the shipped metrics were measured on (deterministic)."""
    stories = corpus.load_stories() if stories is None else stories
    return eval_windows(stream_ids(vocab, split_stories(stories)[1]))


def evaluate(models: dict, vocab: WordVocab, windows: np.ndarray) -> dict:
    """Held-out loss, perplexity, accuracy, loss vs context and the distance probe per model."""
    out = {}
    for kind, model in models.items():
        losses, correct = per_position_losses(model, windows)
        out[kind] = {
            "heldout_loss": round(float(losses.mean()), 4),
            "heldout_perplexity": round(float(np.exp(losses.mean())), 2),
            "heldout_accuracy": round(float(correct.mean()), 4),
            "context_curve": context_curve(losses, correct),
            "distance_probe": distance_probe(model, vocab, windows),
        }
    return out


def run_training(cfg: TrainConfig, threads: int) -> dict:
    torch.set_num_threads(threads)
    stories = corpus.load_stories()
    train_stories, held_stories = split_stories(stories)
    vocab = build_vocab(train_stories)
    train_ids, held_ids = stream_ids(vocab, train_stories), stream_ids(vocab, held_stories)
    windows = eval_windows(held_ids)
    print(f"{len(stories)} stories, vocab {len(vocab)}, train {len(train_ids)} words, "
          f"held-out {len(held_ids)} words, {len(windows)} eval windows")
    torch.manual_seed(cfg.seed)
    models = make_models(len(vocab))
    counts = {k: m.num_params() for k, m in models.items()}
    print("parameters:", counts, f"ratio {counts['lstm'] / counts['gpt']:.3f}")
    curves = {}
    for kind, model in models.items():
        print(f"training {kind} …")
        curves[kind] = train_model(model, train_ids, windows, cfg)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    vocab.save(VOCAB_PATH)
    for kind, model in models.items():
        save_checkpoint(model, kind, CHECKPOINTS[kind])
    loaded = {k: load_checkpoint(p) for k, p in CHECKPOINTS.items()}  # measure what ships
    metrics = {
        "train_config": asdict(cfg),
        "threads": threads,
        "parameters": counts,
        "model_configs": {k: asdict(m.config) for k, m in models.items()},
        "corpus": {
            "stories": len(stories), "train_stories": len(train_stories),
            "heldout_stories": len(held_stories), "train_words": int(len(train_ids)),
            "heldout_words": int(len(held_ids)), "vocab_size": len(vocab),
            "heldout_unk_rate": round(float((held_ids == vocab.unk_id).mean()), 4),
            "eval_windows": int(len(windows)),
        },
        "curves": curves,
        "heldout": evaluate(loaded, vocab, windows),
    }
    METRICS_PATH.write_text(json.dumps(metrics, indent=1))
    for kind in models:
        h = metrics["heldout"][kind]
        print(f"{kind}: held-out loss {h['heldout_loss']}, accuracy {h['heldout_accuracy']}")
    return metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train or evaluate the two small models.")
    parser.add_argument("command", choices=["train", "evaluate", "corpus"])
    parser.add_argument("--steps", type=int, default=TrainConfig.steps)
    parser.add_argument("--batch-size", type=int, default=TrainConfig.batch_size)
    parser.add_argument("--lr", type=float, default=TrainConfig.lr)
    parser.add_argument("--threads", type=int, default=2)
    args, rest = parser.parse_known_args(argv)
    if args.command == "corpus":
        corpus.main(rest)
    elif args.command == "train":
        run_training(TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr),
                     args.threads)
    else:
        vocab = WordVocab.load(VOCAB_PATH)
        loaded = {k: load_checkpoint(p) for k, p in CHECKPOINTS.items()}
        print(json.dumps(evaluate(loaded, vocab, held_out_windows(vocab)), indent=1))


if __name__ == "__main__":
    main()
