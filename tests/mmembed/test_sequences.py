"""Sequence layout, truncation and bad text inputs."""

import numpy as np
import pytest

from mmembed import InvalidBatchError, TruncationWarning
from mmembed.sequences import check_text


def test_layout_is_instruction_content_mode_token(make_embedder):
    embedder = make_embedder(instructions={"query": "Find it", "document": ""})
    tok = embedder.tokenizer
    batch = embedder.tokenize(["A cat sits on the mat."], instruction="query")
    ids = batch.input_ids[0].tolist()
    instruction_ids = tok("Find it\n", add_special_tokens=False)["input_ids"]
    content_ids = tok("A cat sits on the mat.", add_special_tokens=False)["input_ids"]
    assert ids == instruction_ids + content_ids + [embedder.embed_token_id]
    assert batch.pool_mask[0].tolist() == [0] * len(instruction_ids) + [1] * (len(content_ids) + 1)
    assert tok.convert_ids_to_tokens(embedder.embed_token_id) == "<|embed|>"


def test_instruction_changes_the_vector_and_is_excluded_from_mean(make_embedder):
    embedder = make_embedder(instructions={"query": "Find it", "document": ""})
    plain = embedder.encode("A cat sits on the mat.")
    query = embedder.encode("A cat sits on the mat.", instruction="query")
    assert not np.allclose(plain, query)  # the content tokens attended to the instruction


def test_long_text_is_truncated_with_a_warning_and_keeps_the_mode_token(make_embedder):
    embedder = make_embedder(max_length=32)
    long_text = "cat " * 1_000_000
    with pytest.warns(TruncationWarning, match=r"#1"):
        vectors = embedder.encode(["A cat.", long_text])
    assert np.isfinite(vectors).all()
    batch = embedder.tokenize([long_text])
    assert batch.input_ids.shape[1] == 32
    assert batch.input_ids[0, -1].item() == embedder.embed_token_id


@pytest.mark.parametrize(
    "item,reason",
    [
        ("", "empty text"),
        ("   \n", "empty text"),
        (None, "got None"),
        (42, "got int"),
        (b"\xff\xfeabc", "not valid UTF-8"),
        ("bad \ud800 surrogate", "not valid Unicode"),
    ],
)
def test_bad_items_are_named_and_the_rest_survives(make_embedder, item, reason):
    embedder = make_embedder()
    good = ["A cat sits on the mat.", "Stock markets fell sharply today."]
    with pytest.raises(InvalidBatchError, match=rf"input #1 .*{reason}"):
        embedder.encode([good[0], item, good[1]])

    with pytest.warns(UserWarning, match=reason):
        vectors = embedder.encode([good[0], item, good[1]], on_error="nan")
    assert np.isnan(vectors[1]).all()
    np.testing.assert_allclose(vectors[[0, 2]], embedder.encode(good), atol=1e-5)

    seen = []
    embedder.encode([item, good[0]], on_error=seen.append)
    assert [failure.index for failure in seen] == [0] and reason in seen[0].reason


def test_utf8_bytes_are_text():
    assert check_text(0, "héllo".encode()) == "héllo"


def test_every_failure_is_listed(make_embedder):
    with pytest.raises(InvalidBatchError) as caught:
        make_embedder().encode([None, "ok", "", 3])
    assert [f.index for f in caught.value.failures] == [0, 2, 3]
