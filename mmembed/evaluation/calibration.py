"""Fit and check the relevance calibration (mmembed/calibration.py) on held-out pairs.

For every pair of modalities the data offers (``text->image`` and ``image->text`` from captioned images, the same for
audio, ``text->text`` from query/passage pairs), each query's top ``k`` hits become (cosine, relevant?) examples.
The held-out rows are split in two by caption: one half fits the map, the other checks it (expected calibration
error, Brier score, and how the top hit's "good match" verdict fares), so the figures are not the fit's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..calibration import Calibration, PlattScale
from ..data import split_of
from .tasks import _media_vectors, media_rows


@dataclass
class Candidates:
    """Top-k hits of every query: their cosines, whether each is relevant, and which query they belong to."""

    cosine: np.ndarray
    relevant: np.ndarray
    query: np.ndarray

    def subset(self, queries: set[int]) -> Candidates:
        keep = np.isin(self.query, list(queries))
        return Candidates(self.cosine[keep], self.relevant[keep], self.query[keep])


def top_candidates(queries: np.ndarray, items: np.ndarray, relevant: list[set[int]], k: int) -> Candidates:
    scores = queries @ items.T
    k = min(k, items.shape[0])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    rows = np.repeat(np.arange(len(queries)), k)
    hits = top.reshape(-1)
    return Candidates(scores[rows, hits], np.array([h in relevant[q] for q, h in zip(rows, hits)]), rows)


def fit_platt(cosine: np.ndarray, relevant: np.ndarray, iterations: int = 100) -> PlattScale:
    """Logistic regression of relevance on the cosine (Newton's method), with Platt's smoothed targets so a
    separable sample does not fit an infinite slope."""
    positives, negatives = int(relevant.sum()), int((~relevant).sum())
    if positives == 0 or negatives == 0:
        raise ValueError(f"calibration needs relevant and irrelevant hits, got {positives} and {negatives}")
    target = np.where(relevant, (positives + 1) / (positives + 2), 1 / (negatives + 2))
    x = np.stack([cosine.astype(np.float64), np.ones(len(cosine))], axis=1)
    w = np.zeros(2)
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-(x @ w)))
        step = np.linalg.solve(x.T @ (x * (p * (1 - p))[:, None]) + 1e-9 * np.eye(2), x.T @ (p - target))
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return PlattScale(float(w[0]), float(w[1]))


def check(scale: PlattScale, candidates: Candidates, threshold: float, bins: int = 10) -> dict:
    p = np.array([scale.probability(c) for c in candidates.cosine])
    y = candidates.relevant.astype(float)
    edges = np.minimum((p * bins).astype(int), bins - 1)
    ece = sum(
        abs(p[edges == b].mean() - y[edges == b].mean()) * (edges == b).mean()
        for b in range(bins)
        if (edges == b).any()
    )
    first = np.r_[True, candidates.query[1:] != candidates.query[:-1]]  # each query's top hit
    said_good = p[first] >= threshold
    top_relevant = candidates.relevant[first]
    return {
        "pairs": int(len(p)),
        "queries": int(first.sum()),
        "ece": float(ece),
        "brier": float(((p - y) ** 2).mean()),
        "top1_relevant": float(top_relevant.mean()),
        "top1_said_good": float(said_good.mean()),
        "good_match_precision": float(top_relevant[said_good].mean()) if said_good.any() else None,
        "good_match_recall": float(said_good[top_relevant].mean()) if top_relevant.any() else None,
    }


def modality_candidates(embedder, rows: list[dict], k: int, batch_size: int, limit: int) -> dict[str, tuple]:
    """``pair -> (Candidates, the caption of each query)`` for every pair of modalities the rows offer."""
    found = {}
    for kind in ("image", "audio"):
        media = media_rows(rows, kind)
        if not media:
            continue
        items = _media_vectors(embedder, media, batch_size)
        keep = np.isfinite(items).all(axis=1)
        media, items = [r for r, good in zip(media, keep) if good], items[keep]
        captions = sorted({row["text"] for row in media})
        index = {text: i for i, text in enumerate(captions)}
        texts = embedder.encode(captions, batch_size=batch_size, instruction="query")
        owner = np.array([index[row["text"]] for row in media])
        found[f"text->{kind}"] = (
            top_candidates(texts, items, [set(np.flatnonzero(owner == c)) for c in range(len(captions))], k),
            captions,
        )
        documents = embedder.encode(captions, batch_size=batch_size, instruction="document")
        found[f"{kind}->text"] = (
            top_candidates(items, documents, [{c} for c in owner], k),
            [row["text"] for row in media],
        )
    pairs = [row for row in rows if isinstance(row.get("text"), str) and row.get("positive")][:limit]
    if pairs:
        passages = sorted({row["positive"] for row in pairs})
        index = {p: i for i, p in enumerate(passages)}
        queries = embedder.encode([row["text"] for row in pairs], batch_size=batch_size, instruction="query")
        documents = embedder.encode(passages, batch_size=batch_size, instruction="document")
        found["text->text"] = (
            top_candidates(queries, documents, [{index[row["positive"]]} for row in pairs], k),
            [row["text"] for row in pairs],
        )
    return found


def fit_calibration(
    embedder, rows: list[dict], k: int = 10, threshold: float = 0.5, batch_size: int = 32, limit: int = 2000
) -> Calibration:
    """A :class:`Calibration` fitted on half of ``rows`` (held-out pairs) and checked on the other half."""
    calibration = Calibration(threshold=threshold)
    for pair, (candidates, query_captions) in modality_candidates(embedder, rows, k, batch_size, limit).items():
        halves = {"fit": set(), "check": set()}
        for query, caption in enumerate(query_captions):  # one caption's queries all land in one half
            halves["check" if split_of(f"calibrate:{caption}", test=0.5) == "test" else "fit"].add(query)
        fit_part, check_part = candidates.subset(halves["fit"]), candidates.subset(halves["check"])
        try:
            scale = fit_platt(fit_part.cosine, fit_part.relevant)
        except ValueError:
            continue  # too few pairs of one kind: this pair stays uncalibrated
        calibration.maps[pair] = scale
        calibration.fitted_on[pair] = {
            "k": k,
            "fit_pairs": int(len(fit_part.cosine)),
            "fit_relevant": int(fit_part.relevant.sum()),
            "check": check(scale, check_part, threshold),
        }
    return calibration
