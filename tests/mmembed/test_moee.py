"""MoEE on tiny random Qwen2-MoE, OLMoE and Mixtral configs."""

import numpy as np
import pytest
from tiny_models import make_backbone_folder

from mmembed import Embedder
from mmembed.moee import moee_embed, moee_similarity

TEXTS = ["A cat sits on the mat.", "Stock markets fell sharply today.", "Dog."]


@pytest.mark.parametrize("arch,experts", [("qwen2_moe", 4), ("olmoe", 4), ("mixtral", 4)])
def test_router_weights_and_hidden_states(tmp_path, arch, experts):
    embedder = Embedder.build(str(make_backbone_folder(tmp_path / arch, arch)), device="cpu")
    hs, rw = moee_embed(embedder, TEXTS, batch_size=2)
    assert hs.shape == (3, 32) and rw.shape == (3, 2 * experts)  # 2 MoE layers x experts
    np.testing.assert_allclose(np.linalg.norm(rw, axis=1), 1, atol=1e-5)
    single = moee_embed(embedder, TEXTS[2:])
    np.testing.assert_allclose(single[1][0], rw[2], atol=1e-5)  # batching and padding do not change the routes
    sims = moee_similarity((hs, rw), (hs, rw), alpha=0.5)
    np.testing.assert_allclose(np.diag(sims), 1.5, atol=1e-5)
    np.testing.assert_allclose(moee_similarity((hs, rw), (hs, rw), alpha=0.0), hs @ hs.T, atol=1e-6)


def test_dense_models_are_refused(make_embedder):
    with pytest.raises(ValueError, match="Mixture-of-Experts"):
        moee_embed(make_embedder(), TEXTS)
