"""LLM2Vec step 2: masked next-token prediction (MNTP) with bidirectional attention.

A fraction of the content tokens is replaced by a mask token; the model, attending both ways, predicts each masked
token from the hidden state one position *earlier* (so the LM head keeps its next-token role)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import Objective, register


@register("mntp")
class MNTP(Objective):
    def __init__(self, mask_fraction: float = 0.2, weight: float = 1.0, seed: int = 0):
        super().__init__()
        self.mask_fraction, self.weight = mask_fraction, weight
        self.generator = torch.Generator().manual_seed(seed)

    def forward(self, embedder, batch):
        tokens = embedder.tokenize(batch.texts, None).to(embedder.device)
        content = embedder.content_mask(tokens)
        content[:, 0] = False  # the first token has no earlier position to predict it from
        chosen = (torch.rand(content.shape, generator=self.generator) < self.mask_fraction).to(content.device) & content
        if not chosen.any():
            chosen = content & (torch.cumsum(content, 1) == 1)  # at least one per row
        hidden = embedder.token_states(embedder.mask_tokens(tokens, chosen), attention="bidirectional")
        logits = embedder.causal_lm.get_output_embeddings()(hidden[:, :-1][chosen[:, 1:]])
        loss = F.cross_entropy(logits.float(), tokens.input_ids[chosen])
        return self.weight * loss, {"mntp": loss.item()}
