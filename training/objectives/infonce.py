"""Symmetric InfoNCE (CLIP loss) over pairs, with in-batch negatives and optional hard negatives.

The items (images, audio clips or passages) are embedded as documents; their paired texts as queries. Hard negatives
(the manifest's ``negatives``: passages that look right and are not) are embedded as documents too and join the
candidates of every query. The loss is the mean of query->item and item->query cross-entropy over the cosine-similarity
matrix divided by a temperature, fixed or learned (as CLIP's logit scale, clamped at 100). Pairs that share their text
(one caption for several sounds, two voices speaking one sentence) are not each other's negatives: those cells are
masked, so a batch never teaches that a caption does not match its own twin."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import Objective, register


def duplicate_text_mask(texts: list[str], columns: int) -> torch.Tensor:
    """(B, columns) True where column j < B holds another pair with row i's text: false negatives to leave out."""
    mask = torch.zeros(len(texts), columns, dtype=torch.bool)
    for i, text in enumerate(texts):
        for j, other in enumerate(texts):
            mask[i, j] = i != j and text == other
    return mask


@register("infonce")
class InfoNCE(Objective):
    def __init__(
        self,
        temperature: float = 0.05,
        learnable_temperature: bool = True,
        symmetric: bool = True,
        query_instruction: str = "query",
        weight: float = 1.0,
        mask_duplicate_texts: bool = True,
    ):
        super().__init__()
        self.logit_scale = torch.nn.Parameter(
            torch.tensor(math.log(1 / temperature)), requires_grad=learnable_temperature
        )
        self.symmetric, self.query_instruction, self.weight = symmetric, query_instruction, weight
        self.mask_duplicate_texts = mask_duplicate_texts

    def forward(self, embedder, batch):
        texts = batch.texts
        items = F.normalize(embedder.embed_items(batch.items + batch.negatives), dim=-1)  # (B + hard negatives, D)
        queries = F.normalize(embedder.embed_texts(texts, self.query_instruction), dim=-1)
        scale = self.logit_scale.exp().clamp(max=100)
        logits = scale * queries @ items.T  # (B, B + negatives): each text against every item and hard negative
        if self.mask_duplicate_texts:
            logits = logits.masked_fill(duplicate_text_mask(texts, logits.shape[1]).to(logits.device), float("-inf"))
        target = torch.arange(len(texts), device=logits.device)
        loss = F.cross_entropy(logits, target)
        if self.symmetric:
            loss = (loss + F.cross_entropy(logits[:, : len(texts)].T, target)) / 2
        accuracy = (logits.argmax(dim=1) == target).float().mean()
        return self.weight * loss, {
            "infonce": loss.item(),
            "in_batch_accuracy": accuracy.item(),
            "temperature": 1 / scale.item(),
        }
