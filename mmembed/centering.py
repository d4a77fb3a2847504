"""Centering: subtract the mean pooled vector of a reference corpus before normalising.

A decoder LLM's pooled hidden states share one dominant direction (massive activations in a few dimensions): with
SmolLM2-135M it carries ~95 % of every vector's norm and puts every pair of unrelated inputs at cosine ~0.9. That
leaves contrastive training a tiny signal to work with and makes untrained similarities nearly flat. Subtracting
the corpus mean (BERT-whitening's first step) keeps the part that tells inputs apart. The center is saved with the
model (``center.safetensors``) and applied in ``embed_batch``, so training and inference see the same vectors."""

from __future__ import annotations

import torch


@torch.no_grad()
def fit_center(
    embedder, documents: list, queries: list[str] = (), query_instruction: str = "query", batch_size: int = 32
) -> torch.Tensor:
    """Set and return ``embedder.center``: the mean un-centered vector of ``documents`` (texts or
    :class:`~mmembed.training_items.FeatureItem`, embedded without instruction) and of ``queries`` (texts, under
    ``query_instruction``), taken batch by batch (a training stage fits it on a sample of its pairs, both sides)."""
    if not documents and not queries:
        raise ValueError("fitting the center needs documents or queries")
    embedder.center, head = None, embedder.head
    embedder.head = None  # the center is taken of the pooled states, before the output head
    try:
        vectors = []
        for start in range(0, max(len(documents), len(queries)), batch_size):
            if documents[start : start + batch_size]:
                vectors.append(embedder.embed_items(list(documents[start : start + batch_size]), None))
            if queries[start : start + batch_size]:
                vectors.append(embedder.embed_texts(list(queries[start : start + batch_size]), query_instruction))
    finally:
        embedder.head = head
    embedder.center = torch.cat(vectors).mean(dim=0)
    return embedder.center
