"""Score-level ensembles in evaluation: cosines add with the stated shares, each model encodes once, and evaluate /
``mmembed eval --ensemble`` report them beside the models."""

import json

import numpy as np
import pytest
from test_evaluate import shapes_manifest

from mmembed.cli import main
from mmembed.evaluation import evaluate
from mmembed.evaluation.ensemble import RememberedEncodings, ScoreEnsemble, ensemble_name, with_ensembles
from mmembed.evaluation.uncertainty import without_samples

TEXTS = ["a red square", "a blue circle", "the sound of rain", "what is a cat?"]


@pytest.fixture
def two_models(make_multimodal_embedder):
    return make_multimodal_embedder(pooling="mean"), make_multimodal_embedder(pooling="last")


def unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def cosines(vectors: np.ndarray) -> np.ndarray:
    return unit(vectors) @ unit(vectors).T


def test_ensemble_cosine_is_the_share_weighted_sum_of_the_two_models(two_models):
    first, second = two_models
    a, b = first.encode(TEXTS, instruction="query"), second.encode(TEXTS, instruction="query")
    assert not np.allclose(cosines(a), cosines(b), atol=1e-3)  # two different spaces, or the test proves nothing
    for share in (0.0, 0.3, 1.0):
        joint = ScoreEnsemble(first, second, share).encode(TEXTS, instruction="query")
        assert joint.shape == (len(TEXTS), 2 * first.dimension)
        np.testing.assert_allclose(np.linalg.norm(joint, axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(joint @ joint.T, (1 - share) * cosines(a) + share * cosines(b), atol=1e-5)


def test_a_media_share_weighs_items_apart_from_texts_and_zero_ranks_them_by_the_first_model(two_models, tmp_path):
    from media_files import circle, square

    first, second = two_models
    images = []
    for i, (shape, colour) in enumerate([(square, "red"), (circle, "blue"), (square, "green")]):
        shape(colour).save(tmp_path / f"{i}.png")
        images.append(tmp_path / f"{i}.png")
    texts = TEXTS[:2]
    a_t, b_t = unit(first.encode(texts, instruction="query")), unit(second.encode(texts, instruction="query"))
    a_i, b_i = unit(first.encode(images, instruction="document")), unit(second.encode(images, instruction="document"))
    for share, media in ((0.3, 0.0), (0.3, 0.6)):
        joint = ScoreEnsemble(first, second, share, media)
        t, i = joint.encode(texts, instruction="query"), joint.encode(images, instruction="document")
        expected = np.sqrt((1 - share) * (1 - media)) * a_t @ a_i.T + np.sqrt(share * media) * b_t @ b_i.T
        np.testing.assert_allclose(t @ i.T, expected, atol=1e-5)
        np.testing.assert_allclose(t @ t.T, (1 - share) * a_t @ a_t.T + share * b_t @ b_t.T, atol=1e-5)
    at_zero = ScoreEnsemble(first, second, 0.3, 0.0)
    scores = at_zero.encode(texts, instruction="query") @ at_zero.encode(images, instruction="document").T
    np.testing.assert_allclose(scores, np.sqrt(0.7) * a_t @ a_i.T, atol=1e-5)  # the first model's, scaled


def test_ensemble_keeps_a_bad_input_as_nan_and_refuses_a_share_outside_zero_to_one(two_models, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    with pytest.warns(UserWarning, match="broken.png is neither an image nor audio"):  # named by each model
        joint = ScoreEnsemble(*two_models, 0.5).encode(["a red square", broken], on_error="nan")
    assert np.isfinite(joint[0]).all() and np.isnan(joint[1]).all()
    with pytest.raises(ValueError, match="share must lie in \\[0, 1\\], got 1.5"):
        ScoreEnsemble(*two_models, 1.5)


def test_remembered_encodings_answer_a_repeated_call_from_memory(two_models):
    first, _ = two_models
    remembered = RememberedEncodings(first)
    once = remembered.encode(TEXTS, instruction="query")
    again = remembered.encode(list(TEXTS), instruction="query")
    assert len(remembered.memory) == 1 and again is once
    np.testing.assert_allclose(once, first.encode(TEXTS, instruction="query"), atol=1e-6)
    other = remembered.encode(TEXTS, instruction="document")  # another instruction is another input
    assert len(remembered.memory) == 2 and not np.allclose(other, once)
    np.testing.assert_allclose(remembered.encode("a red square", instruction="query"), once[0], atol=1e-5)
    assert remembered.dimension == first.dimension  # the rest is the model's


def test_with_ensembles_names_rows_after_the_models_and_refuses_unknown_or_equal_names():
    loaders = [("a", lambda: None), ("b", lambda: None)]
    names = [name for name, _ in with_ensembles(loaders, [("a", "b")], [0.25, 0.5])]
    assert names == ["a", "b", "a+b@0.25", "a+b@0.5"] and ensemble_name("a", "b", 0.5) == "a+b@0.5"
    names = [name for name, _ in with_ensembles(loaders, [("a", "b")], [0.3], [0.0, None])]
    assert names == ["a", "b", "a+b@0.3/media0", "a+b@0.3"]
    with pytest.raises(ValueError, match="ensemble model c is not among the evaluated models \\['a', 'b'\\]"):
        with_ensembles(loaders, [("a", "c")], [0.5])
    with pytest.raises(ValueError, match="two different models"):
        with_ensembles(loaders, [("a", "a")], [0.5])
    with pytest.raises(ValueError, match="got -0.1"):
        with_ensembles(loaders, [("a", "b")], [-0.1])
    with pytest.raises(ValueError, match="got 2"):
        with_ensembles(loaders, [("a", "b")], [0.5], [2])


def test_eval_reports_each_share_and_a_share_of_zero_is_the_first_model(two_models, tmp_path):
    manifest = shapes_manifest(tmp_path)
    for name, model in zip("ab", two_models):
        model.save_pretrained(tmp_path / name)
    loads = []
    results = evaluate(
        [f"a={tmp_path / 'a'}", f"b={tmp_path / 'b'}"],
        [manifest],
        ["retrieval", "text_retrieval"],
        device="cpu",
        ensembles=[("a", "b")],
        ensemble_shares=[0.0, 0.5, 1.0],
        after_model=lambda name, model, rows: loads.append(name),
    )
    assert loads == ["a", "b", "a+b@0", "a+b@0.5", "a+b@1"]
    assert results["a+b@0"] == results["a"] and results["a+b@1"] == results["b"]  # rank figures of the same cosines
    argv = ["eval", f"a={tmp_path / 'a'}", f"b={tmp_path / 'b'}", "--data", str(manifest), "--device", "cpu"]
    argv += ["--task", "retrieval", "--ensemble", "a", "b", "--ensemble-share", "0.5", "--out", str(tmp_path / "r")]
    assert main(argv) == 0
    written = json.loads((tmp_path / "r.json").read_text())
    assert list(written) == ["a", "b", "a+b@0.5"]
    assert written["a+b@0.5"]["retrieval:image"] == json.loads(
        json.dumps(without_samples(results["a+b@0.5"]["retrieval:image"]))
    )
    assert main([*argv, "--ensemble-media-share", "0"]) == 0
    written = json.loads((tmp_path / "r.json").read_text())
    assert list(written) == ["a", "b", "a+b@0.5/media0"]  # items rank, and are ranked, by a alone
    assert written["a+b@0.5/media0"]["retrieval:image"] == written["a"]["retrieval:image"]
