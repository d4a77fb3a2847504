"""The real packaged Gemma-3-270m (four PyPI parts joined and checked once, GGUF converted once into the cache): the
multilingual candidate backbone loads by its registry name, embeds, generates and saves like the default's."""

import pytest
from packaged_backbones import assert_paraphrases_score_above_unrelated_texts, assert_save_reload_reproduces_vectors

import mmembed
from mmembed.backbones import resolve_backbone
from mmembed.weight_cache import cache_root

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gemma3():
    return mmembed.load("gemma3-270m", device="cpu")


def test_the_packaged_parts_are_joined_once_into_the_cache(gemma3):
    joined = cache_root() / "packaged" / "gemma-3-270m-q4_k_m.gguf"
    assert joined.stat().st_size > 250e6
    assert resolve_backbone("gemma3-270m") == str(cache_root() / "gemma3-270m")  # converted once, read back


def test_paraphrases_score_above_unrelated_texts(gemma3):
    assert_paraphrases_score_above_unrelated_texts(gemma3, 640)


def test_generation_continues_text(gemma3):
    assert "Paris" in gemma3.generate("The capital of France is the city of", max_new_tokens=6)


def test_save_reload_reproduces_vectors(gemma3, tmp_path):
    assert_save_reload_reproduces_vectors(gemma3, tmp_path / "m")
