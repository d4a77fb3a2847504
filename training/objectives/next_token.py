"""GRIT's generative half: the ordinary next-token loss in generation mode (causal, no mode token), on the same
weights the contrastive loss trains, so the model keeps generating. By default the batch's texts are the
generative data; rows with ``completion`` (``{"text": prompt, "completion": answer}``) train on prompt + answer."""

from __future__ import annotations

import torch.nn.functional as F

from . import Objective, register


@register("next_token")
class NextToken(Objective):
    def __init__(self, weight: float = 1.0, max_length: int = 256):
        super().__init__()
        self.weight, self.max_length = weight, max_length

    def forward(self, embedder, batch):
        texts = batch.generative or batch.texts
        tokenizer = embedder.tokenizer
        eos = tokenizer.eos_token or ""
        encoded = tokenizer(
            [t + eos for t in texts], return_tensors="pt", padding=True, truncation=True, max_length=self.max_length
        ).to(embedder.device)
        labels = encoded["input_ids"].masked_fill(encoded["attention_mask"] == 0, -100)
        logits = embedder.causal_lm(**encoded, use_cache=False).logits
        loss = F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), labels[:, 1:].flatten(), ignore_index=-100)
        return self.weight * loss, {"next_token": loss.item()}
