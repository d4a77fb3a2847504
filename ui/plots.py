"""The demo's figures: the collection's shared space, read back from the store."""

from __future__ import annotations

import numpy as np

from mmembed.projection import space_figure


def collection_space_figure(client, limit: int = 2000):
    """PCA of up to ``limit`` stored vectors, one colour per modality; None when the collection is empty."""
    points = list(client.store.scroll())[:limit]
    if not points:
        return None
    vectors = [p.vector for p in client.store.retrieve([p.id for p in points], with_vectors=True)]
    return space_figure(np.stack(vectors), [p.payload.get("modality", "?") for p in points])
