"""Evaluation tasks end to end on a tiny model and a toy manifest."""

import json

import numpy as np
import pytest
from media_files import circle, square

from mmembed.cli import main
from mmembed.data.manifest import read_manifest, write_manifest
from mmembed.evaluation.report import markdown_table
from mmembed.evaluation.tasks import retrieval_task, zeroshot_task


def toy_manifest(folder):
    rows = []
    for i, (shape, colour) in enumerate([(square, "red"), (circle, "blue"), (square, "green"), (circle, "red")]):
        shape(colour).save(folder / f"{i}.png")
        rows.append(
            {
                "image": f"{i}.png",
                "text": f"a {colour} shape" if i != 3 else "a red shape",
                "split": "test",
                "label": shape.__name__,
            }
        )
    return write_manifest(folder / "toy.jsonl", rows)


def test_retrieval_counts_shared_captions_as_relevant(make_multimodal_embedder, tmp_path):
    rows = read_manifest(toy_manifest(tmp_path))
    result = retrieval_task(make_multimodal_embedder(), rows, "image")
    assert result["items"] == 4 and result["captions"] == 3  # "a red shape" is shared by two images
    assert result["text_to_item"]["queries"] == 3 and result["item_to_text"]["queries"] == 4
    assert 0 <= result["text_to_item"]["R@1"] <= result["text_to_item"]["R@10"] == 1.0


def test_zeroshot_and_table(make_multimodal_embedder, tmp_path):
    rows = read_manifest(toy_manifest(tmp_path))
    result = zeroshot_task(make_multimodal_embedder(), rows, "image")
    assert result["classes"] == ["circle", "square"] and set(result["per_class"]) == {"circle", "square"}
    table = markdown_table({"tiny": {"zeroshot:image": result}})
    assert table.splitlines()[0] == "| task | tiny | ± |" and "| zeroshot:image accuracy |" in table


def test_integer_labels_count_zero_included(make_multimodal_embedder, tmp_path):
    """Digits and Fashion-MNIST carry integer labels: class 0 is a class, not a missing label."""
    from mmembed.evaluation.tasks import clustering_task

    rows = read_manifest(toy_manifest(tmp_path))
    for row in rows:
        row["label"] = 0 if row["label"] == "circle" else 1
    embedder = make_multimodal_embedder()
    result = zeroshot_task(embedder, rows, "image")
    assert result["items"] == 4 and result["classes"] == [0, 1] and set(result["per_class"]) == {0, 1}
    assert clustering_task(embedder, rows, "image")["items"] == 4
    rows[0]["label"] = None
    assert zeroshot_task(embedder, rows, "image")["items"] == 3


def test_eval_command_writes_json_and_markdown(make_multimodal_embedder, tmp_path, capsys):
    make_multimodal_embedder().save_pretrained(tmp_path / "model")
    manifest = toy_manifest(tmp_path)
    assert (
        main(
            [
                "eval",
                f"tiny={tmp_path / 'model'}",
                "--data",
                str(manifest),
                "--device",
                "cpu",
                "--out",
                str(tmp_path / "out/r"),
                "--plot",
            ]
        )
        == 0
    )
    assert (tmp_path / "out" / "r-tiny-space.png").stat().st_size > 5_000
    assert (tmp_path / "out" / "r-figures.png").stat().st_size > 5_000
    results = json.loads((tmp_path / "out" / "r.json").read_text())
    assert set(results["tiny"]) == {"retrieval:image", "zeroshot:image"}
    assert "| task | tiny |" in (tmp_path / "out" / "r.md").read_text()


def test_perplexity_matches_the_models_own_loss(make_embedder):
    import math

    from mmembed.evaluation.perplexity import perplexity

    embedder = make_embedder()
    text = "A cat sits on the mat."
    encoded = embedder.tokenizer([text + embedder.tokenizer.eos_token], return_tensors="pt")
    loss = embedder.causal_lm(**encoded, labels=encoded["input_ids"]).loss.item()
    assert math.isclose(perplexity(embedder, [text]), math.exp(loss), rel_tol=1e-4)
    assert perplexity(embedder, [text, "Dog."]) > 1


def test_text_retrieval_with_a_peer_in_the_same_run(make_embedder, tmp_path, capsys):
    rows = [
        {"text": f"What is {w}?", "positive": f"{w}: a thing called {w}.", "split": "test"}
        for w in ["cat", "dog", "frog", "owl"]
    ]
    manifest = write_manifest(tmp_path / "pairs.jsonl", rows)
    make_embedder().save_pretrained(tmp_path / "model")
    assert (
        main(
            [
                "eval",
                f"tiny={tmp_path / 'model'}",
                "--data",
                str(manifest),
                "--task",
                "text_retrieval",
                "--baselines",
                "minilm",
                "--device",
                "cpu",
                "--out",
                str(tmp_path / "r"),
            ]
        )
        == 0
    )
    results = json.loads((tmp_path / "r.json").read_text())
    assert set(results) == {"tiny", "all-MiniLM-L6-v2"}
    minilm = results["all-MiniLM-L6-v2"]["text_retrieval:text"]["query_to_passage"]
    assert minilm["R@1"] == 1.0  # a real text model matches "What is cat?" to "cat: ..."
    assert "| text_retrieval:text query->passage nDCG@10 |" in (tmp_path / "r.md").read_text()


def test_kmeans_finds_obvious_clusters_and_clustering_task_runs(make_multimodal_embedder, tmp_path):
    import numpy as np

    from mmembed.evaluation.tasks import clustering_task, kmeans

    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal([5, 0], 0.1, (20, 2)), rng.normal([0, 5], 0.1, (20, 2))])
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    assignment = kmeans(points, 2)
    assert len(set(assignment[:20])) == 1 and len(set(assignment[20:])) == 1 and assignment[0] != assignment[-1]
    rows = read_manifest(toy_manifest(tmp_path))
    result = clustering_task(make_multimodal_embedder(), rows, "image")
    assert result["clusters"] == 2 and 0 <= result["v_measure"] <= 1


class FixedVectors:
    """A stand-in model with known vectors, so the STS figures can be worked out by hand."""

    def __init__(self, vectors: dict[str, list[float]]):
        self.vectors = vectors

    def encode(self, texts, **_):
        return np.array([self.vectors[t] for t in texts], dtype=np.float32)


def test_sts_is_spearman_and_pearson_of_the_cosine_against_the_scores():
    from mmembed.evaluation.tasks import sts_task

    model = FixedVectors({"a": [1, 0], "b": [1, 0], "c": [0, 1], "d": [1, 1]})
    rows = [
        {"text": "a", "pair": "b", "score": 5.0},
        {"text": "a", "pair": "d", "score": 3.0},
        {"text": "a", "pair": "c", "score": 0.0},
        {"text": "no pair"},
    ]
    result = sts_task(model, rows)
    # cosines 1, 0.7071, 0: the same order as the scores -> Spearman 1; Pearson by hand:
    cosines, scores = np.array([1, 2**-0.5, 0]), np.array([5.0, 3.0, 0.0])
    expected = np.corrcoef(cosines, scores)[0, 1]
    assert (
        result["pairs"] == 3
        and result["spearman"] == pytest.approx(1.0)
        and result["pearson"] == pytest.approx(expected, abs=1e-6)
    )
    reversed_rows = [dict(r, score=-r["score"]) for r in rows[:3]]
    assert sts_task(model, reversed_rows)["spearman"] == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="scored text pairs"):
        sts_task(model, [{"text": "a"}])


def test_the_table_gives_our_figure_over_each_peers():
    results = {
        "ours": {"sts:text": {"spearman": 0.6, "pearson": 0.5}},
        "peer": {"sts:text": {"spearman": 0.8, "pearson": 0.0}},
    }
    table = markdown_table(results, ["peer"])
    assert table.splitlines()[0] == "| task | ours | peer | ours / peer |"
    assert "| sts:text spearman | 0.600 | 0.800 | 0.75 |" in table
    assert "| sts:text pearson | 0.500 | 0.000 |  |" in table  # no ratio over a zero


def test_eval_per_source_and_several_manifests(make_multimodal_embedder, tmp_path):
    make_multimodal_embedder().save_pretrained(tmp_path / "model")
    images = toy_manifest(tmp_path)
    pairs = write_manifest(
        tmp_path / "pairs.jsonl",
        [
            {"text": f"What is {w}?", "positive": f"{w}: a word.", "split": "test", "source": "words"}
            for w in ("cat", "dog")
        ],
    )
    rows = [dict(row, source="shapes" if i < 2 else "more-shapes") for i, row in enumerate(read_manifest(images))]
    images = write_manifest(tmp_path / "sourced.jsonl", [dict(r, image=r["image"].split("/")[-1]) for r in rows])
    assert (
        main(
            [
                "eval",
                f"tiny={tmp_path / 'model'}",
                "--data",
                str(images),
                "--data",
                str(pairs),
                "--task",
                "retrieval",
                "--task",
                "text_retrieval",
                "--per-source",
                "--device",
                "cpu",
                "--out",
                str(tmp_path / "r"),
            ]
        )
        == 0
    )
    results = json.loads((tmp_path / "r.json").read_text())["tiny"]
    assert set(results) == {"retrieval:image@shapes", "retrieval:image@more-shapes", "text_retrieval:text@words"}
    assert results["retrieval:image@shapes"]["items"] == 2 and results["retrieval:image@more-shapes"]["items"] == 2
    assert "retrieval:image@words" not in results  # a source without images is skipped, not an error


def test_perplexity_task_reads_the_text_rows_and_skips_peers(make_embedder):
    from mmembed.evaluation.perplexity import perplexity
    from mmembed.evaluation.tasks import perplexity_task

    embedder = make_embedder()
    rows = [
        {"text": "What is a cat?", "positive": "cat: a small feline."},
        {"text": "A dog barks."},
        {"image": "x.png", "text": "a cap"},
    ]
    result = perplexity_task(embedder, rows)
    assert result["texts"] == 2 and result["perplexity"] == pytest.approx(
        perplexity(embedder, ["cat: a small feline.", "A dog barks."])
    )
    with pytest.raises(ValueError, match="generates"):
        perplexity_task(FixedVectors({}), rows)
