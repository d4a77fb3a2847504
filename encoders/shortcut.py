"""The tower shortcut: a linear map from a media item's mean-pooled tower features straight into the embedding space.

The projector's soft tokens reach the vector only through the LLM, which must learn to read them; a LiT-style
linear head on the same frozen features reaches it in one step. An item's vector blends the two (the embedder does
that, with the weight in its config); the LLM path is kept, so generation and the text side are untouched."""

from __future__ import annotations

import torch
from torch import nn


class Shortcut(nn.Module):
    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.linear = nn.Linear(in_dim, out_dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(B, num_tokens, in_dim) soft-token features, or (B, in_dim) pooled ones -> (B, out_dim)."""
        if features.dim() == 3:
            features = features.mean(dim=1)
        return self.linear(features.to(self.linear.weight.dtype))
