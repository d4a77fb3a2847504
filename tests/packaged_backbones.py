"""Checks every packaged backbone's integration test makes: paraphrases rank first, save + reload is exact."""

import itertools

import numpy as np

import mmembed

PAIRS = [
    ("A cat sits on the mat.", "A kitten is resting on a rug."),
    ("The stock market fell sharply today.", "Share prices dropped steeply this afternoon."),
    ("How do I bake bread at home?", "What is a simple recipe for homemade bread?"),
    ("The football team won the championship.", "The soccer club took the league title."),
]


def assert_paraphrases_score_above_unrelated_texts(model, dimension: int) -> None:
    texts = [t for pair in PAIRS for t in pair]
    vectors = model.encode(texts)
    sims = model.similarity(vectors, vectors)
    for p, q in itertools.permutations(range(len(PAIRS)), 2):
        for a in (2 * p, 2 * p + 1):
            for unrelated in (2 * q, 2 * q + 1):
                assert sims[a, a ^ 1] > sims[a, unrelated], (texts[a], texts[a ^ 1], texts[unrelated])
    assert vectors.shape == (len(texts), dimension) and model.dimension == dimension


def assert_save_reload_reproduces_vectors(model, folder) -> None:
    vectors = model.encode(PAIRS[0], instruction="query")
    model.save_pretrained(folder)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 30e6  # the backbone (and its tokenizer) are referenced, not copied
    np.testing.assert_array_equal(
        mmembed.load(str(folder), device="cpu").encode(PAIRS[0], instruction="query"), vectors
    )
