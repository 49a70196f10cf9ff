"""What the RNN vs Transformer page shows, computed from the two shipped small models.

Each function takes a loaded model (or both) and word ids and returns plain data: the next-word
table, a continuation, the LSTM's hidden state at every step, the transformer's attention, the
influence of each earlier word (occlusion), what each model keeps in memory, and how many steps
of each must run one after another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explain.next_token import rank_of, softmax
from explain.small_models import checkpoints
from explain.small_models.gpt import GPT
from explain.small_models.rnn import LSTMLM
from explain.small_models.vocab import WordVocab, split_words_keep

MAX_WORDS = checkpoints.BLOCK - 1  # plus the start-of-story marker = the transformer's whole context
START = "<eos>"


class SmallModelsMissing(RuntimeError):
    """The checkpoints are not in data/small_models: say how to make them."""

    def __init__(self, missing: list[str]):
        super().__init__(f"Missing {', '.join(missing)} in data/small_models. Train them with "
                         "`python -m tools.small_models train`.")
        self.missing = missing  # file names, for a message in the learner's language


@dataclass(frozen=True)
class SmallModels:
    vocab: WordVocab
    lstm: LSTMLM
    gpt: GPT
    metrics: dict

    def model(self, kind: str):
        return self.lstm if kind == "lstm" else self.gpt


def load_small_models() -> SmallModels:
    """The shipped checkpoints, vocabulary and metrics (never trains)."""
    paths = [checkpoints.VOCAB_PATH, checkpoints.METRICS_PATH, *checkpoints.CHECKPOINTS.values()]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise SmallModelsMissing(missing)
    import json

    return SmallModels(
        vocab=WordVocab.load(checkpoints.VOCAB_PATH),
        lstm=checkpoints.load_checkpoint(checkpoints.CHECKPOINTS["lstm"]),
        gpt=checkpoints.load_checkpoint(checkpoints.CHECKPOINTS["gpt"]),
        metrics=json.loads(checkpoints.METRICS_PATH.read_text()),
    )


@dataclass(frozen=True)
class PromptWords:
    """The prompt as the small models read it: `ids[0]` is the start marker."""

    words: list[str]  # what the learner typed, cut into words (lower case)
    ids: list[int]  # (len(words) + 1,) start marker, then one id per word (0 = <unk>)
    known: list[bool]  # per word: in the vocabulary?
    dropped: int  # words cut from the front to fit the context


def prompt_words(vocab: WordVocab, text: str, max_words: int = MAX_WORDS) -> PromptWords:
    """Cut `text` into words, keep the last `max_words` (the transformer's context limit)."""
    words = split_words_keep(text)
    dropped = max(0, len(words) - max_words)
    words = words[dropped:]
    ids = [vocab.eos_id] + vocab.encode_words(words)
    return PromptWords(words, ids, [w in vocab for w in words], dropped)


def _logits(model, ids: list[int]) -> torch.Tensor:
    """(T, V) logits for a (T,) id list, float32, no gradient."""
    with torch.inference_mode():
        return model(torch.tensor([ids]))[0][0].float()


@dataclass(frozen=True)
class NextWords:
    words: list[str]  # top-n, most likely first
    probs: list[float]
    logits: np.ndarray  # (V,) raw scores for the next word
    all_probs: np.ndarray  # (V,) softmax of logits, float64


def next_words(models: SmallModels, kind: str, ids: list[int], top_n: int = 10) -> NextWords:
    """The model's probability for every word of the vocabulary after `ids`; the top n."""
    logits = _logits(models.model(kind), ids)[-1].numpy()
    probs = softmax(logits)  # float64, the same softmax the big model's pages use
    order = np.argsort(-probs, kind="stable")[:top_n]
    return NextWords([models.vocab.itos[i] for i in order], [float(probs[i]) for i in order],
                     logits, probs)


@dataclass(frozen=True)
class GuessScore:
    """How a model rated a learner's guess for the next word (the predict-then-reveal game)."""

    word: str  # lower-cased, as the vocabulary stores words
    in_vocab: bool  # False: the model can only say <unk>, and that is what is scored
    prob: float
    rank: int  # 1 = the model's favourite; ties share the better rank


def guess_score(vocab: WordVocab, predicted: NextWords, guess: str) -> GuessScore:
    """Probability and rank of `guess` (its first word) in the distribution `predicted`."""
    words = split_words_keep(guess)
    word = words[0] if words else ""
    word_id = vocab.encode_words([word])[0] if word else vocab.unk_id
    prob = float(predicted.all_probs[word_id])
    return GuessScore(word, word in vocab, prob, rank_of(predicted.all_probs, word_id))


def continue_words(models: SmallModels, kind: str, ids: list[int], n: int = 15,
                   seed: int | None = None, temperature: float = 1.0) -> list[str]:
    """n more words: greedy (seed None) or sampled with its own seeded generator. <unk> is never
    chosen; the context is the last block_size ids (the transformer's limit), for both models."""
    model = models.model(kind)
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    ids, out = list(ids), []
    for _ in range(n):
        logits = _logits(model, ids[-checkpoints.BLOCK :])[-1].clone()
        logits[models.vocab.unk_id] = float("-inf")
        if gen is None:
            nxt = int(logits.argmax())
        else:
            nxt = int(torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=gen))
        ids.append(nxt)
        out.append(models.vocab.itos[nxt])
    return out


@dataclass(frozen=True)
class RNNTrace:
    """The LSTM's memory after each word (top layer)."""

    hidden: np.ndarray  # (T, n_hidden): top layer's h after reading word t (t = 0: start marker)
    change: np.ndarray  # (T,): ||h_t − h_{t−1}||, with h_{−1} = 0


def rnn_trace(models: SmallModels, ids: list[int]) -> RNNTrace:
    """Read `ids` one word at a time, carrying the (h, c) state forward, and record h."""
    state, hs = None, []
    with torch.inference_mode():
        for i in ids:
            _, _, hidden, state = models.lstm(torch.tensor([[i]]), state=state)
            hs.append(hidden[0, -1].numpy().copy())
    hidden = np.stack(hs)
    prev = np.vstack([np.zeros_like(hidden[:1]), hidden[:-1]])
    return RNNTrace(hidden, np.linalg.norm(hidden - prev, axis=1))


def gpt_attention(models: SmallModels, ids: list[int]) -> np.ndarray:
    """(n_layer, n_head, T, T) attention weights of one parallel pass; rows sum to 1."""
    with torch.inference_mode():
        return models.gpt(torch.tensor([ids]))[2][:, 0].numpy()


@dataclass(frozen=True)
class Occlusion:
    """How much the model's top prediction depends on each earlier word."""

    target: str  # the model's top next word for the full prompt
    target_id: int
    logprob: float  # its log-probability with the full prompt
    deltas: np.ndarray  # (n_words,): logprob(full) − logprob(without word i); > 0 = word helped


def occlusion(models: SmallModels, kind: str, ids: list[int]) -> Occlusion:
    """Drop one word at a time (the start marker stays) and re-measure the top word's log-prob.

    ids: (T,) with ids[0] the start marker; deltas[i] is about word i (= ids[i + 1]).
    """
    model = models.model(kind)
    logp = torch.log_softmax(_logits(model, ids)[-1], -1)
    target = int(logp.argmax())
    variants = [ids[: i + 1] + ids[i + 2 :] for i in range(len(ids) - 1)]
    deltas = np.zeros(len(variants))
    with torch.inference_mode():
        if variants and len(ids) > 2:
            batch = torch.tensor(variants)  # all variants have length T − 1
            out = torch.log_softmax(model(batch)[0][:, -1].float(), -1)[:, target]
            deltas = (logp[target] - out).numpy().astype(np.float64)
        elif variants:  # a one-word prompt: without it only the start marker remains
            deltas = np.array([float(logp[target] - torch.log_softmax(
                _logits(model, ids[:1])[-1], -1)[target])])
    return Occlusion(models.vocab.itos[target], target, float(logp[target]), deltas)


@dataclass(frozen=True)
class Memory:
    """What each model keeps from the words it has read, counted from the models themselves."""

    lstm_state: int  # numbers in the LSTM's state (h and c of every layer), whatever the length
    lstm_layers: int
    lstm_hidden: int  # size of h (and of c) in one layer
    gpt_per_word: int  # numbers the transformer keeps per word read: a key and a value per layer
    gpt_layers: int
    gpt_embd: int


def memory(models: SmallModels) -> Memory:
    """The LSTM's (h, c) after one word, counted; the transformer's keys and values per word."""
    with torch.inference_mode():
        h, c = models.lstm(torch.tensor([[models.vocab.eos_id]]))[3]  # each (n_layer, 1, H)
    gpt = models.gpt
    qkv = gpt.blocks[0].attn.c_attn.out_features  # query, key and value, side by side
    per_layer = qkv // 3 * 2  # a key and a value
    return Memory(h.numel() + c.numel(), h.shape[0], h.shape[2], per_layer * len(gpt.blocks),
                  len(gpt.blocks), gpt.config.n_embd)


@dataclass(frozen=True)
class SequentialSteps:
    """The longest chain of layer steps that must wait for one another, per length."""

    lengths: list[int]
    lstm: list[int]  # layer l at word t needs layer l at word t−1 and layer l−1 at word t
    gpt: list[int]  # layer l needs layer l−1 (at every position), nothing else


def sequential_steps(models: SmallModels, lengths=range(1, checkpoints.BLOCK + 1)) -> SequentialSteps:
    """Reading n words: an LSTM with L layers has a chain of n + L − 1 dependent steps (layer 2
    can start word t as soon as layer 1 has finished it); a transformer with L layers has L,
    each computing all n positions at once."""
    lengths = list(lengths)
    n_lstm, n_gpt = models.lstm.config.n_layer, models.gpt.config.n_layer
    return SequentialSteps(lengths, [n + n_lstm - 1 for n in lengths], [n_gpt] * len(lengths))
