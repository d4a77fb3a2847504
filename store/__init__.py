"""Vector store: one interface, two backends.

``open_store(location, spec)``: ``location`` is a folder (embedded Qdrant Edge, the default), ``qdrant+path:FOLDER``
or ``:memory:`` (qdrant-client local mode), or an ``http(s)://`` URL (a Qdrant server or cluster via qdrant-client).
Nothing here imports mmembed: the store takes vectors and payloads.
"""

from __future__ import annotations

from pathlib import Path

from .base import CollectionMismatchError, CollectionSpec, SearchHit, StoredPoint, StoreError, VectorStore
from .ids import file_sha256, point_id


def open_store(location: str | Path, spec: CollectionSpec, api_key: str | None = None) -> VectorStore:
    location = str(location)
    if location.startswith(("http://", "https://")):
        from .qdrant import QdrantClientStore

        return QdrantClientStore(spec, url=location, api_key=api_key)
    if location == ":memory:" or location.startswith("qdrant+path:"):
        from .qdrant import QdrantClientStore

        return QdrantClientStore(spec, path=location.removeprefix("qdrant+path:"))
    from .edge import EdgeStore

    return EdgeStore(Path(location).expanduser() / spec.name, spec)


__all__ = [
    "open_store",
    "VectorStore",
    "CollectionSpec",
    "StoredPoint",
    "SearchHit",
    "StoreError",
    "CollectionMismatchError",
    "point_id",
    "file_sha256",
]
