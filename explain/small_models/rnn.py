"""A word-level LSTM language model: reads one word per step and carries a fixed-size memory.

Why an LSTM and not a GRU: the LSTM is the classic word-level language-model baseline
(Zaremba et al. 2014; Merity et al. 2017) and its separate cell state, guarded by gates, is the
best-known remedy for the vanishing memory of a plain RNN — so it gives the recurrent side its
fairest chance. Embeddings are tied to the output layer, as in the transformer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn as nn
from torch.nn import functional as F


@dataclass(frozen=True)
class RNNConfig:
    vocab_size: int = 4000
    n_embd: int = 128  # word vector size (tied with the output layer)
    n_hidden: int = 256  # the memory: size of h and c in each layer
    n_layer: int = 2
    dropout: float = 0.1


class LSTMLM(nn.Module):
    """Embedding → n_layer LSTM → projection to n_embd → tied output layer."""

    def __init__(self, config: RNNConfig):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.lstm = nn.LSTM(config.n_embd, config.n_hidden, config.n_layer, batch_first=True,
                            dropout=config.dropout if config.n_layer > 1 else 0.0)
        self.proj = nn.Linear(config.n_hidden, config.n_embd)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying
        # Word vectors uniform in ±0.1, as in PyTorch's word_language_model example: with the
        # tied output layer, a smaller start (0.02) left the LSTM's logits flat for many steps.
        nn.init.uniform_(self.wte.weight, -0.1, 0.1)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())  # the tied matrix counts once

    def features(self, idx, state=None):
        """idx: (B, T) → what the output layer reads (B, T, C) (before the output dropout),
        the top layer's h (B, T, n_hidden) and the final state (h, c), each (n_layer, B, H)."""
        x = self.drop(self.wte(idx))  # (B, T, C)
        hidden, state = self.lstm(x, state)  # (B, T, H); state = (h, c), each (L, B, H)
        return self.proj(hidden), hidden, state

    def forward(self, idx, targets=None, state=None):
        """idx: (B, T) word ids → logits (B, T, V), loss (or None), hidden (B, T, n_hidden), state.

        `hidden` is the top layer's h at every step: what the network remembers after each word.
        """
        features, hidden, state = self.features(idx, state)
        logits = self.lm_head(self.drop(features))  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss, hidden, state
