"""What training hands the embedder: items whose media went through the frozen towers already (features cached once
per file), so a training step runs only the projectors and the LLM."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class FeatureItem:
    """One input to embed with gradients: text, and/or one media kind's tower features ``(num_tokens, F)``."""

    text: str | None = None
    kind: str | None = None  # "image" or "audio" when ``features`` is set
    features: torch.Tensor | None = None

    def __post_init__(self):
        if (self.kind is None) != (self.features is None):
            raise ValueError("a FeatureItem has both a media kind and its features, or neither")
        if self.kind is None and self.text is None:
            raise ValueError("a FeatureItem holds text, media features or both")
