"""One token at a time, without transformers' per-step bookkeeping (Llama-family models).

Why: after the prompt, generating a token is one pass of a single vector through every layer.
For SmolLM2-135M on two cores that pass is ≈ 30 ms of weight streaming, and transformers' generic
forward (cache objects, masks, rotary tables, output dataclasses, ~2,000 small tensor ops) added
about half as much again. `LlamaDecoder` does the same arithmetic — RMSNorm, rotary positions,
grouped-query attention over a preallocated key/value buffer, SiLU-gated MLP, tied output head —
in fp32, reading the model's own weights (no copy), with every matrix–vector product split over
both cores (`explain.engine.two_core_matmul`).

The prompt itself still runs through the model's own forward (one pass, both cores); its
key/value cache is copied into the decoder's buffers. Outputs are checked against
`model.generate` and against the model's own logits at every step (tests/test_fast_decode.py).
Models of another family (GPT-2 from the hub) simply use the generic loop.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _matvec(halves: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(in,) vector times a split weight → (out,), each half on its own core."""
    return torch.bmm(x.view(1, 1, -1).expand(2, 1, -1), halves).view(-1)


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


class LlamaDecoder:
    """Greedy-ready decoding state for one sequence. Not thread-safe: one per request."""

    def __init__(self, model, allow_dtypes=(torch.float32,)):
        if not supports(model, allow_dtypes):
            raise ValueError("LlamaDecoder only reproduces plain fp32 Llama-family models")
        config, body = model.config, model.model
        self.model = model
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
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []
        self.length = 0

    def start(self, ids: list[int], max_new_tokens: int) -> torch.Tensor:
        """Run the prompt (one forward of the model itself); returns the next-token logits (vocab,)."""
        if not ids:
            raise ValueError("ids is empty: the model needs at least one token to continue from")
        cache = DynamicCache(config=self.model.config)
        with torch.inference_mode(), two_core_matmuls():
            out = self.model(torch.tensor([ids]), past_key_values=cache, use_cache=True, logits_to_keep=1)
            capacity = len(ids) + max_new_tokens
            self.keys, self.values = [], []
            for layer_cache in cache.layers:
                for source, target in ((layer_cache.keys, self.keys), (layer_cache.values, self.values)):
                    buffer = torch.empty(self.n_kv, capacity, self.head_dim)
                    buffer[:, : len(ids)] = source[0]
                    target.append(buffer)
            # cos/sin of every position this decoder will use, from the model's own rotary module
            every_position = torch.arange(capacity).view(1, -1)
            cos, sin = self.rotary(self.embed[:1].view(1, 1, -1), every_position)
            self.cos, self.sin = cos[0], sin[0]  # (capacity, head_dim)
        self.length = len(ids)
        return out.logits[0, -1].float()

    def step(self, token_id: int) -> torch.Tensor:
        """Feed one token; returns the logits (vocab,) for the token after it."""
        position = self.length
        if position >= self.keys[0].shape[1]:
            raise RuntimeError("the decoder's buffer is full: pass a larger max_new_tokens to start()")
        with torch.inference_mode():
            x = self.embed[token_id]
            cos, sin = self.cos[position], self.sin[position]
            group = self.n_head // self.n_kv
            for layer, keys, values in zip(self.layers, self.keys, self.values):
                h = _rms_norm(x, layer.norm_in, layer.eps_in)
                q = _matvec(layer.q, h).view(self.n_head, self.head_dim)
                k = _matvec(layer.k, h).view(self.n_kv, self.head_dim)
                q = q * cos + _rotate_half(q) * sin
                keys[:, position] = k * cos + _rotate_half(k) * sin
                values[:, position] = _matvec(layer.v, h).view(self.n_kv, self.head_dim)
                seen_k, seen_v = keys[:, : position + 1], values[:, : position + 1]
                scores = torch.bmm(q.view(self.n_kv, group, self.head_dim), seen_k.transpose(1, 2)) * self.scaling
                weights = torch.softmax(scores, dim=-1, dtype=torch.float32)
                mixed = torch.bmm(weights, seen_v).reshape(-1)
                x = x + _matvec(layer.o, mixed)
                h = _rms_norm(x, layer.norm_post, layer.eps_post)
                x = x + _matvec(layer.down, torch.nn.functional.silu(_matvec(layer.gate, h)) * _matvec(layer.up, h))
            self.length = position + 1
            return _matvec(self.head, _rms_norm(x, self.norm_final, self.eps_final))


class LlamaBatchSampler:
    """Sample many sequences at once (the one-time corpus script): same maths, a batch of rows.

    Each prompt runs through the model's own forward separately (no padding tokens at all); its
    cache is copied into a shared buffer, and every row then advances one token per step at its
    own position, attending only to its own filled length (a length mask). Weights may be bf16:
    this path writes training text, not numbers a page shows.
    """

    def __init__(self, model):
        self.decoder = LlamaDecoder(model, allow_dtypes=(torch.float32, torch.bfloat16))
        self.dtype = next(model.parameters()).dtype

    def sample(self, prompts: list[list[int]], max_new_tokens: int, temperature: float, top_p: float,
               stop_ids: set[int], generator: torch.Generator) -> list[list[int]]:
        """New token ids for every prompt (up to a stop id, which is not included)."""
        d = self.decoder
        rows, longest = len(prompts), max(len(p) for p in prompts)
        capacity = longest + max_new_tokens
        # Keys are stored transposed (…, head_dim, position) so scores need no copy per step.
        keys = [torch.zeros(rows, d.n_kv, d.head_dim, capacity, dtype=self.dtype) for _ in d.layers]
        values = [torch.zeros(rows, d.n_kv, capacity, d.head_dim, dtype=self.dtype) for _ in d.layers]
        last_logits = []
        with torch.inference_mode():
            for row, ids in enumerate(prompts):
                cache = DynamicCache(config=d.model.config)
                out = d.model(torch.tensor([ids]), past_key_values=cache, use_cache=True, logits_to_keep=1)
                last_logits.append(out.logits[0, -1].float())
                for layer, layer_cache in enumerate(cache.layers):
                    keys[layer][row, :, :, : len(ids)] = layer_cache.keys[0].transpose(1, 2)
                    values[layer][row, :, : len(ids)] = layer_cache.values[0]
            positions = torch.tensor([len(p) for p in prompts])
            logits = torch.stack(last_logits)
            new: list[list[int]] = [[] for _ in prompts]
            done = torch.zeros(rows, dtype=torch.bool)
            group = d.n_head // d.n_kv
            slots = torch.arange(capacity)
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
                x = d.embed[tokens].to(self.dtype)  # (rows, d_model)
                cos, sin = d.rotary(x.view(rows, 1, -1), positions.view(rows, 1))
                cos, sin = cos.to(self.dtype).view(rows, 1, -1), sin.to(self.dtype).view(rows, 1, -1)
                visible = (slots.view(1, -1) <= positions.view(-1, 1)).view(rows, 1, 1, capacity)
                row_index = torch.arange(rows)
                for layer, k_buf, v_buf in zip(d.model.model.layers, keys, values):
                    attn, mlp = layer.self_attn, layer.mlp
                    h = layer.input_layernorm(x)
                    q = attn.q_proj(h).view(rows, d.n_head, d.head_dim)
                    k = attn.k_proj(h).view(rows, d.n_kv, d.head_dim)
                    q = q * cos + _rotate_half(q) * sin
                    k_buf[row_index, :, :, positions] = k * cos + _rotate_half(k) * sin
                    v_buf[row_index, :, positions] = attn.v_proj(h).view(rows, d.n_kv, d.head_dim)
                    scores = torch.matmul(q.view(rows, d.n_kv, group, d.head_dim), k_buf).float()
                    scores = (scores * d.scaling).masked_fill(~visible, float("-inf"))
                    weights = torch.softmax(scores, dim=-1).to(self.dtype)
                    mixed = torch.matmul(weights, v_buf).reshape(rows, -1)
                    x = x + attn.o_proj(mixed)
                    h = layer.post_attention_layernorm(x)
                    x = x + mlp.down_proj(mlp.act_fn(mlp.gate_proj(h)) * mlp.up_proj(h))
                logits = d.model.lm_head(d.model.model.norm(x)).float()
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
