"""evaluate() is the library the CLI shells over: same figures from Python and from ``mmembed eval``."""

import json

import pytest
from media_files import circle, square

from mmembed.cli import main
from mmembed.data import write_manifest
from mmembed.evaluation import evaluate
from mmembed.evaluation.uncertainty import without_samples


def shapes_manifest(folder):
    rows = []
    for i, (shape, colour) in enumerate([(square, "red"), (circle, "blue"), (square, "green"), (circle, "yellow")]):
        shape(colour).save(folder / f"{i}.png")
        rows.append(
            {
                "image": f"{i}.png",
                "text": f"a {colour} {shape.__name__}",
                "split": "test",
                "label": shape.__name__,
                "source": "shapes",
            }
        )
    rows.append({"text": "what is a cat?", "positive": "cat: a small feline.", "split": "test", "source": "words"})
    rows.append({"text": "what is a sun?", "positive": "sun: the star we orbit.", "split": "test", "source": "words"})
    return write_manifest(folder / "shapes.jsonl", rows)


def test_evaluate_from_python_equals_the_cli_json(make_multimodal_embedder, tmp_path):
    manifest = shapes_manifest(tmp_path)
    embedder = make_multimodal_embedder()
    embedder.save_pretrained(tmp_path / "model")
    tasks = ["retrieval", "zeroshot", "text_retrieval"]
    seen = []
    results = evaluate(
        [f"tiny={tmp_path / 'model'}"],
        [manifest],
        tasks,
        per_source=True,
        device="cpu",
        after_model=lambda name, model, rows: seen.append((name, len(rows))),
    )
    assert seen == [("tiny", 6)]
    assert set(results["tiny"]) == {"retrieval:image@shapes", "zeroshot:image@shapes", "text_retrieval:text@words"}
    argv = [
        "eval",
        f"tiny={tmp_path / 'model'}",
        "--data",
        str(manifest),
        "--per-source",
        "--device",
        "cpu",
        "--out",
        str(tmp_path / "r"),
    ] + [a for t in tasks for a in ("--task", t)]
    assert main(argv) == 0
    assert json.loads((tmp_path / "r.json").read_text()) == json.loads(json.dumps(without_samples(results)))
    text_to_item = results["tiny"]["retrieval:image@shapes"]["text_to_item"]
    assert len(text_to_item["per_query"]["mAP"]) == text_to_item["queries"]  # kept for paired comparisons
    assert text_to_item["stderr"]["mAP"] >= 0


def test_evaluate_takes_a_loaded_model_and_refuses_unknown_names(make_multimodal_embedder, tmp_path):
    manifest = shapes_manifest(tmp_path)
    results = evaluate([("in-memory", make_multimodal_embedder())], [manifest], ["retrieval"])
    assert results["in-memory"]["retrieval:image"]["items"] == 4
    with pytest.raises(ValueError, match="unknown tasks \\['retreival'\\]"):
        evaluate([("m", None)], [manifest], ["retreival"])
    with pytest.raises(ValueError, match="unknown baselines \\['clip'\\]"):
        evaluate([("m", None)], [manifest], ["retrieval"], baselines=["clip"])


def test_models_sharing_a_tower_compute_its_features_once_per_evaluation(make_multimodal_embedder, tmp_path):
    from media_files import write_audio

    rows = [
        {"audio": write_audio(tmp_path / f"{hz}.wav", hz=hz).name, "text": f"a {hz} hertz tone", "split": "test"}
        for hz in (220, 440, 880, 1760)
    ]
    manifest = write_manifest(tmp_path / "tones.jsonl", rows)
    first, second = make_multimodal_embedder(), make_multimodal_embedder()  # one Whisper folder, other projectors
    seen = {name: [] for name in ("first", "second")}
    for name, model in (("first", first), ("second", second)):
        model.modalities.tower("audio").encoder.register_forward_hook(
            lambda module, args, out, name=name: seen[name].append(args[0].shape[0])
        )
    together = evaluate([("first", first), ("second", second)], [manifest], ["retrieval"], device="cpu")
    assert sum(seen["first"]) == 4 and seen["second"] == []  # the second model read the first one's features
    alone = evaluate([("second", second)], [manifest], ["retrieval"], device="cpu")
    assert sum(seen["second"]) == 4
    expected, got = numbers(alone["second"]), numbers(together["second"])
    assert expected.keys() == got.keys() and len(expected) > 5
    for name, value in expected.items():
        assert abs(got[name] - value) < 1e-6, name


def numbers(figures: dict, prefix: str = "") -> dict[str, float]:
    """Every number in nested figures, by its path."""
    flat = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            flat.update(numbers(value, f"{prefix}{key}/"))
        elif isinstance(value, (int, float)):
            flat[f"{prefix}{key}"] = float(value)
    return flat
