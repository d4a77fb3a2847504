"""Resolve a backbone source to something ``from_pretrained`` can read, and load it.

A source is, in order of lookup:
1. a packaged name from the registry (``smollm2-135m-instruct``): the weights shipped in a pip package, converted
   once into the verified cache; when the package is absent, its Hugging Face id (online users);
2. a local folder with ``config.json`` (a Hugging Face model folder), or a ``.gguf`` file / a folder with one;
3. anything else is a Hugging Face hub id, loaded by transformers with its own cache (needs the network once).
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import torch

from mmembed.weight_cache import cache_root, cached_folder, content_identity

from .gguf_convert import convert_gguf
from .registry import get_model_spec, list_models


class BackboneNotFoundError(RuntimeError):
    pass


def _packaged_gguf(spec: dict) -> Path | None:
    """The packaged GGUF file, when its package is installed. A package that ships its file in parts names the
    function that joins them (``"assemble"``; it checks the joined file's sha256): the file is joined once into the
    weight cache."""
    packaged = spec.get("packaged") or {}
    module = packaged.get("module")
    found = importlib.util.find_spec(module) if module else None
    if found is None or not found.origin:
        return None
    if packaged.get("assemble"):
        joined = cache_root() / "packaged" / packaged["files"][0]
        if not joined.is_file():
            print(f"mmembed: joining {spec['name']}'s packaged parts into {joined} (once)")
        try:
            return Path(getattr(importlib.import_module(module), packaged["assemble"])(output_path=joined))
        except (ImportError, FileNotFoundError):  # a part package is missing: as if the package were absent
            return None
    path = Path(found.origin).parent / packaged["files"][0]
    return path if path.is_file() else None


def _gguf_cache(gguf_path: Path, name: str) -> Path:
    return cached_folder(name, content_identity(gguf_path), lambda out: convert_gguf(gguf_path, out))


def resolve_backbone(source: str) -> str:
    """A local folder or hub id for ``source`` (see the module docstring); converts GGUF into the cache."""
    spec = get_model_spec(source)
    if spec is not None:
        gguf = _packaged_gguf(spec)
        if gguf is not None:
            return str(_gguf_cache(gguf, spec["name"]))
        hub_id = spec.get("hf_id")
        if hub_id:
            return hub_id
        raise BackboneNotFoundError(f"{source!r} needs its package: {spec['packaged']['install']}")
    path = Path(source).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return str(_gguf_cache(path, f"gguf-{path.stem}"))
    if path.is_dir():
        if (path / "config.json").is_file():
            return str(path)
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) == 1:
            return str(_gguf_cache(ggufs[0], f"gguf-{ggufs[0].stem}"))
        raise BackboneNotFoundError(f"{path} holds neither a config.json nor exactly one .gguf file")
    if path.suffix == ".gguf" or source.startswith((".", "/", "~")):
        raise BackboneNotFoundError(f"backbone path {source!r} does not exist")
    return source  # a Hugging Face hub id


def load_backbone(
    source: str,
    attn_implementation: str = "sdpa",
    dtype: torch.dtype = torch.float32,
    quantization: str | None = None,
    device=None,
):
    """(causal LM, tokenizer) for a backbone source; ``quantization="4bit"`` stores the linear weights in NF4 (QLoRA),
    placed on ``device`` at load time."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    location = resolve_backbone(source)
    extra = {}
    if quantization:
        from .quantization import quantization_config

        device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        compute = torch.bfloat16 if device.type == "cuda" else torch.float32
        extra = {"quantization_config": quantization_config(quantization, compute), "device_map": {"": str(device)}}
    try:
        tokenizer = AutoTokenizer.from_pretrained(location)
        model = AutoModelForCausalLM.from_pretrained(
            location, dtype=dtype, attn_implementation=attn_implementation, **extra
        )
    except OSError as error:
        raise BackboneNotFoundError(
            f"cannot load backbone {source!r} (resolved to {location!r}): {error}\n"
            f"Offline, use a local folder, a .gguf file, or a packaged name: {', '.join(list_models())}"
        ) from error
    model.eval()
    return model, tokenizer
