"""Scale-out backend: qdrant-client against a Qdrant server or cluster (``url=``), or its local mode (``path=`` or
``":memory:"``, a pure-Python brute force, fine for tests and small sets). Sharding and replication are Qdrant's:
create the collection on the cluster with the shard and replica counts you want, then point mmembed at it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from qdrant_client import QdrantClient, models

from .base import INDEXED_FIELDS, CollectionSpec, SearchHit, StoredPoint, StoreError, VectorStore, check_spec


def _filter(filters: dict | None):
    if not filters:
        return None
    return models.Filter(
        must=[models.FieldCondition(key=k, match=models.MatchValue(value=v)) for k, v in filters.items()]
    )


class QdrantClientStore(VectorStore):
    def __init__(
        self, spec: CollectionSpec, url: str | None = None, path: str | None = None, api_key: str | None = None
    ):
        self.spec = spec
        self.is_local = not url  # local mode: brute force, no payload indexes, no search params
        try:
            if url:
                self.client = QdrantClient(url=url, api_key=api_key)
            else:
                self.client = (
                    QdrantClient(location=":memory:") if path in (None, ":memory:") else QdrantClient(path=str(path))
                )
        except RuntimeError as error:
            raise StoreError(f"cannot open Qdrant at {url or path}: {error}") from error
        if self.client.collection_exists(spec.name):
            info = self.client.get_collection(spec.name)
            check_spec((info.config.metadata or {}).get("mmembed"), spec)
        else:
            self.client.create_collection(
                spec.name,
                vectors_config={
                    spec.vector_name: models.VectorParams(size=spec.dimension, distance=models.Distance.COSINE)
                },
                metadata=spec.metadata(),
            )
            for name in [] if self.is_local else INDEXED_FIELDS:
                self.client.create_payload_index(spec.name, name, models.PayloadSchemaType.KEYWORD)

    def upsert(self, points: list[StoredPoint]) -> None:
        if not points:
            return
        self.check_vectors(points)
        self.client.upsert(
            self.spec.name,
            [
                models.PointStruct(
                    id=p.id,
                    vector={self.spec.vector_name: np.asarray(p.vector, dtype=np.float32).tolist()},
                    payload=p.payload,
                )
                for p in points
            ],
        )

    def delete(self, ids: list[str]) -> None:
        if ids:
            self.client.delete(self.spec.name, points_selector=models.PointIdsList(points=list(ids)))

    def search(self, vector, k=10, filters=None, exact=None) -> list[SearchHit]:
        exact = self.count() < self.exact_below if exact is None else exact
        response = self.client.query_points(
            self.spec.name,
            query=np.asarray(vector, dtype=np.float32).tolist(),
            using=self.spec.vector_name,
            limit=k,
            query_filter=_filter(filters),
            with_payload=True,
            search_params=None if self.is_local else models.SearchParams(exact=exact),
        )
        return [SearchHit(str(p.id), float(p.score), dict(p.payload or {})) for p in response.points]

    def retrieve(self, ids, with_vectors=False) -> list[StoredPoint]:
        records = self.client.retrieve(self.spec.name, list(ids), with_payload=True, with_vectors=with_vectors)
        return [
            StoredPoint(
                str(r.id),
                np.asarray(r.vector[self.spec.vector_name], dtype=np.float32) if with_vectors else None,
                dict(r.payload or {}),
            )
            for r in records
        ]

    def scroll(self, filters=None, batch=1000) -> Iterator[StoredPoint]:
        offset = None
        while True:
            records, offset = self.client.scroll(
                self.spec.name, scroll_filter=_filter(filters), limit=batch, offset=offset, with_payload=True
            )
            for record in records:
                yield StoredPoint(str(record.id), None, dict(record.payload or {}))
            if offset is None:
                return

    def count(self, filters=None) -> int:
        return self.client.count(self.spec.name, count_filter=_filter(filters), exact=True).count

    def close(self) -> None:
        if getattr(self, "client", None) is not None:
            self.client.close()
            self.client = None
