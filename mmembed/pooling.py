"""Pooling of token hidden states into one vector per sequence.

``pool_mask`` marks the tokens a mean may cover (the content and the ``<|embed|>`` mode token, never the
instruction or padding); ``last_index`` is the position of the mode token, the last real token of each row.
"""

from __future__ import annotations

import torch


def pool(hidden: torch.Tensor, pool_mask: torch.Tensor, last_index: torch.Tensor, mode: str) -> torch.Tensor:
    """hidden (B, T, D), pool_mask (B, T) in {0, 1}, last_index (B,) -> (B, D)."""
    if mode == "last":
        rows = torch.arange(hidden.shape[0], device=hidden.device)
        return hidden[rows, last_index]
    weights = pool_mask.to(hidden.dtype)
    if mode == "weighted_mean":
        # SGPT position weighting: the k-th pooled token weighs k, so later tokens, which have seen more, count more.
        weights = torch.cumsum(weights, dim=1) * weights
    elif mode != "mean":
        raise ValueError(f"unknown pooling mode {mode!r}")
    total = weights.sum(dim=1, keepdim=True).clamp_min(1e-9)
    return torch.einsum("btd,bt->bd", hidden, weights) / total
