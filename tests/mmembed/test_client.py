"""Client indexing and search against both store backends, with a tiny random multimodal model."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from media_files import circle, square, write_audio
from mmembed import Client
from store import CollectionMismatchError


@pytest.fixture(params=["edge", "qdrant-local"])
def store_location(request, tmp_path):
    return str(tmp_path / "store") if request.param == "edge" else f"qdrant+path:{tmp_path / 'qdrant'}"


@pytest.fixture
def media_dir(tmp_path):
    root = tmp_path / "media"
    (root / "shapes").mkdir(parents=True)
    square("red").save(root / "shapes" / "red_square.png")
    circle("blue").save(root / "shapes" / "blue_circle.png")
    (root / "shapes" / "blue_circle.txt").write_text("A blue circle\nfr.utf8=Un cercle bleu\n")  # a caption, not a document
    write_audio(root / "beep.wav", seconds=0.4)
    (root / "notes.md").write_text("Red squares and blue circles are shapes.")
    return root


def test_index_search_and_captions(make_multimodal_embedder, store_location, media_dir):
    with Client(make_multimodal_embedder(), store=store_location) as client:
        report = client.index(media_dir, progress=False)
        assert (report.added, report.skipped) == (4, [])
        status = client.status()
        assert status["by_modality"] == {"image": 2, "audio": 1, "text": 1} and status["roots"] == [str(media_dir)]
        hits = client.search(image=str(media_dir / "shapes" / "red_square.png"), k=4)
        assert hits[0].payload["relative_path"] == "shapes/red_square.png" and hits[0].score == pytest.approx(1, abs=1e-4)
        images = client.search("a blue circle", modality="image", k=10)
        assert {h.payload["caption"] for h in images} == {"A blue circle", "red square"}
        (note,) = client.search("shapes", modality="text")
        assert note.payload["text"].startswith("Red squares")


def test_reindex_is_idempotent_and_incremental(make_multimodal_embedder, store_location, media_dir):
    with Client(make_multimodal_embedder(), store=store_location) as client:
        client.index(media_dir, progress=False)
        again = client.index(media_dir, progress=False)
        assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 4, 0)
        old_id = client.search(image=str(media_dir / "shapes" / "red_square.png"), k=1)[0].id

        square("green").save(media_dir / "shapes" / "red_square.png")  # changed content
        (media_dir / "notes.md").unlink()  # deleted
        os.utime(media_dir / "beep.wav", ns=(1, 1))  # touched, same content
        report = client.index(media_dir, progress=False)
        assert (report.added, report.updated, report.unchanged, report.removed) == (0, 1, 2, 1)
        assert client.store.count() == 3
        new = client.search(image=str(media_dir / "shapes" / "red_square.png"), k=1)[0]
        assert new.id != old_id and new.score == pytest.approx(1, abs=1e-4)


def test_bad_files_are_skipped_with_reasons(make_multimodal_embedder, store_location, media_dir, monkeypatch):
    (media_dir / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (media_dir / "empty.wav").write_bytes(b"")
    (media_dir / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (media_dir / "loop").symlink_to(media_dir)  # a symlink loop
    (media_dir / "dangling.png").symlink_to(media_dir / "nowhere.png")
    (media_dir / "secret.md").write_text("top secret")
    real_open = open

    def guarded_open(path, *args, **kwargs):  # the OS refusing a file (root cannot be refused by chmod)
        if str(path).endswith("secret.md"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded_open)
    with Client(make_multimodal_embedder(), store=store_location) as client:
        report = client.index(media_dir, progress=False)
    reasons = dict((Path(p).name, r) for p, r in report.skipped)
    assert report.added == 4
    assert "neither an image nor audio" in reasons["broken.png"] and "zero-byte" in reasons["empty.wav"]
    assert "not UTF-8" in reasons["latin1.txt"] and "Permission denied" in reasons["secret.md"]
    assert "broken symlink" in reasons["dangling.png"]
    assert "5 skipped" in report.summary()


def test_a_file_vanishing_mid_index_is_skipped(make_multimodal_embedder, store_location, media_dir, monkeypatch):
    import mmembed.indexer as indexer

    real_walk = indexer.walk_media

    def walk_then_delete(root, *args):
        result = real_walk(root, *args)
        (media_dir / "beep.wav").unlink()
        return result

    monkeypatch.setattr(indexer, "walk_media", walk_then_delete)
    with Client(make_multimodal_embedder(), store=store_location) as client:
        report = client.index(media_dir, progress=False)
        assert report.added == 3 and report.skipped == [(str(media_dir / "beep.wav"), "vanished while indexing")]


def test_another_model_is_refused(make_multimodal_embedder, store_location, media_dir):
    with Client(make_multimodal_embedder(), store=store_location) as client:
        client.index(media_dir, progress=False)
    with pytest.raises(CollectionMismatchError, match="was indexed with model"):
        Client(make_multimodal_embedder(pooling="last"), store=store_location)


def test_searches_while_indexing(make_multimodal_embedder, tmp_path, media_dir):
    for i in range(12):
        (media_dir / f"doc{i}.txt").write_text(f"Document number {i} about shapes and colours.")
    with Client(make_multimodal_embedder(), store=str(tmp_path / "store")) as client:
        errors, results = [], []

        def searcher():
            while not done.is_set():
                try:
                    results.append(client.search("shapes", k=3))
                except Exception as error:  # noqa: BLE001 - the test reports any failure
                    errors.append(error)

        done = threading.Event()
        thread = threading.Thread(target=searcher)
        thread.start()
        client.index(media_dir, batch_size=2, progress=False)
        done.set()
        thread.join()
        assert not errors and results and client.store.count() == 16


KILLED_INDEXER = textwrap.dedent("""
    import sys, time
    import mmembed
    from tiny_models import register_tiny_open_clip
    register_tiny_open_clip()
    client = mmembed.Client(sys.argv[1], store=sys.argv[2])
    def slow(report):
        print("batch", report.added, flush=True)
        time.sleep(0.3)
    client.index(sys.argv[3], batch_size=2, progress=False, on_batch=slow)
    print("done", flush=True)
""")


def test_kill_minus_9_then_resume_loses_and_duplicates_nothing(make_multimodal_embedder, tmp_path, media_dir):
    for i in range(16):
        (media_dir / f"doc{i}.txt").write_text(f"Document number {i}.")
    model = make_multimodal_embedder()
    model.save_pretrained(tmp_path / "model")
    store = str(tmp_path / "store")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), str(Path(__file__).parents[1])])}
    process = subprocess.Popen([sys.executable, "-c", KILLED_INDEXER, str(tmp_path / "model"), store, str(media_dir)],
                               stdout=subprocess.PIPE, text=True, env=env)
    batches = 0
    for line in process.stdout:
        batches += line.startswith("batch")
        if batches == 3:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    import mmembed

    with Client(mmembed.load(str(tmp_path / "model"), device="cpu"), store=store) as client:
        assert 0 < client.store.count() < 20  # some batches landed before the kill
        report = client.index(media_dir, progress=False)
        assert report.unchanged + report.added == 20 and report.updated == 0
        assert client.store.count() == 20
        paths = [p.payload["path"] for p in client.store.scroll()]
        assert len(paths) == len(set(paths)) == 20
