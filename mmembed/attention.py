"""Attention modes of the decoder in embedding mode.

Bidirectional attention in transformers 5 needs two things: ``is_causal = False`` on every attention module (sdpa and
flash read it) and an explicit 4D additive mask (eager would otherwise build a causal one); LLM2Vec patches the
attention classes to the same end. tests/mmembed/test_attention.py checks that a later token changes an earlier
state only in this mode, and that padding never leaks. A float mask is used on purpose: a bool 4D mask is *added* as
0/1 by eager attention and padding leaks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


def attention_modules(model: torch.nn.Module) -> list[torch.nn.Module]:
    return [module for module in model.modules() if hasattr(module, "is_causal")]


@contextlib.contextmanager
def bidirectional_attention(model: torch.nn.Module) -> Iterator[None]:
    """Make every attention module of ``model`` non-causal inside the block; restored on exit."""
    modules = attention_modules(model)
    saved = [module.is_causal for module in modules]
    try:
        for module in modules:
            module.is_causal = False
        yield
    finally:
        for module, value in zip(modules, saved):
            module.is_causal = value


def bidirectional_mask(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """2D padding mask (B, T) -> 4D additive mask (B, 1, T, T): every real token sees every real token."""
    keys_blocked = (attention_mask == 0)[:, None, None, :]
    mask = torch.zeros(keys_blocked.shape, dtype=dtype, device=attention_mask.device)
    mask = mask.masked_fill(keys_blocked, torch.finfo(dtype).min)
    return mask.expand(-1, 1, attention_mask.shape[1], -1)
