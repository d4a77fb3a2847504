"""Retrieval, correlation, clustering and classification metrics, in numpy, with their conventions stated.

Conventions: documents with equal scores are ranked in document order (a stable sort), so results are deterministic;
a query with no relevant document is left out of every average and counted in ``skipped_queries``; duplicate ids
in a relevance set count once. Every figure that is a mean over queries comes with its standard error
(``stderr``: the queries' standard deviation over sqrt(n)); ``keep_per_query`` also keeps each query's value
(``per_query``), which a paired comparison of two models on the same queries needs (uncertainty.py).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np


def rankings(scores: np.ndarray) -> np.ndarray:
    """(Q, D) scores -> (Q, D) document indices, best first, ties in document order."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), axis=1, kind="stable")


def standard_error(values) -> float:
    """Standard error of a mean over independent samples (NaN below two samples)."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else float("nan")


def retrieval_metrics(
    scores: np.ndarray, relevant: list, ks=(1, 5, 10), ndcg_k: int = 10, keep_per_query: bool = False
) -> dict:
    """R@k (share of a query's relevant documents in its top k), mAP, nDCG@ndcg_k (binary gains) and MRR, each with
    its standard error over queries."""
    order = rankings(scores)
    per_query = {f"R@{k}": [] for k in ks} | {"mAP": [], f"nDCG@{ndcg_k}": [], "MRR": []}
    skipped = 0
    for ranked, wanted in zip(order, relevant):
        wanted = set(wanted)
        if not wanted:
            skipped += 1
            continue
        hits = np.isin(ranked, list(wanted))
        positions = np.flatnonzero(hits) + 1  # 1-based ranks of the relevant documents
        for k in ks:
            per_query[f"R@{k}"].append(hits[:k].sum() / len(wanted))
        per_query["mAP"].append(np.mean(np.arange(1, len(positions) + 1) / positions) if len(positions) else 0.0)
        dcg = sum(1 / math.log2(p + 1) for p in positions if p <= ndcg_k)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(len(wanted), ndcg_k)))
        per_query[f"nDCG@{ndcg_k}"].append(dcg / ideal)
        per_query["MRR"].append(1 / positions[0] if len(positions) else 0.0)
    result = {name: float(np.mean(values)) if values else float("nan") for name, values in per_query.items()}
    result["queries"] = len(relevant) - skipped
    result["skipped_queries"] = skipped
    result["stderr"] = {name: standard_error(values) for name, values in per_query.items()}
    if keep_per_query:
        result["per_query"] = {name: [float(v) for v in values] for name, values in per_query.items()}
    return result


def average_ranks(values) -> np.ndarray:
    """1-based ranks, ties sharing their average rank (as Spearman needs)."""
    _, group, counts = np.unique(np.asarray(values, dtype=np.float64), return_inverse=True, return_counts=True)
    last_rank = np.cumsum(counts)  # a group of equal values holds ranks last - count + 1 .. last
    return (last_rank - (counts - 1) / 2)[group]


def pearson(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) != len(b) or len(a) < 2:
        raise ValueError("pearson needs two sequences of the same length >= 2")
    a, b = a - a.mean(), b - b.mean()
    denominator = math.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator else float("nan")


def spearman(a, b) -> float:
    return pearson(average_ranks(a), average_ranks(b))


def _entropy(counts) -> float:
    total = sum(counts)
    return -sum(c / total * math.log(c / total) for c in counts if c)


def v_measure(labels_true, labels_pred) -> float:
    """Harmonic mean of homogeneity and completeness (Rosenberg & Hirschberg, 2007); 1.0 for a perfect clustering."""
    pairs = Counter(zip(labels_true, labels_pred))
    n = len(labels_true)
    h_true, h_pred = _entropy(Counter(labels_true).values()), _entropy(Counter(labels_pred).values())
    pred_totals, true_totals = Counter(labels_pred), Counter(labels_true)
    h_true_given_pred = -sum(c / n * math.log(c / pred_totals[p]) for (t, p), c in pairs.items())
    h_pred_given_true = -sum(c / n * math.log(c / true_totals[t]) for (t, p), c in pairs.items())
    homogeneity = 1.0 if h_true == 0 else 1 - h_true_given_pred / h_true
    completeness = 1.0 if h_pred == 0 else 1 - h_pred_given_true / h_pred
    return 0.0 if homogeneity + completeness == 0 else 2 * homogeneity * completeness / (homogeneity + completeness)


def classification_accuracy(labels_true, labels_pred, keep_per_query: bool = False) -> dict:
    """Overall accuracy (with its standard error over items) and accuracy per true class."""
    labels_true, labels_pred = list(labels_true), list(labels_pred)
    correct = [float(t == p) for t, p in zip(labels_true, labels_pred)]
    per_class = {}
    for label in sorted(set(labels_true), key=str):
        rows = [p for t, p in zip(labels_true, labels_pred) if t == label]
        per_class[label] = sum(p == label for p in rows) / len(rows)
    overall = sum(correct) / len(correct) if correct else float("nan")
    result = {"accuracy": overall, "per_class": per_class, "stderr": {"accuracy": standard_error(correct)}}
    if keep_per_query:
        result["per_query"] = {"accuracy": correct}
    return result
