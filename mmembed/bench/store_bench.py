"""Store benchmarks: search latency and recall@10 of Qdrant Edge vs qdrant-client local mode on real embeddings,
indexing throughput against the encoder-bound limit, and text-query end-to-end latency, all in one run."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from store import CollectionSpec, StoredPoint, open_store, point_id

from .media_throughput import synthetic_images
from .timing import best_of


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    scores = queries @ vectors.T
    return np.argsort(-scores, axis=1)[:, :k]


def percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(np.array(samples) * 1000, q))


def bench_backend(location: str, vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> dict:
    spec = CollectionSpec("bench", "minilm", vectors.shape[1], "all-MiniLM-L6-v2")
    ids = [point_id("bench", str(i)) for i in range(len(vectors))]
    position = {pid: i for i, pid in enumerate(ids)}
    truth = exact_top_k(vectors, queries, k)
    with open_store(location, spec) as store:
        start = time.perf_counter()
        for s in range(0, len(vectors), 2000):
            store.upsert(
                [StoredPoint(ids[i], vectors[i], {"modality": "text"}) for i in range(s, min(s + 2000, len(vectors)))]
            )
        store.optimize()
        build_s = time.perf_counter() - start
        latencies, recalls = [], []
        for query, expected in zip(queries, truth):
            start = time.perf_counter()
            hits = store.search(query, k=k, exact=False)
            latencies.append(time.perf_counter() - start)
            recalls.append(len({position[h.id] for h in hits} & set(expected.tolist())) / k)
    return {
        "points": len(vectors),
        "build_s": build_s,
        "p50_ms": percentile_ms(latencies, 50),
        "p99_ms": percentile_ms(latencies, 99),
        "recall_at_10": float(np.mean(recalls)),
    }


def bench_search(vectors: np.ndarray, queries: np.ndarray, sizes: list[int], local_queries: int = 50) -> list[dict]:
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            rows.append({"backend": "qdrant-edge", **bench_backend(str(Path(tmp) / "edge"), vectors[:size], queries)})
            rows.append(
                {
                    "backend": "qdrant-client local",
                    **bench_backend(f"qdrant+path:{Path(tmp) / 'local'}", vectors[:size], queries[:local_queries]),
                }
            )
    return rows


def bench_indexing(
    client_factory, embedder, images: int = 24, texts: int = 24, batch_size: int = 16, repeats: int = 2
) -> dict:
    """client.index(folder) on a fresh store vs embedder.encode() of the same files: the encoder-bound limit."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "media"
        folder.mkdir()
        for i, image in enumerate(synthetic_images(images)):
            image.save(folder / f"image{i}.png")
        for i in range(texts):
            (folder / f"doc{i}.txt").write_text(
                f"Document {i}: a short note about shapes, colours and sounds, number {i}."
            )
        files = sorted(folder.iterdir(), key=lambda p: p.name)
        inputs = [p if p.suffix == ".png" else p.read_text() for p in files]
        encode_s = best_of(lambda: embedder.encode(inputs, batch_size=batch_size, show_progress_bar=False), repeats)
        runs = []
        for attempt in range(repeats + 1):
            with client_factory(str(Path(tmp) / f"store{attempt}")) as client:
                start = time.perf_counter()
                client.index(folder, batch_size=batch_size, progress=False)
                runs.append(time.perf_counter() - start)
        index_s = min(runs[1:])
        with client_factory(str(Path(tmp) / "store0")) as client:
            queries = [
                "shapes and colours",
                "a note about sounds",
                "red circle",
                "document number seven",
                "blue square",
            ]
            latencies = []
            for query in queries * 4:
                start = time.perf_counter()
                client.search(query, k=10)
                latencies.append(time.perf_counter() - start)
    return {
        "files": len(files),
        "encode_s": encode_s,
        "index_s": index_s,
        "ratio": encode_s / index_s,
        "query_p50_ms": percentile_ms(latencies, 50),
    }
