"""MoEE: training-free embeddings from a Mixture-of-Experts LLM (Li & Zhou, "Your Mixture-of-Experts LLM Is Secretly
an Embedding Model For Free").

Two views of each input: the pooled hidden state (HS) and the routing weights (RW): per MoE layer, the softmax over
experts of the router logits, pooled over the same tokens as HS, concatenated over layers. Routing is more robust
to prompt wording, HS to meaning; their similarities add: ``sim = cos(HS) + alpha * cos(RW)``.
Works with any transformers MoE decoder that returns ``router_logits`` (Qwen2-MoE, OLMoE, Mixtral, ...)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .pooling import pool


@torch.no_grad()
def moee_embed(
    embedder, texts: list[str], instruction: str | None = None, batch_size: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """(HS (N, D), RW (N, layers x experts)), both L2-normalised, in input order."""
    hs, rw = [], []
    for start in range(0, len(texts), batch_size):
        batch = embedder.tokenize(texts[start : start + batch_size], instruction).to(embedder.device)
        output = embedder.decoder(
            input_ids=batch.input_ids, attention_mask=batch.attention_mask, use_cache=False, output_router_logits=True
        )
        if not getattr(output, "router_logits", None):
            raise ValueError(
                f"{embedder.config.backbone!r} returns no router logits: MoEE needs a Mixture-of-Experts LLM"
            )
        shape = batch.input_ids.shape
        routes = [torch.softmax(logits.float(), dim=-1).reshape(*shape, -1) for logits in output.router_logits]
        mode = embedder.config.pooling
        hs.append(embedder.pool_states(output.last_hidden_state, batch))
        rw.append(torch.cat([pool(r, batch.pool_mask, batch.last_index, mode) for r in routes], dim=-1))
    return (F.normalize(torch.cat(hs), dim=-1).cpu().numpy(), F.normalize(torch.cat(rw), dim=-1).cpu().numpy())


def moee_similarity(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], alpha: float = 1.0
) -> np.ndarray:
    """cos(HS) + alpha * cos(RW) between every row of ``a`` and every row of ``b`` (outputs of :func:`moee_embed`)."""
    return a[0] @ b[0].T + alpha * (a[1] @ b[1].T)
