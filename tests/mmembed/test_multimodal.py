"""Images and audio through the same encode(), on tiny random towers and backbone."""

from pathlib import Path

import numpy as np
import pytest
import torch
from media_files import circle, square, tone, write_audio

import mmembed
from mmembed import InvalidBatchError


@pytest.fixture
def media(tmp_path):
    square("red").save(tmp_path / "red.png")
    write_audio(tmp_path / "tone.flac", seconds=0.5, rate=48_000, channels=2)
    return tmp_path


def mixed_inputs(media: Path) -> list:
    return [
        "A red square.",
        square("red"),
        media / "red.png",
        (tone(0.5, 8_000), 8_000),
        {"image": circle("blue"), "text": "What shape is this?"},
        media / "tone.flac",
        {"audio": tone(0.3, 16_000), "sample_rate": 16_000, "text": "a beep"},
    ]


def test_mixed_batch_comes_back_in_input_order(make_multimodal_embedder, media):
    embedder = make_multimodal_embedder()
    inputs = mixed_inputs(media)
    batched = embedder.encode(inputs, batch_size=3)
    single = np.stack([embedder.encode(item) for item in inputs])
    assert batched.shape == (7, 32) and np.isfinite(batched).all()
    np.testing.assert_allclose(batched, single, atol=1e-5)
    np.testing.assert_allclose(batched[1], batched[2], atol=1e-6)  # the same image, as PIL and as a file


def test_sequence_layout_with_placeholders(make_multimodal_embedder):
    embedder = make_multimodal_embedder(instructions={"query": "Find it", "document": ""})
    features = torch.zeros(4, 64)
    (sequence,) = embedder.sequences.build([("What shape?", "image", features)], "query")
    image_id = embedder.tokenizer.convert_tokens_to_ids("<image>")
    prefix = len(embedder.tokenizer("Find it\n", add_special_tokens=False)["input_ids"])
    assert sequence.ids[prefix : prefix + 4] == [image_id] * 4 and sequence.media_start == prefix
    assert sequence.ids[-1] == embedder.embed_token_id


def test_interleaved_text_changes_the_vector(make_multimodal_embedder):
    embedder = make_multimodal_embedder()
    alone = embedder.encode(square("red"))
    asked = embedder.encode({"image": square("red"), "text": "What colour is it?"})
    assert not np.allclose(alone, asked)


def test_projectors_get_gradients(make_multimodal_embedder):
    embedder = make_multimodal_embedder()
    features = embedder.modalities.image_features([square("red")])
    from mmembed.batching import collate

    batch = collate(embedder.sequences.build([(None, "image", features[0])], None), embedder.pad_id)
    embedder.embed_batch(batch).sum().backward()
    assert all(
        p.grad is not None and p.grad.abs().sum() > 0 for p in embedder.modalities.projectors["image"].parameters()
    )


def test_save_load_keeps_projectors_and_towers(make_multimodal_embedder, media, tmp_path):
    embedder = make_multimodal_embedder()
    with torch.no_grad():
        for p in embedder.modalities.projectors.parameters():
            p.add_(0.01)  # pretend training moved them
    inputs = mixed_inputs(media)
    expected = embedder.encode(inputs)
    embedder.save_pretrained(tmp_path / "m")
    assert (tmp_path / "m" / "projectors.safetensors").is_file()
    loaded = mmembed.load(str(tmp_path / "m"), device="cpu")
    assert loaded.config.image_tower == embedder.config.image_tower
    np.testing.assert_array_equal(loaded.encode(inputs), expected)


def test_same_config_builds_the_same_projectors(make_multimodal_embedder):
    a, b = make_multimodal_embedder(), make_multimodal_embedder()
    for (name, p), q in zip(a.modalities.projectors.named_parameters(), b.modalities.projectors.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0, msg=name)


def test_bad_media_are_named_and_the_rest_kept(make_multimodal_embedder, media):
    (media / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    (media / "empty.wav").write_bytes(b"")
    bad = [
        media / "broken.png",
        media / "empty.wav",
        (np.array([0.1, np.nan], dtype=np.float32), 16_000),
        (np.zeros(0, dtype=np.float32), 16_000),
        np.zeros(100),
        {"image": square("red"), "audio": tone(0.1)},
        {"colour": "red"},
        media / "missing.jpg",
    ]
    embedder = make_multimodal_embedder()
    good = ["A red square.", square("red"), (tone(0.3), 16_000)]
    with pytest.raises(InvalidBatchError) as caught:
        embedder.encode(good + bad)
    assert [f.index for f in caught.value.failures] == list(range(3, 3 + len(bad)))
    reasons = " | ".join(f.reason for f in caught.value.failures)
    for words in [
        "neither an image nor audio",
        "zero-byte",
        "NaN",
        "empty audio",
        "ambiguous",
        "not both",
        "unknown keys",
        "no such file",
    ]:
        assert words in reasons
    with pytest.warns(UserWarning):
        vectors = embedder.encode(good + bad, on_error="nan")
    assert np.isnan(vectors[3:]).all()
    np.testing.assert_allclose(vectors[:3], embedder.encode(good), atol=1e-5)


def test_media_without_a_tower_is_a_clear_error(make_embedder):
    embedder = make_embedder()
    with pytest.raises(InvalidBatchError, match=r"input #1 .*no image tower"):
        embedder.encode(["text is fine", square("red")])
    assert embedder.encode(["text is fine", square("red")], on_error="nan")[0].size == 32


def test_a_batch_whose_every_media_item_fails_is_all_nan_rows(make_embedder):
    """No sequence left to run through the LLM: every row NaN, each failure reported, no crash."""
    import numpy as np
    from media_files import square

    failures = []
    vectors = make_embedder().encode([square("red"), square("blue")], on_error=failures.append)  # no image tower
    assert vectors.shape == (2, 32) and np.isnan(vectors).all() and [f.index for f in failures] == [0, 1]
