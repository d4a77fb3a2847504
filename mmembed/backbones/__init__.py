"""Decoder LLM backbones: the packaged registry, the verified conversion cache and the loader."""

from .loader import load_backbone, resolve_backbone
from .registry import get_model_spec, list_models

__all__ = ["load_backbone", "resolve_backbone", "get_model_spec", "list_models"]
