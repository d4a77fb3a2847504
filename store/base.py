"""The store interface every backend implements, and the records that cross it."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np


class StoreError(RuntimeError):
    """The store cannot do what was asked (in use elsewhere, missing collection, ...)."""


class CollectionMismatchError(StoreError):
    """The collection was made for another model or vector size. ``wanted``: the spec of the client that was refused
    (``None`` where the mismatch is one point's vector size)."""

    def __init__(self, message: str, wanted: CollectionSpec | None = None):
        super().__init__(message)
        self.wanted = wanted


@dataclass(frozen=True)
class CollectionSpec:
    """What a collection holds: one named vector per model space, cosine distance."""

    name: str
    vector_name: str
    dimension: int
    model_id: str  # the vector space (a hash of everything that changes vectors): what must match
    model_name: str = ""  # the checkpoint's name, for people (``mmembed-multisource-v6.1``)

    def metadata(self) -> dict:
        return {
            "mmembed": {
                "vector_name": self.vector_name,
                "dimension": self.dimension,
                "model_id": self.model_id,
                "model_name": self.model_name,
            }
        }


@dataclass
class StoredPoint:
    id: str
    vector: np.ndarray | None
    payload: dict = field(default_factory=dict)


@dataclass
class SearchHit:
    id: str
    score: float  # cosine similarity
    payload: dict
    relevance: float | None = None  # probability that the hit is relevant, where the caller's model is calibrated


INDEXED_FIELDS = {
    "modality": "keyword",
    "root": "keyword",
    "path": "keyword",
    "content_sha256": "keyword",
    "model_id": "keyword",
}


class VectorStore(abc.ABC):
    """One collection in one backend. ``filters`` are ``{payload_field: value}`` equalities (all must hold)."""

    spec: CollectionSpec
    exact_below: int = 20_000  # exact search below this many points; HNSW above

    @abc.abstractmethod
    def upsert(self, points: list[StoredPoint]) -> None: ...

    @abc.abstractmethod
    def delete(self, ids: list[str]) -> None: ...

    @abc.abstractmethod
    def search(
        self, vector: np.ndarray, k: int = 10, filters: dict | None = None, exact: bool | None = None
    ) -> list[SearchHit]: ...

    @abc.abstractmethod
    def retrieve(self, ids: list[str], with_vectors: bool = False) -> list[StoredPoint]: ...

    @abc.abstractmethod
    def scroll(self, filters: dict | None = None, batch: int = 1000) -> Iterator[StoredPoint]:
        """Every point matching ``filters`` (payload only)."""

    @abc.abstractmethod
    def count(self, filters: dict | None = None) -> int: ...

    def optimize(self) -> None:  # noqa: B027 (not abstract: a no-op is the right default)
        """Build indexes (HNSW) after a large write; a no-op where the backend does it by itself."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def check_vectors(self, points: list[StoredPoint]) -> None:
        for point in points:
            vector = np.asarray(point.vector, dtype=np.float32)
            if vector.shape != (self.spec.dimension,):
                raise CollectionMismatchError(
                    f"point {point.id}: vector of shape {vector.shape}, "
                    f"collection {self.spec.name!r} holds {self.spec.dimension}-d vectors"
                )
            if not np.isfinite(vector).all():
                raise ValueError(f"point {point.id}: vector has NaN or infinite values")


def check_spec(found: dict | None, wanted: CollectionSpec) -> None:
    """Refuse a collection made for another model or dimension, with the fix in the message."""
    if not found:
        return
    if found.get("dimension") != wanted.dimension or found.get("model_id") != wanted.model_id:
        theirs = found.get("model_name") or "a model whose name was not recorded"
        fix = (
            f"Pass --model {found['model_name']} to use it, or"
            if found.get("model_name")
            else "Use the model it was made with, or"
        )
        raise CollectionMismatchError(
            f"collection {wanted.name!r} was indexed with {theirs} (vector space {found.get('model_id')!r}, "
            f"{found.get('dimension')}-d); this client uses {wanted.model_name or 'another model'} (vector space "
            f"{wanted.model_id!r}, {wanted.dimension}-d). {fix} another --collection, or re-index into a new one.",
            wanted,
        )
