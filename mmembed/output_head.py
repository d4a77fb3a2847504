"""The output head: one linear map (D x D, no bias) on every pooled, centered vector before it is normalised, the
Dense module at the end of a sentence-transformers pipeline (Transformer -> Pooling -> Dense -> Normalize).

It is fitted after training, on frozen vectors (``mmembed fit-shortcut --head``): the LLM's space tells texts
apart well but spreads its variance over directions no media tower can predict; the head re-weights them so that
captions land where the towers' shortcuts can reach, LiT's text head inside one space (every text, every LLM-path
media vector and every transcript passes through it, so the space stays one). It starts at the identity and a
self-distillation term keeps text-to-text neighbourhoods (training/preserve_texts.py).

Without bias it commutes with scaling, so ``normalize(H v) == normalize(H normalize(v))``: it may be fitted on unit
vectors and applied to the un-normalised ones ``encode(normalize=False)`` returns."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

HEAD_FILE = "output_head.safetensors"


def apply_head(vectors: torch.Tensor, head: torch.Tensor | None) -> torch.Tensor:
    """(..., D) vectors -> (..., D) through the head, or unchanged without one."""
    return vectors if head is None else vectors @ head.to(vectors.device, vectors.dtype).T


def through_head(vectors: torch.Tensor, head: torch.Tensor | None) -> torch.Tensor:
    """Unit vectors -> unit vectors through the head (as ``encode`` would give them), unchanged without one."""
    return vectors if head is None else F.normalize(apply_head(vectors, head), dim=-1)


def check_head(head: torch.Tensor, dimension: int, where: str) -> torch.Tensor:
    if head.shape != (dimension, dimension):
        raise ValueError(f"{where}: the output head is {tuple(head.shape)}, the model's vectors {dimension}-d")
    if not torch.isfinite(head).all():
        raise ValueError(f"{where}: the output head holds NaN or infinite weights")
    return head


def save_head(head: torch.Tensor, folder: Path) -> None:
    save_file({"head": head.detach().float().cpu().contiguous()}, str(folder / HEAD_FILE))


def load_head(folder: Path, dimension: int) -> torch.Tensor | None:
    path = folder / HEAD_FILE
    if not path.is_file():
        return None
    return check_head(load_file(str(path))["head"], dimension, str(path))
