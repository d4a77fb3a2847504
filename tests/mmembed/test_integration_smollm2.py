"""The real packaged SmolLM2-135M-Instruct (GGUF, converted once into the cache)."""

import pytest
from packaged_backbones import assert_paraphrases_score_above_unrelated_texts, assert_save_reload_reproduces_vectors

import mmembed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def smollm2():
    return mmembed.load("smollm2-135m-instruct", device="cpu")


def test_paraphrases_score_above_unrelated_pairs(smollm2):
    assert_paraphrases_score_above_unrelated_texts(smollm2, 576)


def test_generation_answers(smollm2):
    answer = smollm2.generate("What is the capital of France? Answer in one word.", max_new_tokens=10)
    assert "Paris" in answer


def test_save_reload_reproduces_vectors(smollm2, tmp_path):
    assert_save_reload_reproduces_vectors(smollm2, tmp_path / "m")
