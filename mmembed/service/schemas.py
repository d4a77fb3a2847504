"""Request bodies. A request carries text and base64 media only: no field can name a path on the server, unknown
fields are refused, and types are strict (``{"image_base64": 123}`` is a 422, not a crash)."""

from __future__ import annotations

import base64
import binascii
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class MediaItem(Strict):
    """One input that is not plain text: an image or audio clip as base64 (wav, flac, ogg, png, jpeg, webp, ...),
    optionally with text (a question about the image, say), or text alone."""

    text: str | None = None
    image_base64: str | None = None
    audio_base64: str | None = None

    @model_validator(mode="after")
    def one_medium(self):
        if self.image_base64 is not None and self.audio_base64 is not None:
            raise ValueError("one item holds an image or an audio clip, not both")
        if self.text is None and self.image_base64 is None and self.audio_base64 is None:
            raise ValueError("the item holds no text, image_base64 or audio_base64")
        return self


class EmbedRequest(Strict):
    inputs: list[str | MediaItem]
    instruction: str | None = None


class SearchRequest(Strict):
    query: str | None = None
    image_base64: str | None = None
    audio_base64: str | None = None
    modality: Literal["image", "audio", "text"] | None = None
    k: int = Field(default=10, ge=1)
    min_relevance: float | None = Field(default=None, ge=0, le=1)  # drop hits less likely relevant (calibrated models)


class OpenAIEmbeddingRequest(Strict):
    """OpenAI's embeddings body. ``input`` may also hold :class:`MediaItem` objects (mmembed's extension);
    token-id arrays are OpenAI-tokenizer ids and are refused with a reason."""

    input: str | list[str | MediaItem] | list[int] | list[list[int]]
    model: str
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(default=None, ge=1)
    user: str | None = None


class ItemError(ValueError):
    """One item's content cannot be used (its reason goes back to the caller, the other items go on)."""


def decode_base64(value: str, field: str) -> bytes:
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ItemError(f"{field} is not valid base64") from None
    if not data:
        raise ItemError(f"{field} is empty")
    return data


def encode_item(item: str | MediaItem) -> tuple[object, tuple[str, bytes] | None]:
    """What ``Embedder.encode`` gets for a request item (text, or a dict of decoded bytes: never a path), and the
    (kind, bytes) of its medium for the request's media budget."""
    if isinstance(item, str):
        return item, None
    text = {"text": item.text} if item.text is not None else {}
    if item.image_base64 is not None:
        data = decode_base64(item.image_base64, "image_base64")
        return {"image": data, **text}, ("image", data)
    if item.audio_base64 is not None:
        data = decode_base64(item.audio_base64, "audio_base64")
        return {"audio": data, **text}, ("audio", data)
    return item.text, None
