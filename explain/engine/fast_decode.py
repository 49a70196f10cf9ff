"""One token at a time, without transformers' per-step bookkeeping (Llama-family models).

Why: after the prompt, generating a token is one pass of a single vector through every layer.
For SmolLM2-135M on two cores that pass is ≈ 30 ms of weight streaming, and transformers' generic
forward (cache objects, masks, rotary tables, output dataclasses, ~2,000 small tensor ops) added
about half as much again. `decode_step` does the same arithmetic — RMSNorm, rotary positions,
grouped-query attention over a preallocated key/value buffer (`KVSlots`), SiLU-gated MLP, tied
output head — in fp32, reading the model's own weights (no copy), with every matrix product split
over both cores (`explain.engine.two_core_matmul`).

`decode_step` is written once and advances any number of sequences together, each at its own
position: one row for `LlamaDecoder` (a single continuation), many for `LlamaBatchSampler` (the
corpus script) and for `explain.engine.decode_batch` (every visitor's greedy continuation running
at the same time). A step streams every weight from memory once whatever the number of rows, so on
this bandwidth-bound CPU 30 rows cost far less than 30 one-row steps (measured in decode_batch).

The prompt itself runs through the model's own forward (`prefill`: one pass, both cores); its
key/value cache is copied into the decoder's buffers. A prompt whose forward already ran (the
shared prompt analysis) gets them from the hidden states it kept (`fill_from_hidden_states`). Outputs are checked against
`model.generate` and against the model's own logits at every step (tests/test_fast_decode.py).
Models of another family (GPT-2 from the hub) simply use the generic loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from transformers import DynamicCache

from explain.engine.two_core_matmul import two_core_matmuls


def supports(model, allow_dtypes=(torch.float32,)) -> bool:
    """True for models whose forward this decoder reproduces exactly (plain Llama architecture)."""
    config = model.config
    rope = getattr(config, "rope_parameters", None) or {}
    return (
        config.model_type == "llama"
        and not getattr(config, "attention_bias", False)
        and not getattr(config, "mlp_bias", False)
        and config.hidden_act == "silu"
        and rope.get("rope_type", "default") == "default"
        and getattr(config, "pretraining_tp", 1) == 1
        and next(model.parameters()).dtype in allow_dtypes
    )


def _halves(weight: torch.Tensor) -> torch.Tensor:
    """(out, in) weight → (2, in, out/2) view: the two halves of its rows, for one `bmm`."""
    n_out, n_in = weight.shape
    return weight.view(2, n_out // 2, n_in).transpose(1, 2)


def _matmul(halves: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(rows, in) times a split weight → (rows, out), each half of the weight on its own core.

    Every row's product is still one dot product per output, whatever the number of rows: a batch
    only changes how often the weights are streamed from memory (once per step, not once per row)."""
    rows = x.shape[0]
    return torch.bmm(x.unsqueeze(0).expand(2, -1, -1), halves).transpose(0, 1).reshape(rows, -1)


def _rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """Llama's RMSNorm, weight * x / sqrt(mean(x²) + eps), as torch's one fused op."""
    return torch.nn.functional.rms_norm(x, weight.shape, weight, eps)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


@dataclass
class _Layer:
    norm_in: torch.Tensor
    q: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor
    o: torch.Tensor
    norm_post: torch.Tensor
    gate: torch.Tensor
    up: torch.Tensor
    down: torch.Tensor
    eps_in: float
    eps_post: float


class LlamaWeights:
    """The model's own weights as the decode step reads them (views, no copy), and its rotary table."""

    def __init__(self, model, allow_dtypes=(torch.float32,)):
        if not supports(model, allow_dtypes):
            raise ValueError("the decode step only reproduces plain fp32 Llama-family models")
        config, body = model.config, model.model
        self.model = model
        self.dtype = next(model.parameters()).dtype
        self.n_head = config.num_attention_heads
        self.n_kv = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.n_head
        self.scaling = self.head_dim**-0.5
        self.rotary = body.rotary_emb
        self.embed = body.embed_tokens.weight
        self.layers = [
            _Layer(
                norm_in=layer.input_layernorm.weight,
                q=_halves(layer.self_attn.q_proj.weight),
                k=_halves(layer.self_attn.k_proj.weight),
                v=_halves(layer.self_attn.v_proj.weight),
                o=_halves(layer.self_attn.o_proj.weight),
                norm_post=layer.post_attention_layernorm.weight,
                gate=_halves(layer.mlp.gate_proj.weight),
                up=_halves(layer.mlp.up_proj.weight),
                down=_halves(layer.mlp.down_proj.weight),
                eps_in=layer.input_layernorm.variance_epsilon,
                eps_post=layer.post_attention_layernorm.variance_epsilon,
            )
            for layer in body.layers
        ]
        self.norm_final, self.eps_final = body.norm.weight, body.norm.variance_epsilon
        self.head = _halves(model.lm_head.weight)
        self.cos = self.sin = torch.empty(0, self.head_dim, dtype=self.dtype)

    def rotary_table(self, positions: int) -> None:
        """Make `cos`/`sin` cover positions 0 … positions-1, from the model's own rotary module."""
        if self.cos.shape[0] >= positions:
            return
        with torch.inference_mode():
            cos, sin = self.rotary(self.embed[:1].view(1, 1, -1), torch.arange(positions).view(1, -1))
        self.cos, self.sin = cos[0], sin[0]  # (positions, head_dim), in the weights' dtype


class KVSlots:
    """Key/value buffers for up to `slots` sequences of up to `capacity` positions each.

    One buffer per layer, (slots, n_kv, capacity, head_dim), in the weights' dtype. The sequences
    decoded together always occupy slots 0 … rows-1, so a step reads plain prefix views (no gather,
    no copy); a sequence that leaves is replaced by the last one (`move`), a copy of one sequence's
    filled positions. `grow` reallocates when more slots or positions are needed.
    """

    def __init__(self, weights: LlamaWeights, slots: int, capacity: int):
        self.weights = weights
        shape = (slots, weights.n_kv, capacity, weights.head_dim)
        self.keys = [torch.zeros(shape, dtype=weights.dtype) for _ in weights.layers]
        self.values = [torch.zeros(shape, dtype=weights.dtype) for _ in weights.layers]
        weights.rotary_table(capacity)

    @staticmethod
    def bytes_per_position(weights: LlamaWeights) -> int:
        """Memory one position of one slot takes, over every layer's keys and values."""
        return 2 * len(weights.layers) * weights.n_kv * weights.head_dim * weights.embed.element_size()

    @property
    def slots(self) -> int:
        return self.keys[0].shape[0]

    @property
    def capacity(self) -> int:
        return self.keys[0].shape[2]

    def grow(self, slots: int, capacity: int) -> None:
        """At least `slots` slots of `capacity` positions, keeping everything stored so far."""
        if slots <= self.slots and capacity <= self.capacity:
            return
        old_slots, old_capacity = self.slots, self.capacity
        bigger = KVSlots(self.weights, max(slots, old_slots), max(capacity, old_capacity))
        for old, new in zip(self.keys + self.values, bigger.keys + bigger.values):
            new[:old_slots, :, :old_capacity] = old
        self.keys, self.values = bigger.keys, bigger.values

    def move(self, source: int, target: int, length: int) -> None:
        """Copy the first `length` positions of slot `source` into slot `target`."""
        for buffer in self.keys + self.values:
            buffer[target, :, :length] = buffer[source, :, :length]


def prefill(kv: KVSlots, slots: list[int], prompts: list[list[int]]) -> torch.Tensor:
    """Run the prompts through the model's own forward (one pass, right-padded to the longest) and
    store each one's keys/values in its slot; returns the next-token logits (len(prompts), vocab).

    With a causal model a real position never attends to a later one, so the padding at the end of
    the shorter prompts cannot reach them; the output head runs on each prompt's own last position
    (through the model's own forward when they are all as long, else on its final-normed hidden
    states). It is one call of the model's `forward`, so counting those calls counts it.
    The caller enters `inference_mode` (and `two_core_matmuls` for the split products) and bounds
    the batch (rows × longest prompt)."""
    if not prompts or not all(prompts):
        raise ValueError("every prompt needs at least one token")
    model = kv.weights.model
    lengths = [len(ids) for ids in prompts]
    longest = max(lengths)
    padded = torch.tensor([ids + [0] * (longest - len(ids)) for ids in prompts])
    cache = DynamicCache(config=model.config)
    ragged = min(lengths) < longest
    out = model(padded, past_key_values=cache, use_cache=True, logits_to_keep=1, output_hidden_states=ragged)
    for layer_cache, keys, values in zip(cache.layers, kv.keys, kv.values):
        for row, (slot, length) in enumerate(zip(slots, lengths)):
            keys[slot, :, :length] = layer_cache.keys[row, :, :length]
            values[slot, :, :length] = layer_cache.values[row, :, :length]
    if not ragged:
        return out.logits[:, -1].float()
    last = out.hidden_states[-1][torch.arange(len(prompts)), torch.tensor(lengths) - 1]
    return model.lm_head(last).float()


def fill_from_hidden_states(kv: KVSlots, slots: list[int], hidden_states: list[np.ndarray]) -> None:
    """Store the keys/values of prompts the model has already run, from the hidden states that
    forward kept, instead of running it again (`prefill`): `hidden_states[i]` (≥ n_layer, T_i,
    d_model) fp32, entry l the residual stream entering layer l (transformers'
    `output_hidden_states`, as `analysis.PromptAnalysis` keeps it), goes to slot `slots[i]`.

    Why: a layer's keys and values are two small products of its normed input (k and v
    projections, 2 × 576 × 192 for SmolLM2), 6 % of the layer's arithmetic — the queries, the
    attention itself, the output projection and the MLP are what the forward already did. With
    that forward's last logits for the first token, an analysed prompt needs no model forward at
    all before its first decode step. Every prompt's positions go through each layer's products
    together. The caller enters `inference_mode` (and `two_core_matmuls`)."""
    w = kv.weights
    lengths = [states.shape[1] for states in hidden_states]
    if not lengths or min(lengths) < 1 or any(states.shape[0] < len(w.layers) for states in hidden_states):
        raise ValueError("every prompt needs at least one token and the hidden state entering every layer")
    positions = torch.cat([torch.arange(n) for n in lengths])
    slot_of = torch.cat([torch.full((n,), slot) for slot, n in zip(slots, lengths)])
    cos, sin = w.cos[positions].unsqueeze(1), w.sin[positions].unsqueeze(1)  # (positions, 1, head_dim)
    for index, (layer, k_buf, v_buf) in enumerate(zip(w.layers, kv.keys, kv.values)):
        x = torch.from_numpy(np.concatenate([states[index] for states in hidden_states])).to(w.dtype)
        h = _rms_norm(x, layer.norm_in, layer.eps_in)  # (positions, d_model)
        k = _matmul(layer.k, h).view(-1, w.n_kv, w.head_dim)
        k_buf[slot_of, :, positions] = k * cos + _rotate_half(k) * sin
        v_buf[slot_of, :, positions] = _matmul(layer.v, h).view(-1, w.n_kv, w.head_dim)


def decode_step(kv: KVSlots, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """THE Llama decode step (one-row decoding, the batch sampler and batched greedy all use it):
    feed token `tokens[r]` at position `positions[r]` of the sequence in slot r, for the first
    len(tokens) slots; returns the logits (rows, vocab) for each sequence's next token.

    The same arithmetic as the model's forward — RMSNorm, rotary positions, grouped-query attention
    over the filled positions, SiLU-gated MLP, tied output head — with every weight read once per
    step for all rows (a CPU decode is bandwidth-bound, so rows come nearly free). Each row attends
    only to its own filled positions (a length mask when the rows' lengths differ).
    """
    w = kv.weights
    rows = tokens.shape[0]
    if int(positions.max()) >= kv.capacity:
        raise RuntimeError("the decoder's buffer is full: pass a larger max_new_tokens to start()")
    seen = int(positions.max()) + 1  # positions any row attends to
    unseen = None  # (rows, 1, 1, seen): True where a row's slot holds no position of its own yet
    if bool((positions != positions[0]).any()):
        unseen = (torch.arange(seen).view(1, -1) > positions.view(-1, 1)).view(rows, 1, 1, seen)
    with torch.inference_mode():
        x = w.embed[tokens]  # (rows, d_model)
        cos, sin = w.cos[positions].unsqueeze(1), w.sin[positions].unsqueeze(1)  # (rows, 1, head_dim)
        group = w.n_head // w.n_kv
        row_index = torch.arange(rows)
        for layer, k_buf, v_buf in zip(w.layers, kv.keys, kv.values):
            h = _rms_norm(x, layer.norm_in, layer.eps_in)
            q = _matmul(layer.q, h).view(rows, w.n_head, w.head_dim)
            k = _matmul(layer.k, h).view(rows, w.n_kv, w.head_dim)
            q = q * cos + _rotate_half(q) * sin
            k_buf[row_index, :, positions] = k * cos + _rotate_half(k) * sin
            v_buf[row_index, :, positions] = _matmul(layer.v, h).view(rows, w.n_kv, w.head_dim)
            seen_k, seen_v = k_buf[:rows, :, :seen], v_buf[:rows, :, :seen]
            scores = torch.matmul(q.view(rows, w.n_kv, group, w.head_dim), seen_k.transpose(-1, -2)) * w.scaling
            if unseen is not None:
                scores = scores.masked_fill(unseen, float("-inf"))
            weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(w.dtype)
            mixed = torch.matmul(weights, seen_v).reshape(rows, -1)
            x = x + _matmul(layer.o, mixed)
            h = _rms_norm(x, layer.norm_post, layer.eps_post)
            x = x + _matmul(layer.down, torch.nn.functional.silu(_matmul(layer.gate, h)) * _matmul(layer.up, h))
        return _matmul(w.head, _rms_norm(x, w.norm_final, w.eps_final))


class LlamaDecoder:
    """Greedy-ready decoding state for one sequence (one slot of `KVSlots`). Not thread-safe: one
    per request."""

    def __init__(self, model, allow_dtypes=(torch.float32,)):
        if not supports(model, allow_dtypes):
            raise ValueError("LlamaDecoder only reproduces plain fp32 Llama-family models")
        self.weights = LlamaWeights(model, allow_dtypes)
        self.kv: KVSlots | None = None
        self.length = 0

    def start(self, ids: list[int], max_new_tokens: int) -> torch.Tensor:
        """Run the prompt (one forward of the model itself); returns the next-token logits (vocab,)."""
        if not ids:
            raise ValueError("ids is empty: the model needs at least one token to continue from")
        with torch.inference_mode(), two_core_matmuls():
            self.kv = KVSlots(self.weights, slots=1, capacity=len(ids) + max_new_tokens)
            logits = prefill(self.kv, [0], [list(ids)])[0]
        self.length = len(ids)
        return logits

    def step(self, token_id: int) -> torch.Tensor:
        """Feed one token; returns the logits (vocab,) for the token after it."""
        logits = decode_step(self.kv, torch.tensor([token_id]), torch.tensor([self.length]))[0]
        self.length += 1
        return logits


class LlamaBatchSampler:
    """Sample many sequences at once (the one-time corpus script): the shared `decode_step`, a
    batch of rows.

    The prompts run through the model's own forward together (`prefill`, right-padded; the padding
    never reaches a real position), and every row then advances one token per step at its own
    position, attending only to its own filled length. Weights may be bf16: this path writes
    training text, not numbers a page shows.
    """

    def __init__(self, model):
        self.weights = LlamaWeights(model, allow_dtypes=(torch.float32, torch.bfloat16))

    def sample(self, prompts: list[list[int]], max_new_tokens: int, temperature: float, top_p: float,
               stop_ids: set[int], generator: torch.Generator) -> list[list[int]]:
        """New token ids for every prompt (up to a stop id, which is not included)."""
        rows = len(prompts)
        with torch.inference_mode():
            kv = KVSlots(self.weights, rows, max(len(p) for p in prompts) + max_new_tokens)
            logits = prefill(kv, list(range(rows)), [list(p) for p in prompts])
            positions = torch.tensor([len(p) for p in prompts])
            new: list[list[int]] = [[] for _ in prompts]
            done = torch.zeros(rows, dtype=torch.bool)
            for _ in range(max_new_tokens):
                tokens = _sample_top_p(logits, temperature, top_p, generator)
                for row, token in enumerate(tokens.tolist()):
                    if not done[row]:
                        if token in stop_ids:
                            done[row] = True
                        else:
                            new[row].append(token)
                if bool(done.all()):
                    break
                logits = decode_step(kv, tokens, positions).float()
                positions = positions + 1
        return new


def _sample_top_p(logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator,
                  candidates: int = 1024) -> torch.Tensor:
    """One token per row: softmax(logits / T), keep the smallest set of tokens whose probability
    reaches top_p (as transformers' TopPLogitsWarper does), renormalise, draw.

    Only the `candidates` most likely tokens are sorted and drawn from (a full sort and draw over
    the vocabulary was ~100 ms per step for 32 rows); a row whose candidates hold less than top_p
    of the mass falls back to the whole vocabulary, so the result is the same either way.
    """
    probs = torch.softmax(logits / temperature, dim=-1)
    if candidates < probs.shape[-1]:
        top_probs, top_ids = probs.topk(candidates, dim=-1)  # sorted, best first
        if bool((top_probs.sum(-1) >= top_p).all()):
            before = top_probs.cumsum(-1) - top_probs  # mass of the better tokens
            choice = torch.multinomial(top_probs.masked_fill(before >= top_p, 0.0), 1, generator=generator)
            return top_ids.gather(-1, choice).view(-1)
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    before = sorted_probs.cumsum(-1) - sorted_probs
    sorted_probs = sorted_probs.masked_fill(before >= top_p, 0.0)
    choice = torch.multinomial(sorted_probs, 1, generator=generator)
    return order.gather(-1, choice).view(-1)
