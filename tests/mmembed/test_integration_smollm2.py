"""The real packaged SmolLM2-135M-Instruct (GGUF, converted once into the cache)."""

import itertools

import numpy as np
import pytest

import mmembed

pytestmark = pytest.mark.integration

PAIRS = [
    ("A cat sits on the mat.", "A kitten is resting on a rug."),
    ("The stock market fell sharply today.", "Share prices dropped steeply this afternoon."),
    ("How do I bake bread at home?", "What is a simple recipe for homemade bread?"),
    ("The football team won the championship.", "The soccer club took the league title."),
]


@pytest.fixture(scope="module")
def smollm2():
    return mmembed.load("smollm2-135m-instruct", device="cpu")


def test_paraphrases_score_above_unrelated_pairs(smollm2):
    texts = [t for pair in PAIRS for t in pair]
    vectors = smollm2.encode(texts)
    sims = smollm2.similarity(vectors, vectors)
    for p, q in itertools.combinations(range(len(PAIRS)), 2):
        for a, b in [(2 * p, 2 * p + 1), (2 * q, 2 * q + 1)]:
            for unrelated in (2 * q, 2 * q + 1) if a == 2 * p else (2 * p, 2 * p + 1):
                assert sims[a, b] > sims[a, unrelated], (texts[a], texts[b], texts[unrelated])
    assert vectors.shape == (8, 576) and smollm2.dimension == 576


def test_generation_answers(smollm2):
    answer = smollm2.generate("What is the capital of France? Answer in one word.", max_new_tokens=10)
    assert "Paris" in answer


def test_save_reload_reproduces_vectors(smollm2, tmp_path):
    vectors = smollm2.encode(PAIRS[0], instruction="query")
    smollm2.save_pretrained(tmp_path / "m")
    size = sum(p.stat().st_size for p in (tmp_path / "m").rglob("*") if p.is_file())
    assert size < 30e6  # the backbone is referenced, not copied
    np.testing.assert_array_equal(
        mmembed.load(str(tmp_path / "m"), device="cpu").encode(PAIRS[0], instruction="query"), vectors
    )
