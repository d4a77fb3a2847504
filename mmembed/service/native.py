"""mmembed's own routes: /embed, /search, /status and /files/{point_id}."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from .context import ServiceContext
from .limits import RequestRefused
from .schemas import EmbedRequest, ItemError, SearchRequest, decode_base64


def native_routes(context: ServiceContext) -> APIRouter:
    router = APIRouter()
    client, limits = context.client, context.limits

    @router.post("/embed")
    def embed(request: EmbedRequest):
        """Texts and base64 media -> vectors; a bad item comes back as null with its reason, the rest is embedded."""
        limits.check_instruction(request.instruction)
        prepared = context.prepare(request.inputs, "inputs")
        embeddings = [None] * len(request.inputs)
        if prepared.items:
            vectors = context.encode(prepared, request.instruction)
            for row, position in enumerate(prepared.positions):
                if np.isfinite(vectors[row]).all():
                    embeddings[position] = vectors[row].tolist()
        errors = [{"index": i, "reason": reason} for i, reason in sorted(prepared.errors.items())]
        return {
            "model": context.model_names[0],
            "space_id": client.model_id,
            "dimension": context.embedder.dimension,
            "errors": errors,
            "embeddings": embeddings,
        }

    @router.post("/search")
    def search(request: SearchRequest):
        """One query (text, or a base64 image / audio clip) -> the nearest indexed items."""
        if request.k > limits.max_k:
            raise RequestRefused(422, f"k={request.k} is above the limit of {limits.max_k}", "k")
        if request.query is not None and len(request.query) > limits.max_query_chars:
            raise RequestRefused(
                422, f"query of {len(request.query)} characters, above the limit of {limits.max_query_chars}", "query"
            )
        try:
            image = decode_base64(request.image_base64, "image_base64") if request.image_base64 is not None else None
            audio = decode_base64(request.audio_base64, "audio_base64") if request.audio_base64 is not None else None
        except ItemError as error:
            raise RequestRefused(422, str(error)) from None
        limits.check_media(
            [(kind, data) for kind, data in (("image", image), ("audio", audio)) if data is not None], "query"
        )
        hits = context.search(
            query=request.query,
            image=image,
            audio=audio,
            modality=request.modality,
            k=request.k,
            min_relevance=request.min_relevance,
        )
        return {
            "good_match": client.good_match(hits),
            "hits": [
                {"id": h.id, "score": h.score, "relevance": h.relevance, "url": f"/files/{h.id}", **h.payload}
                for h in hits
            ],
        }

    @router.get("/status")
    def status():
        return client.status()

    @router.get("/files/{point_id}")
    def files(point_id: str):
        """The indexed file behind a hit, by point id only: no path from a request ever reaches the disk."""
        try:
            found = client.store.retrieve([str(uuid.UUID(point_id))])
        except ValueError:
            found = []
        if not found:
            raise HTTPException(404, "no indexed file with that id")
        payload = found[0].payload
        path, root = Path(payload["path"]).resolve(), Path(payload["root"]).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise HTTPException(404, "the indexed file is gone or outside its indexed folder")
        stat = path.stat()
        if stat.st_size != payload.get("size") or stat.st_mtime_ns != payload.get("mtime_ns"):
            raise HTTPException(404, "the file changed after it was indexed; re-index its folder")
        return FileResponse(path)

    return router
