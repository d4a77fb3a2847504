"""The tower shortcut in the embedder (encoders/shortcut.py, modalities.blend_shortcuts): a media vector blends the
LLM's and the shortcut's unit vectors by the configured weight; text never passes through it; it saves and loads."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from media_files import circle, square

from mmembed import Embedder
from mmembed.config import EmbedderConfig
from mmembed.fingerprint import fingerprint, text_space_id

TOLERANCE = 1e-5  # the same computation in other batch shapes: equal to float32 rounding


def images():
    return [square("red"), circle("blue"), square("green", offset=4)]


def with_shortcut(make_multimodal_embedder, weight: float):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    shortcut = embedder.modalities.add_shortcut("image", seed=3)
    embedder.config.shortcut_weights = {"image": weight}
    return embedder, shortcut


def test_an_image_vector_is_the_configured_blend(make_multimodal_embedder):
    embedder, shortcut = with_shortcut(make_multimodal_embedder, 0.4)
    pictures = images()
    blended = embedder.encode(pictures, convert_to_tensor=True)
    with embedder.overrides(shortcut_weights={"image": 0.0}):
        llm = embedder.encode(pictures, convert_to_tensor=True)
    with torch.no_grad():
        direct = F.normalize(shortcut(embedder.modalities.image_features(pictures)), dim=-1)
    expected = F.normalize(0.6 * llm + 0.4 * direct, dim=-1)
    torch.testing.assert_close(blended, expected, atol=TOLERANCE, rtol=0)
    assert (blended - llm).abs().max() > 1e-3  # the shortcut does move the vectors
    with embedder.overrides(shortcut_weights={"image": 1.0}):
        alone = embedder.encode(pictures, convert_to_tensor=True)
    torch.testing.assert_close(alone, direct, atol=TOLERANCE, rtol=0)
    assert embedder.config.shortcut_weights == {"image": 0.4}  # the override is undone


def test_text_and_other_kinds_are_untouched(make_multimodal_embedder):
    embedder, _ = with_shortcut(make_multimodal_embedder, 0.5)
    texts = ["a red square", "a blue circle"]
    with embedder.overrides(shortcut_weights={"image": 0.0}):
        before = embedder.encode(texts)
    np.testing.assert_array_equal(embedder.encode(texts), before)  # the very same computation: bit for bit
    space = text_space_id(embedder)
    full = fingerprint(embedder, with_projectors=True)
    embedder.config.shortcut_weights = {}
    assert text_space_id(embedder) == space  # the text side's id ignores the shortcut
    assert fingerprint(embedder, with_projectors=True) != full  # the media side's does not


def test_a_saved_model_keeps_its_shortcut(make_multimodal_embedder, tmp_path):
    embedder, _ = with_shortcut(make_multimodal_embedder, 0.3)
    pictures = images()
    expected = embedder.encode(pictures)
    embedder.save_pretrained(tmp_path / "model")
    assert (tmp_path / "model" / "shortcuts.safetensors").is_file()
    loaded = Embedder.from_pretrained(tmp_path / "model", device="cpu")
    assert loaded.config.shortcut_weights == {"image": 0.3}
    np.testing.assert_allclose(loaded.encode(pictures), expected, atol=TOLERANCE, rtol=0)
    (tmp_path / "model" / "shortcuts.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="shortcuts.safetensors"):
        Embedder.from_pretrained(tmp_path / "model", device="cpu")


def test_bad_shortcut_weights_are_refused():
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        EmbedderConfig(image_tower={}, shortcut_weights={"image": 1.5})
    with pytest.raises(ValueError, match="not a media tower"):
        EmbedderConfig(shortcut_weights={"image": 0.5})  # no image tower
    with pytest.raises(ValueError, match="not a media tower"):
        EmbedderConfig(image_tower={}, shortcut_weights={"video": 0.5})
