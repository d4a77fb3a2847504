"""Perplexity of the model in generation mode on held-out text: shows whether training kept generation (GRIT)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


@torch.no_grad()
def perplexity(embedder, texts: list[str], max_length: int = 512, batch_size: int = 8) -> float:
    """exp(token-weighted mean next-token loss) over ``texts`` (each ends with EOS), generation mode, causal."""
    tokenizer, total_loss, total_tokens = embedder.tokenizer, 0.0, 0
    eos = tokenizer.eos_token or ""
    for start in range(0, len(texts), batch_size):
        encoded = tokenizer(
            [t + eos for t in texts[start : start + batch_size]],
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=max_length,
        ).to(embedder.device)
        labels = encoded["input_ids"].masked_fill(encoded["attention_mask"] == 0, -100)[:, 1:]
        with embedder.generation_mode() as model:
            logits = model(**encoded, use_cache=False).logits[:, :-1]
        total_loss += F.cross_entropy(
            logits.flatten(0, 1).float(), labels.flatten(), ignore_index=-100, reduction="sum"
        ).item()
        total_tokens += int((labels != -100).sum())
    return math.exp(total_loss / max(total_tokens, 1))
