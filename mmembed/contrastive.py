"""The symmetric contrastive (CLIP) loss of paired vectors, shared by every fit of linear maps between spaces: the LiT
peer's heads, the final shortcut and the output head's translation anchors."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def symmetric_clip_loss(
    first: torch.Tensor, second: torch.Tensor, scale: torch.Tensor | float, same: torch.Tensor | None = None
) -> torch.Tensor:
    """Row i of ``first`` finds row i of ``second`` among the batch's rows and the other way round, at logit scale
    ``scale`` (inverse temperature); the mean of both directions' cross-entropy. ``first`` and ``second`` are (B, D)
    unit vectors; ``same`` is an optional (B, B) mask, True where another row is also a right answer (two items with
    one caption), taken out of both directions."""
    logits = scale * first @ second.T
    if same is not None:
        logits = logits.masked_fill(same, -1e4)
    target = torch.arange(len(logits), device=logits.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def shared_targets(keys: torch.Tensor) -> torch.Tensor:
    """(B,) integer keys (a caption's index) -> the (B, B) mask of ``symmetric_clip_loss``: True where two different
    rows share a key."""
    return (keys[:, None] == keys[None, :]).fill_diagonal_(False)
