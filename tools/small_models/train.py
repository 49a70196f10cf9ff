"""Train the LSTM and the transformer on the same words with the same budget; ship the results.

    python -m tools.small_models train                    # both models (3,000 steps each), then evaluate
    python -m tools.small_models evaluate                 # re-measure the shipped checkpoints (~30 min on 2 busy cores)

Same vocabulary, same training windows in the same order (one seed), same optimiser (AdamW, same
learning-rate schedule, same gradient clipping), same budget (steps × batch × context). Writes
fp16 checkpoints, the vocabulary and `metrics.json` (loss curves, and from `heldout.py` the
measurements on the whole held-out text: loss vs context length, the repeated-word probe) into
`data/small_models/`. `evaluate` re-measures the shipped checkpoints without retraining and
rewrites only those measurements. The app only loads these files.
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

from explain.small_models.checkpoints import BLOCK, CHECKPOINTS, DATA_DIR, METRICS_PATH, VOCAB_PATH, load_checkpoint
from explain.small_models.gpt import GPT, GPTConfig
from explain.small_models.rnn import LSTMLM, RNNConfig
from explain.small_models.vocab import WordVocab, build_vocab
from tools.small_models import corpus, heldout
from tools.small_models.heldout import split_stories, stream_ids

SEED = 1337


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


def training_sample_windows(heldout: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """The quick held-out sample the training curves were measured on every `eval_every` steps:
    200 windows of block+1 ids, starting 10 ids apart at the very start of the held-out stream
    (so they cover only its first 2,055 ids). Input = w[:, :-1], target = w[:, 1:]."""
    starts = range(0, min(2000, len(heldout) - block), 10)
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
            held = heldout_loss(model, held_windows)
            curve["eval_step"].append(step + 1)
            curve["heldout_loss"].append(round(held, 4))
            log(f"  step {step + 1}/{cfg.steps}: train {curve['train_loss'][-1]:.3f} "
                f"held-out {held:.3f} ({time.time() - start:.0f} s)")
    curve["seconds"] = round(time.time() - start, 1)
    return curve


# ---------------------------------------------------------------------------------------------
# The quick held-out loss of the training curves (the full measurement is in heldout.py)


@torch.inference_mode()
def heldout_loss(model, windows: np.ndarray, batch: int = 50) -> float:
    """Mean cross-entropy (nats) over every position of (N, T + 1) windows, each read afresh."""
    model.eval()
    total = 0.0
    for i in range(0, len(windows), batch):
        w = torch.from_numpy(windows[i : i + batch])
        logits = logits_of(model, w[:, :-1]).float()
        total += F.cross_entropy(logits.transpose(1, 2), w[:, 1:], reduction="sum").item()
    return total / windows[:, 1:].size


# ---------------------------------------------------------------------------------------------
# Saving and loading


def save_checkpoint(model, kind: str, path: Path) -> None:
    """fp16 weights + the config: a few MB each."""
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save({"kind": kind, "config": asdict(model.config), "state_dict": state}, path)


def run_training(cfg: TrainConfig, threads: int) -> dict:
    torch.set_num_threads(threads)
    stories = corpus.load_stories()
    train_stories, held_stories = split_stories(stories)
    vocab = build_vocab(train_stories)
    train_ids, held_ids = stream_ids(vocab, train_stories), stream_ids(vocab, held_stories)
    windows = training_sample_windows(held_ids)
    print(f"{len(stories)} stories, vocab {len(vocab)}, train {len(train_ids)} words, "
          f"held-out {len(held_ids)} words, {len(windows)} windows for the training curves")
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
            "curve_sample": curve_sample(windows),
        },
        "curves": curves,
        "heldout": heldout.evaluate(loaded, vocab, stories),
    }
    METRICS_PATH.write_text(json.dumps(metrics, indent=1))
    for kind in models:
        h = metrics["heldout"][kind]
        print(f"{kind}: held-out loss {h['heldout_loss']}, accuracy {h['heldout_accuracy']}")
    return metrics


def curve_sample(windows: np.ndarray) -> dict:
    """What the training curves' held-out points were measured on."""
    return {"windows": int(len(windows)), "first_ids": int(windows.shape[1] + 10 * (len(windows) - 1))}


def evaluate_shipped() -> dict:
    """Re-measure the shipped checkpoints on the whole held-out text and update metrics.json
    (the training curves, configs and parameter counts stay as they were written at training)."""
    vocab = WordVocab.load(VOCAB_PATH)
    loaded = {k: load_checkpoint(p) for k, p in CHECKPOINTS.items()}
    metrics = json.loads(METRICS_PATH.read_text())
    stories = corpus.load_stories()
    metrics["corpus"].pop("eval_windows", None)
    held_ids = stream_ids(vocab, split_stories(stories)[1])
    metrics["corpus"]["curve_sample"] = curve_sample(training_sample_windows(held_ids))
    metrics["heldout"] = heldout.evaluate(loaded, vocab, stories)
    METRICS_PATH.write_text(json.dumps(metrics, indent=1))
    for kind in CHECKPOINTS:
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
        torch.set_num_threads(args.threads)
        evaluate_shipped()


if __name__ == "__main__":
    main()
