"""How sure a figure is, and whether two models differ by more than the test set's noise.

A figure that is a mean over queries (R@k, mAP, nDCG, MRR, zero-shot accuracy) has a standard error over its queries
(``metrics.standard_error``). Two models measured on the *same* queries are compared pairwise: the difference of
their figures is the mean of the per-query differences, and its standard error is those differences' (what a query
does to both models cancels, so a paired test separates models far finer than two error bars side by side).
Correlations (STS Spearman / Pearson) are not means: their standard errors, and those of paired differences, come
from a bootstrap over the pairs (the same resamples for both models). A difference is *beyond noise* when it exceeds
``Z`` (1.96, about 95 % under a normal approximation; generous on groups of a few dozen queries) standard errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .metrics import pearson, spearman

Z = 1.96
RESAMPLES = 1000
CORRELATIONS = {"spearman": spearman, "pearson": pearson}
SAMPLE_KEYS = ("per_query", "per_pair")


@dataclass(frozen=True)
class Difference:
    """``reference`` minus ``other`` on one figure, with the standard error of that difference."""

    task: str
    direction: str | None
    metric: str
    difference: float
    stderr: float

    @property
    def beyond_noise(self) -> bool:
        if not math.isfinite(self.stderr):
            return False
        return abs(self.difference) > Z * self.stderr if self.stderr > 0 else self.difference != 0

    def as_dict(self) -> dict:
        return {
            "task": self.task,
            "direction": self.direction,
            "metric": self.metric,
            "difference": self.difference,
            "stderr": self.stderr,
            "beyond_noise": self.beyond_noise,
        }


def bootstrap_correlation_stderr(
    cosines, scores, metric: str = "spearman", other=None, resamples: int = RESAMPLES, seed: int = 0
) -> float:
    """Standard error of the correlation of ``cosines`` with ``scores`` by resampling pairs; with ``other`` (another
    model's cosines on the same pairs), of the difference between the two models' correlations."""
    measure = CORRELATIONS[metric]
    cosines, scores = np.asarray(cosines, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    other = None if other is None else np.asarray(other, dtype=np.float64)
    if len(scores) < 3:
        return float("nan")
    draws = []
    for index in np.random.default_rng(seed).integers(0, len(scores), size=(resamples, len(scores))):
        value = measure(cosines[index], scores[index])
        draws.append(value - measure(other[index], scores[index]) if other is not None else value)
    draws = np.asarray(draws)
    draws = draws[np.isfinite(draws)]
    return float(draws.std(ddof=1)) if len(draws) > 1 else float("nan")


def _parts(result: dict):
    """(direction, part) for every part of a task's result that holds per-query samples (None: the result itself)."""
    if "per_query" in result:
        yield None, result
    for direction, part in result.items():
        if isinstance(part, dict) and "per_query" in part:
            yield direction, part


def paired_differences(reference: dict, other: dict) -> list[Difference]:
    """Every figure the two models' results (``{task: result}``, samples kept) share, measured on the same queries
    (same count; the tasks order queries the same way for every model): reference minus other."""
    differences = []
    for task, ours in reference.items():
        theirs = other.get(task)
        if not isinstance(ours, dict) or not isinstance(theirs, dict):
            continue
        pairs_ours, pairs_theirs = ours.get("per_pair"), theirs.get("per_pair")
        if pairs_ours and pairs_theirs and pairs_ours["score"] == pairs_theirs["score"]:
            for metric in [m for m in CORRELATIONS if m in ours and m in theirs]:
                stderr = bootstrap_correlation_stderr(
                    pairs_ours["cosine"], pairs_ours["score"], metric, other=pairs_theirs["cosine"]
                )
                differences.append(Difference(task, None, metric, ours[metric] - theirs[metric], stderr))
        for direction, part in _parts(ours):
            their_part = theirs if direction is None else theirs.get(direction)
            if not isinstance(their_part, dict) or "per_query" not in their_part:
                continue
            for metric, values in part["per_query"].items():
                their_values = their_part["per_query"].get(metric)
                if their_values is None or len(their_values) != len(values) or len(values) < 2:
                    continue
                gaps = np.asarray(values, dtype=np.float64) - np.asarray(their_values, dtype=np.float64)
                stderr = float(gaps.std(ddof=1) / math.sqrt(len(gaps)))
                differences.append(Difference(task, direction, metric, float(gaps.mean()), stderr))
    return differences


def paired_against_first(results: dict[str, dict]) -> dict[str, list[Difference]]:
    """``{model: differences}``: the first model against each of the others."""
    names = list(results)
    return {name: paired_differences(results[names[0]], results[name]) for name in names[1:]}


def without_samples(value):
    """The results with every per-query / per-pair sample list left out (what is written as JSON)."""
    if isinstance(value, dict):
        return {key: without_samples(item) for key, item in value.items() if key not in SAMPLE_KEYS}
    return value
