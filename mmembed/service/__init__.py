"""HTTP service over a :class:`~mmembed.Client` (FastAPI). ``mmembed serve`` binds 127.0.0.1 unless told otherwise.

POST /embed            {"inputs": [text | {"text"?, "image_base64" | "audio_base64"}], "instruction"?} -> vectors; a
                       bad item comes back as null with its reason, the rest is embedded
POST /search           {"query" | "image_base64" | "audio_base64", "modality"?, "k"?} -> hits with payload and file URL
GET  /status           what the collection holds
POST /v1/embeddings    OpenAI-compatible embeddings (image/audio items as an extension); GET /v1/models
GET  /files/{point_id} the indexed file behind a hit: by id only, so no path from a request ever reaches the disk

A request is hostile until proven otherwise: it carries text and base64 media only (a field naming a path is a 422
that says nothing about the disk), its size and work are bounded (:class:`ServiceLimits`), a malformed one gets a 4xx
with the reason, an API key guards it when set, and only Host headers naming this service are served.
"""

from __future__ import annotations

from .limits import ServiceLimits

__all__ = ["create_app", "ServiceLimits"]


def create_app(
    client,
    limits: ServiceLimits | None = None,
    api_key: str | None = None,
    allowed_hosts: list[str] | None = None,
    bind_host: str = "127.0.0.1",
):
    """The ASGI app over ``client`` (FastAPI is imported here, on use, so the CLI starts without it)."""
    from .app import build_app

    return build_app(client, limits, api_key, allowed_hosts, bind_host)
