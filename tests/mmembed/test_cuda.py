"""The CUDA path. Deselected by default (``-m "not cuda"`` in pyproject); run on a GPU machine with ``-m cuda``."""
import numpy as np
import pytest
import torch

pytestmark = pytest.mark.cuda

TEXTS = ["A cat sits on the mat.", "Stock markets fell sharply today.", "Red squares and blue circles.", "Dog."]


@pytest.mark.parametrize("attention", ["causal", "bidirectional"])
def test_cuda_matches_cpu(make_embedder, attention):
    assert torch.cuda.is_available(), "run this marker on a machine with CUDA"
    embedder = make_embedder(attention=attention)
    cpu = embedder.encode(TEXTS)
    gpu = embedder.to("cuda").encode(TEXTS)
    assert embedder.decoder.device.type == "cuda"
    np.testing.assert_allclose(gpu, cpu, atol=1e-4)
    assert embedder.generate("A cat", max_new_tokens=4)  is not None


def test_cuda_multimodal_matches_cpu(make_multimodal_embedder):
    from media_files import square, tone

    embedder = make_multimodal_embedder()
    inputs = ["A red square.", square("red"), (tone(0.5), 16_000), {"image": square("blue"), "text": "colour?"}]
    cpu = embedder.encode(inputs)
    gpu = embedder.to("cuda").encode(inputs)
    assert next(embedder.modalities.tower("image").parameters()).device.type == "cuda"
    np.testing.assert_allclose(gpu, cpu, atol=1e-4)
