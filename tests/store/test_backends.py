"""One test suite, run against both backends: Qdrant Edge (embedded) and qdrant-client (local mode)."""

import numpy as np
import pytest

from store import CollectionMismatchError, CollectionSpec, StoredPoint, StoreError, open_store, point_id

SPEC = CollectionSpec(name="media", vector_name="tiny-32", dimension=8, model_id="tiny")


@pytest.fixture(params=["edge", "qdrant-local"])
def location(request, tmp_path):
    return str(tmp_path / "store") if request.param == "edge" else f"qdrant+path:{tmp_path / 'qdrant'}"


def points(n=20, seed=0):
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, 8)).astype(np.float32)
    return [
        StoredPoint(point_id("p", str(i)), vectors[i], {"modality": "image" if i % 2 else "text", "path": f"/d/{i}"})
        for i in range(n)
    ]


def test_search_ranks_by_cosine_and_filters(location):
    data = points()
    with open_store(location, SPEC) as store:
        store.upsert(data)
        hits = store.search(data[3].vector, k=5)
        assert hits[0].id == data[3].id and hits[0].score == pytest.approx(1.0, abs=1e-5)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        expected = sorted(
            data,
            key=lambda p: -float(p.vector @ data[3].vector / np.linalg.norm(p.vector) / np.linalg.norm(data[3].vector)),
        )
        assert [h.id for h in hits] == [p.id for p in expected[:5]]
        images = store.search(data[3].vector, k=20, filters={"modality": "image"})
        assert len(images) == 10 and all(h.payload["modality"] == "image" for h in images)


def test_upsert_is_idempotent_delete_count_scroll_retrieve(location):
    data = points()
    with open_store(location, SPEC) as store:
        store.upsert(data)
        store.upsert(data[:5])
        assert store.count() == 20 and store.count({"modality": "text"}) == 10
        store.delete([p.id for p in data[:4]])
        assert store.count() == 16
        assert sorted(p.id for p in store.scroll(batch=3)) == sorted(p.id for p in data[4:])
        (got,) = store.retrieve([data[7].id], with_vectors=True)
        assert got.payload["path"] == "/d/7"
        np.testing.assert_allclose(
            got.vector / np.linalg.norm(got.vector), data[7].vector / np.linalg.norm(data[7].vector), atol=1e-5
        )


def test_reopen_keeps_points(location):
    with open_store(location, SPEC) as store:
        store.upsert(points())
    with open_store(location, SPEC) as store:
        assert store.count() == 20


def test_other_model_or_dimension_is_refused(location):
    open_store(location, SPEC).close()
    for other in (CollectionSpec("media", "tiny-32", 16, "tiny"), CollectionSpec("media", "x", 8, "another-model")):
        with pytest.raises(
            CollectionMismatchError, match=r"vector space 'tiny', 8-d\); this client uses another model"
        ):
            open_store(location, other)
    named = CollectionSpec("named", "v", 8, "space-a", model_name="checkpoint-a")
    open_store(location, named).close()
    with pytest.raises(CollectionMismatchError, match="indexed with checkpoint-a .* Pass --model checkpoint-a"):
        open_store(location, CollectionSpec("named", "v", 8, "space-b", model_name="checkpoint-b"))


def test_bad_vectors_are_refused_and_the_store_survives(location):
    with open_store(location, SPEC) as store:
        with pytest.raises(CollectionMismatchError, match="holds 8-d"):
            store.upsert([StoredPoint(point_id("bad"), np.zeros(4), {})])
        with pytest.raises(ValueError, match="NaN"):
            store.upsert([StoredPoint(point_id("nan"), np.full(8, np.nan), {})])
        store.upsert(points(3))
        assert store.count() == 3


def test_exact_and_indexed_search_agree_on_small_sets(location):
    data = points(200, seed=1)
    with open_store(location, SPEC) as store:
        store.upsert(data)
        store.optimize()
        for query in data[:5]:
            assert [h.id for h in store.search(query.vector, 5, exact=True)] == [
                h.id for h in store.search(query.vector, 5, exact=False)
            ]


def test_embedded_store_is_one_process(tmp_path):
    with open_store(tmp_path / "store", SPEC):
        with pytest.raises(StoreError, match="open in another process"):
            open_store(tmp_path / "store", SPEC)
