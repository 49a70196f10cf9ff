"""Reading predictions out of the model's hidden states, without running it again.

The logit lens applies the final norm and the output head to the hidden state after every layer,
showing where in the stack the next-token prediction forms. The same head on the last layer at every
position gives the model's guess after each prompt token, and how surprised it was by the real one.
Both work on `PromptAnalysis.hidden_states` (n_layer + 1, T, d): no extra forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explain.engine import family_of, inference_queue
from explain.engine.models import LoadedModel
from explain.next_token import rank_of, softmax, top_indices
from explain.tokens import TokenPiece, token_piece


def final_norm(model: torch.nn.Module) -> torch.nn.Module:
    """The norm a decoder applies before its output head (Llama-style `model.norm`, GPT-2 `ln_f`)."""
    return family_of(model).final_norm(model)


def head_logits(lm: LoadedModel, hidden_states: np.ndarray, already_normed: bool) -> np.ndarray:
    """Output-head logits for (..., d) hidden states → (..., vocab) float32.

    transformers returns the last entry of `hidden_states` with the final norm already applied
    (Llama and GPT-2), so only earlier layers are normed here. Runs on the inference worker.
    """
    def project() -> np.ndarray:
        with torch.inference_mode():
            states = torch.from_numpy(np.ascontiguousarray(hidden_states))
            if not already_normed:
                states = final_norm(lm.model)(states)
            return lm.model.get_output_embeddings()(states).float().numpy()

    return inference_queue.shared().run(project)  # one product on the cores at a time, as the forwards


@dataclass(frozen=True)
class LogitLens:
    """The top guesses for the token after `position`, read after each layer (0 = embeddings)."""

    position: int
    layers: list[int]  # 0 … n_layer
    top_pieces: list[list[TokenPiece]]  # per layer, most likely first
    top_probs: list[list[float]]
    final_token: TokenPiece  # the model's real top-1 prediction (after the last layer)
    final_token_probs: list[float]  # per layer: the probability of that final prediction

    @property
    def first_layer_on_top(self) -> int:
        """The first layer from which on the final prediction stays every layer's top guess."""
        final = self.final_token.id
        layer = self.layers[-1]
        for index in range(len(self.layers) - 1, -1, -1):
            if self.top_pieces[index][0].id != final:
                break
            layer = self.layers[index]
        return layer


def logit_lens(lm: LoadedModel, hidden_states: np.ndarray, position: int = -1, top_k: int = 3) -> LogitLens:
    """hidden_states: (n_layer + 1, T, d) from `analyze_prompt`. One head call per layer, no forward."""
    states = hidden_states[:, position]  # (n_layer + 1, d)
    logits = np.concatenate(
        [head_logits(lm, states[:-1], already_normed=False), head_logits(lm, states[-1:], already_normed=True)]
    )  # (n_layer + 1, vocab)
    probs = softmax(logits)
    top = top_indices(probs, top_k)
    final_id = int(top[-1, 0])
    return LogitLens(
        position=position if position >= 0 else hidden_states.shape[1] + position,
        layers=list(range(len(states))),
        top_pieces=[[token_piece(lm, int(i), rank) for rank, i in enumerate(row)] for row in top],
        top_probs=[[float(probs[layer, i]) for i in row] for layer, row in enumerate(top)],
        final_token=token_piece(lm, final_id),
        final_token_probs=probs[:, final_id].tolist(),
    )


@dataclass(frozen=True)
class PositionPredictions:
    """For each prompt token after the first: what the model expected there, and what came."""

    actual: list[TokenPiece]  # the prompt's tokens 1 … T-1
    guesses: list[TokenPiece]  # the model's top guess for each of them, made one token earlier
    guess_probs: list[float]
    actual_probs: list[float]  # the probability the model gave the token that really came
    actual_ranks: list[int]  # 1 = it was the model's top guess
    surprisal_bits: list[float]  # −log2(actual_prob)
    perplexity: float  # exp of the mean negative log-likelihood; nan for a one-token prompt


def position_predictions(lm: LoadedModel, ids: list[int], hidden_states: np.ndarray) -> PositionPredictions:
    """hidden_states: (n_layer + 1, T, d); uses the final-normed last layer (the model's real output)."""
    logits = head_logits(lm, hidden_states[-1, :-1], already_normed=True)  # (T-1, vocab)
    log_probs = np.log(np.maximum(softmax(logits), 1e-300))
    targets = np.asarray(ids[1:], dtype=np.int64)
    actual_lp = log_probs[np.arange(len(targets)), targets]
    guesses = log_probs.argmax(axis=-1)
    ranks = rank_of(log_probs, targets)
    return PositionPredictions(
        actual=[token_piece(lm, int(t), i + 1) for i, t in enumerate(targets)],
        guesses=[token_piece(lm, int(g), i + 1) for i, g in enumerate(guesses)],
        guess_probs=np.exp(log_probs[np.arange(len(targets)), guesses]).tolist(),
        actual_probs=np.exp(actual_lp).tolist(),
        actual_ranks=ranks.tolist(),
        surprisal_bits=(-actual_lp / np.log(2)).tolist(),
        perplexity=float(np.exp(-actual_lp.mean())) if len(targets) else float("nan"),
    )
