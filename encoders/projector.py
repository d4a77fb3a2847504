"""LLaVA-style projector: tower features -> soft tokens in the LLM's embedding space."""

from __future__ import annotations

import torch
from torch import nn

from .config import ProjectorConfig


class Projector(nn.Module):
    def __init__(self, config: ProjectorConfig):
        super().__init__()
        self.config = config
        self.net = nn.Sequential(
            nn.Linear(config.in_dim, config.hidden_dim), nn.GELU(), nn.Linear(config.hidden_dim, config.out_dim)
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(..., in_dim) -> (..., out_dim); wider features (an image summary after the grid features) are read up to
        ``in_dim``."""
        return self.net(features[..., : self.config.in_dim])
