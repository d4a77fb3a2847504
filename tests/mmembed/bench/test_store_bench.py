"""The store benchmark's machinery on small inputs (the figures come from `mmembed bench store`)."""

import numpy as np

from mmembed.bench.store_bench import bench_backend, bench_indexing, exact_top_k


def test_exact_top_k():
    vectors = np.eye(4, dtype=np.float32)
    queries = np.array([[0.9, 0.1, 0, 0]], dtype=np.float32)
    assert exact_top_k(vectors, queries, 2).tolist() == [[0, 1]]


def test_backend_benchmark_reports_perfect_recall_on_a_small_set(tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for location in (str(tmp_path / "edge"), f"qdrant+path:{tmp_path / 'local'}"):
        row = bench_backend(location, vectors, vectors[:10])
        assert row["points"] == 300 and row["recall_at_10"] == 1.0 and row["p99_ms"] >= row["p50_ms"] > 0


def test_indexing_benchmark_runs(make_multimodal_embedder):
    from mmembed import Client

    embedder = make_multimodal_embedder()
    result = bench_indexing(
        lambda location: Client(embedder, store=location), embedder, images=3, texts=3, batch_size=4, repeats=1
    )
    assert result["files"] == 6 and result["ratio"] > 0 and result["query_p50_ms"] > 0
