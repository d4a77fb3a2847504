"""Vector store: one interface, two backends.

``open_store(location, spec)``: ``location`` is a folder (embedded Qdrant Edge, the default), ``qdrant+path:FOLDER``
or ``:memory:`` (qdrant-client local mode), or an ``http(s)://`` URL (a Qdrant server or cluster via qdrant-client).
Nothing here imports mmembed: the store takes vectors and payloads.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class StoreAddress:
    """Everything another process needs to open the same collection: where (a folder, ``qdrant+path:``, a server
    URL), its spec (a mismatching collection is refused) and the server's API key."""

    location: str
    spec: CollectionSpec
    api_key: str | None = None

    @property
    def is_server(self) -> bool:
        """A Qdrant server or cluster: many processes may write at once (an embedded store is one process's)."""
        return self.location.startswith(("http://", "https://"))

    def open(self) -> VectorStore:
        return open_store(self.location, self.spec, self.api_key)


__all__ = [
    "open_store",
    "StoreAddress",
    "VectorStore",
    "CollectionSpec",
    "StoredPoint",
    "SearchHit",
    "StoreError",
    "CollectionMismatchError",
    "point_id",
    "file_sha256",
]
