"""The output head (mmembed/output_head.py): a linear map on every pooled, centered vector before normalising; it
moves the text side's id, saves and loads, and never enters the center."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from media_files import square
from safetensors.torch import save_file

import mmembed
from mmembed.fingerprint import space_id, text_space_id
from mmembed.output_head import HEAD_FILE

TOLERANCE = 1e-5  # the same vectors through another batch layout / one extra matmul: float32 rounding
TEXTS = ["a red square", "a blue circle", "the sound of rain", "Un chien."]


def random_head(dimension: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.eye(dimension) + 0.3 * torch.randn(dimension, dimension, generator=generator)


def test_every_vector_passes_through_the_head(make_multimodal_embedder):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    embedder.fit_center(TEXTS)
    inputs = [*TEXTS, square("red")]
    plain = embedder.encode(inputs, normalize=False, convert_to_tensor=True)
    head = random_head(embedder.dimension)
    embedder.head = head
    headed = embedder.encode(inputs, convert_to_tensor=True)
    torch.testing.assert_close(headed, F.normalize(plain @ head.T, dim=-1), atol=TOLERANCE, rtol=0)
    assert (headed - F.normalize(plain, dim=-1)).abs().max() > 1e-2  # it does move them, the image too
    embedder.head = torch.eye(embedder.dimension)
    torch.testing.assert_close(
        embedder.encode(inputs, convert_to_tensor=True), F.normalize(plain, dim=-1), atol=TOLERANCE, rtol=0
    )


def test_the_center_is_taken_before_the_head(make_multimodal_embedder):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    center = embedder.fit_center(TEXTS).clone()
    embedder.head = random_head(embedder.dimension)
    torch.testing.assert_close(embedder.fit_center(TEXTS), center, atol=TOLERANCE, rtol=0)
    assert embedder.head is not None  # restored after the fit


def test_the_head_saves_loads_and_names_its_space(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    spaces = (text_space_id(embedder), space_id(embedder))
    embedder.head = random_head(embedder.dimension)
    assert text_space_id(embedder) != spaces[0] and space_id(embedder) != spaces[1]
    before = embedder.encode(TEXTS)
    embedder.save_pretrained(tmp_path / "model")
    loaded = mmembed.load(str(tmp_path / "model"), device="cpu")
    torch.testing.assert_close(loaded.head, embedder.head, rtol=0, atol=0)
    np.testing.assert_allclose(loaded.encode(TEXTS), before, atol=TOLERANCE, rtol=0)
    assert text_space_id(loaded) == text_space_id(embedder)


def test_a_head_of_the_wrong_shape_is_named(make_multimodal_embedder, tmp_path):
    torch.manual_seed(0)
    embedder = make_multimodal_embedder()
    embedder.save_pretrained(tmp_path / "model")
    save_file({"head": torch.eye(7)}, str(tmp_path / "model" / HEAD_FILE))
    shape = rf"output_head.safetensors: the output head is \(7, 7\), .* {embedder.dimension}-d"
    with pytest.raises(ValueError, match=shape):
        mmembed.load(str(tmp_path / "model"), device="cpu")
    broken = torch.eye(embedder.dimension)
    broken[0, 0] = float("nan")
    save_file({"head": broken}, str(tmp_path / "model" / HEAD_FILE))
    with pytest.raises(ValueError, match="output_head.safetensors: the output head holds NaN"):
        mmembed.load(str(tmp_path / "model"), device="cpu")
