"""LLM2Vec step 3: unsupervised SimCSE. The same text embedded twice under independent dropout noise forms a positive
pair; the other texts of the batch are the negatives. (Decoder LLMs such as SmolLM2 ship with zero dropout, so the
noise is dropout on the input embeddings, ``input_dropout``.)"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import Objective, register


@register("simcse")
class SimCSE(Objective):
    def __init__(self, input_dropout: float = 0.1, temperature: float = 0.05, weight: float = 1.0):
        super().__init__()
        self.input_dropout, self.temperature, self.weight = input_dropout, temperature, weight

    def forward(self, embedder, batch):
        first = F.normalize(embedder.embed_texts(batch.texts, None, input_dropout=self.input_dropout), dim=-1)
        second = F.normalize(embedder.embed_texts(batch.texts, None, input_dropout=self.input_dropout), dim=-1)
        logits = first @ second.T / self.temperature
        loss = F.cross_entropy(logits, torch.arange(len(first), device=logits.device))
        return self.weight * loss, {"simcse": loss.item()}
