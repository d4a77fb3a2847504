"""Metrics against values computed by hand on tiny inputs."""

import math

import numpy as np
import pytest

from mmembed.evaluation.metrics import (
    average_ranks,
    classification_accuracy,
    pearson,
    retrieval_metrics,
    spearman,
    v_measure,
)


def test_retrieval_by_hand():
    # query 0: ranking d2, d0, d1, d3 -> relevant {d0, d3} at ranks 2 and 4
    # query 1: ranking d1, d0, d2, d3 -> relevant {d1} at rank 1
    scores = np.array([[0.5, 0.2, 0.9, 0.1], [0.5, 0.8, 0.3, 0.0]])
    m = retrieval_metrics(scores, [{0, 3}, [1, 1]], ks=(1, 2, 4), ndcg_k=4)
    assert m["R@1"] == pytest.approx((0 + 1) / 2)
    assert m["R@2"] == pytest.approx((0.5 + 1) / 2)
    assert m["R@4"] == pytest.approx(1.0)
    assert m["mAP"] == pytest.approx(((1 / 2 + 2 / 4) / 2 + 1) / 2)
    assert m["MRR"] == pytest.approx((1 / 2 + 1) / 2)
    ndcg0 = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert m["nDCG@4"] == pytest.approx((ndcg0 + 1) / 2)


def test_ties_are_broken_by_document_order():
    m = retrieval_metrics(np.array([[1.0, 1.0, 1.0]]), [{2}], ks=(1, 3))
    assert m["R@1"] == 0 and m["R@3"] == 1 and m["MRR"] == pytest.approx(1 / 3)


def test_queries_without_relevant_documents_are_skipped():
    m = retrieval_metrics(np.array([[0.1, 0.9], [0.9, 0.1]]), [set(), {0}], ks=(1,))
    assert m["queries"] == 1 and m["skipped_queries"] == 1 and m["R@1"] == 1.0
    assert math.isnan(retrieval_metrics(np.zeros((1, 2)), [set()], ks=(1,))["R@1"])


def test_correlations_with_ties():
    assert average_ranks([10, 20, 20, 30]).tolist() == [1, 2.5, 2.5, 4]
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks a = [1, 2.5, 2.5, 4], b = [1, 2, 3, 4]: pearson of those
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(pearson([1, 2.5, 2.5, 4], [1, 2, 3, 4]))
    assert pearson([1, 2, 3], [2, 4, 7]) == pytest.approx(np.corrcoef([1, 2, 3], [2, 4, 7])[0, 1])
    with pytest.raises(ValueError):
        pearson([1], [1])


def test_v_measure_by_hand():
    assert v_measure([0, 0, 1, 1], [5, 5, 7, 7]) == pytest.approx(1.0)  # a relabelled perfect clustering
    assert v_measure([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(0.0)  # clusters independent of classes
    # one cluster for everything: homogeneity 0 -> V = 0; every item its own cluster: completeness < 1
    assert v_measure([0, 0, 1, 1], [0, 0, 0, 0]) == pytest.approx(0.0)
    h = 1.0
    c = 1 - (math.log(2)) / math.log(4)  # H(K|C) = log 2, H(K) = log 4
    assert v_measure([0, 0, 1, 1], [0, 1, 2, 3]) == pytest.approx(2 * h * c / (h + c))


def test_classification_accuracy_per_class():
    result = classification_accuracy(["cat", "cat", "dog", "dog", "dog"], ["cat", "dog", "dog", "dog", "cat"])
    assert result["accuracy"] == pytest.approx(3 / 5)
    assert result["per_class"] == {"cat": 0.5, "dog": pytest.approx(2 / 3)}
