"""/v1/embeddings against the official ``openai`` Python client: what it sends (base64 by default) and what it expects
back, errors included."""

import base64

import numpy as np
import openai
import pytest
from media_files import png_base64

KEY = "sk-test-key"


@pytest.fixture
def openai_client(served):
    client, _, http = served
    return client, openai.OpenAI(
        base_url="http://testserver/v1", api_key=KEY, http_client=http(api_key=KEY), max_retries=0
    )


def test_the_official_client_gets_the_models_vectors(openai_client):
    client, api = openai_client
    texts = ["a red square", "a note about shapes"]
    expected = client.embedder.encode(texts)
    for encoding_format in (
        openai.NOT_GIVEN,
        "float",
        "base64",
    ):  # not given: the client asks for base64 and decodes it
        reply = api.embeddings.create(model=client.model_names[0], input=texts, encoding_format=encoding_format)
        got = np.array(
            [
                np.frombuffer(base64.b64decode(item.embedding), "<f4")
                if encoding_format == "base64"
                else item.embedding
                for item in reply.data
            ],
            dtype=np.float32,
        )
        assert [item.index for item in reply.data] == [0, 1] and reply.model == client.model_names[0]
        np.testing.assert_allclose(got, expected, atol=1e-6, rtol=0)  # the same batch: equal up to float rounding
    single = api.embeddings.create(model=client.model_id, input="a red square")  # the space id is a name too
    np.testing.assert_allclose(single.data[0].embedding, client.embedder.encode("a red square"), atol=1e-5, rtol=0)


def test_usage_counts_the_tokens_actually_embedded(openai_client):
    client, api = openai_client
    long_text = "word " * 20_000  # far past max_length (64 for the tiny model): truncated, and counted as such
    reply = api.embeddings.create(model=client.model_names[0], input=[long_text, "short"])
    counts = client.embedder.token_counts([long_text, "short"])
    assert counts[0] == client.embedder.config.max_length and reply.usage.prompt_tokens == sum(counts)
    assert reply.usage.total_tokens == reply.usage.prompt_tokens


def test_dimensions_only_the_models_own(openai_client):
    client, api = openai_client
    assert len(api.embeddings.create(model=client.model_names[0], input="a", dimensions=32).data[0].embedding) == 32
    with pytest.raises(openai.BadRequestError, match="does not support specifying dimensions"):
        api.embeddings.create(model=client.model_names[0], input="a", dimensions=8)


def test_errors_come_in_openais_shape(openai_client, served):
    client, api = openai_client
    with pytest.raises(openai.NotFoundError, match="does not exist") as missing:
        api.embeddings.create(model="text-embedding-3-small", input="a")
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError, match=r"input\[1\]: empty text"):
        api.embeddings.create(model=client.model_names[0], input=["fine", ""])
    with pytest.raises(openai.BadRequestError, match="token-id input is not supported"):
        api.embeddings.create(model=client.model_names[0], input=[[1, 2, 3]])
    with pytest.raises(openai.APIStatusError, match="above the limit of 8") as too_many:
        api.embeddings.create(model=client.model_names[0], input=["a"] * 9)
    assert too_many.value.status_code == 413
    wrong_key = openai.OpenAI(
        base_url="http://testserver/v1", api_key="sk-wrong", max_retries=0, http_client=served[2](api_key=KEY)
    )
    with pytest.raises(openai.AuthenticationError):
        wrong_key.embeddings.create(model=client.model_names[0], input="a")
    raw = served[2](api_key=KEY).post(
        "/v1/embeddings", json={"input": 5, "model": "m"}, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert raw.status_code == 400 and set(raw.json()["error"]) == {"message", "type", "param", "code"}


def test_models_are_listed(openai_client):
    client, api = openai_client
    assert [model.id for model in api.models.list()] == [client.model_names[0]]


def test_image_items_are_an_extension_of_input(openai_client, served):
    client, _ = openai_client
    http = served[2](api_key=KEY)
    body = {"model": client.model_names[0], "input": ["a red square", {"image_base64": png_base64()}]}
    reply = http.post("/v1/embeddings", json=body, headers={"Authorization": f"Bearer {KEY}"}).json()
    assert len(reply["data"]) == 2 and len(reply["data"][1]["embedding"]) == 32
    assert reply["usage"]["prompt_tokens"] == sum(
        client.embedder.token_counts(["a red square", None], media_kinds=[None, "image"])
    )
