"""Embedded backend: Qdrant Edge, Qdrant's own engine in-process (HNSW, payload indexes, WAL), one shard per
collection folder. The collection's spec is kept beside the shard in ``mmembed_collection.json``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import qdrant_edge as qe

from .base import INDEXED_FIELDS, CollectionSpec, SearchHit, StoredPoint, StoreError, VectorStore, check_spec

SPEC_FILE = "mmembed_collection.json"


def _filter(filters: dict | None):
    if not filters:
        return None
    return qe.Filter(must=[qe.FieldCondition(key=key, match=qe.MatchValue(value)) for key, value in filters.items()])


class EdgeStore(VectorStore):
    def __init__(self, folder: str | Path, spec: CollectionSpec):
        self.folder, self.spec = Path(folder), spec
        spec_path = self.folder / SPEC_FILE
        found = json.loads(spec_path.read_text())["mmembed"] if spec_path.is_file() else None
        check_spec(found, spec)
        config = qe.EdgeConfig(
            vectors={spec.vector_name: qe.EdgeVectorParams(size=spec.dimension, distance=qe.Distance.Cosine)}
        )
        try:
            if found:
                self.shard = qe.EdgeShard.load(str(self.folder))
            else:
                self.folder.mkdir(parents=True, exist_ok=True)
                self.shard = qe.EdgeShard.create(str(self.folder), config)
                for name in INDEXED_FIELDS:
                    self.shard.update(qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Keyword))
                spec_path.write_text(json.dumps(spec.metadata(), indent=2))
        except Exception as error:  # the Rust side raises plain exceptions
            if "WouldBlock" in str(error) or "lock" in str(error).lower():
                raise StoreError(
                    f"the store at {self.folder} is open in another process (one process per embedded store; "
                    f"use a Qdrant server for several)"
                ) from error
            raise StoreError(f"cannot open the store at {self.folder}: {error}") from error

    def upsert(self, points: list[StoredPoint]) -> None:
        if not points:
            return
        self.check_vectors(points)
        self.shard.update(
            qe.UpdateOperation.upsert_points(
                [
                    qe.Point(
                        point.id,
                        {self.spec.vector_name: np.asarray(point.vector, dtype=np.float32).tolist()},
                        point.payload,
                    )
                    for point in points
                ]
            )
        )

    def delete(self, ids: list[str]) -> None:
        if ids:
            self.shard.update(qe.UpdateOperation.delete_points(list(ids)))

    def search(self, vector, k=10, filters=None, exact=None) -> list[SearchHit]:
        exact = self.count() < self.exact_below if exact is None else exact
        hits = self.shard.query(
            qe.QueryRequest(
                limit=k,
                query=qe.Query.Nearest(np.asarray(vector, dtype=np.float32).tolist(), using=self.spec.vector_name),
                filter=_filter(filters),
                with_payload=True,
                params=qe.SearchParams(exact=exact),
            )
        )
        return [SearchHit(str(hit.id), float(hit.score), dict(hit.payload or {})) for hit in hits]

    def retrieve(self, ids, with_vectors=False) -> list[StoredPoint]:
        records = self.shard.retrieve(list(ids), with_payload=True, with_vector=with_vectors)
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
            records, offset = self.shard.scroll(
                qe.ScrollRequest(offset=offset, limit=batch, filter=_filter(filters), with_payload=True)
            )
            for record in records:
                yield StoredPoint(str(record.id), None, dict(record.payload or {}))
            if offset is None:
                return

    def count(self, filters=None) -> int:
        return self.shard.count(qe.CountRequest(filter=_filter(filters), exact=True))

    def optimize(self) -> None:
        self.shard.optimize()

    def close(self) -> None:
        if getattr(self, "shard", None) is not None:
            self.shard.flush()
            self.shard.close()
            self.shard = None
