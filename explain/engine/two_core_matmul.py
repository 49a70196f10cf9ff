"""Matrix products that keep both CPU cores busy, in fp32, without copying a single weight.

Why this exists: generating one token multiplies one vector by every weight matrix of the model
(≈ 540 MB of fp32 weights per token for SmolLM2-135M). torch hands each of those products to MKL's
single-vector routine (sgemv), which runs on one core and streams ≈ 8 GB/s here, while the memory
can feed two cores ≈ 30 GB/s. Cut each weight matrix into its two halves of rows — a free view,
since the rows are contiguous — and multiply the vector by both halves in one `torch.bmm`: torch
runs the two halves on the two cores. Measured on the 2-core bench machine: 2–3.7× faster per
matrix for one token, and as fast or faster for a 32-token prompt.

Nothing about the arithmetic changes: every output is still one fp32 dot product of the same two
vectors, so the numbers the pages show stay fp32 (only the order of additions inside a dot product
may differ, ~1e-7 relative, tested).

The split path is opt-in per thread (`two_core_matmuls()`): the site's own paths turn it on, while a
plain call of the model — the reference in the tests, the naive side of `tools.bench` — still runs
transformers' own `nn.Linear`, so the comparison is against an independent computation.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import torch
from torch import nn

_state = threading.local()


@contextmanager
def two_core_matmuls():
    """Inside this block (this thread only), models prepared by `install` use the split products."""
    previous = getattr(_state, "on", False)
    _state.on = True
    try:
        yield
    finally:
        _state.on = previous


def enabled() -> bool:
    return getattr(_state, "on", False)


class TwoCoreLinear(nn.Linear):
    """An `nn.Linear` (same weight, same state-dict keys) whose product uses both cores when asked."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight
        n_out, n_in = weight.shape
        if not enabled() or n_out % 2 or x.dtype != weight.dtype or x.dtype != torch.float32:
            return super().forward(x)
        halves = weight.view(2, n_out // 2, n_in).transpose(1, 2)  # (2, n_in, n_out/2), no copy
        rows = x.reshape(1, -1, n_in).expand(2, -1, -1)  # the same input for both halves
        out = torch.bmm(rows, halves)  # (2, rows, n_out/2): one half per core
        out = out.transpose(0, 1).reshape(*x.shape[:-1], n_out)
        if self.bias is not None:
            out = out + self.bias
        return out


def install(model: nn.Module) -> nn.Module:
    """Turn every `nn.Linear` of `model` into a `TwoCoreLinear`, in place (weights untouched).

    Only the class changes, so tied weights (SmolLM2's output head is its embedding matrix),
    hooks, parameter names and counts stay exactly as they were.
    """
    for module in model.modules():
        if type(module) is nn.Linear:
            module.__class__ = TwoCoreLinear
    return model
