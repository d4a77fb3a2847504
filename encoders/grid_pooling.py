"""Parameter-free pooling of tower outputs to a fixed number of soft tokens.

Images: a (h x w) patch grid is average-pooled to a (s x s) grid, s = sqrt(num_tokens), row-major.
Audio: T frames are average-pooled to num_tokens segments in time order.
Pooling before the projector keeps the projector small and lets training cache (num_tokens, F) features.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pool_grid(tokens: torch.Tensor, grid: tuple[int, int], num_tokens: int) -> torch.Tensor:
    """(B, h*w, F) -> (B, num_tokens, F)."""
    side = round(num_tokens**0.5)
    batch, count, dim = tokens.shape
    if count != grid[0] * grid[1]:
        raise ValueError(f"{count} tokens do not form a {grid[0]}x{grid[1]} grid")
    maps = tokens.transpose(1, 2).reshape(batch, dim, grid[0], grid[1])
    pooled = F.adaptive_avg_pool2d(maps, (side, side))
    return pooled.flatten(2).transpose(1, 2)


def pool_frames(frames: torch.Tensor, num_tokens: int) -> torch.Tensor:
    """(T, F) -> (num_tokens, F); T < num_tokens repeats frames (adaptive pooling upsamples)."""
    return F.adaptive_avg_pool1d(frames.T.unsqueeze(0), num_tokens)[0].T
