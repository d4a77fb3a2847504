"""A service over a tiny random multimodal model and a two-file collection, with small limits so tests reach them."""

import pytest
from fastapi.testclient import TestClient
from media_files import square

from mmembed import Client
from mmembed.service import ServiceLimits, create_app

LIMITS = ServiceLimits(
    max_request_bytes=200_000,
    max_items=8,
    max_instruction_chars=200,
    max_query_chars=500,
    max_k=20,
    max_audio_seconds=10.0,
    max_image_pixels=2_000_000,
)


@pytest.fixture
def served(make_multimodal_embedder, tmp_path):
    """(the Client, its media folder, a factory of TestClients over apps built with the given options)."""
    media = tmp_path / "media"
    media.mkdir()
    square("red").save(media / "red.png")
    (media / "note.txt").write_text("A note about red squares.")
    client = Client(make_multimodal_embedder(), store=str(tmp_path / "store"))
    client.index(media, progress=False)

    def http(**options) -> TestClient:
        options.setdefault("limits", LIMITS)
        options.setdefault("allowed_hosts", ["testserver"])  # TestClient's Host header
        return TestClient(create_app(client, **options))

    yield client, media, http
    client.close()


@pytest.fixture
def service(served):
    client, media, http = served
    return http(), media
