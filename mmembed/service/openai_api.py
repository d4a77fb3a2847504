"""OpenAI-compatible embeddings: ``POST /v1/embeddings`` and ``GET /v1/models``, so the official ``openai`` client
(and anything built on it) works against mmembed by changing its base URL.

The contract followed: ``input`` a string or a list of strings (plus mmembed's extension, objects with
``image_base64`` / ``audio_base64`` and optional ``text``); ``model`` must name the served model (else 404
``model_not_found``); ``encoding_format`` ``float`` or ``base64`` (little-endian float32, what the client decodes);
``dimensions`` only the model's own (it was not trained for shortened vectors: anything else is a 400, as OpenAI
answers for such models); a bad item fails the request with a 400 naming it; errors are ``{"error": {...}}``;
``usage.prompt_tokens`` counts the tokens actually embedded (after truncation, instruction and mode token included).
"""

from __future__ import annotations

import base64

import numpy as np
from fastapi import APIRouter, HTTPException

from .context import ServiceContext
from .limits import RequestRefused
from .schemas import OpenAIEmbeddingRequest


def openai_routes(context: ServiceContext) -> APIRouter:
    router = APIRouter(prefix="/v1")

    def model_card(name: str) -> dict:
        return {"id": name, "object": "model", "created": 0, "owned_by": "mmembed"}

    @router.get("/models")
    def models():
        return {"object": "list", "data": [model_card(context.model_names[0])]}

    @router.get("/models/{name:path}")
    def model(name: str):
        if name not in context.model_names:
            raise HTTPException(404, f"The model '{name[:100]}' does not exist")
        return model_card(context.model_names[0])

    @router.post("/embeddings")
    def embeddings(request: OpenAIEmbeddingRequest):
        if request.model not in context.model_names:
            raise RequestRefused(
                404,
                f"The model '{request.model[:100]}' does not exist; this service serves '{context.model_names[0]}'",
                "model",
            )
        dimension = context.embedder.dimension
        if request.dimensions is not None and request.dimensions != dimension:
            raise RequestRefused(
                400,
                f"This model does not support specifying dimensions: its vectors have {dimension} "
                f"dimensions and it was not trained for shortened ones",
                "dimensions",
            )
        inputs = [request.input] if isinstance(request.input, str) else request.input
        if inputs and all(isinstance(x, (int, list)) for x in inputs):
            raise RequestRefused(
                400,
                "token-id input is not supported (ids from OpenAI's tokenizer mean nothing to "
                "this model): send the text",
                "input",
            )
        prepared = context.prepare(inputs, "input")
        vectors = context.encode(prepared) if prepared.items and not prepared.errors else None
        if prepared.errors:
            reasons = "; ".join(f"input[{i}]: {reason}" for i, reason in sorted(prepared.errors.items())[:10])
            raise RequestRefused(400, f"{len(prepared.errors)} input item(s) cannot be embedded: {reasons}", "input")
        tokens = sum(context.embedder.token_counts(prepared.texts, media_kinds=prepared.kinds))
        data = [
            {"object": "embedding", "index": i, "embedding": _encoded(vector, request.encoding_format)}
            for i, vector in enumerate(vectors)
        ]
        return {
            "object": "list",
            "data": data,
            "model": context.model_names[0],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    return router


def _encoded(vector: np.ndarray, encoding_format: str):
    if encoding_format == "base64":
        return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")
    return vector.tolist()
