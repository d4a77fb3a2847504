"""Requests as an attacker would send them: each is a 4xx with a reason (never a 500), never touches a server path,
and its work is bounded by the service's limits."""

import base64
import json

import pytest
from media_files import png_base64, wav_base64

MALFORMED = {  # name -> (route, body, expected status)
    "image path": ("/embed", {"inputs": [{"image": "/etc/passwd"}]}, 422),
    "audio path": ("/embed", {"inputs": [{"audio": "/etc/hosts"}]}, 422),
    "path beside base64": ("/embed", {"inputs": [{"image_base64": png_base64(), "path": "/etc/passwd"}]}, 422),
    "image_base64 not a string": ("/embed", {"inputs": [{"image_base64": 123}]}, 422),
    "text not a string": ("/embed", {"inputs": [{"text": ["a"]}]}, 422),
    "image and audio in one item": (
        "/embed",
        {"inputs": [{"image_base64": png_base64(), "audio_base64": wav_base64(0.1)}]},
        422,
    ),
    "empty item": ("/embed", {"inputs": [{}]}, 422),
    "inputs not a list": ("/embed", {"inputs": "hello"}, 422),
    "inputs nested": ("/embed", {"inputs": [["hello"]]}, 422),
    "inputs empty": ("/embed", {"inputs": []}, 422),
    "inputs a number": ("/embed", {"inputs": [7]}, 422),
    "unknown field": ("/embed", {"inputs": ["a"], "device": "cuda"}, 422),
    "body null": ("/embed", None, 422),
    "instruction too long": ("/embed", {"inputs": ["a"], "instruction": "x" * 100_000}, 422),
    "instruction blank": ("/embed", {"inputs": ["a"], "instruction": "  "}, 422),
    "too many items": ("/embed", {"inputs": ["a"] * 9}, 413),
    "audio bomb (header says 20 s)": ("/embed", {"inputs": [{"audio_base64": wav_base64(20.0)}]}, 413),
    "too many pixels": ("/embed", {"inputs": [{"image_base64": png_base64(1500)}]}, 413),
    "search with nothing": ("/search", {}, 422),
    "search with two queries": ("/search", {"query": "red", "image_base64": png_base64()}, 422),
    "search k zero": ("/search", {"query": "red", "k": 0}, 422),
    "search k over the limit": ("/search", {"query": "red", "k": 10_000}, 422),
    "search k a string": ("/search", {"query": "red", "k": "ten"}, 422),
    "search unknown modality": ("/search", {"query": "red", "modality": "video"}, 422),
    "search query too long": ("/search", {"query": "red " * 1000}, 422),
    "search empty query": ("/search", {"query": "   "}, 422),
    "search bad base64": ("/search", {"image_base64": "%%%"}, 422),
    "search corrupt image": ("/search", {"image_base64": base64.b64encode(b"GIF89a-not-really").decode()}, 422),
    "search audio path": ("/search", {"audio": "/etc/hosts"}, 422),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_every_malformed_request_is_a_4xx_with_a_reason(service, name):
    http, _ = service
    route, body, status = MALFORMED[name]
    response = http.post(route, json=body)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert detail and "Traceback" not in response.text


def test_invalid_json_and_wrong_content_type_are_4xx(service):
    http, _ = service
    assert http.post("/embed", content=b"{not json", headers={"content-type": "application/json"}).status_code == 422
    assert http.post("/embed", content=b"inputs=a", headers={"content-type": "text/plain"}).status_code == 422
    assert http.post("/embed", content=b"12", headers={"content-length": "nan"}).status_code == 400


def test_a_request_naming_a_path_learns_nothing_about_the_disk(service, tmp_path):
    http, media = service
    answers = [
        http.post("/embed", json={"inputs": [{key: str(path)}]})
        for key in ("image", "audio")
        for path in (media / "red.png", tmp_path / "no-such-file.png")
    ]
    assert {a.status_code for a in answers} == {422}
    texts = {
        a.text.replace(str(media / "red.png"), "P").replace(str(tmp_path / "no-such-file.png"), "P")
        for a in answers[:2]
    }
    assert len(texts) == 1  # the same answer whether the path exists or not
    assert all("exist" not in a.text and "no such" not in a.text for a in answers)


def test_an_error_does_not_echo_a_large_input_back(service):
    http, _ = service
    response = http.post("/embed", json={"inputs": [{"text": "y" * 100_000, "colour": 1}]})
    assert response.status_code == 422 and len(response.content) < 2_000


def test_bodies_over_the_limit_are_refused_declared_or_streamed(service):
    http, _ = service
    assert http.post("/embed", json={"inputs": ["x" * 300_000]}).status_code == 413

    def chunks():  # no Content-Length: a streamed body is counted as it arrives
        yield b'{"inputs": ["'
        for _ in range(30):
            yield b"x" * 10_000
        yield b'"]}'

    response = http.post("/embed", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and "over 200000 bytes" in response.json()["detail"]


def test_limits_allow_what_fits(service):
    http, _ = service
    body = {"inputs": ["a"] * 8, "instruction": "Represent this for retrieval:"}
    assert http.post("/embed", json=body).status_code == 200
    response = http.post(
        "/embed", json={"inputs": [{"audio_base64": wav_base64(4.0)}, {"audio_base64": wav_base64(4.0)}]}
    )
    assert response.status_code == 200 and None not in response.json()["embeddings"]  # 8 s of the 10 s allowed
    too_much = http.post(
        "/embed", json={"inputs": [{"audio_base64": wav_base64(6.0)}, {"audio_base64": wav_base64(6.0)}]}
    )
    assert too_much.status_code == 413 and "12 s of audio" in too_much.json()["detail"]


def test_the_embed_reply_is_json_with_nulls_for_bad_rows(service):
    http, _ = service
    body = http.post("/embed", json={"inputs": ["ok", " "]}).json()
    assert json.loads(json.dumps(body)) == body and body["embeddings"][1] is None
