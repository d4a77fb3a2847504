"""Evaluation tasks over a manifest (see mmembed/data/manifest.py for the format).

- ``retrieval``: cross-modal retrieval between media items and their captions, both directions (R@1/5/10, mAP,
  nDCG@10, MRR). Several items may share a caption: every item with the query's caption counts as relevant.
- ``text_retrieval``: text queries against text passages (``{"text", "positive"}`` rows): nDCG@10, MRR, R@k.
- ``sts``: scored text pairs (``{"text", "pair", "score"}`` rows): Spearman and Pearson of the cosine against the
  scores.
- ``perplexity``: generation-mode perplexity on the text rows (passages of pairs, else texts): is generation kept?
- ``clustering``: k-means of the media items into as many clusters as labels (V-measure).
- ``zeroshot``: zero-shot classification of media items by their ``label``, against prompts built from the label
  names (accuracy, per class).

Every figure comes with its standard error (``stderr``), and each query's value is kept (``per_query``; STS: each
pair's cosine and score, ``per_pair``) so that two models can be compared on the same queries (uncertainty.py); the
written JSON leaves the samples out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .metrics import classification_accuracy, pearson, retrieval_metrics, spearman, v_measure
from .uncertainty import bootstrap_correlation_stderr

PROMPTS = ("a picture of {}.", "a photo of {}.", "a drawing of {}.", "the sound of {}.")


def media_rows(rows: list[dict], modality: str | None = None) -> list[dict]:
    kinds = ("image", "audio") if modality is None else (modality,)
    return [row for row in rows if any(k in row for k in kinds)]


def labelled(rows: list[dict]) -> list[dict]:
    """Rows that carry a label (``0`` and ``False`` are labels too; only a missing, null or empty one is not)."""
    return [row for row in rows if row.get("label") not in (None, "")]


def _media_vectors(embedder, rows: list[dict], batch_size: int) -> np.ndarray:
    items = [Path(row["image"] if "image" in row else row["audio"]) for row in rows]
    return embedder.encode(items, batch_size=batch_size, instruction="document", on_error="nan", show_progress_bar=True)


def caption_retrieval(texts: np.ndarray, items: np.ndarray, item_caption: np.ndarray) -> tuple[dict, dict]:
    """Both directions between captions (rows of ``texts``) and items whose caption index is ``item_caption``: every
    item with a caption is relevant to it, an item's one caption to the item."""
    text_to_item = retrieval_metrics(
        texts @ items.T, [set(np.flatnonzero(item_caption == c)) for c in range(len(texts))], keep_per_query=True
    )
    item_to_text = retrieval_metrics(items @ texts.T, [{c} for c in item_caption], keep_per_query=True)
    return text_to_item, item_to_text


def retrieval_task(embedder, rows: list[dict], modality: str | None = None, batch_size: int = 32) -> dict:
    rows = media_rows(rows, modality)
    if not rows:
        raise ValueError(f"no {modality or 'media'} rows with captions in the data")
    captions = sorted({row["text"] for row in rows})
    caption_index = {text: i for i, text in enumerate(captions)}
    items = _media_vectors(embedder, rows, batch_size)
    keep = np.isfinite(items).all(axis=1)
    rows, items = [r for r, k in zip(rows, keep) if k], items[keep]
    texts = embedder.encode(captions, batch_size=batch_size, instruction="query")
    item_caption = np.array([caption_index[row["text"]] for row in rows])
    text_to_item, item_to_text = caption_retrieval(texts, items, item_caption)
    return {
        "items": len(rows),
        "captions": len(captions),
        "text_to_item": text_to_item,
        "item_to_text": item_to_text,
        "skipped_items": int((~keep).sum()),
    }


def zeroshot_task(
    embedder, rows: list[dict], modality: str | None = None, batch_size: int = 32, prompts=PROMPTS
) -> dict:
    rows = labelled(media_rows(rows, modality))
    labels = sorted({row["label"] for row in rows})
    if len(labels) < 2:
        raise ValueError("zero-shot classification needs rows with at least two distinct labels")
    prompt_vectors = embedder.encode([p.format(label) for label in labels for p in prompts], instruction="query")
    class_vectors = prompt_vectors.reshape(len(labels), len(prompts), -1).mean(axis=1)
    class_vectors /= np.linalg.norm(class_vectors, axis=1, keepdims=True)
    items = _media_vectors(embedder, rows, batch_size)
    keep = np.isfinite(items).all(axis=1)
    predicted = np.argmax(items[keep] @ class_vectors.T, axis=1)
    truth = [row["label"] for row, k in zip(rows, keep) if k]
    return {
        "items": int(keep.sum()),
        "classes": labels,
        **classification_accuracy(truth, [labels[p] for p in predicted], keep_per_query=True),
    }


def text_retrieval_task(
    embedder, rows: list[dict], modality: str | None = None, batch_size: int = 32, limit: int = 1000
) -> dict:
    """Text pairs (``{"text": query, "positive": passage}``): each query against all passages (nDCG@10, MRR, R@k).
    Identical passages are merged, so every one relevant to a query counts."""
    rows = [row for row in rows if row.get("positive") and isinstance(row.get("text"), str)][:limit]
    if not rows:
        raise ValueError("no text pairs (rows with text and positive) in the data")
    passages = sorted({row["positive"] for row in rows})
    index = {p: i for i, p in enumerate(passages)}
    queries = embedder.encode([row["text"] for row in rows], batch_size=batch_size, instruction="query")
    documents = embedder.encode(passages, batch_size=batch_size, instruction="document")
    result = retrieval_metrics(queries @ documents.T, [{index[row["positive"]]} for row in rows], keep_per_query=True)
    return {"queries": len(rows), "passages": len(passages), "query_to_passage": result}


def sts_task(embedder, rows: list[dict], modality: str | None = None, batch_size: int = 32, limit: int = 1000) -> dict:
    """Scored text pairs: the cosine of each pair's two vectors against its score (Spearman, Pearson)."""
    rows = [row for row in rows if isinstance(row.get("pair"), str) and isinstance(row.get("score"), (int, float))][
        :limit
    ]
    if len(rows) < 2:
        raise ValueError("no scored text pairs (rows with text, pair and score) in the data")
    first = embedder.encode([row["text"] for row in rows], batch_size=batch_size, instruction="sts")
    second = embedder.encode([row["pair"] for row in rows], batch_size=batch_size, instruction="sts")
    cosine = (first * second).sum(axis=1) / (np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1)).clip(
        min=1e-12
    )
    scores = [float(row["score"]) for row in rows]
    return {
        "pairs": len(rows),
        "spearman": spearman(cosine, scores),
        "pearson": pearson(cosine, scores),
        "stderr": {metric: bootstrap_correlation_stderr(cosine, scores, metric) for metric in ("spearman", "pearson")},
        "per_pair": {"cosine": [float(c) for c in cosine], "score": scores},
    }


def perplexity_task(embedder, rows: list[dict], modality: str | None = None, limit: int = 1000) -> dict:
    from .perplexity import perplexity

    if not hasattr(embedder, "generation_mode"):
        raise ValueError("only a model that generates has a perplexity")
    texts = [
        row.get("positive") or row["text"]
        for row in rows
        if not any(k in row for k in ("image", "audio")) and isinstance(row.get("text"), str)
    ][:limit]
    if not texts:
        raise ValueError("no text rows to measure perplexity on")
    return {"texts": len(texts), "perplexity": perplexity(embedder, texts)}


def kmeans(vectors: np.ndarray, k: int, iterations: int = 50, seed: int = 0) -> np.ndarray:
    """Cosine k-means (k-means++ start, fixed seed): cluster ids."""
    rng = np.random.default_rng(seed)
    centers = [vectors[rng.integers(len(vectors))]]
    for _ in range(1, k):
        distance = np.min(1 - vectors @ np.stack(centers).T, axis=1).clip(min=0)
        centers.append(
            vectors[rng.choice(len(vectors), p=distance / distance.sum())]
            if distance.sum()
            else vectors[rng.integers(len(vectors))]
        )
    centers = np.stack(centers)
    for _ in range(iterations):
        assign = np.argmax(vectors @ centers.T, axis=1)
        new = np.stack([vectors[assign == c].mean(axis=0) if (assign == c).any() else centers[c] for c in range(k)])
        new /= np.linalg.norm(new, axis=1, keepdims=True).clip(min=1e-12)
        if np.allclose(new, centers):
            break
        centers = new
    return np.argmax(vectors @ centers.T, axis=1)


def clustering_task(embedder, rows: list[dict], modality: str | None = None, batch_size: int = 32) -> dict:
    """k-means of the media items into as many clusters as labels; V-measure against the labels."""
    rows = labelled(media_rows(rows, modality))
    labels = [row["label"] for row in rows]
    if len(set(labels)) < 2:
        raise ValueError("clustering needs rows with at least two distinct labels")
    items = _media_vectors(embedder, rows, batch_size)
    keep = np.isfinite(items).all(axis=1)
    clusters = kmeans(items[keep], len(set(labels)))
    return {
        "items": int(keep.sum()),
        "clusters": len(set(labels)),
        "v_measure": v_measure([label for label, k in zip(labels, keep) if k], clusters.tolist()),
    }


TASKS = {
    "retrieval": retrieval_task,
    "zeroshot": zeroshot_task,
    "text_retrieval": text_retrieval_task,
    "sts": sts_task,
    "perplexity": perplexity_task,
    "clustering": clustering_task,
}
TEXT_TASKS = ("text_retrieval", "sts", "perplexity")  # run once, on the text rows, not per media modality
