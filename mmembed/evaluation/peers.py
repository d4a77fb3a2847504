"""Peer models evaluated beside ours in the same run. Each peer offers the part of the Embedder interface the tasks
use (``encode(items, instruction=..., batch_size=...)``) for the modalities it covers."""
from __future__ import annotations

import numpy as np


class MiniLMPeer:
    """all-MiniLM-L6-v2 (the packaged sentence-transformers folder), mean pooling, normalised: text only."""

    name = "all-MiniLM-L6-v2"

    def encode(self, items, instruction=None, batch_size: int = 64, **_) -> np.ndarray:
        from ..bench.real_vectors import minilm_embed

        items = [items] if isinstance(items, str) else list(items)
        if not all(isinstance(item, str) for item in items):
            raise ValueError("all-MiniLM-L6-v2 embeds text only")
        return minilm_embed(items, batch_size=batch_size, device="cpu", progress=False)


PEERS = {"minilm": MiniLMPeer}
