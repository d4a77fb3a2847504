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
