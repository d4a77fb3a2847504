"""Indexing on a local Ray cluster (2 CPUs): the single-process contract, a lost worker, and no Ray installed."""

import os
import subprocess
import sys

import numpy as np
import pytest
import ray  # the ray extra is part of the test extra
from media_files import circle, square, write_audio

from mmembed import Client
from mmembed.ray_indexer import EmbedActor, RaySettings


@pytest.fixture(scope="module")
def local_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
    yield
    ray.shutdown()


@pytest.fixture
def model_folder(tiny_backbone, tiny_whisper, tmp_path):
    """A saved tiny model every worker can load: real packaged EfficientNet-Lite0, tiny LLM and Whisper."""
    from mmembed import Embedder

    embedder = Embedder.build(
        str(tiny_backbone),
        device="cpu",
        max_length=64,
        image_tower={"kind": "efficientnet_lite0", "num_tokens": 4},
        audio_tower={"source": str(tiny_whisper), "num_tokens": 4},
    )
    return embedder.save_pretrained(tmp_path / "model")


@pytest.fixture
def archive(tmp_path):
    root = tmp_path / "archive"
    (root / "shapes").mkdir(parents=True)
    for i, colour in enumerate(["red", "blue", "green", "yellow", "purple", "orange"]):
        (square if i % 2 else circle)(colour).save(root / "shapes" / f"{colour}.png")
    (root / "shapes" / "red.txt").write_text("A red circle\n")  # a caption, not a document
    write_audio(root / "beep.wav", seconds=0.4)
    write_audio(root / "low.wav", seconds=0.6, hz=220)
    (root / "notes.md").write_text("Red squares and blue circles are shapes. " * 60)  # several passages
    (root / "broken.png").write_bytes(b"\x89PNG not really")
    (root / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    return root


def points_of(client):
    ids = [p.id for p in client.store.scroll()]
    return {p.id: p for p in client.store.retrieve(ids, with_vectors=True)}


def test_ray_indexes_exactly_what_the_single_process_indexer_does(local_cluster, model_folder, archive, tmp_path):
    with Client(str(model_folder), store=str(tmp_path / "single"), device="cpu") as single:
        expected = single.index(archive, progress=False)
        single_points = points_of(single)
    with Client(str(model_folder), store=str(tmp_path / "ray"), device="cpu") as client:
        report = client.index(archive, progress=False, ray=RaySettings(actors=2, batch_size=3))
        assert (report.added, report.updated, report.unchanged) == (expected.added, 0, 0) == (9, 0, 0)
        assert sorted(path for path, _ in report.skipped) == sorted(path for path, _ in expected.skipped)
        reasons = dict(report.skipped)
        assert "not UTF-8" in reasons[str(archive / "latin1.txt")]
        assert "broken.png" in reasons[str(archive / "broken.png")]
        ray_points = points_of(client)
        assert set(ray_points) == set(single_points) and len(ray_points) > 9  # the text file: several passages
        for pid, point in ray_points.items():
            np.testing.assert_allclose(point.vector, single_points[pid].vector, atol=1e-4)
            assert point.payload["caption"] == single_points[pid].payload["caption"]

        (archive / "beep.wav").unlink()
        write_audio(archive / "new.wav", seconds=0.3, hz=880)
        again = client.index(archive, progress=False, ray=RaySettings(actors=1))
        assert (again.added, again.removed, again.unchanged) == (1, 1, 8)


def test_a_killed_worker_loses_no_file(local_cluster, model_folder, archive, tmp_path):
    marker = tmp_path / "killed-once"

    class DiesOnce(EmbedActor):
        def __call__(self, batch):
            if not marker.exists():
                marker.touch()
                os._exit(1)  # the worker process dies mid-run, its batch unfinished
            return super().__call__(batch)

    with Client(str(model_folder), store=str(tmp_path / "store"), device="cpu") as client:
        from mmembed.ray_indexer import index_folder_ray

        limits = client.embedder.modalities.input_limits()
        report = index_folder_ray(
            client.model_source,
            client.store,
            client.model_id,
            limits,
            archive,
            RaySettings(actors=1, batch_size=2),
            progress=False,
            actor_class=DiesOnce,
        )
        assert marker.exists() and report.added == 9
        with Client(str(model_folder), store=str(tmp_path / "single"), device="cpu") as single:
            single.index(archive, progress=False)
            assert set(points_of(client)) == set(points_of(single))  # every point, none twice


def test_the_embedder_object_cannot_travel_to_workers(make_embedder, tmp_path):
    with Client(make_embedder(), store=":memory:") as client:
        with pytest.raises(ValueError, match="create the Client with a model name or folder"):
            client.index(tmp_path, ray=True)


def test_without_ray_the_command_says_how_to_get_it(tmp_path):
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from mmembed.cli import main\n"
        f"sys.exit(main(['index', {str(tmp_path)!r}, '--ray', '--store', ':memory:']))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "pip install 'mmembed[ray]'" in run.stderr


def test_workers_get_a_local_model_folder_by_its_absolute_path(model_folder, monkeypatch):
    monkeypatch.chdir(model_folder.parent)
    with Client(model_folder.name, store=":memory:", device="cpu") as client:
        assert client.model_source == str(model_folder.resolve())
    from mmembed.client import model_source

    assert model_source("mmembed-default") == "mmembed-default"  # a name stays a name


def test_an_actor_given_the_collection_writes_its_batches_itself(model_folder, archive, tmp_path):
    """Into a Qdrant server every actor writes: the actor opens the collection from its address, commits its batch
    and returns each file's outcome (no server binary exists offline, so the actor runs here, in this process, on a
    qdrant-client local store that the driver has let go of)."""
    from mmembed.indexer import plan_index
    from mmembed.ray_indexer import _work_to_row, read_batch

    with Client(str(model_folder), store=str(tmp_path / "single"), device="cpu") as single:
        single.index(archive, progress=False)
        expected = points_of(single)
    location = "qdrant+path:" + str(tmp_path / "workers")
    with Client(str(model_folder), store=location, device="cpu") as client:
        plan = plan_index(client.store, archive)
        limits, address, model_id = client.embedder.modalities.input_limits(), client.address, client.model_id
    rows = read_batch({"work": [_work_to_row(work)["work"] for work in plan.todo]}, limits)
    actor = EmbedActor(str(model_folder), model_id, "cpu", None, store=address, root=str(plan.root))
    out = actor(rows)
    actor.store.close()
    assert sorted(out["outcome"]) == ["added"] * 9 + ["skipped"] * 2 and "vectors" not in out
    assert any("not UTF-8" in reason for reason in out["reason"])
    with Client(str(model_folder), store=location, device="cpu") as client:
        written = points_of(client)
    assert set(written) == set(expected)
    for pid, point in written.items():
        np.testing.assert_allclose(point.vector, expected[pid].vector, atol=1e-4)


def test_workers_write_only_into_a_server():
    from mmembed.ray_indexer import choose_writer
    from store import CollectionSpec, StoreAddress

    spec = CollectionSpec("media", "v", 4, "v")
    server, embedded = StoreAddress("https://qdrant.example:6333", spec), StoreAddress("/data/store", spec)
    assert choose_writer(RaySettings(), server) == "workers"
    assert choose_writer(RaySettings(), embedded) == "driver"
    assert choose_writer(RaySettings(writes="driver"), server) == "driver"
    with pytest.raises(ValueError, match="workers write only into a Qdrant server"):
        choose_writer(RaySettings(writes="workers"), embedded)
    with pytest.raises(ValueError, match="writes must be one of"):
        RaySettings(writes="everyone")
