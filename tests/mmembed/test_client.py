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
from mmembed.fingerprint import space_id
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
    (root / "shapes" / "blue_circle.txt").write_text(
        "A blue circle\nfr.utf8=Un cercle bleu\n"
    )  # a caption, not a document
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
        assert hits[0].payload["relative_path"] == "shapes/red_square.png" and hits[0].score == pytest.approx(
            1, abs=1e-4
        )
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

    def walk_then_delete(root, *args, **options):
        result = real_walk(root, *args, **options)
        (media_dir / "beep.wav").unlink()
        return result

    monkeypatch.setattr(indexer, "walk_media", walk_then_delete)
    with Client(make_multimodal_embedder(), store=store_location) as client:
        report = client.index(media_dir, progress=False)
        assert report.added == 3 and report.skipped == [(str(media_dir / "beep.wav"), "vanished while indexing")]


def test_another_model_is_refused_naming_both_checkpoints(
    make_multimodal_embedder, store_location, media_dir, tmp_path
):
    first, second = make_multimodal_embedder(), make_multimodal_embedder(pooling="last")
    first.save_pretrained(tmp_path / "checkpoint-a")
    second.save_pretrained(tmp_path / "checkpoint-b")
    import mmembed

    with Client(str(tmp_path / "checkpoint-a"), store=store_location, device="cpu") as client:
        client.index(media_dir, progress=False)
    with pytest.raises(CollectionMismatchError) as refused:
        Client(str(tmp_path / "checkpoint-b"), store=store_location, device="cpu")
    message = str(refused.value)
    assert "was indexed with checkpoint-a" in message and "this client uses checkpoint-b" in message
    assert "Pass --model checkpoint-a" in message and space_id(mmembed.load(str(tmp_path / "checkpoint-a"))) in message


def test_a_crash_between_writing_a_new_version_and_deleting_the_old_converges(
    make_multimodal_embedder, store_location, media_dir, monkeypatch
):
    with Client(make_multimodal_embedder(), store=store_location) as client:
        client.index(media_dir, progress=False)
        notes = media_dir / "notes.md"
        notes.write_text("Now the notes are about triangles.")

        real_delete = client.store.delete

        def crash(ids):
            if ids:  # the old version's delete, right after the new version's upsert
                raise KeyboardInterrupt("killed between the upsert and the delete")
            real_delete(ids)

        with monkeypatch.context() as patch:
            patch.setattr(client.store, "delete", crash)
            with pytest.raises(KeyboardInterrupt):
                client.index(media_dir, progress=False)
        assert len([p for p in client.store.scroll() if p.payload["path"] == str(notes)]) == 2  # both versions
        report = client.index(media_dir, progress=False)
        assert report.repaired == 1 and report.updated == 0 and "1 repaired" in report.summary()
        points = [p for p in client.store.scroll() if p.payload["path"] == str(notes)]
        assert len(points) == 1 and "triangles" in points[0].payload["text"]
        again = client.index(media_dir, progress=False)
        assert (again.unchanged, again.repaired, again.updated) == (4, 0, 0)


def test_an_incomplete_version_is_embedded_again(make_multimodal_embedder, store_location, media_dir):
    long_text = media_dir / "long.md"
    long_text.write_text("\n\n".join(f"Paragraph {i} " + "about shapes and colours " * 40 for i in range(6)))
    with Client(make_multimodal_embedder(), store=store_location) as client:
        client.index(media_dir, progress=False)
        passages = [p for p in client.store.scroll() if p.payload["path"] == str(long_text)]
        assert len(passages) > 2
        client.store.delete([passages[1].id])  # as if a run died halfway through writing them
        report = client.index(media_dir, progress=False)
        assert report.unchanged == 4 and report.added + report.updated == 1
        assert len([p for p in client.store.scroll() if p.payload["path"] == str(long_text)]) == len(passages)


def test_a_file_turned_corrupt_loses_its_point(make_multimodal_embedder, store_location, media_dir):
    image = media_dir / "shapes" / "red_square.png"
    with Client(make_multimodal_embedder(), store=store_location) as client:
        client.index(media_dir, progress=False)
        image.write_bytes(b"\x89PNG\r\n\x1a\n but the rest is garbage")
        report = client.index(media_dir, progress=False)
        ((path, reason),) = report.skipped
        assert path == str(image) and "earlier version was removed" in reason
        assert not [p for p in client.store.scroll() if p.payload["path"] == str(image)]
        assert client.store.count() == 3


def test_hidden_files_and_the_store_itself_are_not_indexed(make_multimodal_embedder, media_dir):
    (media_dir / ".git").mkdir()
    (media_dir / ".git" / "notes.txt").write_text("a git file")
    square("green").save(media_dir / ".thumbnail.png")
    store = media_dir / "index-store"  # a store kept inside the folder it indexes
    with Client(make_multimodal_embedder(), store=str(store)) as client:
        first = client.index(media_dir, progress=False)
        assert first.added == 4 and not [
            p for p in client.store.scroll() if "/." in p.payload["path"] or p.payload["path"].startswith(str(store))
        ]
        second = client.index(media_dir, progress=False)
        assert (second.added, second.updated, second.unchanged) == (0, 0, 4)
        with_hidden = client.index(media_dir, progress=False, include_hidden=True)
        assert (
            with_hidden.added == 2 and client.store.count() == 6
        )  # .git/notes.txt and .thumbnail.png, still not the store
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            client.index(media_dir, batch_size=0, progress=False)


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
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), str(Path(__file__).parents[1])]),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_INDEXER, str(tmp_path / "model"), store, str(media_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
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
