"""mmembed: one decoder LLM that embeds text, images and audio into one space, and still generates text."""

from __future__ import annotations

from pathlib import Path

from .checkpoints import DEFAULT_MODEL
from .config import CONFIG_NAME, EmbedderConfig
from .embedder import Embedder
from .errors import InvalidBatchError, InvalidInputError
from .sequences import TruncationWarning

__version__ = "0.1.0"


def load(
    name_or_path: str = DEFAULT_MODEL, device=None, dtype=None, quantization: str | None = None, **config_overrides
) -> Embedder:
    """An embedder from a saved mmembed folder, or a fresh one on a backbone (packaged name, folder, .gguf, hub id).

    dtype: torch dtype or its name (``"bfloat16"`` on a GPU halves memory); float32 by default.
    quantization: ``"4bit"`` loads a new backbone in NF4 (QLoRA training; needs bitsandbytes).
    """
    import torch

    from .checkpoints import shipped_checkpoint

    dtype = getattr(torch, dtype) if isinstance(dtype, str) else (dtype or torch.float32)
    name_or_path = str(shipped_checkpoint(name_or_path) or name_or_path)
    if (Path(name_or_path).expanduser() / CONFIG_NAME).is_file():
        if config_overrides or quantization:
            raise ValueError(
                "config overrides and quantization apply to new embedders only (a backbone source), "
                f"not to the saved folder {name_or_path}"
            )
        return Embedder.from_pretrained(Path(name_or_path).expanduser(), device=device, dtype=dtype)
    return Embedder.build(name_or_path, device=device, dtype=dtype, quantization=quantization, **config_overrides)


def __getattr__(name: str):
    if name == "Client":  # imported on use: the client pulls in the store
        from .client import Client

        return Client
    raise AttributeError(name)


__all__ = [
    "Client",
    "Embedder",
    "EmbedderConfig",
    "InvalidBatchError",
    "InvalidInputError",
    "TruncationWarning",
    "load",
    "DEFAULT_MODEL",
]
