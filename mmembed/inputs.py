"""What ``encode`` accepts, and turning each item into text and/or decoded media (or an error naming the item).

| item | meaning |
|---|---|
| ``str`` (or UTF-8 ``bytes``) | text, always (a string is never taken for a file path) |
| ``PIL.Image.Image`` | an image |
| ``pathlib.Path`` | a media file; its content decides image or audio, whatever the extension |
| ``(samples, sample_rate)`` | audio samples, ``(samples,)`` or ``(channels, samples)``, numpy or torch |
| ``{"image": ..., "text": ...}`` | an image (PIL, path, bytes) with text, e.g. a question about it (interleaved) |
| ``{"audio": ..., "sample_rate": sr, "text": ...}`` | audio (path, bytes, or samples with their rate), optional text |
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from encoders import MediaError, load_audio, open_image

from .data.media_files import AUDIO_SUFFIXES
from .errors import InvalidInputError
from .sequences import check_text

DICT_KEYS = {"text", "image", "audio", "sample_rate"}


@dataclass
class ParsedInput:
    text: str | None = None
    image: Image.Image | None = None
    audio: torch.Tensor | None = None  # mono 16 kHz

    @property
    def media_kind(self) -> str | None:
        return "image" if self.image is not None else "audio" if self.audio is not None else None


def _media_file(path: Path, max_pixels: int, max_seconds: float) -> ParsedInput:
    if not path.exists():
        raise MediaError(f"no such file: {path}")
    if path.is_dir():
        raise MediaError(f"{path} is a folder, not a media file")
    order = ("audio", "image") if path.suffix.lower() in AUDIO_SUFFIXES else ("image", "audio")
    reasons = []
    for kind in order:
        try:
            if kind == "image":
                return ParsedInput(image=open_image(path, max_pixels))
            return ParsedInput(audio=load_audio(path, max_seconds=max_seconds))
        except MediaError as error:
            if "empty (zero-byte)" in str(error):
                raise
            reasons.append(f"as {kind}: {error}")
    raise MediaError(f"{path.name} is neither an image nor audio that can be decoded ({'; '.join(reasons)})")


def parse_input(index: int, item, max_pixels: int = 40_000_000, max_seconds: float = 600.0) -> ParsedInput:
    try:
        if isinstance(item, (str, bytes, bytearray)) or item is None:
            return ParsedInput(text=check_text(index, item))
        if isinstance(item, Image.Image):
            return ParsedInput(image=open_image(item, max_pixels))
        if isinstance(item, Path):
            return _media_file(item, max_pixels, max_seconds)
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], (int, np.integer)):
            return ParsedInput(audio=load_audio(item[0], int(item[1]), max_seconds=max_seconds))
        if isinstance(item, (np.ndarray, torch.Tensor)):
            raise MediaError(
                "bare arrays are ambiguous: pass audio as (samples, sample_rate) "
                "or {'audio': samples, 'sample_rate': sr}"
            )
        if isinstance(item, dict):
            return _parse_dict(index, item, max_pixels, max_seconds)
        raise MediaError(f"expected text, an image, audio or a dict, got {type(item).__name__}")
    except MediaError as error:
        raise InvalidInputError(index, item, str(error)) from None


def _parse_dict(index: int, item: dict, max_pixels: int, max_seconds: float) -> ParsedInput:
    unknown = set(item) - DICT_KEYS
    if unknown:
        raise MediaError(f"unknown keys {sorted(unknown)}; use {sorted(DICT_KEYS)}")
    if "image" in item and "audio" in item:
        raise MediaError("one input holds one image or one audio clip, not both")
    parsed = ParsedInput()
    if item.get("text") is not None:
        parsed.text = check_text(index, item["text"])
    if "image" in item:
        parsed.image = open_image(item["image"], max_pixels)
    elif "audio" in item:
        parsed.audio = load_audio(item["audio"], item.get("sample_rate"), max_seconds=max_seconds)
    if parsed.text is None and parsed.media_kind is None:
        raise MediaError("the dict holds no text, image or audio")
    return parsed


def parse_inputs(
    items: list, workers: int | None = None, **limits
) -> tuple[dict[int, ParsedInput], list[InvalidInputError]]:
    """Every item parsed, ``{index: ParsedInput}``, and the failures in input order. Items that need decoding (files,
    bytes, images, samples) are decoded on a pool of ``workers`` threads (default: the CPU count, at most 8): Pillow's
    and libsndfile's decoders release the GIL, so host-side decoding no longer runs one file at a time while the
    towers wait."""

    def parse(index: int) -> ParsedInput | InvalidInputError:
        try:
            return parse_input(index, items[index], **limits)
        except InvalidInputError as failure:
            return failure

    decoding = sum(not isinstance(item, (str, bytes, bytearray)) and item is not None for item in items)
    workers = workers or min(8, os.cpu_count() or 1)
    if decoding < 2 or workers < 2:
        results = [parse(index) for index in range(len(items))]
    else:
        with ThreadPoolExecutor(min(workers, decoding), thread_name_prefix="mmembed-decode") as pool:
            results = list(pool.map(parse, range(len(items))))
    parsed = {index: result for index, result in enumerate(results) if isinstance(result, ParsedInput)}
    return parsed, [result for result in results if isinstance(result, InvalidInputError)]
