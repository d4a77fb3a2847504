"""Centering: subtract the mean pooled vector of a reference corpus before normalising.

A decoder LLM's pooled hidden states share one dominant direction (massive activations in a few dimensions): with
SmolLM2-135M it carries ~95 % of every vector's norm and puts every pair of unrelated inputs at cosine ~0.9. That
leaves contrastive training a tiny signal to work with and makes untrained similarities nearly flat. Subtracting
the corpus mean (BERT-whitening's first step) keeps the part that tells inputs apart. The center is saved with the
model (``center.safetensors``) and applied in ``embed_batch``, so training and inference see the same vectors."""
from __future__ import annotations

import torch


@torch.no_grad()
def fit_center(embedder, inputs: list, instruction=None, batch_size: int = 32) -> torch.Tensor:
    """Set and return ``embedder.center`` as the mean un-normalised vector of ``inputs`` (texts, media, dicts)."""
    embedder.center = None
    vectors = embedder.encode(inputs, batch_size=batch_size, instruction=instruction, normalize=False,
                              convert_to_tensor=True, on_error="nan", show_progress_bar=False)
    vectors = vectors[torch.isfinite(vectors).all(dim=1)]
    if len(vectors) == 0:
        raise ValueError("no input could be embedded to fit the center")
    embedder.center = vectors.mean(dim=0).to(embedder.device)
    return embedder.center
