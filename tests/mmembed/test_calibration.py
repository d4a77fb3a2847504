"""Calibrated relevance: the Platt fit, the file beside the model, and search that says "no good match"."""

import numpy as np
import pytest
from media_files import circle, square

from mmembed import Client
from mmembed.calibration import Calibration, PlattScale
from mmembed.cli import main
from mmembed.data.manifest import write_manifest
from mmembed.evaluation.calibration import check, fit_platt, top_candidates


def test_platt_fit_recovers_a_known_logistic_map():
    rng = np.random.default_rng(0)
    cosine = rng.uniform(-0.2, 0.9, 20_000)
    truth = PlattScale(slope=12.0, intercept=-6.0)
    relevant = rng.uniform(size=cosine.size) < np.array([truth.probability(c) for c in cosine])
    fitted = fit_platt(cosine, relevant)
    assert fitted.slope == pytest.approx(12.0, rel=0.1) and fitted.intercept == pytest.approx(-6.0, rel=0.1)
    with pytest.raises(ValueError, match="relevant and irrelevant"):
        fit_platt(cosine[:5], np.zeros(5, dtype=bool))


def test_probability_is_stable_at_the_extremes():
    scale = PlattScale(slope=1000.0, intercept=0.0)
    assert scale.probability(-5) == pytest.approx(0.0, abs=1e-12) and scale.probability(5) == pytest.approx(1.0)


def test_top_candidates_and_the_check_figures():
    queries = np.eye(3, dtype=np.float32)
    items = np.array([[1, 0, 0], [0, 1, 0], [0.9, 0.1, 0], [0, 0, 1]], dtype=np.float32)
    candidates = top_candidates(queries, items, [{0}, {1}, {3}], k=2)
    assert candidates.query.tolist() == [0, 0, 1, 1, 2, 2] and candidates.relevant.tolist() == [
        True,
        False,
        True,
        False,
        True,
        False,
    ]
    figures = check(PlattScale(10.0, -5.0), candidates, threshold=0.5)
    assert figures["queries"] == 3 and figures["top1_relevant"] == 1.0 and figures["good_match_precision"] == 1.0


def test_calibration_travels_with_the_model(make_embedder, tmp_path):
    embedder = make_embedder()
    embedder.calibration = Calibration(
        {"text->text": PlattScale(8.0, -4.0)}, threshold=0.6, fitted_on={"text->text": {"k": 10}}
    )
    embedder.save_pretrained(tmp_path / "m")
    import mmembed

    loaded = mmembed.load(str(tmp_path / "m"), device="cpu").calibration
    assert loaded.maps == embedder.calibration.maps and loaded.threshold == 0.6
    assert (
        loaded.relevance(0.5, "text", "text") == pytest.approx(0.5) and loaded.relevance(0.5, "audio", "text") is None
    )


def shapes_manifest(folder):
    rows = []
    for i, colour in enumerate(["red", "blue", "green", "yellow", "black", "purple", "orange", "pink"]):
        for j, shape in enumerate((square, circle)):
            shape(colour).save(folder / f"{i}{j}.png")
            rows.append({"image": f"{i}{j}.png", "text": f"a {colour} {shape.__name__}", "split": "test"})
    return write_manifest(folder / "shapes.jsonl", rows)


def test_calibrate_command_fits_each_pair_and_search_reports_relevance(make_multimodal_embedder, tmp_path, capsys):
    model = tmp_path / "model"
    make_multimodal_embedder().save_pretrained(model)
    assert (
        main(
            [
                "calibrate",
                "--model",
                str(model),
                "--device",
                "cpu",
                "--data",
                str(shapes_manifest(tmp_path)),
                "--out",
                str(model),
            ]
        )
        == 0
    )
    assert "| text->image |" in capsys.readouterr().out
    import mmembed

    embedder = mmembed.load(str(model), device="cpu")
    assert set(embedder.calibration.maps) == {"text->image", "image->text"}
    assert embedder.calibration.fitted_on["text->image"]["check"]["pairs"] > 0
    with Client(embedder, store=str(tmp_path / "store")) as client:
        client.index(tmp_path, progress=False)
        hits = client.search("a red square", modality="image", k=5)
        expected = [embedder.calibration.relevance(h.score, "text", "image") for h in hits]
        assert [h.relevance for h in hits] == expected and all(0 <= r <= 1 for r in expected)
        assert client.good_match(hits) == (hits[0].relevance >= embedder.calibration.threshold)
        kept = client.search("a red square", modality="image", k=5, min_relevance=0.5)
        assert all(h.relevance >= 0.5 for h in kept)
        embedder.calibration = Calibration({"text->image": PlattScale(1.0, -50.0)})  # nothing is ever relevant
        assert client.good_match(client.search("a red square", modality="image", k=3)) is False
        assert client.search("a red square", modality="image", k=3, min_relevance=0.5) == []


def test_the_demo_says_no_good_match():
    from store import SearchHit
    from ui.app import results_table

    hits = [SearchHit("1", 0.31, {"modality": "image", "caption": "Grapes"}, relevance=0.04)]
    assert "No good match" in results_table(hits, good_match=False) and "4%" in results_table(hits, False)
    assert "No good match" not in results_table(hits, good_match=True)
