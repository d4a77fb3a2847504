"""Standard errors and paired comparisons: worked out by hand on small inputs, and as they reach the report."""

import json
import math

import numpy as np
import pytest

from mmembed.evaluation.metrics import classification_accuracy, retrieval_metrics, spearman, standard_error
from mmembed.evaluation.report import markdown_table, write_results
from mmembed.evaluation.uncertainty import (
    Z,
    bootstrap_correlation_stderr,
    paired_differences,
    without_samples,
)


def test_standard_errors_of_mean_figures_by_hand():
    # query 0 finds its document first, query 1 second, query 2 third: R@1 = [1, 0, 0]
    scores = np.array([[0.9, 0.1, 0.0], [0.9, 0.8, 0.0], [0.9, 0.8, 0.7]])
    result = retrieval_metrics(scores, [{0}, {1}, {2}], ks=(1,), keep_per_query=True)
    assert result["per_query"]["R@1"] == [1.0, 0.0, 0.0]
    assert result["per_query"]["MRR"] == pytest.approx([1.0, 0.5, 1 / 3])
    # sample standard deviation of [1, 0, 0] is sqrt(1/3); over sqrt(3) queries -> 1/3
    assert result["stderr"]["R@1"] == pytest.approx(1 / 3)
    assert "per_query" not in retrieval_metrics(scores, [{0}, {1}, {2}], ks=(1,))
    accuracy = classification_accuracy(["a", "a", "b", "b"], ["a", "b", "b", "b"], keep_per_query=True)
    assert accuracy["per_query"]["accuracy"] == [1.0, 0.0, 1.0, 1.0]
    assert accuracy["stderr"]["accuracy"] == pytest.approx(np.std([1, 0, 1, 1], ddof=1) / 2)
    assert math.isnan(standard_error([0.5]))


def retrieval_result(per_query: list[float]) -> dict:
    return {"text_to_item": {"R@1": float(np.mean(per_query)), "per_query": {"R@1": per_query}}}


def test_a_paired_difference_is_the_mean_of_per_query_gaps_and_cancels_what_queries_share():
    rng = np.random.default_rng(0)
    difficulty = rng.uniform(0, 1, size=200)  # what a query does to every model
    ours = difficulty + 0.05 + rng.normal(0, 0.01, size=200)
    theirs = difficulty + rng.normal(0, 0.01, size=200)
    (difference,) = paired_differences(
        {"retrieval:image": retrieval_result(list(ours))}, {"retrieval:image": retrieval_result(list(theirs))}
    )
    assert (difference.task, difference.direction, difference.metric) == ("retrieval:image", "text_to_item", "R@1")
    assert difference.difference == pytest.approx(float(np.mean(ours - theirs)))
    assert difference.stderr == pytest.approx(np.std(ours - theirs, ddof=1) / math.sqrt(200))
    # two error bars side by side would call the 0.05 gap noise; the paired test does not
    unpaired = math.hypot(standard_error(ours), standard_error(theirs))
    assert difference.difference < Z * unpaired and difference.beyond_noise


def test_identical_models_differ_by_nothing_and_unmatched_queries_are_not_paired():
    same = {"retrieval:image": retrieval_result([1.0, 0.0, 1.0])}
    (difference,) = paired_differences(same, same)
    assert difference.difference == 0 and difference.stderr == 0 and not difference.beyond_noise
    assert paired_differences(same, {"retrieval:image": retrieval_result([1.0, 0.0])}) == []
    assert paired_differences(same, {"retrieval:audio": retrieval_result([1.0, 0.0, 1.0])}) == []


def test_the_bootstrap_standard_error_of_a_correlation_shrinks_with_more_pairs():
    rng = np.random.default_rng(1)

    def pairs(n):
        scores = rng.uniform(0, 5, size=n)
        return scores + rng.normal(0, 2, size=n), scores

    small, large = bootstrap_correlation_stderr(*pairs(40)), bootstrap_correlation_stderr(*pairs(640))
    # the standard error of a correlation falls as 1/sqrt(n): 16x the pairs, about a quarter of the error
    assert 0.15 < large / small < 0.4
    cosines, scores = pairs(100)
    assert bootstrap_correlation_stderr(cosines, scores, other=cosines) == 0.0  # a model against itself
    assert bootstrap_correlation_stderr(cosines, scores) == bootstrap_correlation_stderr(cosines, scores)  # seeded


def sts_result(cosines, scores) -> dict:
    return {
        "spearman": spearman(cosines, scores),
        "per_pair": {"cosine": list(map(float, cosines)), "score": list(map(float, scores))},
    }


def test_the_report_marks_what_differs_beyond_noise_and_writes_no_samples(tmp_path):
    rng = np.random.default_rng(2)
    scores = rng.uniform(0, 5, size=300)
    results = {
        "ours": {
            "retrieval:image": retrieval_result([1.0] * 60 + [0.0] * 40),
            "sts:text": sts_result(scores + rng.normal(0, 0.5, size=300), scores),
        },
        "peer": {
            "retrieval:image": retrieval_result([1.0] * 59 + [0.0] * 41),  # one query of 100: noise
            "sts:text": sts_result(rng.uniform(0, 5, size=300), scores),  # unrelated to the scores: far below
        },
    }
    results["ours"]["retrieval:image"]["text_to_item"]["stderr"] = {"R@1": 0.05}
    table = markdown_table(results, ["peer"])
    lines = table.splitlines()
    assert lines[0] == "| task | ours | ± | peer | ours / peer |"
    assert lines[2] == f"| retrieval:image text->item R@1 | 0.600 | {Z * 0.05:.3f} | 0.590 | 1.02 |"
    (sts_line,) = [line for line in lines if line.startswith("| sts:text spearman |")]
    assert sts_line.split("|")[4].strip().endswith("†")
    assert "| peer | 2 | 2 | 1 | 0 | 0 | 0 |" in table  # two figures higher, one of them beyond noise
    json_path, md_path = write_results(results, tmp_path / "r", ["peer"])
    written = json.loads(json_path.read_text())
    assert "per_query" not in json.dumps(written) and "per_pair" not in json.dumps(written)
    assert written == json.loads(json.dumps(without_samples(results)))
    paired = json.loads((tmp_path / "r-paired.json").read_text())
    assert paired["reference"] == "ours" and paired["z"] == Z
    by_metric = {d["metric"]: d for d in paired["against"]["peer"]}
    assert by_metric["R@1"]["difference"] == pytest.approx(0.01) and not by_metric["R@1"]["beyond_noise"]
    assert by_metric["spearman"]["beyond_noise"] and by_metric["spearman"]["difference"] > 0.5
    # a dot in OUT's name is part of it, not a suffix to replace; OUT.json names the same files as OUT
    dotted = write_results(results, tmp_path / "model-g1.1-peers", ["peer"])
    assert [p.name for p in dotted] == ["model-g1.1-peers.json", "model-g1.1-peers.md"]
    assert (tmp_path / "model-g1.1-peers-paired.json").is_file()
    assert write_results(results, tmp_path / "r.json", ["peer"]) == (json_path, md_path)
