"""The HTTP service's routes, in-process (FastAPI's TestClient) and as a real `mmembed serve` process on 127.0.0.1."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from media_files import png_base64
from net import free_port


def test_embed_keeps_good_items_and_names_bad_ones(service):
    http, _ = service
    corrupt = {"image_base64": "aGVsbG8="}  # valid base64 of b"hello": not an image
    response = http.post(
        "/embed",
        json={
            "inputs": [
                "hello",
                {"image_base64": png_base64()},
                "",
                corrupt,
                {"audio_base64": "%%%"},
                {"text": "a question", "image_base64": png_base64()},
            ]
        },
    )
    body = response.json()
    assert response.status_code == 200 and body["dimension"] == 32 and "/" not in body["model"]  # no server path
    assert [e is None for e in body["embeddings"]] == [False, False, True, True, True, False]
    reasons = {e["index"]: e["reason"] for e in body["errors"]}
    assert "empty text" in reasons[2] and "not an image" in reasons[3] and "not valid base64" in reasons[4]


def test_search_status_and_files(service):
    http, media = service
    hits = http.post("/search", json={"image_base64": png_base64(), "k": 2}).json()["hits"]
    assert hits[0]["relative_path"] == "red.png" and hits[0]["score"] == pytest.approx(1, abs=1e-4)
    served = http.get(hits[0]["url"])
    assert served.status_code == 200 and served.content == (media / "red.png").read_bytes()
    assert http.get("/status").json()["by_modality"] == {"image": 1, "audio": 0, "text": 1}
    assert (
        http.post("/search", json={"query": "red", "modality": "text"}).json()["hits"][0]["relative_path"] == "note.txt"
    )
    assert http.post("/search", json={}).status_code == 422


@pytest.mark.parametrize("attempt", ["..%2F..%2Fetc%2Fpasswd", "not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_files_only_by_indexed_id(service, attempt):
    http, _ = service
    assert http.get(f"/files/{attempt}").status_code == 404


def test_a_file_changed_since_indexing_is_not_served(service):
    http, media = service
    url = http.post("/search", json={"image_base64": png_base64(), "k": 1}).json()["hits"][0]["url"]
    (media / "red.png").write_bytes(b"now something else entirely")
    response = http.get(url)
    assert response.status_code == 404 and "changed after it was indexed" in response.json()["detail"]


def listening_addresses(port: int) -> set[str]:
    """IPv4 addresses listening on ``port``, read from /proc/net/tcp (state 0A = LISTEN)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def test_serve_binds_loopback_and_answers(tiny_backbone, tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mmembed",
            "serve",
            "--model",
            str(tiny_backbone),
            "--device",
            "cpu",
            "--store",
            str(tmp_path / "store"),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as response:
                    status = json.loads(response.read())
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("the service did not answer")
        assert status["points"] == 0
        assert listening_addresses(port) == {"127.0.0.1"}
    finally:
        process.terminate()
        process.wait(timeout=30)
