"""Symmetric InfoNCE (CLIP loss) over pairs, with in-batch negatives and optional hard negatives.

The items (images, audio clips or passages) are embedded as documents; their paired texts as queries. The loss is
the mean of query->item and item->query cross-entropy over the cosine-similarity matrix divided by a temperature,
fixed or learned (as CLIP's logit scale, clamped at 100)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from mmembed.batching import collate

from . import Objective, register


@register("infonce")
class InfoNCE(Objective):
    def __init__(self, temperature: float = 0.05, learnable_temperature: bool = True, symmetric: bool = True,
                 query_instruction: str = "query", weight: float = 1.0):
        super().__init__()
        self.logit_scale = torch.nn.Parameter(torch.tensor(math.log(1 / temperature)), requires_grad=learnable_temperature)
        self.symmetric, self.query_instruction, self.weight = symmetric, query_instruction, weight

    def embed_items(self, embedder, batch) -> torch.Tensor:
        items = [(text, kind, features) for kind, features, text in batch["items"]]
        return embedder.embed_batch(collate(embedder.sequences.build(items, None), embedder.pad_id))

    def forward(self, embedder, batch):
        items = F.normalize(self.embed_items(embedder, batch), dim=-1)
        texts = batch["texts"] + batch.get("negatives", [])
        queries = F.normalize(embedder.embed_batch(embedder.tokenize(texts, self.query_instruction)), dim=-1)
        scale = self.logit_scale.exp().clamp(max=100)
        logits = scale * items @ queries.T  # (B, B + negatives): each item against every text
        target = torch.arange(items.shape[0], device=logits.device)
        loss = F.cross_entropy(logits, target)
        if self.symmetric:
            loss = (loss + F.cross_entropy(logits[:, : items.shape[0]].T, target)) / 2
        accuracy = (logits.argmax(dim=1) == target).float().mean()
        return self.weight * loss, {"infonce": loss.item(), "in_batch_accuracy": accuracy.item(), "temperature": 1 / scale.item()}
