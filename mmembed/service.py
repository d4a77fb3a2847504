"""HTTP service over a :class:`~mmembed.Client` (FastAPI). Binds 127.0.0.1 unless told otherwise.

POST /embed            {"inputs": [text | {"image_base64"} | {"audio_base64"}], "instruction"?} -> vectors; bad items
                       come back as null with their reason, the rest is embedded
POST /search           {"query" | "image_base64" | "audio_base64", "modality"?, "k"?} -> hits with payload and file URL
GET  /status           what the collection holds
POST /v1/embeddings    OpenAI-compatible text embeddings
GET  /files/{point_id} the indexed file behind a hit: by id only, so no path from a request ever reaches the disk
"""
from __future__ import annotations

import base64
import binascii
import uuid
from pathlib import Path

import numpy as np
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field


class EmbedRequest(BaseModel):
    inputs: list[str | dict]
    instruction: str | None = None


class SearchRequest(BaseModel):
    query: str | None = None
    image_base64: str | None = None
    audio_base64: str | None = None
    modality: str | None = None
    k: int = Field(default=10, ge=1, le=1000)


class OpenAIEmbeddingRequest(BaseModel):
    input: str | list[str]
    model: str | None = None
    encoding_format: str | None = "float"


def _decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(422, f"{what} is not valid base64") from None


def _item(raw):
    if isinstance(raw, str):
        return raw
    if "image_base64" in raw:
        return {"image": _decode(raw["image_base64"], "image_base64"), **({"text": raw["text"]} if raw.get("text") else {})}
    if "audio_base64" in raw:
        return {"audio": _decode(raw["audio_base64"], "audio_base64"), **({"text": raw["text"]} if raw.get("text") else {})}
    return raw  # other dicts are checked (and refused with a reason) by encode


class BodyLimit:
    """ASGI middleware: refuse request bodies above ``limit`` bytes, declared or streamed."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and int(declared) > self.limit:
            return await JSONResponse({"detail": f"request body over {self.limit} bytes"}, 413)(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, f"request body over {self.limit} bytes")
            return message

        return await self.app(scope, limited, send)


def create_app(client, max_request_bytes: int = 16 * 1024 * 1024) -> FastAPI:
    app = FastAPI(title="mmembed", description="Multimodal embeddings and cross-modal search with one LLM.")
    embedder = client.embedder

    @app.post("/embed")
    def embed(request: EmbedRequest):
        errors = []
        items = [_item(raw) for raw in request.inputs]
        vectors = embedder.encode(items, instruction=request.instruction,
                                  on_error=lambda f: errors.append({"index": f.index, "reason": f.reason}))
        return {"model": client.model_id, "dimension": embedder.dimension, "errors": errors,
                "embeddings": [v.tolist() if np.isfinite(v).all() else None for v in vectors]}

    @app.post("/search")
    def search(request: SearchRequest):
        image = _decode(request.image_base64, "image_base64") if request.image_base64 else None
        audio = _decode(request.audio_base64, "audio_base64") if request.audio_base64 else None
        try:
            vector = client.embed_query(request.query, image=image, audio=audio)
        except ValueError as error:
            raise HTTPException(422, str(error)) from None
        hits = client.store.search(vector, k=request.k, filters={"modality": request.modality} if request.modality else None)
        return {"hits": [{"id": h.id, "score": h.score, "url": f"/files/{h.id}", **h.payload} for h in hits]}

    @app.get("/status")
    def status():
        return client.status()

    @app.post("/v1/embeddings")
    def openai_embeddings(request: OpenAIEmbeddingRequest):
        texts = [request.input] if isinstance(request.input, str) else request.input
        errors = []
        vectors = embedder.encode(texts, on_error=lambda f: errors.append(str(f)))
        if errors:
            raise HTTPException(400, "; ".join(errors))
        tokens = sum(len(embedder.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)
        return {"object": "list", "model": request.model or client.model_id, "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                "data": [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]}

    @app.get("/files/{point_id}")
    def files(point_id: str):
        try:
            found = client.store.retrieve([str(uuid.UUID(point_id))])
        except ValueError:
            found = []
        if not found:
            raise HTTPException(404, "no indexed file with that id")
        path, root = Path(found[0].payload["path"]).resolve(), Path(found[0].payload["root"]).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise HTTPException(404, "the indexed file is gone or outside its indexed folder")
        return FileResponse(path)

    return BodyLimit(app, max_request_bytes)
